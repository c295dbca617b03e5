"""The directory: which services are live. A plain `ServiceDirectory` holds
the manifests; `DirectorySession` is the WAMP shell that runs beside the
router (supervised by `livetiming-router`, or standalone as `livetiming-directory`).

A registration or deregistration is accepted only from the session bound to
the uuid it names (publisher disclosure, see `identity`): with one shared
secret, nothing else stops one service from removing or renaming another."""
from typing import Dict, List, Optional

from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp.types import PublishOptions, RegisterOptions, SubscribeOptions
from twisted.internet import defer, task
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from ..protocol import RPC, Channel, MalformedMessageError, Message, MessageClass
from ..untrusted import Limits, UntrustedDataError, check_manifest
from .identity import IdentityError, bound_uuid, check_uuid, publisher_authid
from .settings import SettingError, component_setting, positive_seconds, session_extra

LIVENESS_INTERVAL = 10.0
PUBLISH_INTERVAL = 60.0
LIVENESS_TIMEOUT = 5.0
MANIFEST_LIMITS = Limits()
"""CONTROL manifests are small: the default bounds on their fields apply."""


class InvalidManifestError(MalformedMessageError):
    """A registration whose manifest the directory cannot list."""


class NotOwnerError(MalformedMessageError):
    """A registration or deregistration from a session not bound to its uuid."""


def validate_manifest(manifest) -> dict:
    """A live service's manifest: a live service uuid (see `identity`) and
    fields of the right types and bounded sizes (see `untrusted`)."""
    if not isinstance(manifest, dict):
        raise InvalidManifestError(f"manifest is not an object: {type(manifest).__name__}")
    try:
        check_uuid(manifest.get("uuid"))
        check_manifest(manifest, "manifest", MANIFEST_LIMITS)
    except (IdentityError, UntrustedDataError) as error:
        raise InvalidManifestError(str(error)) from None
    return manifest


def intervals(extra: Optional[dict]) -> tuple:
    """(liveness, publish) intervals in seconds; tests shorten them through
    the environment. Raises SettingError for anything but a positive number."""
    return (positive_seconds(component_setting(extra, "liveness_interval", "LIVETIMING_DIRECTORY_LIVENESS_INTERVAL",
                                               LIVENESS_INTERVAL), "LIVETIMING_DIRECTORY_LIVENESS_INTERVAL"),
            positive_seconds(component_setting(extra, "publish_interval", "LIVETIMING_DIRECTORY_PUBLISH_INTERVAL",
                                               PUBLISH_INTERVAL), "LIVETIMING_DIRECTORY_PUBLISH_INTERVAL"))


class ServiceDirectory:
    """Manifests of live services by UUID, in registration order."""

    def __init__(self):
        self._services: Dict[str, dict] = {}

    def handle(self, wrapper, sender: Optional[str]) -> bool:
        """Apply a CONTROL message published by the service bound to uuid
        `sender` (None: not a service); True when the listing changed. Raises
        MalformedMessageError for messages it cannot use or must not accept."""
        message = Message.parse(wrapper)
        if message.msg_class == MessageClass.SERVICE_REGISTRATION:
            manifest = validate_manifest(message.payload)
            _check_owner(manifest["uuid"], sender, "registration")
            return self._store(manifest)
        if message.msg_class == MessageClass.SERVICE_DEREGISTRATION:
            payload = message.payload
            uuid = payload.get("uuid") if isinstance(payload, dict) else payload
            if not isinstance(uuid, str):
                raise InvalidManifestError(f"deregistration without a uuid: {str(payload)[:80]!r}")
            _check_owner(uuid, sender, "deregistration")
            return self.remove(uuid)
        return False

    def register(self, manifest) -> bool:
        return self._store(validate_manifest(manifest))

    def _store(self, manifest: dict) -> bool:
        """Keep a validated manifest; True when the listing changed."""
        if self._services.get(manifest["uuid"]) == manifest:
            return False
        self._services[manifest["uuid"]] = manifest
        return True

    def remove(self, uuid: str) -> bool:
        return self._services.pop(uuid, None) is not None

    def uuids(self) -> List[str]:
        return list(self._services)

    def listing(self, include_hidden: bool = False) -> List[dict]:
        return [m for m in self._services.values() if include_hidden or not m.get("hidden")]


def _check_owner(uuid: str, sender: Optional[str], what: str) -> None:
    if uuid != sender:
        raise NotOwnerError(f"{what} for {uuid[:80]!r} from a session bound to {sender!r}; ignored")


class DirectorySession(ApplicationSession):
    """Registers listServices, follows CONTROL, checks liveness, publishes the listing."""

    log = Logger()

    @inlineCallbacks
    def onJoin(self, details):
        from twisted.internet import reactor

        extra = session_extra(self)
        self.reactor = extra.get("reactor", reactor)
        try:
            self.liveness_interval, self.publish_interval = intervals(extra)
        except SettingError as error:
            self.log.critical("{error}", error=error)
            raise
        self.directory = ServiceDirectory()
        yield self.register(self.list_services, RPC.DIRECTORY_LISTING, options=RegisterOptions(force_reregister=True))
        yield self.subscribe(self.on_control, Channel.CONTROL, options=SubscribeOptions(details=True))
        self.publish(Channel.CONTROL, Message(MessageClass.INITIALISE_DIRECTORY).serialise())
        self.publish_listing()
        self._loops = [task.LoopingCall(self.check_liveness), task.LoopingCall(self.publish_listing)]
        for loop, interval in zip(self._loops, (self.liveness_interval, self.publish_interval)):
            loop.clock = self.reactor
            loop.start(interval, now=False).addErrback(lambda f: self.log.failure("Directory loop failed", f))
        self.log.info("Directory ready (liveness every {l}s, listing every {p}s)",
                      l=self.liveness_interval, p=self.publish_interval)

    def onLeave(self, details):
        for loop in getattr(self, "_loops", []):
            if loop.running:
                loop.stop()
        super().onLeave(details)

    def list_services(self, includeHidden: bool = False) -> List[dict]:
        return self.directory.listing(include_hidden=bool(includeHidden))

    def on_control(self, *args, details=None, **kwargs) -> None:
        if len(args) != 1 or kwargs:
            self.log.warn("Ignoring CONTROL message with unexpected arguments: {args!r} {kwargs!r}",
                          args=str(args[:3])[:200], kwargs=str(kwargs)[:200])
            return
        try:
            changed = self.directory.handle(args[0], bound_uuid(publisher_authid(details)))
        except MalformedMessageError as error:
            self.log.warn("Ignoring malformed CONTROL message: {error}", error=error)
            return
        if changed:
            self.publish_listing()

    def publish_listing(self) -> None:
        if not self.is_attached():
            return
        message = Message(MessageClass.DIRECTORY_LISTING, self.directory.listing(), retain=True)
        self.publish(Channel.DIRECTORY, message.serialise(), options=PublishOptions(retain=True))

    @inlineCallbacks
    def check_liveness(self):
        """Call every service's isAlive; drop those that fail or time out."""
        uuids = self.directory.uuids()
        calls = [self.call(RPC.LIVENESS_CHECK.format(uuid)).addTimeout(LIVENESS_TIMEOUT, self.reactor)
                 for uuid in uuids]
        results = yield defer.DeferredList(calls, consumeErrors=True)
        removed = [uuid for uuid, (ok, _) in zip(uuids, results) if not ok]
        for uuid in removed:
            self.log.info("Service {uuid} failed its liveness check; removing it", uuid=uuid)
            self.directory.remove(uuid)
        if removed:
            self.publish_listing()
