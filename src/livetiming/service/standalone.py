"""Standalone mode (protocol.md §8): a plain WebSocket server (not WAMP) that
sends `[topic, wrapper]` text frames. New clients get the current snapshot
(manifest, state, analysis) at once; every client gets every later message.

Clients are on the open network, so none may cost the service more than a
bounded amount of memory:

- nothing a client sends may exceed MAX_INCOMING bytes (the opening
  handshake, a frame, a message): clients have nothing to say here, yet
  autobahn would otherwise buffer a 1 GB message whole (and copy it);
- a client that does not read what it is sent is dropped once more than
  `max_buffer` bytes wait for it beyond its snapshot, instead of the
  service buffering every later state for it for ever. The other clients
  are not held up by it either way: each publish is framed once and
  written to every transport without waiting."""
import json
import socket
import sys
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Iterable, List, Tuple

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from zope.interface import implementer

from ..protocol import Message

Frame = Tuple[str, Message]

MAX_INCOMING = 64 * 1024
"""Bytes: the largest opening handshake, frame or message a client may send."""
MAX_BUFFER = 4 * 1024 * 1024
"""Bytes that may wait for one client (beyond its snapshot) before it is
dropped; LIVETIMING_STANDALONE_MAX_BUFFER overrides it."""
KERNEL_SEND_BUFFER = 128 * 1024
"""SO_SNDBUF of a client's socket. Left to autotuning, the kernel holds up
to 4 MiB for a client that does not read, before the service even notices;
this still allows ~1 MB/s to a client 100 ms away (a state a second needs
tens of KB/s)."""


def _decimal_as_number(value):
    """Payloads a plugin built with Decimals (times parsed exactly) go out as
    numbers, as simplejson used to write them."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def encode_frame(topic: str, message: Message) -> bytes:
    return json.dumps([topic, message.serialise()], separators=(",", ":"),
                      default=_decimal_as_number).encode("utf-8")


@dataclass
class SendBacklog:
    """How far behind a client is, from its transport's flow control: the
    transport pauses us once its buffer is full and resumes us only when it
    has been emptied, so the bytes written while paused are the backlog."""

    limit: int
    paused: bool = False
    waiting: int = 0

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused, self.waiting = False, 0

    def forgive(self) -> None:
        """Start counting afresh (after the snapshot, which may be large)."""
        self.waiting = 0

    def wrote(self, size: int) -> bool:
        """Account for `size` bytes written; True when the client is too far behind."""
        if self.paused:
            self.waiting += size
        return self.waiting > self.limit


@implementer(IPushProducer)
class _ClientProtocol(WebSocketServerProtocol):
    """One client; the push producer of its own transport, so that it
    learns when the client stops reading."""

    def connectionMade(self):
        self._handshake_bytes = 0
        self.backlog = SendBacklog(self.factory.max_buffer)
        try:
            self.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_SEND_BUFFER)
        except (AttributeError, OSError):  # not a plain TCP socket: its own buffering applies
            pass
        super().connectionMade()

    def dataReceived(self, data: bytes) -> None:
        if self.state == self.STATE_CONNECTING:  # autobahn buffers the HTTP request without a limit
            self._handshake_bytes += len(data)
            if self._handshake_bytes > MAX_INCOMING:
                self.factory.log.warn("Standalone client {peer} dropped: its opening handshake exceeds {limit} "
                                      "bytes", peer=self.peer, limit=MAX_INCOMING)
                self.transport.abortConnection()
                return
        super().dataReceived(data)

    def onOpen(self):
        self.transport.registerProducer(self, True)
        self.factory.client_opened(self)

    def onClose(self, wasClean, code, reason):
        self.factory.client_closed(self)

    def onMessage(self, payload, isBinary):
        """Clients have nothing to say in this protocol; ignore what they send."""

    # IPushProducer: called by the transport
    def pauseProducing(self) -> None:
        self.backlog.pause()

    def resumeProducing(self) -> None:
        self.backlog.resume()

    def stopProducing(self) -> None:
        """The connection is gone; client_closed() forgets the client."""

    def send_prepared(self, prepared) -> bool:
        """Send a prepared frame; False when the client is now too far behind."""
        self.sendPreparedMessage(prepared)
        return not self.backlog.wrote(len(prepared.payloadHybi))


class StandaloneServer(WebSocketServerFactory):
    """Publishes to directly connected WebSocket clients."""

    protocol = _ClientProtocol
    log = Logger()
    noisy = False

    def __init__(self, snapshot: Callable[[], Iterable[Frame]], max_buffer: int = MAX_BUFFER):
        super().__init__()
        # Limits on what clients send. Outgoing frames are prepared messages,
        # which these limits do not apply to (a late-race state is larger).
        self.setProtocolOptions(maxFramePayloadSize=MAX_INCOMING, maxMessagePayloadSize=MAX_INCOMING)
        self._snapshot = snapshot
        self.max_buffer = max_buffer
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
        self.log.info("Standalone client connected from {peer} ({count} now)", peer=client.peer,
                      count=len(self.clients))
        for topic, message in self._snapshot():
            client.sendPreparedMessage(self.prepareMessage(encode_frame(topic, message)))
        client.backlog.forgive()

    def client_closed(self, client: _ClientProtocol) -> None:
        if client in self.clients:
            self.clients.remove(client)
            self.log.info("Standalone client {peer} left ({count} now)", peer=client.peer, count=len(self.clients))

    def publish(self, topic: str, message: Message) -> bool:
        """Sent to every client connected now (none is fine: True)."""
        if not self.clients:
            return True
        prepared = self.prepareMessage(encode_frame(topic, message))  # framed once for every client
        for client in list(self.clients):
            if client.state == client.STATE_OPEN and not client.send_prepared(prepared):
                self.drop(client)
        return True

    def drop(self, client: _ClientProtocol) -> None:
        """Disconnect a client that does not read what it is sent (one log line)."""
        self.clients.remove(client)
        self.log.warn("Standalone client {peer} dropped: it has not read {waiting} bytes sent to it (limit "
                      "{limit}); {count} clients left", peer=client.peer, waiting=client.backlog.waiting,
                      limit=client.backlog.limit, count=len(self.clients))
        client.transport.abortConnection()  # frees its buffer now; a close handshake would wait on it


def announce(uuid: str, port: int, stream=None) -> None:
    """The startup line clients and tests wait for (protocol.md §8)."""
    stream = stream or sys.stderr
    print(f"Standalone server for uuid:{uuid} listening on port:{port}", file=stream, flush=True)
