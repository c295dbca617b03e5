"""Restart rules for the processes `livetiming-router` runs: Crossbar, the
authorizer, directory, DVR and catalogue hosts, and the demo race.

A component that dies must come back by itself within seconds, and one that
dies at once every time must not spin a core: a child is restarted after a
back-off that grows with each failure in a row and starts over once the
child has stayed up for a while. This is the functional core (time comes in
as an argument); `cli/router.py` is the shell that spawns and reaps."""
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..backoff import SUPERVISOR

INITIAL_DELAY = SUPERVISOR.initial
MAX_DELAY = SUPERVISOR.max
FACTOR = SUPERVISOR.factor
STABLE_AFTER = 30.0
"""A child that ran this long before dying starts its back-off over."""


def restart_delays() -> Callable[[int], float]:
    """Seconds to wait before restart attempt N (0-based):
    `livetiming.backoff.SUPERVISOR` (no jitter, so that reports and tests are exact)."""
    return SUPERVISOR.delays()


@dataclass
class ChildRecord:
    """What the supervisor remembers of one child between its lives."""

    name: str
    failures: int = 0
    started_at: Optional[float] = None
    ready: bool = False
    delays: Callable[[int], float] = field(default_factory=restart_delays, repr=False)

    def started(self, now: float) -> None:
        self.started_at = now
        self.ready = False

    def exited(self, now: float) -> float:
        """Record an unexpected exit; returns the delay before the restart."""
        if self.started_at is not None and now - self.started_at >= STABLE_AFTER:
            self.failures = 0
        delay = self.delays(self.failures)
        self.failures += 1
        self.started_at = None
        self.ready = False
        return delay


def describe_exit(status) -> str:
    """'exit code 3' or 'signal 9 (SIGKILL)' from a Twisted process end reason's value."""
    signal_number = getattr(status, "signal", None)
    if signal_number:
        import signal as signals
        try:
            return f"signal {signal_number} ({signals.Signals(signal_number).name})"
        except ValueError:
            return f"signal {signal_number}"
    return f"exit code {getattr(status, 'exitCode', status)}"
