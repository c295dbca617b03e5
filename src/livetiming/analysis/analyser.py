"""The analyser of one service: fed every published state, it keeps the
analysis data (protocol.md §6) up to date incrementally and says which
publish keys changed, so the service publishes only those.

Modules run in the order static, driver, car (lap, stint, car_messages),
messages, session. Static, driver and car work per car and depend on nothing
but that car's row (and the flag), so they run car by car in one pass over
the rows, which gives the same result as three passes.
"""
from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional, Set

from ..protocol import AnalysisKey as Key
from ..protocol import message_list
from .car import CarModule
from .driver import DriverModule
from .errors import AnalysisStateError, UnknownAnalysisKeyError
from .messages import MessagesModule, clean_messages
from .rows import Columns, cell, flag_value, parse_lap_time, parse_laps, text
from .session import SessionModule
from .static import StaticModule

__all__ = ["Analyser", "DUMP_VERSION"]

DUMP_VERSION = 1


class Analyser:
    """The live (or offline) analysis of one service's states."""

    def __init__(self, manifest: Optional[dict] = None):
        self.static = StaticModule()
        self.driver = DriverModule()
        self.cars = CarModule()
        self.messages = MessagesModule()
        self.session = SessionModule()
        self.first_timestamp: Any = None
        self.latest_timestamp: Any = None
        self._previous_messages: List[list] = []
        self._previous_clean = True
        self._flag_name: Any = object()  # never equal to a real flagState
        self._flag = 0
        self._colspec: list = []
        # Each car's row values last processed, to skip rows that did not change
        # (processing those again is a no-op). Not saved: a cache only.
        self._row_values: Dict[str, tuple] = {}
        self._columns = Columns()
        if manifest is not None:
            self.set_manifest(manifest)

    # ---- feeding

    def set_manifest(self, manifest: dict) -> None:
        """Take the column spec from a (possibly new) manifest."""
        colspec = manifest.get("colSpec") if isinstance(manifest, dict) else None
        self._set_colspec(colspec or [])

    def _set_colspec(self, colspec: list) -> None:
        self._colspec = [list(c) if isinstance(c, (list, tuple)) else c for c in colspec]
        self._columns = Columns(self._colspec)
        self._row_values.clear()

    def update(self, timestamp: float, state: dict,
               new_messages: Optional[list] = None) -> Set[str]:
        """Feed one published state; returns the publish keys that changed.

        `new_messages` are the messages new in this update, newest first (the
        live service knows them). When None they are worked out as the
        messages of `state` not in the previous state's list, comparing whole
        messages; a first state's messages all count as new (quirk 5)."""
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict, not {type(state).__name__}")
        changed: Set[str] = set()
        if self.first_timestamp is None:
            self.first_timestamp = timestamp
        self.latest_timestamp = timestamp

        session = state.get("session")
        flag_name = session.get("flagState") if isinstance(session, dict) else None
        if flag_name != self._flag_name:
            self._flag_name = flag_name
            self._flag = flag_value(flag_name)
        cars = self.cars
        self._update_cars(timestamp, state.get("cars"), changed)
        cars.set_flag(self._flag)

        messages = state.get("messages")
        if new_messages is None:
            current = clean_messages(messages)
            new = message_list.new_messages(self._previous(), current)
            self._previous_messages, self._previous_clean = current, True
        else:  # live: keep the list as it is, it is only needed to resume offline
            new = clean_messages(new_messages)
            self._previous_messages = list(messages) if isinstance(messages, (list, tuple)) else []
            self._previous_clean = False
        if new:
            new.reverse()  # oldest first
            cars.add_messages(new, changed)
            if self.messages.add(new):
                changed.add(Key.MESSAGES)

        if self.session.update(timestamp, self._flag, cars.leader_lap):
            changed.add(Key.SESSION)
        return changed

    def _previous(self) -> List[list]:
        """The previous state's messages, cleaned (lazily: live updates skip it)."""
        if not self._previous_clean:
            self._previous_messages = clean_messages(self._previous_messages)
            self._previous_clean = True
        return self._previous_messages

    def _update_cars(self, timestamp: Any, rows: Any, changed: Set[str]) -> None:
        if not isinstance(rows, (list, tuple)) or self._columns.num is None:
            return
        columns = self._columns
        read = columns.read
        static, driver, cars = self.static, self.driver, self.cars
        previous = self._row_values
        flag = self._flag
        seen = set()
        for row in rows:
            if not isinstance(row, (list, tuple)):
                continue
            values = read(row)
            num = values[0]
            num = num.strip() if num.__class__ is str else text(num)
            if not num or num in seen:
                continue  # a duplicate number: the first row (higher placed) wins
            seen.add(num)
            if previous.get(num) == values and not static.needs_update(num):
                continue  # nothing the analysis reads has changed: a no-op
            previous[num] = values
            _, state, name, laps, last = values
            if static.needs_update(num) and static.update(
                    num, cell(row, columns.klass), cell(row, columns.team), cell(row, columns.car)):
                changed.add(Key.STATIC)
            if driver.update(num, text(name)):
                changed.add(Key.DRIVER)
            cars.update(num, timestamp, flag, text(state).upper(), parse_laps(laps),
                        parse_lap_time(last), driver.current_index(num), changed)

    # ---- reading

    def data(self) -> dict:
        """The whole v1 analysis dict (per-car keys flattened)."""
        now = self.latest_timestamp
        cars = self.cars
        return {
            Key.STATIC: self.static.payload(),
            Key.DRIVER: self.driver.payload(),
            Key.MESSAGES: self.messages.payload(),
            Key.SESSION: self.session.payload(now),
            Key.LAP: {num: cars.lap_entry(num, now) for num in cars.cars},
            Key.STINT: {num: cars.stint_entry(num) for num in cars.cars},
            Key.CAR_MESSAGES: {num: cars.messages_entry(num) for num in cars.messages},
        }

    def payload(self, key: str) -> dict:
        """The publish payload for one key, e.g. `"lap/7"` → `{"7": [...]}`."""
        if key == Key.STATIC:
            return self.static.payload()
        if key == Key.DRIVER:
            return self.driver.payload()
        if key == Key.MESSAGES:
            return self.messages.payload()
        if key == Key.SESSION:
            return self.session.payload(self.latest_timestamp)
        kind, _, num = key.partition("/")
        cars = self.cars
        if kind == Key.CAR_MESSAGES and num in cars.messages:
            return {num: cars.messages_entry(num)}
        if num in cars.cars:
            if kind == Key.LAP:
                return {num: cars.lap_entry(num, self.latest_timestamp)}
            if kind == Key.STINT:
                return {num: cars.stint_entry(num)}
        raise UnknownAnalysisKeyError(key)

    def keys(self) -> List[str]:
        """Every publish key that has data now."""
        keys = list(Key.WHOLE_SERVICE)
        keys += [Key.for_car(Key.LAP, num) for num in self.cars.cars]
        keys += [Key.for_car(Key.STINT, num) for num in self.cars.cars]
        keys += [Key.for_car(Key.CAR_MESSAGES, num) for num in self.cars.messages]
        return keys

    def to_file(self, manifest: dict, state: dict) -> dict:
        """The v1 analysis *file*: `data()` plus the manifest as `service`
        (with `startTime` the first update's time and `duration` the span of
        the updates) and the final `state`."""
        service = copy.deepcopy(manifest) if isinstance(manifest, dict) else {}
        if self.first_timestamp is not None:
            service["startTime"] = self.first_timestamp
            service["duration"] = float(self.latest_timestamp - self.first_timestamp)
        result = self.data()
        result["service"] = service
        result["state"] = state
        return result

    # ---- persistence

    def dump(self) -> dict:
        """A JSON-able snapshot of the whole internal state (see `load`)."""
        return {
            "version": DUMP_VERSION,
            "colSpec": copy.deepcopy(self._colspec),
            "first_timestamp": self.first_timestamp,
            "latest_timestamp": self.latest_timestamp,
            "previous_messages": [list(m) for m in self._previous()],
            "static": self.static.dump(),
            "driver": self.driver.dump(),
            "car": self.cars.dump(),
            "messages": self.messages.dump(),
            "session": self.session.dump(),
        }

    @classmethod
    def load(cls, data: Any) -> "Analyser":
        """Rebuild an analyser from `dump()`, so a restarted service continues
        exactly; raises AnalysisStateError for another version or a bad shape."""
        if not isinstance(data, dict):
            raise AnalysisStateError("analysis snapshot is not an object")
        version = data.get("version")
        if version != DUMP_VERSION:
            raise AnalysisStateError(
                f"unsupported analysis snapshot version {version!r} (expected {DUMP_VERSION})")
        try:
            analyser = cls()
            colspec = data["colSpec"]
            if not isinstance(colspec, list):
                raise AnalysisStateError("colSpec: expected a list")
            analyser._set_colspec(colspec)
            analyser.first_timestamp = _timestamp(data["first_timestamp"])
            analyser.latest_timestamp = _timestamp(data["latest_timestamp"])
            previous = data["previous_messages"]
            analyser._previous_messages = clean_messages(previous)
            if not isinstance(previous, list) or len(analyser._previous_messages) != len(previous):
                raise AnalysisStateError("previous_messages: malformed")
            analyser.static = StaticModule.load(data["static"])
            analyser.driver = DriverModule.load(data["driver"])
            analyser.cars = CarModule.load(data["car"])
            analyser.messages = MessagesModule.load(data["messages"])
            analyser.session = SessionModule.load(data["session"])
        except KeyError as error:
            raise AnalysisStateError(f"analysis snapshot lacks {error}") from None
        except (TypeError, ValueError, AttributeError) as error:
            if isinstance(error, AnalysisStateError):
                raise
            raise AnalysisStateError(f"bad analysis snapshot: {error}") from None
        analyser._check_consistent()
        return analyser

    def _check_consistent(self) -> None:
        """The per-car sections must agree, or payloads would fail later."""
        cars = set(self.cars.cars)
        if not cars <= set(self.static.entries) or not cars <= set(self.driver.drivers):
            raise AnalysisStateError("analysis snapshot: car sections disagree")
        for car in self.cars.cars.values():
            for stint in car.stints + ([car.current] if car.current else []):
                if stint.driver >= len(self.driver.drivers[car.num]):
                    raise AnalysisStateError(f"car {car.num!r}: stint driver out of range")


def _timestamp(value: Any) -> Any:
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    raise AnalysisStateError(f"bad timestamp {value!r}")
