"""A long-lived public client for the relay tests: joins a router or relay
anonymously (never reconnecting, to prove clients need not), subscribes to
one topic with its retained event, and prints one line per event:
`event <session number> <wrapper date>`; `joined <n>` and `left` around."""
import sys

from autobahn.twisted.component import Component
from autobahn.wamp.types import SubscribeOptions
from twisted.internet import reactor

url, topic = sys.argv[1], sys.argv[2]
joins = {"n": 0}
component = Component(transports=[{"url": url, "type": "websocket", "max_retries": 0}], realm="timing")


@component.on_join
def joined(session, details):
    joins["n"] += 1
    print(f"joined {joins['n']} {details.authrole}", flush=True)

    def on_event(*args, **kwargs):
        wrapper = args[0] if args else {}
        print(f"event {joins['n']} {wrapper.get('date')}", flush=True)

    return session.subscribe(on_event, topic, options=SubscribeOptions(get_retained=True))


@component.on_leave
def left(session, details):
    print(f"left {details.reason}", flush=True)


component.start(reactor).addBoth(lambda _: reactor.stop() if reactor.running else None)
reactor.run()
