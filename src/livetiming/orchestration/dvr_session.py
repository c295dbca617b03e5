"""The DVR's WAMP shell: subscribes to every service's state and analysis,
CONTROL and DIRECTORY, and feeds the `DVR` core. Runs inside the router or
standalone (`livetiming-dvr`). Malformed topics and payloads are logged and
skipped; a failure for one service never affects the others. A manifest on
CONTROL counts only from the service it describes (see `identity`); states
and analysis need no such check, since the router lets only a service
publish on its own topics."""

from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp.types import SubscribeOptions
from twisted.internet import task
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from ..protocol import RPC, Channel, MalformedMessageError, Message, MessageClass
from ..protocol.lzstring import LZStringError, decompress_from_utf16
from ..untrusted import Limits, loads
from .directory import InvalidManifestError, validate_manifest
from .dvr import DVR, settings_from
from .identity import speaks_for
from .settings import component_setting, positive_seconds, session_extra

TICK_INTERVAL = 5.0


class PayloadError(ValueError):
    """A published message the DVR cannot record."""


def decode_state(wrapper, limits: Limits) -> tuple:
    """(timestamp in seconds, state) of a SERVICE_DATA(_COMPRESSED) wrapper.
    The decompressed JSON comes from the network: it is parsed under
    `limits` (and with orjson: this runs for every state of every service)."""
    message = Message.parse(wrapper)
    if message.msg_class == MessageClass.SERVICE_DATA_COMPRESSED:
        if not isinstance(message.payload, str):
            raise PayloadError("compressed state payload is not a string")
        try:
            state = loads(decompress_from_utf16(message.payload), "compressed state", limits)
        except (LZStringError, ValueError) as error:
            raise PayloadError(f"cannot decompress state: {error}") from None
    elif message.msg_class == MessageClass.SERVICE_DATA:
        state = message.payload
    else:
        raise PayloadError(f"not a state message (msgClass {int(message.msg_class)})")
    if not isinstance(state, dict) or not isinstance(state.get("cars", []), list):
        raise PayloadError("state is not a timing state")
    return message.date / 1000.0, state


class DVRSession(ApplicationSession):
    log = Logger()

    @inlineCallbacks
    def onJoin(self, details):
        from twisted.internet import reactor

        extra = session_extra(self)
        self.reactor = extra.get("reactor", reactor)
        if not hasattr(self, "dvr"):
            self.dvr = DVR(settings_from(extra))
        if not hasattr(self, "limits"):
            self.limits = Limits.from_environment()
            self.dvr.resume_all(self.reactor.seconds())
        # Manifests first: a retained state must not reach a resumed recording
        # before we know whether its service started a new session meanwhile.
        yield self.subscribe(self.on_control, Channel.CONTROL, options=SubscribeOptions(details=True))
        yield self.subscribe(self.on_listing, Channel.DIRECTORY, options=SubscribeOptions(get_retained=True))
        yield self.ask_directory()
        yield self.subscribe(self.on_analysis, Channel.ANALYSIS_PREFIX,
                             options=SubscribeOptions(match="prefix", details=True, get_retained=True))
        yield self.subscribe(self.on_state, Channel.STATE_PREFIX,
                             options=SubscribeOptions(match="prefix", details=True, get_retained=True))
        self._ticker = task.LoopingCall(self.tick)
        self._ticker.clock = self.reactor
        interval = positive_seconds(component_setting(extra, "tick_interval", "LIVETIMING_DVR_TICK_INTERVAL",
                                                      TICK_INTERVAL), "LIVETIMING_DVR_TICK_INTERVAL")
        self._ticker.start(interval, now=False).addErrback(
            lambda f: self.log.failure("DVR tick loop failed", f))
        self.log.info("DVR ready: recording to {path}", path=self.dvr.settings.recordings_dir)

    def onLeave(self, details):
        ticker = getattr(self, "_ticker", None)
        if ticker is not None and ticker.running:
            ticker.stop()
        if hasattr(self, "dvr"):
            self.dvr.close(self.reactor.seconds())
            del self.dvr
        super().onLeave(details)

    def ask_directory(self):
        """Learn the manifests of services already running."""
        d = self.call(RPC.DIRECTORY_LISTING, includeHidden=True)
        d.addCallbacks(self._manifests, lambda f: self.log.warn("No directory listing: {e}",
                                                               e=f.getErrorMessage()))
        return d

    def _manifests(self, manifests) -> None:
        for manifest in manifests if isinstance(manifests, list) else []:
            self._manifest(manifest)

    def _manifest(self, manifest) -> None:
        try:
            validate_manifest(manifest)
            self.dvr.on_manifest(manifest, self.reactor.seconds())
        except InvalidManifestError as error:
            self.log.warn("Ignoring manifest: {error}", error=error)
        except Exception:
            self.log.failure("Handling the manifest of {uuid} failed", uuid=manifest.get("uuid"))

    def _event(self, args, what: str):
        """The wrapper of an event (its only argument), or None, logged, when malformed."""
        try:
            return Message.parse(args[0] if len(args) == 1 else None)
        except MalformedMessageError as error:
            self.log.warn("Ignoring malformed {what}: {error}", what=what, error=error)
            return None

    def on_control(self, *args, details=None, **kwargs):
        message = self._event(args, "CONTROL message")
        if message is None or message.msg_class != MessageClass.SERVICE_REGISTRATION:
            return
        uuid = message.payload.get("uuid") if isinstance(message.payload, dict) else None
        if not speaks_for(details, uuid):
            self.log.warn("Ignoring a manifest for {uuid} from another session", uuid=str(uuid)[:80])
            return
        self._manifest(message.payload)

    def on_listing(self, *args, **kwargs):
        message = self._event(args, "directory listing")
        if message is not None and message.msg_class == MessageClass.DIRECTORY_LISTING:
            self._manifests(message.payload)

    def on_state(self, *args, details=None, **kwargs):
        topic = getattr(details, "topic", None) or ""
        uuid = topic[len(Channel.STATE_PREFIX):]
        if not uuid or "." in uuid:
            self.log.warn("Ignoring state on unexpected topic {topic!r}", topic=topic)
            return
        try:
            timestamp, state = decode_state(args[0] if len(args) == 1 else None, self.limits)
            if not self.dvr.on_state(uuid, timestamp, state, self.reactor.seconds()):
                self.log.info("State of unknown service {uuid}; asking the directory", uuid=uuid)
                self.ask_directory()
        except (MalformedMessageError, PayloadError) as error:
            self.log.warn("Ignoring state on {topic}: {error}", topic=topic, error=error)
        except Exception:
            self.log.failure("Recording a state of {uuid} failed", uuid=uuid)

    def on_analysis(self, *args, details=None, **kwargs):
        topic = getattr(details, "topic", None) or ""
        uuid, _, key = topic[len(Channel.ANALYSIS_PREFIX):].partition("/")
        try:
            message = Message.parse(args[0] if len(args) == 1 else None)
            if message.msg_class != MessageClass.ANALYSIS_DATA or not uuid or not key:
                raise PayloadError(f"not an analysis message (topic {topic!r})")
            self.dvr.on_analysis(uuid, key, message.payload, self.reactor.seconds())
        except (MalformedMessageError, PayloadError, ValueError) as error:
            self.log.warn("Ignoring analysis on {topic}: {error}", topic=topic, error=error)

    def tick(self):
        try:
            for path in self.dvr.tick(self.reactor.seconds()):
                self.log.info("Recording finished: {path}", path=path)
        except Exception:
            self.log.failure("DVR tick failed")
