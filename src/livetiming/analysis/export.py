"""CSV export of an analysis for analysts: `laps.csv` and `stints.csv`.

Pure functions from the v1 analysis dict (protocol §6) to rows; the command
(`livetiming-analysis --csv DIR`) writes them. The files load straight into a
spreadsheet or `pandas.read_csv`: a header row, one value per cell, times in
seconds as plain numbers, an empty cell where a value is unknown.

Every stint of a car is its completed stints (`stint`) and then its current
one (`lap[car][0]`, when it has one), numbered from 1. A stint's laps are its
`[lap_time, flag]` list, lap numbers counted from its `start_lap`.

The analysis keeps no time per lap, so a lap's `timestamp` (when it was
completed: the first frame at which the car's lap count reached it) comes
from the recording, through `LapClock`; from an analysis file alone it is
empty.
"""
from __future__ import annotations

import csv
import io
from typing import Any, Dict, Iterator, List, Optional, Sequence

from ..protocol import FlagStatus
from .rows import Columns, parse_laps

LAP_COLUMNS = ("car", "driver", "stint", "lap", "lap_time", "flag", "timestamp")
STINT_COLUMNS = ("car", "driver", "stint", "start_lap", "start_time", "end_lap", "end_time", "in_progress",
                 "laps", "best", "average", "yellow_laps", "pit_time")

LapTimes = Dict[str, Dict[int, int]]
"""`{car: {lap_number: unix_second_completed}}`."""

# The fields of a stint (protocol §6).
START_LAP, START_TIME, END_LAP, END_TIME, IN_PROGRESS, DRIVER, BEST, YELLOW_LAPS, AVERAGE, LAPS = range(10)


class ExportError(ValueError):
    """The input is not a v1 analysis that can be exported."""


def _number(value: Any) -> Any:
    """A number for a cell, or None (an empty cell) for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None
    return value


def flag_name(value: Any) -> Any:
    """A flag int as its name (`"green"`, `"fcy"`, ...); unknown values as they are."""
    try:
        return FlagStatus(value).name.lower()
    except ValueError:
        return _number(value)


def car_stints(analysis: dict, car: str) -> List[list]:
    """A car's stints in order: the completed ones, then the current one."""
    stints = [stint for stint in (analysis.get("stint") or {}).get(car) or [] if _is_stint(stint)]
    lap_entry = (analysis.get("lap") or {}).get(car)
    if isinstance(lap_entry, list) and lap_entry and _is_stint(lap_entry[0]):
        stints.append(lap_entry[0])
    return stints


def _is_stint(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 10 and isinstance(value[LAPS], list)


def cars(analysis: dict) -> List[str]:
    """Car numbers with laps or stints, in natural order ("2" before "10", then others)."""
    numbers = set(analysis.get("stint") or {}) | set(analysis.get("lap") or {})
    return sorted(numbers, key=lambda num: (0, int(num), num) if str(num).isdigit() else (1, 0, str(num)))


def driver_name(analysis: dict, car: str, index: Any) -> Optional[str]:
    drivers = (analysis.get("driver") or {}).get(car) or []
    if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(drivers):
        return drivers[index]
    return None


def check_analysis(analysis: Any) -> dict:
    """`analysis` if it looks like a v1 analysis; ExportError otherwise."""
    if not isinstance(analysis, dict):
        raise ExportError(f"not an analysis: a JSON {type(analysis).__name__}, not an object")
    for key in ("lap", "stint"):
        if key not in analysis or not isinstance(analysis[key], dict):
            raise ExportError(f"not a v1 analysis: no '{key}' object")
    return analysis


def lap_rows(analysis: dict, lap_times: Optional[LapTimes] = None) -> Iterator[tuple]:
    """One row per lap of every car (LAP_COLUMNS), by car then lap."""
    lap_times = lap_times or {}
    for car in cars(analysis):
        completed = lap_times.get(car, {})
        for number, stint in enumerate(car_stints(analysis, car), start=1):
            driver = driver_name(analysis, car, stint[DRIVER])
            start_lap = stint[START_LAP] if isinstance(stint[START_LAP], int) else None
            for index, lap in enumerate(stint[LAPS]):
                time, flag = (lap + [None, None])[:2] if isinstance(lap, list) else (None, None)
                lap_number = start_lap + index if start_lap is not None else None
                yield (car, driver, number, lap_number, _number(time), flag_name(flag) if flag is not None else None,
                       completed.get(lap_number))


def stint_rows(analysis: dict) -> Iterator[tuple]:
    """One row per stint of every car (STINT_COLUMNS), by car then stint.
    `pit_time` is the stop that ended the stint: seconds from its end to the
    next stint's start (empty for a car's last stint)."""
    for car in cars(analysis):
        stints = car_stints(analysis, car)
        for number, stint in enumerate(stints, start=1):
            following = stints[number] if number < len(stints) else None
            pit_time = None
            if following is not None and _number(following[START_TIME]) is not None \
                    and _number(stint[END_TIME]) is not None:
                pit_time = following[START_TIME] - stint[END_TIME]
            yield (car, driver_name(analysis, car, stint[DRIVER]), number, _number(stint[START_LAP]),
                   _number(stint[START_TIME]), _number(stint[END_LAP]), _number(stint[END_TIME]),
                   bool(stint[IN_PROGRESS]), len(stint[LAPS]), _number(stint[BEST]), _number(stint[AVERAGE]),
                   _number(stint[YELLOW_LAPS]), pit_time)


def to_csv(columns: Sequence[str], rows) -> str:
    """CSV text (RFC 4180: comma, double quotes where needed, CRLF), header first; None is an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def csv_files(analysis: dict, lap_times: Optional[LapTimes] = None) -> Dict[str, str]:
    """`{"laps.csv": text, "stints.csv": text}`."""
    analysis = check_analysis(analysis)
    return {"laps.csv": to_csv(LAP_COLUMNS, lap_rows(analysis, lap_times)),
            "stints.csv": to_csv(STINT_COLUMNS, stint_rows(analysis))}


class LapClock:
    """When each car completed each lap: fed every state of a recording in
    order (`observe`), it notes the first second at which a car's lap count
    reached each value. Row cells are read as the analysis reads them."""

    def __init__(self, colspec: Optional[Sequence] = None):
        self.columns = Columns(colspec or [])
        self.lap_times: LapTimes = {}
        self._last: Dict[str, int] = {}

    def observe(self, second: int, state: dict) -> None:
        cars_index, laps_index = self.columns.num, self.columns.laps
        if cars_index is None or laps_index is None or not isinstance(state, dict):
            return
        for row in state.get("cars") or []:
            if not isinstance(row, (list, tuple)) or len(row) <= max(cars_index, laps_index):
                continue
            num, laps = row[cars_index], row[laps_index]
            num = num[0] if isinstance(num, list) and num else num
            laps = parse_laps(laps[0] if isinstance(laps, list) and laps else laps)
            if laps is None or num is None:
                continue
            num = str(num)
            if self._last.get(num) != laps:
                self._last[num] = laps
                self.lap_times.setdefault(num, {}).setdefault(laps, second)
