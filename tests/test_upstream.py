"""The reconnecting WebSocket client factory for upstream feeds, against a
real WebSocket server (a standalone `livetiming-service demo`) that goes away
and comes back on the same port."""
import sys
import textwrap

from network import free_port
from processes import command

CLIENT = textwrap.dedent('''
    import json, sys
    from autobahn.twisted.websocket import WebSocketClientProtocol
    from twisted.internet import reactor
    from livetiming.service.upstream import ReconnectingWebSocketClientFactory, connect

    class Feed(WebSocketClientProtocol):
        def onOpen(self):
            print(json.dumps({"event": "open"}), flush=True)

        def onMessage(self, payload, is_binary):
            topic, wrapper = json.loads(payload)
            print(json.dumps({"event": "message", "topic": topic}), flush=True)

    factory = ReconnectingWebSocketClientFactory(sys.argv[1])
    factory.protocol = Feed
    factory.maxDelay = 1
    connect(factory)
    reactor.callLater(60, reactor.stop)
    reactor.run()
''')


def test_upstream_client_reconnects_when_the_feed_comes_back(processes, service_env):
    port = free_port()
    env = {"LIVETIMING_STANDALONE_PORT": str(port)}
    server = processes([command("livetiming-service"), "demo", "--no-write-state"], env=env)
    server.wait_for(r"listening on port", stream="stderr")
    client = processes([sys.executable, "-c", CLIENT, f"ws://127.0.0.1:{port}/"])
    client.wait_for(r'"event": "open"', stream="stdout")
    client.wait_for(r'"topic": "livetiming.control"', stream="stdout")
    server.stop()
    server = processes([command("livetiming-service"), "demo", "--no-write-state"], env=env)
    server.wait_for(r"listening on port", stream="stderr")
    client.wait_for(r'"event": "open"', stream="stdout", timeout=30)
    client.wait_for(r'"topic": "livetiming.control"', stream="stdout")
