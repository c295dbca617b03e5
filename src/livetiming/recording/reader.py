"""Reading recordings: finished ZIPs and in-progress directories alike.

States handed out by `iter_states()` are built copy-on-write: each intra-frame
copies only the containers it changes and shares the rest with the state
before it. So a yielded state stays valid (and unchanged) after iteration
moves on — callers may keep them, e.g. to compare consecutive states — but
they must treat them as read-only, or ask for `copy=True`. `state_at()`
returns a state nobody else holds.

A recording is untrusted data: it is read under `livetiming.untrusted`
limits (given, or from the environment), and one that breaks them raises
UnsafeRecordingError (a RecordingError) rather than costing memory or
crashing on deep recursion.
"""
import copy as copy_module
from bisect import bisect_right
from pathlib import Path
from typing import Iterator, List, Optional, Tuple, Union

from ..untrusted import Limits, brief
from .errors import (
    EmptyRecordingError,
    FrameError,
    ManifestError,
    RecordingError,
    TimeOutOfRangeError,
    UnsafeRecordingError,
)
from .format import (
    MANIFEST_NAME,
    State,
    apply_intraframe,
    check_version,
    decode_frame,
    decode_manifest,
    finalised_manifest,
    parse_frame_name,
)
from .sources import open_source


class RecordingReader:
    """A version-1 recording: a ZIP, or an in-progress directory written by
    RecordingWriter (whose manifest gets `version` and `startTime` filled in
    as finalising would). `limits` default to `Limits.from_environment()`."""

    def __init__(self, path: Union[str, Path], limits: Optional[Limits] = None):
        self.path = Path(path)
        self._where = str(self.path)
        self.limits = limits if limits is not None else Limits.from_environment()
        self._source = open_source(self.path, self.limits)
        try:
            names = self._source.names()
            if MANIFEST_NAME not in names:
                raise ManifestError(f"{self.path}: no manifest.json (not a recording)")
            manifest = self._read_manifest()
            self._index(names)
            if self._source.in_progress:   # as finalising will write it
                manifest = finalised_manifest(manifest, self.frames[0])
            self.manifest = manifest
        except BaseException:
            self._source.close()
            raise

    # ------------------------------------------------------------- loading

    def _index(self, names: List[str]) -> None:
        frames = {}
        finished = not self._source.in_progress
        for name in names:
            parsed = parse_frame_name(name, self._where)
            if parsed is None:
                # a finished recording's JSON members are the manifest and
                # frames: any other is a misnamed frame or a forgery (an
                # in-progress directory also holds the DVR's own files)
                if finished and name != MANIFEST_NAME and name.lower().endswith(".json"):
                    raise UnsafeRecordingError(f"{self.path}: member {brief(name, 60)} is neither "
                                               f"manifest.json nor a frame (%011d.json, %011di.json)")
                continue
            second, keyframe = parsed
            if second in frames:
                raise RecordingError(f"{self.path}: two frames for second {second} "
                                     f"({frames[second][0]} and {name})")
            frames[second] = (name, keyframe)
        if not frames:
            raise EmptyRecordingError(f"{self.path}: the recording has no frames")
        self.frames: List[int] = sorted(frames)
        self._names: List[str] = [frames[second][0] for second in self.frames]
        self._is_key: List[bool] = [frames[second][1] for second in self.frames]
        self._keyframe_positions = [i for i, key in enumerate(self._is_key) if key]
        if not self._is_key[0]:
            raise FrameError(f"{self.path}: the first frame {self._names[0]} is an intra-frame, "
                             f"so there is no keyframe to start from", self._names[0])

    def _read_manifest(self) -> dict:
        where = str(self.path)
        try:
            data = self._source.read(MANIFEST_NAME)
        except FrameError as error:
            raise ManifestError(str(error)) from None
        manifest = decode_manifest(data, where, self.limits)
        if not self._source.in_progress:
            check_version(manifest, where)
        return manifest

    # ---------------------------------------------------------- properties

    @property
    def in_progress(self) -> bool:
        """True for an in-progress directory, False for a finished ZIP."""
        return self._source.in_progress

    @property
    def start_time(self) -> float:
        """The manifest's startTime (the first frame's time when it has none)."""
        start = self.manifest.get("startTime")
        if isinstance(start, (int, float)) and not isinstance(start, bool):
            return float(start)
        return float(self.frames[0])

    @property
    def first_frame(self) -> int:
        return self.frames[0]

    @property
    def last_frame(self) -> int:
        return self.frames[-1]

    @property
    def duration(self) -> int:
        """Seconds from the first frame to the last (protocol §7)."""
        return self.frames[-1] - self.frames[0]

    @property
    def frame_count(self) -> int:
        return len(self.frames)

    @property
    def keyframe_count(self) -> int:
        return len(self._keyframe_positions)

    @property
    def intraframe_count(self) -> int:
        return len(self.frames) - len(self._keyframe_positions)

    @property
    def size(self) -> int:
        """Bytes on disk (the ZIP, or the files of the directory)."""
        return self._source.size()

    def is_keyframe(self, second: int) -> bool:
        position = bisect_right(self.frames, second) - 1
        if position < 0 or self.frames[position] != second:
            raise KeyError(second)
        return self._is_key[position]

    # -------------------------------------------------------------- frames

    def frame_name(self, position: int) -> str:
        return self._names[position]

    def read_frame(self, position: int) -> dict:
        """The decoded frame file at a position (0 = first frame), as stored."""
        name = self._names[position]
        return decode_frame(self._source.read(name), name, self.limits, self._where)

    def iter_frames(self) -> Iterator[Tuple[int, bool, dict]]:
        """`(second, is_keyframe, frame)` for every frame, as stored, in order."""
        for position, second in enumerate(self.frames):
            yield second, self._is_key[position], self.read_frame(position)

    # -------------------------------------------------------------- states

    def iter_states(self, copy: bool = False) -> Iterator[Tuple[int, State]]:
        """`(second, state)` for every frame in one pass. States share unchanged
        parts with each other: read-only, but valid for good (see module doc);
        `copy=True` yields independent deep copies instead (much slower)."""
        read = self._source.read
        limits, where = self.limits, self._where
        state: Optional[State] = None
        for second, name, keyframe in zip(self.frames, self._names, self._is_key):
            frame = decode_frame(read(name), name, limits, where)
            state = frame if keyframe else apply_intraframe(state, frame, name)
            yield second, (copy_module.deepcopy(state) if copy else state)

    def state_at(self, t: float) -> State:
        """The state at time t: the newest frame at or before t (the newest
        keyframe patched by the intra-frames after it). After the last frame
        that is the last state; before the first frame there is none and
        TimeOutOfRangeError is raised. The result is the caller's own."""
        position = bisect_right(self.frames, t) - 1
        if position < 0:
            raise TimeOutOfRangeError(f"{self.path}: no state at {t}: the recording starts at "
                                      f"{self.frames[0]}")
        keyframe = self._keyframe_positions[
            bisect_right(self._keyframe_positions, position) - 1]
        state = self.read_frame(keyframe)
        for later in range(keyframe + 1, position + 1):
            state = apply_intraframe(state, self.read_frame(later), self._names[later])
        return state

    # ----------------------------------------------------------- lifecycle

    def close(self) -> None:
        self._source.close()

    def __enter__(self) -> "RecordingReader":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<RecordingReader {self.path} ({len(self.frames)} frames)>"
