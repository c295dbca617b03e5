"""Reading the cells the analysis needs from timing rows, tolerant of what
real feeds send: missing columns, short rows, `[value, flag]` pairs or plain
values, empty strings, numbers as strings and lap times as "M:SS.fff".

How a cell is read (pairs, column lookup, absent cells) is
`livetiming.protocol.rows`, shared with the message generators; this module
adds what only the analysis needs (its columns, lap times, lap counts)."""
from __future__ import annotations

import math
from operator import itemgetter
from typing import Any, Iterable, Optional, Sequence

from livetiming.protocol import FlagStatus, Stat
from livetiming.protocol.rows import PAIR as _PAIR
from livetiming.protocol.rows import cell, cell_value, column_index, text

__all__ = ["Columns", "cell", "text", "parse_lap_time", "parse_laps", "flag_value"]


class Columns:
    """Indices of the columns analysis reads, resolved once per colspec with
    `column_index` (absent columns are None)."""

    __slots__ = ("num", "state", "klass", "team", "car", "driver", "laps", "last",
                 "_read_indices", "_getter", "_width")

    _WANTED = {
        Stat.NUM: "num", Stat.STATE: "state", Stat.CLASS: "klass", Stat.TEAM: "team",
        Stat.CAR: "car", Stat.DRIVER: "driver", Stat.LAPS: "laps", Stat.LAST_LAP: "last",
    }

    def __init__(self, colspec: Optional[Iterable[Sequence]] = None):
        index = column_index(colspec)
        for stat, name in self._WANTED.items():
            setattr(self, name, index.get(stat))
        self._read_indices = (self.num, self.state, self.driver, self.laps, self.last)
        if None in self._read_indices:
            self._getter, self._width = None, 0
        else:
            self._getter = itemgetter(*self._read_indices)
            self._width = max(self._read_indices) + 1

    def read(self, row: Sequence) -> tuple:
        """`(num, state, driver, laps, last)` cell values of a row, pairs
        unwrapped, None where absent. This runs for every row of every update,
        hence the C-level itemgetter when the row has all the columns."""
        if self._getter is None or len(row) < self._width:
            return tuple([cell(row, index) for index in self._read_indices])
        num, state, driver, laps, last = self._getter(row)
        if isinstance(last, _PAIR):
            last = last[0] if last else None
        if isinstance(laps, _PAIR):
            laps = laps[0] if laps else None
        if isinstance(state, _PAIR):
            state = state[0] if state else None
        if isinstance(driver, _PAIR):
            driver = driver[0] if driver else None
        if isinstance(num, _PAIR):
            num = num[0] if num else None
        return num, state, driver, laps, last


def _finite_positive(value: float) -> Optional[float]:
    return value if value > 0 and math.isfinite(value) else None


def parse_lap_time(value: Any) -> Optional[float]:
    """A lap time in seconds, or None when there is none: numbers are kept as
    they are (ints too, see quirk 7), strings may be "101.3", "1:41.300" or
    "1:01:41.3"; empty, zero, negative or unparseable values are no time."""
    value = cell_value(value)  # a whole `[value, flag]` cell reads as its value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return _finite_positive(value)
    if not isinstance(value, str):
        return None
    parts = value.strip().split(":")
    if len(parts) > 3 or not parts[-1]:
        return None
    try:
        seconds = 0.0
        for part in parts[:-1]:
            seconds = seconds * 60 + int(part)
        seconds = seconds * 60 + float(parts[-1])
    except ValueError:
        return None
    return _finite_positive(round(seconds, 6))


def parse_laps(value: Any) -> Optional[int]:
    """A lap count as an int (from ints, integral floats or digit strings such
    as "12"); None for anything else, so the caller can fall back to counting."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else None
    if isinstance(value, str):
        value = value.strip()
        if value.isdigit():
            return int(value)
        try:
            number = float(value)
        except ValueError:
            return None
        return int(number) if number.is_integer() and number >= 0 else None
    return None


def flag_value(name: Any) -> int:
    """The FlagStatus int of a state's `flagState`; unknown or missing names
    count as NONE (0) so that a new flag name never stops the analysis."""
    if name is None:
        return int(FlagStatus.NONE)
    return int(FlagStatus.parse(name))
