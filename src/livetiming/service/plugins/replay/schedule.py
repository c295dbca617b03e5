"""When each recorded frame is due, as a pure function of time.

The recorded frame times drive a replay, not a poll loop: frame `p` of a
pass is due at `origin + (frames[p] - frames[start]) / speed` in real
seconds, `origin` being when the pass began. Nothing here reads a clock:
the service passes `now` in, so tests drive it exactly with any time."""
import math
import re
from dataclasses import dataclass
from typing import List, Optional, Sequence

MAX_SPEED = 1000.0
"""Faster than this a replay is only a burst of states (a frame a millisecond at 1 frame/s)."""

LOOP_GAP = 1.0
"""Recorded seconds between the last frame of a pass and the first of the next (with --loop)."""

_START = re.compile(r"^\+?(?:(\d+):)?(\d{1,2}):(\d{1,2})$")


class ReplayOptionError(ValueError):
    """A replay option (--speed, --start) that cannot be used; the message is one line for the user."""


def parse_speed(text: str) -> float:
    """`--speed N`: a finite number above 0 and at most MAX_SPEED (`"60"`, `"0.5"`)."""
    try:
        speed = float(text)
    except ValueError:
        raise ReplayOptionError(f"--speed {text}: not a number") from None
    if not math.isfinite(speed) or not 0 < speed <= MAX_SPEED:
        raise ReplayOptionError(f"--speed {text}: must be above 0 and at most {MAX_SPEED:g}")
    return speed


def parse_start(text: str) -> int:
    """`--start +H:MM:SS` (or `+MM:SS`) as seconds after the recording's first frame."""
    match = _START.match(text.strip())
    if not match:
        raise ReplayOptionError(f"--start {text}: use +H:MM:SS, e.g. +1:30:00")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    if minutes >= 60 or seconds >= 60:
        raise ReplayOptionError(f"--start {text}: minutes and seconds must be below 60")
    return hours * 3600 + minutes * 60 + seconds


def format_offset(seconds: float) -> str:
    """Seconds as `+H:MM:SS`, the way --start takes them."""
    whole = int(seconds)
    return f"+{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def start_position(frames: Sequence[int], offset: float) -> int:
    """The position of the frame showing the state at `offset` seconds after
    the first frame: the newest frame at or before that time (protocol §7).
    Raises ReplayOptionError when the offset is after the last frame."""
    if offset > frames[-1] - frames[0]:
        raise ReplayOptionError(f"--start {format_offset(offset)} is after the end of the recording "
                                f"(it lasts {format_offset(frames[-1] - frames[0])})")
    target = frames[0] + offset
    low, high = 0, len(frames)
    while low < high:   # bisect_right over the frame times
        middle = (low + high) // 2
        if frames[middle] <= target:
            low = middle + 1
        else:
            high = middle
    return low - 1


@dataclass(frozen=True)
class Due:
    """A frame whose time has come: its position, recorded second, and the
    pass it belongs to (0 for the first, counting up with --loop)."""

    position: int
    second: int
    pass_number: int


class Schedule:
    """The order and real time of the frames a replay shows.

    Starts at `start` (a frame position) at real time `origin`; plays to the
    last frame, then (with `loop`) starts again at `start` LOOP_GAP recorded
    seconds later. `take_due(now)` hands out every frame due by `now`, in
    order, each once; `next_time()` says when to ask again."""

    def __init__(self, frames: Sequence[int], speed: float, origin: float, start: int = 0, loop: bool = False):
        if not frames:
            raise ValueError("a schedule needs at least one frame")
        if not 0 <= start < len(frames):
            raise ValueError(f"start position {start} is not a frame")
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed {speed!r} must be a finite number above 0")
        self.frames = frames
        self.speed = speed
        self.start = start
        self.loop = loop
        self._origin = origin           # real time of frames[start] in this pass
        self._position: Optional[int] = start
        self._pass = 0

    def due_time(self, position: int) -> float:
        """Real time at which `position` is due in the current pass."""
        return self._origin + (self.frames[position] - self.frames[self.start]) / self.speed

    def next_time(self) -> Optional[float]:
        """When the next frame is due; None when the replay has ended."""
        return None if self._position is None else self.due_time(self._position)

    @property
    def finished(self) -> bool:
        return self._position is None

    def take_due(self, now: float) -> List[Due]:
        """Every frame due at or before `now` not handed out yet, in order
        (at most as many as the recording has frames; ask again for the rest)."""
        due: List[Due] = []
        # At most one pass's worth at a time: after a long stall a looping
        # replay catches up over several calls instead of building huge lists.
        while self._position is not None and self.due_time(self._position) <= now and len(due) < len(self.frames):
            position = self._position
            due.append(Due(position, self.frames[position], self._pass))
            self._advance()
        return due

    def _advance(self) -> None:
        position = self._position
        if position + 1 < len(self.frames):
            self._position = position + 1
        elif self.loop:
            self._origin = self.due_time(position) + LOOP_GAP / self.speed
            self._position = self.start
            self._pass += 1
        else:
            self._position = None
