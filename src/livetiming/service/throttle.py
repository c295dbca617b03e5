"""Rate-limited warnings for conditions that repeat on every update.

A full disk or a read-only state directory fails every state save, every
recorded frame and every analysis save: logged each time, that is a line (or
a traceback) a second for as long as the condition lasts, which buries
everything else and fills what disk is left. A `LogThrottle` logs the first
occurrence of a condition at once, then at most one line per interval
saying how many were not logged, and one line when the condition ends."""
from dataclasses import dataclass
from typing import Callable, Dict, Hashable, Optional

from twisted.logger import Logger, LogLevel

INTERVAL = 60.0
"""Seconds between two lines about the same condition."""


@dataclass
class _Condition:
    last_logged: float
    suppressed: int = 0
    total: int = 1


class LogThrottle:
    """Warnings keyed by condition, with a clock injected for tests."""

    def __init__(self, log: Logger, clock: Callable[[], float], interval: float = INTERVAL):
        self.log = log
        self.clock = clock
        self.interval = interval
        self._conditions: Dict[Hashable, _Condition] = {}

    def warn(self, key: Hashable, format: str, **fields) -> bool:
        """Log `format` as a warning unless `key` was logged less than an
        interval ago; True when logged."""
        return self._emit(LogLevel.warn, key, format, fields)

    def error(self, key: Hashable, format: str, **fields) -> bool:
        """Like `warn`, at error level."""
        return self._emit(LogLevel.error, key, format, fields)

    def _emit(self, level: LogLevel, key: Hashable, format: str, fields: dict) -> bool:
        now = self.clock()
        condition = self._conditions.get(key)
        if condition is None:
            self._conditions[key] = _Condition(last_logged=now)
            self.log.emit(level, format, **fields)
            return True
        condition.total += 1
        if now - condition.last_logged < self.interval:
            condition.suppressed += 1
            return False
        if condition.suppressed:
            format += " ({throttle_suppressed} more like this in the last {throttle_elapsed:.0f}s)"
        self.log.emit(level, format, throttle_suppressed=condition.suppressed,
                      throttle_elapsed=now - condition.last_logged, **fields)
        condition.last_logged, condition.suppressed = now, 0
        return True

    def resolved(self, key: Hashable, format: str, **fields) -> Optional[int]:
        """The condition `key` is over: log `format` (info) if it had been
        warned about; returns how many times it occurred, or None."""
        condition = self._conditions.pop(key, None)
        if condition is None:
            return None
        self.log.info(format + " (after {throttle_total} failures)", throttle_total=condition.total, **fields)
        return condition.total


def describe_error(error: Exception) -> str:
    """An I/O failure as a warning shows it: `No space left on device`, not
    `[Errno 28] No space left on device: '/state/.x.json.a8f3.tmp'` (the
    warning names the file meant)."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error)
