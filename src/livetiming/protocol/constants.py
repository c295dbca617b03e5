"""Wire constants of the Timing71 network protocol (CTD): realm, message
classes, topics and procedure URIs. They must match the spec exactly, since
real clients, relays and recordings depend on them."""
from enum import IntEnum


class Realm:
    TIMING = "timing"


class MessageClass(IntEnum):
    INITIALISE_DIRECTORY = 1
    SERVICE_REGISTRATION = 2
    SERVICE_DEREGISTRATION = 3
    SERVICE_DATA = 4
    DIRECTORY_LISTING = 5
    SCHEDULE_LISTING = 6
    ANALYSIS_DATA = 7
    SERVICE_DATA_COMPRESSED = 8
    ANALYSIS_DATA_COMPRESSED = 9
    RECORDING_LISTING = 10


class Channel:
    """Topics. The per-service ones are format strings taking the UUID (and key)."""

    CONTROL = "livetiming.control"
    DIRECTORY = "livetiming.directory"
    SCHEDULER = "livetiming.scheduler"
    RECORDING = "livetiming.replay"
    STATE_PUBLISH = "livetiming.service.{}"
    ANALYSIS_PUBLISH = "livetiming.analysis/{}/{}"
    STATE_PREFIX = STATE_PUBLISH.split("{}")[0]
    """What every service's state topic starts with (the UUID follows)."""
    ANALYSIS_PREFIX = ANALYSIS_PUBLISH.split("{}")[0]
    """What every analysis topic starts with (`<uuid>/<key>` follows)."""


class AnalysisKey:
    """The keys a service's analysis is published under (the second part of
    `Channel.ANALYSIS_PUBLISH`) and the top-level keys of the v1 analysis
    file. Per-car keys are published as `<key>/<car number>` and are dicts
    keyed by car number in the file."""

    STATIC = "static"
    DRIVER = "driver"
    MESSAGES = "messages"
    SESSION = "session"
    LAP = "lap"
    STINT = "stint"
    CAR_MESSAGES = "car_messages"
    WHOLE_SERVICE = (STATIC, DRIVER, MESSAGES, SESSION)
    PER_CAR = (LAP, STINT, CAR_MESSAGES)
    ALL = WHOLE_SERVICE + PER_CAR

    @staticmethod
    def for_car(kind: str, num: str) -> str:
        """The publish key of one car's `kind` (a PER_CAR key): `lap/7`."""
        return f"{kind}/{num}"


class RPC:
    """Procedure URIs. The per-service ones are format strings taking the UUID."""

    LIVENESS_CHECK = "livetiming.service.isAlive.{}"
    REQUEST_STATE = "livetiming.service.requestState.{}"
    REQUEST_ANALYSIS_MANIFEST = "livetiming.service.requestAnalysisManifest.{}"
    REQUEST_ANALYSIS_DATA = "livetiming.service.requestAnalysisData.{}"
    REQUEST_ANALYSIS_CAR_LIST = "livetiming.service.requestAnalysisCarList.{}"
    DIRECTORY_LISTING = "livetiming.directory.listServices"
    GET_DIRECTORY_LISTING = "livetiming.directory.listServices"
    RECORDING_LISTING = "livetiming.directory.listRecordings"
    SCHEDULE_LISTING = "livetiming.schedule.list"
    GET_RECORDINGS_PAGE = "livetiming.recordings.page"
    GET_RECORDINGS_NAMES = "livetiming.recordings.names"
    GET_RECORDINGS_MANIFEST = "livetiming.recordings.manifest"
    UPDATE_RECORDING_MANIFEST = "livetiming.recordings.updateManifest"


MAX_MESSAGES = 100
"""A state keeps at most this many messages, newest first."""
