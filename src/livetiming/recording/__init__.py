"""Recordings (protocol §7): write a service's states as they arrive, finish
them as version-1 ZIPs, and read them back.

    writer = RecordingWriter(directory, manifest)      # or RecordingWriter.resume(directory)
    writer.write_frame(timestamp, state)               # once per update
    writer.finalise(zip_path); writer.discard()

    with RecordingReader(zip_path) as recording:       # a ZIP or an in-progress directory
        recording.state_at(t)
        for second, state in recording.iter_states(): ...

Modules: `format` (names, manifest, intra-frames), `diff` (dictdiffer's
format, fast), `sources` (ZIP or directory files), `writer`, `reader`,
`validate`, `errors`. No Twisted here: the DVR and tools wrap this.
"""
from .diff import diff, patch
from .errors import (
                     EmptyRecordingError,
                     FrameError,
                     FrameOrderError,
                     InvalidStateError,
                     ManifestError,
                     PatchError,
                     RecordingError,
                     RecordingExistsError,
                     RecordingLockedError,
                     TimeOutOfRangeError,
)
from .format import FORMAT_VERSION, KEYFRAME_INTERVAL
from .reader import RecordingReader
from .validate import ValidationReport, validate
from .writer import RecordingWriter, finalise_directory

__all__ = [
    "RecordingWriter", "RecordingReader", "finalise_directory", "validate", "ValidationReport",
    "diff", "patch", "FORMAT_VERSION", "KEYFRAME_INTERVAL",
    "RecordingError", "ManifestError", "FrameError", "EmptyRecordingError",
    "RecordingExistsError", "RecordingLockedError", "FrameOrderError", "InvalidStateError",
    "TimeOutOfRangeError", "PatchError",
]
