"""Per-car analysis: laps, stints and car messages (publish keys `lap/<num>`,
`stint/<num>` and `car_messages/<num>`).

Rules (components.md "Analysis", protocol.md §6, checked against the
reference race fixture):

* A lap is counted when the last-lap time is present and the last-lap time
  or the lap count differs from the car's cells in the previous frame (any
  change, either direction): `is_new_lap`, the one home of that rule. So a
  time that flickers A → B → A gives two laps, a time that arrives one frame
  before the count gives two (one per change), a time that blanks and comes
  back gives one when it comes back, and a count corrected downwards gives
  one. Real feeds do all of these and the reference counts them all; being
  faithful to it beats second-guessing the feed. Cells are compared by the
  time and count they show (a flag change alone is no change), and a car
  missing from some frames is compared with the last frame it was in.
* A lap records `[lap_time, worst flag]`, the worst flag being the highest
  FlagStatus of the frames from the one the lap began in (where the previous
  lap was completed) up to, not including, the one it was completed in: the
  reference gives the lap that ends as the chequered flag comes out the flag
  it was run under.
* The car's lap number is the Laps column where it can be read, else the
  previous lap number plus the laps counted since.
* A stint ends when the car enters PIT, FUEL, N/S or FIN, and also RET (a
  deliberate difference from the reference, quirk 3); STOP does not end one.
  A car with no stint that is in any other state (first seen on track, out
  of the pits, running again) starts one at the next lap (lap number + 1)
  with its current driver: the name shown in the frame in which it leaves
  the pits, or if that is blank the last name shown before (DriverModule
  keeps it), since feeds blank the name during driver changes. A lap
  completed in the same frame as the stint ends belongs to it; the first lap
  completed after it ended (the in-lap, finished in the pit lane) is added
  to it too.
* Best lap and yellow laps are over all the stint's laps; the average drops
  the first lap (out-lap) and, once the stint is over, the last (in-lap):
  it is null when no lap remains.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from livetiming.protocol import AnalysisKey, FlagStatus
from livetiming.protocol.race_message import PIT_LANE_STYLES, MessageKind, kind_of

from .errors import AnalysisStateError

__all__ = ["Stint", "Car", "CarModule", "STINT_ENDING_STATES", "is_new_lap"]

STINT_ENDING_STATES = frozenset({"PIT", "FUEL", "N/S", "FIN", "RET"})
YELLOW = int(FlagStatus.YELLOW)
PIT_MESSAGE_STYLES = PIT_LANE_STYLES  # the wire rule, kept for importers: see `kind_of`
PIT_LANE = MessageKind.PIT_LANE
LAP_KEY = AnalysisKey.for_car(AnalysisKey.LAP, "")
STINT_KEY = AnalysisKey.for_car(AnalysisKey.STINT, "")
CAR_MESSAGES_KEY = AnalysisKey.for_car(AnalysisKey.CAR_MESSAGES, "")
"""Prefixes of the per-car publish keys (the car number follows): this is hot code."""

Number = Any  # int | float: timestamps and lap times are kept as given


def is_new_lap(previous_time: Optional[Number], previous_laps: Optional[int],
               last_time: Optional[Number], laps: Optional[int]) -> bool:
    """Whether a frame completes a lap (components.md "Analysis"): the
    last-lap time is present and it or the lap count differs from the
    previous frame's. Deliberately blind to direction and to what the change
    means (a flicker, a correction, a time arriving before its count): the
    reference counts every such change, and so must we to agree with it."""
    return last_time is not None and (last_time != previous_time or laps != previous_laps)


class Stint:
    """One stint. `end_time` None means in progress; its published end lap and
    end time are then the car's current lap and the latest timestamp."""

    __slots__ = ("start_lap", "start_time", "end_lap", "end_time", "driver", "laps")

    def __init__(self, start_lap: int, start_time: Number, driver: int,
                 end_lap: Optional[int] = None, end_time: Optional[Number] = None,
                 laps: Optional[List[list]] = None):
        self.start_lap = start_lap
        self.start_time = start_time
        self.end_lap = end_lap
        self.end_time = end_time
        self.driver = driver
        self.laps: List[list] = laps if laps is not None else []

    @property
    def in_progress(self) -> bool:
        return self.end_time is None

    def to_list(self, current_lap: Optional[int] = None, now: Optional[Number] = None) -> list:
        """The 10-element protocol form (protocol.md §6)."""
        laps = self.laps
        in_progress = self.end_time is None
        best = None
        yellow = 0
        for lap_time, flag in laps:
            if best is None or lap_time < best:
                best = lap_time
            if flag >= YELLOW:
                yellow += 1
        relevant = laps[1:] if in_progress else laps[1:-1]
        average = None
        if relevant:
            total = 0.0
            for lap_time, _ in relevant:  # a plain left-to-right float sum
                total += lap_time
            average = total / len(relevant)
        return [
            self.start_lap,
            self.start_time,
            current_lap if in_progress else self.end_lap,
            now if in_progress else self.end_time,
            in_progress,
            self.driver,
            best,
            yellow,
            average,
            [list(lap) for lap in laps],
        ]

    def dump(self) -> dict:
        return {"start_lap": self.start_lap, "start_time": self.start_time,
                "end_lap": self.end_lap, "end_time": self.end_time,
                "driver": self.driver, "laps": [list(lap) for lap in self.laps]}

    @classmethod
    def load(cls, data: Any) -> "Stint":
        try:
            laps = [[_number(lap_time), _int(flag)] for lap_time, flag in data["laps"]]
            stint = cls(_int(data["start_lap"]), _number(data["start_time"]), _int(data["driver"]),
                        _optional_int(data["end_lap"]), _optional_number(data["end_time"]), laps)
        except (KeyError, TypeError, ValueError) as error:
            raise AnalysisStateError(f"bad stint {data!r}: {error}") from None
        return stint


class Car:
    """What the analysis tracks for one car number."""

    __slots__ = ("num", "lap", "last_time", "laps_seen", "lap_flag", "last_pass", "state",
                 "stints", "current", "awaiting_in_lap")

    def __init__(self, num: str, lap: int = 0, flag: int = 0):
        self.num = num
        self.lap = lap                          # current lap number
        # The last-lap time and Laps value of the previous frame the car was in
        # (None where absent): what `is_new_lap` compares a frame with.
        self.last_time: Optional[Number] = None
        self.laps_seen: Optional[int] = None
        self.lap_flag = flag                    # worst flag of the lap in progress
        self.last_pass: Optional[Number] = None  # when the latest lap was counted
        self.state = ""
        self.stints: List[Stint] = []           # completed stints
        self.current: Optional[Stint] = None
        self.awaiting_in_lap = False

    def dump(self) -> dict:
        return {"lap": self.lap, "last_time": self.last_time, "laps_seen": self.laps_seen,
                "lap_flag": self.lap_flag, "last_pass": self.last_pass, "state": self.state,
                "stints": [stint.dump() for stint in self.stints],
                "current": self.current.dump() if self.current else None,
                "awaiting_in_lap": self.awaiting_in_lap}

    @classmethod
    def load(cls, num: str, data: Any) -> "Car":
        try:
            car = cls(num, _int(data["lap"]), _int(data["lap_flag"]))
            car.last_time = _optional_number(data["last_time"])
            car.laps_seen = _optional_int(data["laps_seen"])
            car.last_pass = _optional_number(data["last_pass"])
            car.state = data["state"]
            if not isinstance(car.state, str):
                raise TypeError(f"bad state {car.state!r}")
            car.stints = [Stint.load(stint) for stint in data["stints"]]
            car.current = Stint.load(data["current"]) if data["current"] is not None else None
            car.awaiting_in_lap = data["awaiting_in_lap"]
            if not isinstance(car.awaiting_in_lap, bool):
                raise TypeError("awaiting_in_lap must be a boolean")
        except (KeyError, TypeError, ValueError) as error:
            raise AnalysisStateError(f"bad car {num!r}: {error}") from None
        return car


class CarModule:
    """All cars plus the car messages; also tracks the leader lap (the highest
    lap number of any car) for the session module."""

    def __init__(self) -> None:
        self.cars: Dict[str, Car] = {}
        self.messages: Dict[str, List[list]] = {}
        self.leader_lap = 0
        self.flag = int(FlagStatus.NONE)

    def set_flag(self, flag: int) -> None:
        """Count the frame's flag towards every car's lap in progress; call it
        after the frame's rows, as a lap completed in a frame does not take that
        frame's flag (the next lap starts with it). Only a change needs work,
        since a lap's worst flag is the max of the flag at its start and every
        flag shown later."""
        if flag != self.flag:
            self.flag = flag
            for car in self.cars.values():
                if flag > car.lap_flag:
                    car.lap_flag = flag

    def update(self, num: str, timestamp: Number, flag: int, state: str, laps: Optional[int],
               last_time: Optional[Number], driver: int, changed: set) -> None:
        """Feed one car's row (already parsed) and the frame's flag; adds the
        changed keys."""
        car = self.cars.get(num)
        if car is None:
            car = self.cars[num] = Car(num, laps if laps is not None else 0, flag)
            car.last_time = last_time
            car.laps_seen = laps
            self.messages.setdefault(num, [])
            changed.add(LAP_KEY + num)
            changed.add(STINT_KEY + num)
            changed.add(CAR_MESSAGES_KEY + num)
            if car.lap > self.leader_lap:
                self.leader_lap = car.lap
        else:
            self._laps(car, timestamp, flag, laps, last_time, changed)
        car.state = state
        if car.current is not None:
            if state in STINT_ENDING_STATES:
                stint = car.current
                stint.end_lap = car.lap
                stint.end_time = timestamp
                car.stints.append(stint)
                car.current = None
                car.awaiting_in_lap = True
                changed.add(LAP_KEY + num)
                changed.add(STINT_KEY + num)
        elif state not in STINT_ENDING_STATES:
            car.current = Stint(car.lap + 1, timestamp, driver)
            car.awaiting_in_lap = False
            changed.add(LAP_KEY + num)

    def _laps(self, car: Car, timestamp: Number, flag: int, laps: Optional[int],
              last_time: Optional[Number], changed: set) -> None:
        new_lap = is_new_lap(car.last_time, car.laps_seen, last_time, laps)
        car.last_time = last_time
        car.laps_seen = laps
        if not new_lap:
            if laps is not None and laps != car.lap:
                car.lap = laps  # the count moved without a lap time
                self._new_lap_number(car, changed)
            return
        car.lap = laps if laps is not None else car.lap + 1
        lap = [last_time, car.lap_flag]
        car.lap_flag = flag
        car.last_pass = timestamp
        num = car.num
        if car.current is not None:
            car.current.laps.append(lap)
        elif car.awaiting_in_lap and car.stints:
            stint = car.stints[-1]
            stint.laps.append(lap)
            stint.end_lap = car.lap
            changed.add(STINT_KEY + num)
        car.awaiting_in_lap = False
        self._new_lap_number(car, changed)

    def _new_lap_number(self, car: Car, changed: set) -> None:
        changed.add(LAP_KEY + car.num)
        if car.lap > self.leader_lap:
            self.leader_lap = car.lap

    def add_messages(self, messages: List[list], changed: set) -> None:
        """Route new messages (oldest first) to their cars, leaving out the
        pit-lane ones (entering, leaving, fuelling): the stints already show
        those. The kind is `kind_of`'s (for wire messages: `pit`, `out` styles)."""
        for message in messages:
            num = message_car(message)
            if num is None or PIT_LANE in kind_of(message):
                continue
            self.messages.setdefault(num, []).append(list(message))
            changed.add(CAR_MESSAGES_KEY + num)

    # ---- payloads

    def lap_entry(self, num: str, now: Number) -> list:
        car = self.cars[num]
        current = car.current.to_list(car.lap, now) if car.current is not None else None
        return [current, car.last_pass]

    def stint_entry(self, num: str) -> list:
        return [stint.to_list() for stint in self.cars[num].stints]

    def messages_entry(self, num: str) -> list:
        return [list(message) for message in self.messages.get(num, [])]

    def dump(self) -> dict:
        return {"cars": {num: car.dump() for num, car in self.cars.items()},
                "messages": {num: [list(m) for m in msgs] for num, msgs in self.messages.items()},
                "leader_lap": self.leader_lap, "flag": self.flag}

    @classmethod
    def load(cls, data: Any) -> "CarModule":
        if not isinstance(data, dict):
            raise AnalysisStateError("car: expected an object")
        module = cls()
        try:
            module.cars = {str(num): Car.load(str(num), car) for num, car in data["cars"].items()}
            module.messages = {str(num): [_message(m) for m in msgs]
                               for num, msgs in data["messages"].items()}
            module.leader_lap = _int(data["leader_lap"])
            module.flag = _int(data["flag"])
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise AnalysisStateError(f"car: {error}") from None
        return module


def message_car(message: list) -> Optional[str]:
    """The car number of a message (`[t, category, text, style, num?]`), or None."""
    if len(message) < 5:
        return None
    num = message[4]
    if num is None:
        return None
    num = num.strip() if isinstance(num, str) else str(num)
    return num or None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any) -> Number:
    if not _is_number(value):
        raise TypeError(f"expected a number, got {value!r}")
    return value


def _optional_number(value: Any) -> Optional[Number]:
    return None if value is None else _number(value)


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _optional_int(value: Any) -> Optional[int]:
    return None if value is None else _int(value)


def _message(value: Any) -> list:
    if not isinstance(value, list) or len(value) < 4:
        raise TypeError(f"bad message {value!r}")
    return list(value)
