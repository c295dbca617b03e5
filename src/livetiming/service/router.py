"""Router mode: publish a service through a WAMP session on the master router.

The session is a shell around the service: on every (re)join it registers the
service's procedures (taking over stale registrations), follows CONTROL,
re-announces the manifest and re-publishes the retained state. While the
router is away the service keeps polling; publishes are dropped and the
connection is retried with back-off."""
from urllib.parse import urlparse

from autobahn.twisted.component import Component
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import SERID_TO_SER
from autobahn.wamp.types import PublishOptions, RegisterOptions
from autobahn.websocket.util import parse_url
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from ..backoff import ROUTER, ROUTER_SETUP, autobahn_retry
from ..protocol import RPC, Channel, MalformedMessageError, Message, MessageClass, Realm

RETRY = autobahn_retry(ROUTER)
"""Reconnecting to the router: `livetiming.backoff.ROUTER` in autobahn's terms."""

SETUP_RETRY_INITIAL = ROUTER_SETUP.initial
SETUP_RETRY_MAX = ROUTER_SETUP.max


SERIALIZERS = [name for name in ("cbor", "json") if name in SERID_TO_SER]
"""CBOR (autobahn requires cbor2), then JSON. Every requestState answer
passes through the router, which decodes it to route it: a 60-car state
takes the router 1.4 ms to decode as JSON (autobahn's decoder is pure
Python) and 0.1 ms as CBOR, so with JSON a thousand calls a second saturated
the router and delayed published states by seconds. Not msgpack (0.05 ms):
it cannot carry integers from 2**64, and Crossbar, unable to forward a
public call holding one, would never answer the caller."""


class RouterURLError(ValueError):
    """LIVETIMING_ROUTER is not a ws://, wss:// or rs:// URL."""


def transport_for(url: str) -> dict:
    """An autobahn Component transport for a router URL. RawSocket URLs are
    `rs://host:port` (TCP), `rs://unix:/path` or `rs:///path` (unix socket).
    Raises RouterURLError for anything malformed, so that a typo is one line
    at start-up, not a traceback (or a reconnect loop) later."""
    if any(character.isspace() for character in url):
        raise RouterURLError(f"router URL {url!r} contains white space")
    try:
        parsed = urlparse(url)
        port = parsed.port  # raises for a port out of range or not a number
        if parsed.scheme in ("ws", "wss"):
            parse_url(url)  # autobahn's own checks (port 0, fragments), now rather than when connecting
    except ValueError as error:
        raise RouterURLError(f"router URL {url!r} is malformed: {error}") from None
    if parsed.scheme in ("ws", "wss"):
        if not parsed.hostname:
            raise RouterURLError(f"router URL {url!r} has no host")
        return {"type": "websocket", "url": url, "serializers": list(SERIALIZERS), **RETRY}
    if parsed.scheme == "rs":
        if parsed.hostname in (None, "", "unix"):
            path = parsed.path
            if not path:
                raise RouterURLError(f"router URL {url!r} names no unix socket path")
            endpoint = {"type": "unix", "path": path}
        else:
            if not port:
                raise RouterURLError(f"router URL {url!r} needs a port")
            endpoint = {"type": "tcp", "host": parsed.hostname, "port": port}
        return {"type": "rawsocket", "url": url, "endpoint": endpoint, "serializer": SERIALIZERS[0], **RETRY}
    raise RouterURLError(f"router URL {url!r} must start with ws://, wss:// or rs://")


class RouterPublisher:
    """Connects a BaseService to the router and keeps it announced."""

    log = Logger()

    def __init__(self, service, url: str, authid: str, secret: str):
        self.service = service
        self.session = None
        self.dropped = 0
        self.component = Component(
            transports=[transport_for(url)],
            realm=Realm.TIMING,
            # The uuid lets the router bind this session to the service it
            # announces, so that no other session can publish or register as it.
            authentication={"wampcra": {"authid": authid, "secret": secret,
                                        "authextra": {"uuid": service.uuid}}},
        )
        self.component.on_join(self._joined)
        self.component.on_leave(self._left)
        self.component.on_disconnect(self._disconnected)
        self.component.on_connectfailure(self._connect_failed)

    def start(self, reactor):
        return self.component.start(reactor)

    def stop(self):
        return self.component.stop()

    @property
    def connected(self) -> bool:
        return self.session is not None and self.session.is_attached()

    @inlineCallbacks
    def _joined(self, session, details, attempt: int = 0):
        """autobahn swallows errors from join handlers, and leaving would end
        the component for good (a client-initiated leave counts as done): a
        failed setup (e.g. a restarted router whose authorizer is not up yet)
        is tried again on the same session, after a growing delay."""
        try:
            yield self._announce(session, details)
        except Exception as error:
            self.session = None
            delay = ROUTER_SETUP.delay(attempt)
            reason = error.error_message() if isinstance(error, ApplicationError) else str(error)
            self.log.error("Could not set up the service on the router ({error}); trying again in {delay}s",
                           error=reason, delay=delay)
            if session.is_attached():
                from twisted.internet import reactor

                reactor.callLater(delay, self._retry_setup, session, details, attempt + 1)

    def _retry_setup(self, session, details, attempt: int) -> None:
        if session.is_attached() and self.session is None:
            self._joined(session, details, attempt)

    @inlineCallbacks
    def _announce(self, session, details):
        uuid = self.service.uuid
        replace = RegisterOptions(force_reregister=True)
        yield session.register(lambda *a, **k: True, RPC.LIVENESS_CHECK.format(uuid), options=replace)
        yield session.register(lambda *a, **k: self.service.requestState(), RPC.REQUEST_STATE.format(uuid),
                               options=replace)
        yield session.register(lambda *a, **k: self.service.requestAnalysisData(),
                               RPC.REQUEST_ANALYSIS_DATA.format(uuid), options=replace)
        yield session.subscribe(self._on_control, Channel.CONTROL)
        self.session = session
        self.log.info("Joined the router as {authid}; announcing service {uuid}", authid=details.authid, uuid=uuid)
        self.service.publishManifest()
        self.publish(Channel.STATE_PUBLISH.format(uuid), self.service.current_state_message())
        for topic, message in self.service.analysis_messages():
            self.publish(topic, message)

    def _left(self, session, details):
        self.session = None
        self.log.warn("Left the router: {reason} {message}", reason=details.reason, message=details.message or "")

    def _disconnected(self, session, was_clean):
        self.session = None
        self.log.warn("Disconnected from the router; will reconnect (data is still being collected)")

    def _connect_failed(self, component, error):
        if isinstance(error, ApplicationError):
            self.log.error("Router refused us: {error} (check LIVETIMING_AUTH_ID / LIVETIMING_SHARED_SECRET)",
                           error=error.error_message())

    def _on_control(self, *args, **kwargs):
        try:
            message = Message.parse(args[0] if args else None)
        except MalformedMessageError:
            return
        if message.msg_class == MessageClass.INITIALISE_DIRECTORY:
            self.service.publishManifest()

    def publish(self, topic: str, message: Message) -> bool:
        """False (and counted) while the router is away."""
        if not self.connected:
            self.dropped += 1
            return False
        options = PublishOptions(retain=True) if message.retain else None
        self.session.publish(topic, message.serialise(), options=options)
        return True
