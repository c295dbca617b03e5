"""Following a standalone service (protocol.md §8): a plain WebSocket (not
WAMP) whose text frames are `[topic, wrapper]`; the service sends its
manifest, state and analysis on connecting, then every later message.

It offers the `Subscriber`'s callbacks, so a viewer does not care which
kind of server it watches: the manifest is handed over as a listing of one
service. When the connection drops it reconnects with back-off."""
import random
from typing import Any, Optional
from urllib.parse import urlparse

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol, connectWS
from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger

from ..backoff import ROUTER, BackoffPolicy
from ..protocol import Channel, MessageClass
from ..untrusted import UntrustedDataError, loads
from .decode import LIMITS, DecodeError, decode_state, is_manifest, parse
from .subscriber import ListingCallback, StateCallback, StatusCallback, SubscriberURLError

MAX_FRAME = LIMITS.json_bytes
"""Bytes: the largest frame accepted from the service."""


def parse_frame(text: Any) -> "tuple[str, Any]":
    """(topic, wrapper) of one standalone frame; DecodeError if it is not one."""
    try:
        frame = loads(text, "a standalone frame", LIMITS)
    except UntrustedDataError as error:
        raise DecodeError(str(error)) from None
    if not isinstance(frame, list) or len(frame) != 2 or not isinstance(frame[0], str):
        raise DecodeError("a standalone frame is not [topic, wrapper]")
    return frame[0], frame[1]


def standalone_url(text: str) -> str:
    """`ws://host:port` for `ws://host:port`, `host:port` or a bare port
    (loopback). SubscriberURLError otherwise."""
    text = text.strip()
    if text.isdigit():
        text = f"ws://127.0.0.1:{text}"
    elif "://" not in text:
        text = f"ws://{text}"
    try:
        parsed = urlparse(text)
        port = parsed.port
    except ValueError as error:
        raise SubscriberURLError(f"standalone URL {text!r} is malformed: {error}") from None
    if parsed.scheme not in ("ws", "wss") or not parsed.hostname or not port:
        raise SubscriberURLError(f"standalone URL {text!r} must be ws://host:port")
    return text


class _Protocol(WebSocketClientProtocol):
    def onOpen(self):
        self.factory.owner._opened(self)

    def onMessage(self, payload, isBinary):
        self.factory.owner._frame(payload)

    def onClose(self, wasClean, code, reason):
        self.factory.owner._closed(self)


class StandaloneSubscriber:
    """Follows the one service behind a standalone WebSocket."""

    log = Logger()

    def __init__(self, url: str, *, on_state: Optional[StateCallback] = None,
                 on_listing: Optional[ListingCallback] = None, on_status: Optional[StatusCallback] = None,
                 policy: BackoffPolicy = ROUTER, rng: Optional[random.Random] = None, reactor=None):
        self.url = standalone_url(url)
        self.on_state = on_state or (lambda uuid, state, message: None)
        self.on_listing = on_listing or (lambda listing: None)
        self.on_status = on_status or (lambda status, url: None)
        self.policy, self.rng = policy, rng
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.protocol: Optional[_Protocol] = None
        self._attempt = 0
        self._retry = None
        self._connector = None
        self._stopping = False
        self._closed_d: Optional[Deferred] = None

    @property
    def connected(self) -> bool:
        return self.protocol is not None

    def start(self) -> None:
        self._stopping = False
        self._connect()

    def stop(self) -> Deferred:
        self._stopping = True
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        if self.protocol is not None:
            self._closed_d = Deferred()
            self.protocol.sendClose()
            return self._closed_d
        if self._connector is not None:
            self._connector.disconnect()
        return succeed(None)

    def follow(self, uuid: str) -> None:
        """Every state of the one service arrives anyway."""

    def _connect(self) -> None:
        self._retry = None
        if self._stopping:
            return
        factory = WebSocketClientFactory(self.url)
        factory.protocol = _Protocol
        factory.owner = self
        factory.noisy = False
        factory.setProtocolOptions(maxFramePayloadSize=MAX_FRAME, maxMessagePayloadSize=MAX_FRAME)
        factory.clientConnectionFailed = lambda connector, reason: self._closed(None)
        self._connector = connectWS(factory)

    def _opened(self, protocol: _Protocol) -> None:
        self.protocol = protocol
        self._attempt = 0
        self.log.info("Connected to the standalone service at {url}", url=self.url)
        self.on_status("connected", self.url)

    def _closed(self, protocol: Optional[_Protocol]) -> None:
        was_open = self.protocol is not None
        self.protocol = None
        if self._stopping:
            if self._closed_d is not None and not self._closed_d.called:
                self._closed_d.callback(None)
            return
        if was_open:
            self.on_status("disconnected", self.url)
        if self._retry is not None and self._retry.active():
            return  # a failed connection reports both a close and a failure
        delay = self.policy.delays(self.rng)(self._attempt)
        self._attempt += 1
        self.log.info("Standalone service at {url} unreachable; trying again in {delay:.1f}s", url=self.url,
                      delay=delay)
        self._retry = self.reactor.callLater(delay, self._connect)

    def _frame(self, payload: bytes) -> None:
        try:
            topic, wrapper = parse_frame(payload)
            message = parse(wrapper)
            if topic == Channel.CONTROL and message.msg_class == MessageClass.SERVICE_REGISTRATION:
                if is_manifest(message.payload):
                    self.on_listing([message.payload])
            elif topic.startswith(Channel.STATE_PREFIX) and message.msg_class in (
                    MessageClass.SERVICE_DATA, MessageClass.SERVICE_DATA_COMPRESSED):
                self.on_state(topic[len(Channel.STATE_PREFIX):], decode_state(message), message)
        except DecodeError as error:
            self.log.warn("Unreadable frame from {url}: {error}", url=self.url, error=error)
