"""Recording format version 1 (protocol §7) as plain functions over plain data:
frame names, the manifest, encoding, and building and applying intra-frames.

Writer and reader share these, so what the writer keeps as "the previous
state" is by construction what every reader reconstructs.
"""
import json
import math
from typing import Any, Optional, Tuple

from ..protocol.constants import MAX_MESSAGES
from ..protocol.message_list import new_messages
from ..untrusted import (
    InvalidJSONError,
    Limits,
    UntrustedDataError,
    brief,
    check_frame_time,
    check_manifest,
    frame_name_parts,
    loads,
)
from .diff import diff, patch
from .errors import FrameError, InvalidStateError, ManifestError, PatchError, unsafe

FORMAT_VERSION = 1
KEYFRAME_INTERVAL = 10
"""Frame index 0, 10, 20, ... is a keyframe; the others are intra-frames."""
MANIFEST_NAME = "manifest.json"

State = dict
Frame = dict


# ------------------------------------------------------------------ names


def frame_name(second: int, keyframe: bool) -> str:
    """`01581687316.json` for a keyframe, `01581687317i.json` for an intra-frame."""
    return f"{second:011d}.json" if keyframe else f"{second:011d}i.json"


def parse_frame_name(name: str, where: str = "recording") -> Optional[Tuple[int, bool]]:
    """`(second, is_keyframe)` for a frame file name, None for a name that is
    no frame's; UnsafeRecordingError for a forged one (digits, but not
    exactly 11 of them, or a time after 2100: see livetiming.untrusted)."""
    try:
        return frame_name_parts(name, where)
    except UntrustedDataError as error:
        raise unsafe(error) from None


def is_keyframe_index(index: int) -> bool:
    return index % KEYFRAME_INTERVAL == 0


def frame_second(timestamp: float) -> int:
    """The whole second a frame is filed under (frames are named by it)."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)) \
            or not math.isfinite(timestamp) or timestamp < 0:
        raise InvalidStateError(f"frame timestamp must be a non-negative number of "
                                f"Unix seconds, not {timestamp!r}")
    try:   # readers refuse frames after 2100: never write one
        check_frame_time(timestamp, "frame timestamp")
    except UntrustedDataError as error:
        raise InvalidStateError(str(error)) from None
    return math.floor(timestamp)


# --------------------------------------------------------------- encoding


def encode(value: Any, what: str = "state") -> bytes:
    """Compact JSON, ASCII-only (non-ASCII as \\u escapes, as the reference
    wrote), no NaN or Infinity (JavaScript's JSON.parse rejects them)."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("ascii")
    except (TypeError, ValueError) as error:
        raise InvalidStateError(f"{what} is not JSON-serialisable: {error}") from None


def decode_frame(data: bytes, name: str, limits: Limits, where: str = "") -> Frame:
    """A frame file's JSON object (parsed by livetiming.untrusted: orjson,
    bounded depth). FrameError naming the frame when it is not JSON or not
    an object (damage: `validate` reports it and carries on);
    UnsafeRecordingError, prefixed with `where`, when it breaks a limit."""
    try:
        frame = loads(data, f"frame {name}", limits)
    except InvalidJSONError as error:
        raise FrameError(str(error), name) from None
    except UntrustedDataError as error:
        raise unsafe(error, where) from None
    if not isinstance(frame, dict):
        raise FrameError(f"frame {name} holds {type(frame).__name__}, not a JSON object", name)
    return frame


def decode_manifest(data: bytes, where: str, limits: Limits) -> dict:
    """manifest.json's object, checked by livetiming.untrusted (size, depth,
    field types and sizes). ManifestError when it is not a JSON object,
    UnsafeRecordingError when it breaks a limit."""
    what = f"{where}: manifest.json"
    try:
        if len(data) > limits.manifest_bytes:
            raise limits.exceeded("manifest_bytes", what, f"{len(data):,} bytes")
        manifest = loads(data, what, limits)
    except InvalidJSONError as error:
        raise ManifestError(str(error)) from None
    except UntrustedDataError as error:
        raise unsafe(error) from None
    if not isinstance(manifest, dict):
        raise ManifestError(f"{what} holds {type(manifest).__name__}, not a JSON object")
    try:
        return check_manifest(manifest, what, limits)
    except UntrustedDataError as error:
        raise unsafe(error) from None


def finalised_manifest(manifest: dict, start_time: float) -> dict:
    """The manifest as stored in a finished recording: the service manifest
    plus `version` and `startTime` (which always win over keys of the same name)."""
    return {**manifest, "startTime": float(start_time), "version": FORMAT_VERSION}


def check_version(manifest: dict, where: str) -> None:
    version = manifest.get("version")
    if version is None:
        raise ManifestError(f"{where}: manifest.json has no format version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ManifestError(f"{where}: recording format version {brief(version)} is not supported "
                            f"(only version {FORMAT_VERSION})")


# ----------------------------------------------------------------- states


def recorded_state(state: Any) -> State:
    """The part of a service state a recording holds (protocol §5): cars,
    session, messages and highlight; other keys could not survive intra-frames
    and are dropped. Missing parts default to empty."""
    if not isinstance(state, dict):
        raise InvalidStateError(f"a state is a dict, not {type(state).__name__}")
    recorded = {
        "cars": state.get("cars", []),
        "session": state.get("session", {}),
        "messages": state.get("messages", []),
        "highlight": state.get("highlight", []),
    }
    for key, kind in (("cars", list), ("session", dict), ("messages", list), ("highlight", list)):
        if not isinstance(recorded[key], kind):
            raise InvalidStateError(f"state {key!r} is {type(recorded[key]).__name__}, "
                                    f"expected a {kind.__name__}")
    return recorded


def make_intraframe(previous: State, current: State) -> Frame:
    """The intra-frame that turns `previous` into `current` (both recorded states)."""
    return {
        "cars": diff(previous["cars"], current["cars"]),
        "session": diff(previous["session"], current["session"]),
        "messages": new_messages(previous["messages"], current["messages"]),
        "highlight": current["highlight"],
    }


def apply_intraframe(previous: State, frame: Frame, name: str = "frame",
                     strict: bool = False) -> State:
    """The state after `frame`, leaving `previous` untouched and sharing with
    it whatever did not change. FrameError naming the frame if it does not apply."""
    try:
        cars = patch(frame.get("cars", []), previous.get("cars", []), strict)
        session = patch(frame.get("session", []), previous.get("session", {}), strict)
    except PatchError as error:
        raise FrameError(f"frame {name} does not apply: {error}", name) from None
    messages = frame.get("messages", [])
    highlight = frame.get("highlight", [])
    if not isinstance(messages, list) or not isinstance(highlight, list):
        raise FrameError(f"frame {name}: messages and highlight must be lists", name)
    old_messages = previous.get("messages", [])
    if messages or len(old_messages) > MAX_MESSAGES:
        messages = (messages + old_messages)[:MAX_MESSAGES]
    else:
        messages = old_messages
    return {"cars": cars, "session": session, "messages": messages, "highlight": highlight}
