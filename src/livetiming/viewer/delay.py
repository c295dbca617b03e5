"""Holding states back by a fixed number of seconds, so that the timing
matches a TV feed that runs behind it (the most requested feature of live
timing screens). The clock is the caller's: `push` and `due` take the time."""
from collections import deque
from typing import Any, Deque, Optional, Tuple

MAX_DELAY = 3600.0
"""Seconds: the longest delay accepted."""
MAX_HELD = 4000
"""Items held at most (a state a second for over an hour); the oldest go first."""


class DelayBuffer:
    """Items become due `delay` seconds after they arrived; `due` gives the
    newest due item (None while nothing new is due)."""

    def __init__(self, delay: float = 0.0, max_held: int = MAX_HELD):
        if not 0 <= delay <= MAX_DELAY:
            raise ValueError(f"the delay is from 0 to {MAX_DELAY:g} seconds")
        self.delay = delay
        self._held: Deque[Tuple[float, Any]] = deque(maxlen=max_held)

    def push(self, arrived: float, item: Any) -> None:
        self._held.append((arrived, item))

    def due(self, now: float) -> Optional[Any]:
        latest = None
        while self._held and self._held[0][0] + self.delay <= now:
            latest = self._held.popleft()[1]
        return latest

    def __len__(self) -> int:
        return len(self._held)
