"""Exceptions of the recording library.

Everything that goes wrong with a recording file or directory is a
`RecordingError`, so tools can report it as one clear line instead of a
traceback; the subclasses let callers tell the common cases apart.
"""
from typing import Optional

from ..untrusted import UntrustedDataError


class RecordingError(Exception):
    """A recording (ZIP or in-progress directory) cannot be read or written as asked."""


class ManifestError(RecordingError):
    """The manifest is missing, unreadable, not an object, or of another format version."""


class FrameError(RecordingError):
    """One frame cannot be read or applied; `name` is the frame's file name."""

    def __init__(self, message: str, name: Optional[str] = None):
        super().__init__(message)
        self.name = name


class UnsafeRecordingError(RecordingError, UntrustedDataError):
    """The recording breaks a limit or rule of safe reading (livetiming.untrusted):
    too large when decompressed, nested too deeply, a forged member name, a
    manifest field of the wrong type or size. Unlike a damaged frame (a
    FrameError, which `validate` reports and reads past) it stops reading:
    the file is hostile or not a recording."""


def unsafe(error: UntrustedDataError, where: Optional[str] = None) -> UnsafeRecordingError:
    """The recording library's exception for an error of livetiming.untrusted."""
    return UnsafeRecordingError(f"{where}: {error}" if where else str(error))


class EmptyRecordingError(RecordingError):
    """The recording has no frames, so it has no state, start time or duration."""


class RecordingExistsError(RecordingError):
    """A new recording was asked for in a directory that already holds one."""


class RecordingLockedError(RecordingError):
    """Another writer (process or object) is writing this in-progress directory."""


class FrameOrderError(RecordingError, ValueError):
    """A frame is older than the last frame written: recordings only grow forwards."""


class InvalidStateError(RecordingError, ValueError):
    """A state or manifest given to the writer cannot be recorded (wrong shape, not JSON)."""


class TimeOutOfRangeError(RecordingError, LookupError):
    """A state was asked for at a time before the recording's first frame."""


class PatchError(ValueError):
    """A difference does not apply to its target. Deliberately not a
    RecordingError: the diff module knows nothing of files; the reader wraps
    it in a FrameError that names the frame."""
