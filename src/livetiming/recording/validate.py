"""Checking a whole recording: every frame reads and decodes, every keyframe
is a state, and every intra-frame applies strictly (old values match, nothing
is overwritten or skipped). A broken frame is reported and checking carries
on from the next keyframe, so one run lists every problem. A recording that
breaks a limit of safe reading (livetiming.untrusted) is not checked on:
UnsafeRecordingError, like any file that is not a readable recording."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Union

from ..untrusted import Limits
from .errors import FrameError, InvalidStateError
from .format import State, apply_intraframe, recorded_state
from .reader import RecordingReader


@dataclass
class ValidationReport:
    path: Path
    frames: int = 0
    keyframes: int = 0
    intraframes: int = 0
    duration: int = 0
    unchecked: int = 0
    """Intra-frames that could not be checked because a frame before them is broken."""
    problems: List[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


def validate(path: Union[str, Path], limits: Optional[Limits] = None) -> ValidationReport:
    """Check a recording (ZIP or in-progress directory). Raises RecordingError
    when it cannot be opened as a recording at all (no such file, not a ZIP,
    no manifest, another version, no frames) or breaks a limit
    (UnsafeRecordingError); damaged frames are reported."""
    with RecordingReader(path, limits) as recording:
        report = ValidationReport(Path(path), frames=recording.frame_count,
                                  keyframes=recording.keyframe_count,
                                  intraframes=recording.intraframe_count,
                                  duration=recording.duration)
        start = recording.manifest.get("startTime")
        if isinstance(start, bool) or not isinstance(start, (int, float)):
            report.problems.append(f"manifest.json: startTime is {start!r}, not Unix seconds")
        state: Optional[State] = None
        for position, second in enumerate(recording.frames):
            name = recording.frame_name(position)
            keyframe = recording.is_keyframe(second)
            if not keyframe and state is None:
                report.unchecked += 1
                continue
            try:
                frame = recording.read_frame(position)
                if keyframe:
                    recorded_state(frame)
                    state = frame
                else:
                    state = apply_intraframe(state, frame, name, strict=True)
            except FrameError as error:
                report.problems.append(str(error))
                state = None
            except InvalidStateError as error:
                report.problems.append(f"keyframe {name} is not a state: {error}")
                state = None
    return report
