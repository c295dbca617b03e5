"""Writing recordings: frames go to an in-progress directory as they arrive;
`finalise()` turns the directory into a version-1 ZIP.

The in-progress directory holds `manifest.json` (the service manifest as
given) and one file per frame under its final ZIP member name
(`%011d.json` / `%011di.json`), each written to a dot-prefixed temporary file
and renamed into place. Why files rather than an append-only journal:

* a rename is atomic, so a frame file is either complete or absent — a
  process killed at any point leaves at most a temporary file (ignored by
  readers, removed on resume), never a torn frame;
* two updates within one second replace that second's file with another
  atomic rename, without a journal's "latest record wins" rules;
* the directory has the ZIP's layout, so the same reader reads both and
  finalising is a straight copy of the files.

The price is one small file per second per service (86,400 a day), which
file systems handle fine and `finalise()` reads back in a few seconds.

By default nothing is fsync'ed: that protects against the process dying
(the DVR crashing or being killed), not against the machine losing power.
`fsync=True` syncs every frame and its directory entry for that too; a
resumed recording drops any frames such a crash left damaged at its end.

A lock (`.lock`, flock) stops two writers from sharing a directory.

What the writer reads back (resuming, finalising: `rectool finalise` is
given directories from anywhere) is read under `livetiming.untrusted`
limits, as the reader does.
"""
import json
import os
import shutil
import time
import zipfile
from pathlib import Path
from typing import List, Optional, Tuple, Union

from twisted.logger import Logger

from ..atomic import atomic_file, is_temporary, unlink_quietly
from ..untrusted import Limits, UntrustedDataError, read_file
from .errors import (
    EmptyRecordingError,
    FrameError,
    FrameOrderError,
    InvalidStateError,
    ManifestError,
    RecordingError,
    RecordingExistsError,
    RecordingLockedError,
    unsafe,
)
from .format import (
    MANIFEST_NAME,
    State,
    apply_intraframe,
    decode_frame,
    decode_manifest,
    encode,
    finalised_manifest,
    frame_name,
    frame_second,
    is_keyframe_index,
    make_intraframe,
    parse_frame_name,
    recorded_state,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locking
    fcntl = None

log = Logger()

LOCK_NAME = ".lock"
DISCARDED_SUFFIX = ".corrupt"


class RecordingWriter:
    """Records one service's states into an in-progress directory.

    `RecordingWriter(directory, manifest)` starts a new recording (the
    directory is created if needed and must not hold one already);
    `RecordingWriter.resume(directory)` continues one after a restart. Then
    `write_frame(timestamp, state)` for every state, `update_manifest()` when
    the manifest changes, and `finalise(zip_path)` to write the ZIP (the
    directory stays until `discard()`). `close()` releases the directory.
    `limits` (default: from the environment) bound what it reads back.
    """

    def __init__(self, directory: Union[str, Path], manifest: dict, *, fsync: bool = False,
                 limits: Optional[Limits] = None):
        self._open(directory, fsync, create=True, limits=limits)
        try:
            if os.path.exists(os.path.join(self._dir, MANIFEST_NAME)) or self._list_frames():
                raise RecordingExistsError(f"{self.directory} already holds a recording; "
                                           f"use RecordingWriter.resume() to continue it")
            self.update_manifest(manifest)
        except BaseException:
            self.close()
            raise

    @classmethod
    def resume(cls, directory: Union[str, Path], manifest: Optional[dict] = None, *,
               fsync: bool = False, limits: Optional[Limits] = None) -> "RecordingWriter":
        """Continue an in-progress recording after the last complete frame.

        Leftover temporary files are removed; frames at the end that cannot be
        read or applied (only a power loss without fsync leaves such) are
        renamed to `*.corrupt` and listed in `discarded`. A `manifest` given
        replaces the stored one."""
        directory = Path(directory)
        if not directory.is_dir():
            raise RecordingError(f"{directory} is not an in-progress recording directory")
        writer = cls.__new__(cls)
        writer._open(directory, fsync, create=False, limits=limits)
        try:
            path = os.path.join(writer._dir, MANIFEST_NAME)
            try:
                data = read_file(path, f"{directory}: {MANIFEST_NAME}", writer._limits, "manifest_bytes")
                writer._manifest = decode_manifest(data, str(directory), writer._limits)
            except UntrustedDataError as error:
                raise unsafe(error) from None
            except FileNotFoundError:
                raise ManifestError(f"{directory}: no manifest.json (not an in-progress "
                                    f"recording)") from None
            except OSError as error:
                raise ManifestError(f"{directory}: manifest.json cannot be read: "
                                    f"{error.strerror or error}") from None
            writer._remove_temporary_files()
            writer._recover()
            if manifest is not None:
                writer.update_manifest(manifest)
        except BaseException:
            writer.close()
            raise
        return writer

    def _open(self, directory: Union[str, Path], fsync: bool, create: bool,
              limits: Optional[Limits]) -> None:
        self.directory = Path(directory)
        self._dir = str(self.directory)
        self._fsync = fsync
        self._limits = limits if limits is not None else Limits.from_environment()
        self._lock_fd = -1
        self._manifest: dict = {}
        self._names: List[str] = []
        self._first_second: Optional[int] = None
        self._last_second: Optional[int] = None
        self._base: Optional[State] = None      # state at the frame before the last one
        self._current: Optional[State] = None   # state at the last frame, as readers see it
        self.discarded: List[str] = []
        try:
            if create:
                self.directory.mkdir(parents=True, exist_ok=True)
            self._lock_fd = _lock(self._dir)
        except OSError as error:
            raise RecordingError(f"{self.directory}: cannot be used for a recording: "
                                 f"{error.strerror or error}") from None

    # ---------------------------------------------------------- properties

    @property
    def manifest(self) -> dict:
        return dict(self._manifest)

    @property
    def frame_count(self) -> int:
        return len(self._names)

    @property
    def start_time(self) -> Optional[float]:
        """The recording's startTime: the first frame's second (None before one)."""
        return None if self._first_second is None else float(self._first_second)

    @property
    def last_frame(self) -> Optional[int]:
        return self._last_second

    @property
    def duration(self) -> int:
        if self._first_second is None:
            return 0
        return self._last_second - self._first_second

    @property
    def state(self) -> Optional[State]:
        """The latest state as readers will see it (read-only: it is shared)."""
        return self._current

    # ------------------------------------------------------------- writing

    def write_frame(self, timestamp: float, state: dict) -> None:
        """Record `state` at `timestamp` (Unix seconds).

        A second update within the same whole second replaces that second's
        frame: it is rewritten relative to the previous second's frame, so it
        carries every message new since then and later frames still apply. A
        timestamp before the last frame's second raises FrameOrderError.
        Nothing changes (on disk or here) when writing fails.

        `state` is JSON data. Only cars, session, messages and highlight are
        recorded; as with dictdiffer, values it deems equal (1 and 1.0, floats
        within an epsilon) are not recorded as changes."""
        self._check_open()
        second = frame_second(timestamp)
        recorded = recorded_state(state)
        if self._last_second is not None and second < self._last_second:
            raise FrameOrderError(f"frame at {timestamp} is older than the last frame "
                                  f"({self._last_second})")
        replacing = second == self._last_second
        if replacing:
            keyframe = parse_frame_name(self._names[-1])[1]
            base = self._base
        else:
            keyframe = is_keyframe_index(len(self._names))
            base = self._current
        if keyframe:
            data = encode(recorded)
            snapshot = json.loads(data)
        else:
            data = encode(make_intraframe(base, recorded))
            snapshot = apply_intraframe(base, json.loads(data))
        name = frame_name(second, keyframe)
        self._write_file(name, data)
        if not replacing:
            self._names.append(name)
            self._base = self._current
            self._last_second = second
            if self._first_second is None:
                self._first_second = second
        self._current = snapshot

    def update_manifest(self, manifest: dict) -> None:
        """Store a new manifest (e.g. the service published it again)."""
        self._check_open()
        if not isinstance(manifest, dict):
            raise InvalidStateError(f"a manifest is a dict, not {type(manifest).__name__}")
        self._write_file(MANIFEST_NAME, encode(manifest, "manifest"))
        self._manifest = json.loads(json.dumps(manifest))

    def _write_file(self, name: str, data: bytes) -> None:
        """Write via a temporary file and an atomic rename."""
        try:
            with atomic_file(os.path.join(self._dir, name), fsync=self._fsync) as handle:
                handle.write(data)
        except OSError as error:
            raise RecordingError(f"{self.directory}: cannot write {name}: "
                                 f"{error.strerror or error}") from None

    # ----------------------------------------------------------- finishing

    def finalise(self, zip_path: Union[str, Path]) -> Path:
        """Write the recording as a version-1 ZIP at `zip_path`, atomically
        (a temporary file beside it, then a rename): a failure leaves no
        partial ZIP there. Every frame is checked on the way (it decodes and
        its diff applies). The writer stays usable; the directory stays until
        `discard()`."""
        self._check_open()
        if not self._names:
            raise EmptyRecordingError(f"{self.directory}: the recording has no frames")
        zip_path = Path(zip_path)
        manifest = finalised_manifest(self._manifest, self._first_second)
        try:
            with atomic_file(zip_path, fsync=True) as handle:
                with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
                    archive.writestr(_zip_info(MANIFEST_NAME, self._first_second),
                                     encode(manifest, "manifest"))
                    state = None
                    for name in self._names:
                        data = self._read_file(name)
                        second, keyframe = parse_frame_name(name)
                        frame = decode_frame(data, name, self._limits, self._dir)
                        state = frame if keyframe else apply_intraframe(state, frame, name)
                        archive.writestr(_zip_info(name, second), data)
        except OSError as error:
            raise RecordingError(f"cannot write {zip_path}: {error.strerror or error}") from None
        return zip_path

    def discard(self) -> None:
        """Delete the in-progress directory (after finalising, or for a
        recording not worth keeping) and close the writer."""
        self.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def close(self) -> None:
        """Release the directory; the files stay for resume() or finalising."""
        if self._lock_fd >= 0:
            os.close(self._lock_fd)   # releases the flock
            self._lock_fd = -1

    @property
    def closed(self) -> bool:
        return self._lock_fd < 0

    def __del__(self) -> None:
        # A forgotten writer must not keep its directory locked (and its
        # descriptor open) for the rest of the process.
        if getattr(self, "_lock_fd", -1) >= 0:
            self.close()

    def __enter__(self) -> "RecordingWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._lock_fd < 0:
            raise RecordingError(f"{self.directory}: the writer is closed")

    # ------------------------------------------------------------ resuming

    def _list_frames(self) -> List[str]:
        """Frame file names in time order."""
        frames = {}
        for name in os.listdir(self._dir):
            parsed = parse_frame_name(name, self._dir)
            if parsed is None:
                continue
            if parsed[0] in frames:
                raise RecordingError(f"{self.directory}: two frames for second {parsed[0]} "
                                     f"({frames[parsed[0]]} and {name})")
            frames[parsed[0]] = name
        return [frames[second] for second in sorted(frames)]

    def _read_file(self, name: str) -> bytes:
        try:
            return read_file(os.path.join(self._dir, name), f"{self.directory}: {name}", self._limits,
                             "member_bytes")
        except UntrustedDataError as error:
            raise unsafe(error) from None
        except OSError as error:
            raise FrameError(f"{self.directory}: {name} cannot be read: "
                             f"{error.strerror or error}", name) from None

    def _remove_temporary_files(self) -> None:
        for name in os.listdir(self._dir):
            if is_temporary(name):
                unlink_quietly(os.path.join(self._dir, name))

    def _recover(self) -> None:
        """Find the last complete frame and the states the next frame needs.

        Replays from the newest keyframe before the last frame; the first
        frame there that cannot be read or applied, and all after it, are set
        aside (a keyframe that fails moves the replay back one keyframe)."""
        names = self._list_frames()
        while names:
            replayed, failed = self._replay_tail(names)
            if failed is None:
                self._names = names
                self._base, self._current = replayed
                self._first_second = parse_frame_name(names[0])[0]
                self._last_second = parse_frame_name(names[-1])[0]
                return
            self._set_aside(names[failed:])
            names = names[:failed]

    def _replay_tail(self, names: List[str]) -> Tuple[Tuple[Optional[State], Optional[State]],
                                                      Optional[int]]:
        """((state before the last frame, state at the last frame), None), or
        (_, position of the first frame that fails)."""
        keyframes = [i for i, name in enumerate(names) if parse_frame_name(name)[1]]
        starts = [i for i in keyframes if i <= max(len(names) - 2, 0)]
        if not starts:
            raise FrameError(f"{self.directory}: the first frame {names[0]} is an intra-frame, "
                             f"so there is no keyframe to start from", names[0])
        previous = state = None
        for position in range(starts[-1], len(names)):
            name = names[position]
            try:
                frame = decode_frame(self._read_file(name), name, self._limits, self._dir)
                if parse_frame_name(name)[1]:
                    new_state = frame
                else:
                    new_state = apply_intraframe(state, frame, name)
            except FrameError as error:
                log.warn("Recording {directory}: {error}", directory=str(self.directory), error=str(error))
                return (None, None), position
            previous, state = state, new_state
        return (previous, state), None

    def _set_aside(self, names: List[str]) -> None:
        for name in names:
            path = os.path.join(self._dir, name)
            try:
                os.replace(path, path + DISCARDED_SUFFIX)
            except OSError as error:
                raise RecordingError(f"{self.directory}: cannot set aside damaged frame {name}: "
                                     f"{error.strerror or error}") from None
            log.warn("Recording {directory}: damaged frame {name} set aside as {name}{suffix}",
                     directory=str(self.directory), name=name, suffix=DISCARDED_SUFFIX)
            self.discarded.append(name)


def finalise_directory(directory: Union[str, Path], zip_path: Union[str, Path],
                       limits: Optional[Limits] = None) -> Path:
    """Resume an in-progress directory (recovering it) and write its ZIP; the
    directory is kept."""
    with RecordingWriter.resume(directory, limits=limits) as writer:
        return writer.finalise(zip_path)


def _lock(directory: str) -> int:
    fd = os.open(os.path.join(directory, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RecordingLockedError(f"{directory} is being written by another writer") from None
    return fd


def _zip_info(name: str, second: int) -> zipfile.ZipInfo:
    date_time = time.gmtime(max(second, 315532800))[:6]   # ZIP dates start in 1980
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


