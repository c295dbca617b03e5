"""The plugin-facing service API (`AbstractService`, `BaseService`).

Plugin method names keep their historical camelCase spelling because existing
plugins depend on them. `BaseService` runs the update cycle (see `cycle.py`)
and hands each result to its publishers (standalone WebSocket server or a
router session), which are thin shells around it."""
import argparse
import sys
import uuid as uuid_module
from dataclasses import dataclass
from typing import Any, List, Optional

from twisted.internet import task
from twisted.logger import Logger

from .. import config
from ..atomic import write_atomically
from ..protocol import Channel, Message, MessageClass
from ..protocol.lzstring import compress_to_utf16
from ..recording import RecordingError
from . import cycle, hooks, persistence
from .due_publisher import DuePublisher
from .live_analysis import LiveAnalysis
from .manifest import build_manifest
from .messages import adapt_generator, default_generators, share_pairing
from .recorder import LocalRecorder
from .throttle import LogThrottle, describe_error

MANIFEST_MIN_INTERVAL = 1.0
"""publishManifest() sends at most once a second; later calls are coalesced."""
MANIFEST_RETRY = 5.0
"""A manifest the plugin cannot build yet (data not fetched) is tried again after this."""
SLOW_POLL = 1.0
"""A getRaceState() that takes longer than this (seconds) is warned about:
the reactor is blocked meanwhile, so nothing is published and no call answered."""


class AbstractService:
    """What a timing plugin implements; `BaseService` supplies everything else.

    The hooks keep their historical camelCase names: plugins written since
    2017 override them. `getName`, `getColumnSpec` and `getRaceState` are
    required (`livetiming-service` stops at start-up, exit code 2, naming
    the first one a plugin lacks); the others have defaults. The manifest
    hooks (`getName`, `getDefaultDescription`, `getColumnSpec`,
    `getTrackDataSpec`, `getPollInterval`, `getVersion`) are asked once at
    start-up, where a wrong type ends the service with one line, and then
    whenever the manifest is (re)published; one that raises (data not
    fetched yet) is asked again a few seconds later.

    `BaseService` supplies, for plugins to use: `self.log` (a Twisted
    `Logger`), `self.uuid`, `self.args` (the parsed options), `self.extra_args`
    (options the core did not know), `self.state` (`cars`, `session`,
    `messages`), `self.http_client` (treq), `start()` / `stop()`,
    `publish(topic, wrapper_dict, options=None)`, `publishManifest()`,
    `_updateAndPublishRaceState()`, `_getMessageGenerators()`,
    `_getServiceClass()` and `_getDescription()`."""

    auto_poll = True
    """When true (the default) the base calls `_updateAndPublishRaceState()`
    every `getPollInterval()` seconds. Push-driven plugins set it false, or
    mix in `DuePublisher`, and publish when their data changes."""
    attribution = None
    """`[name, url_or_None]` crediting the upstream timing provider, published
    as the manifest's `source`, e.g. `["Example Timing", "https://timing.example/"]`."""

    @hooks.required
    def getName(self) -> str:
        """Required. The service's name, the manifest's `name`, e.g.
        `"FIA WEC"`. Asked at start-up and for every manifest."""
        raise NotImplementedError

    def getDefaultDescription(self) -> str:
        """The manifest's `description` unless `-d TEXT` is given, e.g.
        `"6 Hours of Spa - Race"`. Default `""`. Asked like `getName()`."""
        return ""

    @hooks.required
    def getColumnSpec(self) -> list:
        """Required. The timing columns, in the order of each car's row: a
        list of `Stat` members or `[heading, type]` / `[heading, type,
        description]` lists, e.g. `[Stat.NUM, Stat.STATE, Stat.DRIVER,
        Stat.LAPS, ["Tyre", "text", "Current tyre"]]`. Asked at start-up, for
        every manifest and at every update (message generators read cells
        through it)."""
        raise NotImplementedError

    @hooks.required
    def getRaceState(self) -> dict:
        """Required. The current timing, asked every poll (or when a
        `DuePublisher` is due): `{"cars": [row, ...] in classification order,
        "session": {"flagState": "green", "timeElapsed": 1234, ...}}`, each row
        a list matching `getColumnSpec()` (cells are values or `[value,
        flag]`, e.g. `[["7", "RUN", "Buemi", 112, [101.2, "pb"]]]`). Do not
        block: fetch upstream asynchronously and return what you have. An
        exception is logged and the previous state kept."""
        raise NotImplementedError

    def getTrackDataSpec(self) -> list:
        """Headings of `session.trackData`, e.g. `["Air temp", "Track temp"]`.
        Default `[]`. Asked like `getName()`."""
        return []

    def getPollInterval(self) -> float:
        """Seconds between polls when `auto_poll` (a finite number above 0;
        at least 1 is used), e.g. `5`. Default 10. Asked at start-up."""
        return 10

    def getExtraMessageGenerators(self) -> list:
        """Message generators run after the defaults at every update, e.g.
        `[RaceControlMessage(self.rc_deque)]`: today's `MessageGenerator`s or
        historical `TimingMessage`s (both `process` signatures work). Default
        `[]`. Asked once, at start-up."""
        return []

    def getVersion(self) -> str:
        """The plugin's version for the manifest, e.g. `"1.2.0"`. Default: the
        `__version__` of the plugin's module (`"unknown"` without one)."""
        module = sys.modules.get(type(self).__module__)
        return str(getattr(module, "__version__", "unknown"))


@dataclass
class PublishedDict:
    """A wrapper a plugin publishes itself (`publish(topic, dict)`), passed
    on as it is: the publishers need only `serialise()` and `retain`."""

    wrapper: Any
    retain: bool = False

    def serialise(self) -> Any:
        return self.wrapper


def _retain_option(options: Any, wrapper: Any) -> bool:
    """Retain when the options say so (autobahn `PublishOptions` or a dict)
    or the wrapper itself does (`Message(..., retain=True).serialise()`)."""
    if isinstance(options, dict):
        retain = options.get("retain")
    else:
        retain = getattr(options, "retain", None)
    if retain is None and isinstance(wrapper, dict):
        retain = wrapper.get("retain")
    return retain is True


class BaseService(AbstractService):
    """Defaults and all the plumbing: update cycle, state files, manifest, publishing."""

    def __init__(self, args: argparse.Namespace, extra_args: Optional[List[str]] = None, reactor=None):
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.args = args
        self.extra_args = list(extra_args or [])
        self.log = Logger(namespace=type(self).__module__)
        self.publishers: list = []
        self.analyser = None   # the live analyser, when analysis is enabled
        self.recorder = None   # the local recorder (-r)
        initial_state_file = getattr(args, "initial_state", None)
        if initial_state_file:
            self.state = persistence.load_state(initial_state_file)
            self.uuid = persistence.uuid_from_state_file(initial_state_file)
        else:
            self.state = cycle.initial_state()
            self.uuid = getattr(args, "uuid", None) or uuid_module.uuid4().hex
        self._generators = None
        self._car_pairing = None  # the pairing cache of this service's per-car generators
        self._http_client = None
        self._http_pool = None
        self._runs_reactor = False  # set by livetiming-service: start() then runs the reactor until shutdown
        self._state_message: Optional[Message] = None
        self._state_file = None
        self._poller: Optional[task.LoopingCall] = None
        self._last_manifest_time = None
        self._pending_manifest = None
        self._throttle = LogThrottle(self.log, self.reactor.seconds)

    # --- identity and manifest -------------------------------------------------

    @property
    def plugin_name(self) -> str:
        return type(self).__module__.split(".")[-1]

    def _getServiceClass(self) -> str:
        return getattr(self.args, "masquerade", None) or self.plugin_name

    def _getDescription(self) -> str:
        return getattr(self.args, "description", None) or self.getDefaultDescription()

    def _createServiceManifest(self) -> dict:
        return build_manifest(
            uuid=self.uuid,
            name=self.getName(),
            service_class=self._getServiceClass(),
            description=self._getDescription(),
            colspec=self.getColumnSpec(),
            track_data_spec=self.getTrackDataSpec(),
            poll_interval=self.getPollInterval(),
            has_analysis=not getattr(self.args, "disable_analysis", False),
            hidden=getattr(self.args, "hidden", False),
            plugin_version=self.getVersion(),
            attribution=self.attribution,
            do_not_record=getattr(self.args, "do_not_record", False),
        )

    @property
    def manifest(self) -> dict:
        return self._createServiceManifest()

    def _manifest_or_none(self):
        """The manifest, or None while the plugin cannot build it yet."""
        try:
            return self.manifest
        except Exception:
            return None

    def publishManifest(self) -> None:
        """Announce (or re-announce) this service; rate limited to once a second."""
        now = self.reactor.seconds()
        if self._last_manifest_time is not None and now - self._last_manifest_time < MANIFEST_MIN_INTERVAL:
            if self._pending_manifest is None or not self._pending_manifest.active():
                delay = MANIFEST_MIN_INTERVAL - (now - self._last_manifest_time)
                self._pending_manifest = self.reactor.callLater(delay, self.publishManifest)
            return
        try:
            message = self.manifest_message()
        except Exception:
            self.log.failure("The plugin's manifest cannot be built yet; trying again in {delay}s",
                             delay=MANIFEST_RETRY)
            self._pending_manifest = self.reactor.callLater(MANIFEST_RETRY, self.publishManifest)
            return
        self._last_manifest_time = now
        if self.analyser is not None:
            self.analyser.set_manifest(message.payload)
        if self.recorder is not None:
            self.recorder.update_manifest(message.payload)
        self._publish(Channel.CONTROL, message)

    def manifest_message(self) -> Message:
        return Message(MessageClass.SERVICE_REGISTRATION, self.manifest, date=self._now_ms())

    # --- the update cycle ------------------------------------------------------

    def _getMessageGenerators(self) -> list:
        """Every generator an update runs: the defaults (flag, pit, driver
        change, fast lap), then `getExtraMessageGenerators()`. Plugins may
        override it to replace the defaults (historical API); asked once."""
        return default_generators() + hooks.message_generators(self.getExtraMessageGenerators())

    @property
    def generators(self) -> list:
        """`_getMessageGenerators()`, checked and adapted to today's
        `process(old, new, colspec, timestamp)` once. The per-car ones share
        one car pairing, this service's own (`share_pairing`)."""
        if self._generators is None:
            generators = hooks.message_generators(self._getMessageGenerators(), "_getMessageGenerators")
            self._generators = [adapt_generator(generator) for generator in generators]
            self._car_pairing = share_pairing(self._generators)
        return self._generators

    def _updateAndPublishRaceState(self) -> None:
        """Poll the plugin and publish; never raises, so polling never stops."""
        started = self.reactor.seconds()
        try:
            raw = self.getRaceState()
        except Exception:
            self.log.failure("getRaceState() raised; keeping the previous state")
            return
        finally:
            self._check_poll_duration(self.reactor.seconds() - started)
        try:
            update = cycle.next_state(
                self.state, raw, self.generators, self.getColumnSpec(),
                self.reactor.seconds(), on_error=self._generator_failed,
            )
        except cycle.InvalidStateError as error:
            self._throttle.error(("invalid state", str(error)), "Plugin state not published: {error}", error=error)
            return
        except Exception:
            self.log.failure("State update failed; keeping the previous state")
            return
        self.state = update.state
        self._after_update(update)

    def _after_update(self, update: cycle.Update) -> None:
        for step in (self._feed_analysis, self._save_state, self._record, self._publish_state):
            try:
                step(update)
            except Exception:
                self.log.failure("Update step {step} failed", step=step.__name__)

    def _check_poll_duration(self, seconds: float) -> None:
        if seconds > SLOW_POLL:
            self._throttle.warn(
                "slow getRaceState",
                "getRaceState() of plugin {plugin} blocked the service for {seconds:.1f}s (nothing is "
                "published and no call answered meanwhile): fetch upstream data asynchronously, "
                "e.g. with livetiming.service.fetcher", plugin=self.plugin_name, seconds=seconds)

    def _generator_failed(self, generator, error: Exception) -> None:
        self.log.failure("Message generator {generator!r} failed", generator=generator)

    def _feed_analysis(self, update: cycle.Update) -> None:
        if self.analyser is not None:
            self.analyser.submit(update.state, update.new_messages, self.reactor.seconds())

    def _save_state(self, update: cycle.Update) -> None:
        if not getattr(self.args, "no_write_state", False):
            self._write("state", self.state_file, write_atomically, self.state_file, update.text)

    def _record(self, update: cycle.Update) -> None:
        if self.recorder is not None:
            self._write("recording", self.recorder.path, self.recorder.write_frame, self.reactor.seconds(),
                        update.state)

    def _write(self, what: str, path, write, *args) -> None:
        """One write of an update. A full disk or a read-only directory fails
        every update: that is a warning at most once a minute (and a line when
        writing works again), not a traceback per update."""
        key = ("write", what)
        try:
            write(*args)
        except (OSError, RecordingError) as error:
            self._throttle.warn(key, "Could not write the {what} to {path}: {error}", what=what, path=path,
                                error=describe_error(error))
        else:
            self._throttle.resolved(key, "Writing the {what} to {path} works again", what=what, path=path)

    def _publish_state(self, update: cycle.Update) -> None:
        self._state_message = self._state_message_for(update.text)
        self._publish(Channel.STATE_PUBLISH.format(self.uuid), self._state_message)

    def _state_message_for(self, text: str) -> Message:
        return Message(MessageClass.SERVICE_DATA_COMPRESSED, compress_to_utf16(text),
                       date=self._now_ms(), retain=True)

    @property
    def state_file(self):
        """Resolved (and its directory created) once, not on every update."""
        if self._state_file is None:
            self._state_file = config.directory("LIVETIMING_STATE_DIR") / f"{self.uuid}.json"
        return self._state_file

    def saveState(self) -> None:
        write_atomically(self.state_file, cycle.to_json(self.state))

    # --- publishing ------------------------------------------------------------

    def _now_ms(self) -> int:
        return int(self.reactor.seconds() * 1000)

    def _publish(self, topic: str, message: Message) -> bool:
        """Hand `message` to every publisher; true when one of them took it
        (a publisher returns False when it cannot publish, e.g. the router
        is away)."""
        published = False
        for publisher in self.publishers:
            try:
                published = publisher.publish(topic, message) is not False or published
            except Exception:
                self.log.failure("Publishing to {topic} via {publisher!r} failed", topic=topic, publisher=publisher)
        return published

    def publish(self, topic: str, message: Any, options: Any = None) -> bool:
        """Publish a wrapper dict (e.g. `Message(...).serialise()`) or a
        `Message` on `topic`, retained when `options` (autobahn
        `PublishOptions` or a dict) or the wrapper say so. Returns whether it
        could be published (historical API)."""
        if isinstance(message, Message):
            if _retain_option(options, None) and not message.retain:
                message = Message(message.msg_class, message.payload, date=message.date, retain=True)
            return self._publish(topic, message)
        return self._publish(topic, PublishedDict(message, _retain_option(options, message)))

    @property
    def http_client(self):
        """A `treq` HTTP client on this service's reactor (historical API),
        created on first use, with a persistent connection pool."""
        if self._http_client is None:
            from treq.client import HTTPClient
            from twisted.web.client import Agent, HTTPConnectionPool

            self._http_pool = HTTPConnectionPool(self.reactor, persistent=True)
            self._http_client = HTTPClient(Agent(self.reactor, pool=self._http_pool))
        return self._http_client

    def current_state_message(self) -> Message:
        """The latest state message, built from the current state if none was published yet."""
        if self._state_message is None:
            return self._state_message_for(cycle.to_json(self.state))
        return self._state_message

    def snapshot(self) -> list:
        """What a newly connected standalone client is sent at once."""
        return [(Channel.CONTROL, self.manifest_message()),
                (Channel.STATE_PUBLISH.format(self.uuid), self.current_state_message()),
                *self.analysis_messages()]

    def analysis_messages(self) -> list:
        """(topic, message) for every analysis key: sent on (re)join and to new clients."""
        return self.analyser.messages() if self.analyser is not None else []

    def requestState(self) -> dict:
        """RPC REQUEST_STATE: the current state, uncompressed: the object
        parsed once from the published text at the last update, shared by
        every call (never rebuilt or copied per call, nor changed later: each
        update replaces it)."""
        return self.state

    def requestAnalysisData(self):
        """RPC REQUEST_ANALYSIS_DATA: the whole v1 analysis dict (a Deferred):
        a snapshot taken on the analyser's thread at most once per update,
        shared by every call until the next."""
        return self.analyser.data() if self.analyser is not None else {}

    # --- lifecycle ---------------------------------------------------------------

    def open_recording(self) -> None:
        """Start recording to `-r FILE` (raises RecordingError for unusable paths)."""
        if getattr(self.args, "recording_file", None) and self.recorder is None:
            self.recorder = LocalRecorder(self.args.recording_file, self.manifest)

    def start(self) -> None:
        """Begin analysing and publishing (polling when `auto_poll`).

        Plugins override it to start fetchers or connect upstream, then call
        `super().start()`. Under `livetiming-service` (historical behaviour)
        this call runs the reactor and returns only when the service has
        shut down, so plugin code after `super().start()` runs at shutdown,
        once the reactor has stopped (no networking then). Elsewhere (a
        reactor already running, tests with a fake clock) it begins at once
        and returns."""
        if self._runs_reactor and not self.reactor.running:
            self._runs_reactor = False  # once: a second start() must not run the reactor again
            self.reactor.callWhenRunning(self._begin)
            self.reactor.run()
        else:
            self._begin()

    def _begin(self) -> None:
        """Start the analyser, announce, and start polling or due-publishing."""
        if not getattr(self.args, "disable_analysis", False) and self.analyser is None:
            try:
                self.analyser = LiveAnalysis(
                    self.uuid, self._manifest_or_none(), self._publish, self.reactor,
                    state_file=config.directory("LIVETIMING_ANALYSIS_DIR") / f"{self.uuid}.json",
                    key_interval=self.getPollInterval())
                self.analyser.start()
            except Exception:
                self.log.failure("The analyser could not start; the service runs without analysis")
                self.analyser = None
        self.publishManifest()
        if isinstance(self, DuePublisher):
            self.start_due_publisher()
        elif self.auto_poll:
            self._poller = task.LoopingCall(self._updateAndPublishRaceState)
            self._poller.clock = self.reactor
            self._poller.start(max(1, hooks.poll_interval(self.getPollInterval())), now=True)

    def stop(self):
        """Stop polling, say goodbye and persist what we have (before reactor
        shutdown; returns a Deferred while the analysis is being saved)."""
        if self._poller is not None and self._poller.running:
            self._poller.stop()
        if isinstance(self, DuePublisher):
            self.stop_due_publisher()
        if self._http_pool is not None:
            self._http_pool.closeCachedConnections()  # kept-alive upstream connections
        self._publish(Channel.CONTROL, Message(MessageClass.SERVICE_DEREGISTRATION, self.uuid, date=self._now_ms()))
        if self._pending_manifest is not None and self._pending_manifest.active():
            self._pending_manifest.cancel()
        if not getattr(self.args, "no_write_state", False):
            try:
                self.saveState()
            except OSError as error:
                self.log.warn("Could not save the state to {path} on shutdown: {error}", path=self.state_file,
                              error=describe_error(error))
            except Exception:
                self.log.failure("Could not save state on shutdown")
        if self.recorder is not None:
            try:
                if self.recorder.finish():
                    self.log.info("Recording written to {path}", path=self.recorder.path)
            except Exception:
                self.log.failure("Could not finalise the recording {path}", path=self.recorder.path)
            self.recorder = None
        if self.analyser is not None:
            return self.analyser.stop()
        return None
