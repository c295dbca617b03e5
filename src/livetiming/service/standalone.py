"""Standalone mode (protocol.md §8): a plain WebSocket server (not WAMP) that
sends `[topic, wrapper]` text frames. New clients get the current snapshot
(manifest, state, analysis) at once; every client gets every later message."""
import sys
from typing import Callable, Iterable, List, Tuple

import simplejson
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.logger import Logger

from ..protocol import Message

Frame = Tuple[str, Message]


def encode_frame(topic: str, message: Message) -> bytes:
    return simplejson.dumps([topic, message.serialise()], separators=(",", ":")).encode("utf-8")


class _ClientProtocol(WebSocketServerProtocol):
    def onOpen(self):
        self.factory.client_opened(self)

    def onClose(self, wasClean, code, reason):
        self.factory.client_closed(self)

    def onMessage(self, payload, isBinary):
        """Clients have nothing to say in this protocol; ignore what they send."""


class StandaloneServer(WebSocketServerFactory):
    """Publishes to directly connected WebSocket clients."""

    protocol = _ClientProtocol
    log = Logger()
    noisy = False

    def __init__(self, snapshot: Callable[[], Iterable[Frame]]):
        super().__init__()
        self._snapshot = snapshot
        self.clients: List[_ClientProtocol] = []
        self.port = None

    def listen(self, reactor, port: int = 0, interface: str = "127.0.0.1") -> int:
        """Start listening; returns the port actually bound."""
        self.port = reactor.listenTCP(port, self, interface=interface)
        return self.port.getHost().port

    def stop(self):
        for client in list(self.clients):
            client.sendClose()
        return self.port.stopListening() if self.port else None

    def client_opened(self, client: _ClientProtocol) -> None:
        self.clients.append(client)
        self.log.info("Standalone client connected from {peer} ({count} now)", peer=client.peer, count=len(self.clients))
        for topic, message in self._snapshot():
            client.sendMessage(encode_frame(topic, message), isBinary=False)

    def client_closed(self, client: _ClientProtocol) -> None:
        if client in self.clients:
            self.clients.remove(client)
            self.log.info("Standalone client {peer} left ({count} now)", peer=client.peer, count=len(self.clients))

    def publish(self, topic: str, message: Message) -> None:
        if not self.clients:
            return
        frame = encode_frame(topic, message)
        for client in list(self.clients):
            if client.state == client.STATE_OPEN:  # a closing client must not cost the others the frame
                client.sendMessage(frame, isBinary=False)


def announce(uuid: str, port: int, stream=None) -> None:
    """The startup line clients and tests wait for (protocol.md §8)."""
    stream = stream or sys.stderr
    print(f"Standalone server for uuid:{uuid} listening on port:{port}", file=stream, flush=True)
