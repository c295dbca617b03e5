"""The recorded state at a frame position, read as little as possible.

Moving to the next frame reads that one frame and patches the current state;
any other move (the first, `--start`, a loop starting over) reads the
keyframe at or before the target and the intra-frames after it up to the
target, never the frames before that keyframe (protocol §7)."""
from bisect import bisect_right
from typing import List, Optional

from livetiming.recording import RecordingReader
from livetiming.recording.format import apply_intraframe


class FrameCursor:
    """A position in a recording and the state there (read-only: states share
    unchanged parts with the ones before them, as the reader builds them)."""

    def __init__(self, reader: RecordingReader):
        self.reader = reader
        self.keyframes: List[int] = [position for position, second in enumerate(reader.frames)
                                     if reader.is_keyframe(second)]
        self._is_key = set(self.keyframes)
        self.position: Optional[int] = None
        self.state: Optional[dict] = None

    def keyframe_before(self, position: int) -> int:
        """The position of the newest keyframe at or before `position`."""
        return self.keyframes[bisect_right(self.keyframes, position) - 1]

    def move_to(self, position: int) -> dict:
        """The state at `position`; raises RecordingError (FrameError) for a damaged frame."""
        if not 0 <= position < len(self.reader.frames):
            raise IndexError(f"frame position {position} is outside the recording")
        if self.position is not None and self.position == position:
            return self.state
        if self.position is not None and position == self.position + 1 and position not in self._is_key:
            first, state = position, self.state
        else:
            first, state = self.keyframe_before(position), None
        for current in range(first, position + 1):
            frame = self.reader.read_frame(current)
            if state is None:
                state = frame   # a keyframe: a whole state (the reader checked it is an object)
            else:
                state = apply_intraframe(state, frame, self.reader.frame_name(current))
        self.position, self.state = position, state
        return state
