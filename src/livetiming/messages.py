"""Historical import path of the message generators: plugins written for the
original livetiming-core subclass `TimingMessage` / `PerCarMessage` and use the
built-in generators with their historical constructors (`CarPitMessage(
columnSpec)`) and two-argument `process(oldState, newState)`.

These are thin adapters over today's `livetiming.service.messages`: the
built-in generators are today's classes (same rules, same texts), accepting
the historical constructor and `process` signatures; `TimingMessage` and
`PerCarMessage` call a subclass's `_consider` and pair cars as today's
per-car generators do (sharing its service's pairing, `share_pairing`).
The service runs old and new generators side by side.

Messages are `[timestamp, category, text, style(, carNum)]`."""
import re
import time
from typing import Any, List, Optional, Sequence

from .protocol.rows import column_index
from .service import messages as _today
from .service.messages import PairsCars

__all__ = [
    "CAR_NUMBER_REGEX", "CarPitMessage", "DriverChangeMessage", "FastLapMessage", "FlagChangeMessage",
    "PerCarMessage", "RaceControlMessage", "SlowZoneMessage", "TimingMessage", "formatTime",
]

CAR_NUMBER_REGEX = re.compile(r"car #? ?(?P<race_num>[0-9]+)", re.IGNORECASE)
"""Historical pattern for a car named in a race-control text. The generator
itself uses today's rule (`RaceControlMessage.car_number`), which also skips
"safety car 2" and the like."""


def formatTime(seconds: float) -> str:
    """`m:ss.sss`, e.g. `formatTime(83.456) == "1:23.456"`."""
    return _today.format_lap_time(seconds)


def _timestamp(timestamp: Optional[float]) -> int:
    """The update's time when the service gives it, else now (a plugin
    calling `process(oldState, newState)` itself)."""
    return int(time.time() if timestamp is None else timestamp)


class _TwoOrFourArguments:
    """Lets a built-in generator be called the historical way,
    `process(oldState, newState)` (the column spec from its constructor, the
    time now), as well as the way the service calls it."""

    columnSpec: Sequence = ()

    def process(self, oldState: dict, newState: dict, colspec: Optional[Sequence] = None,
                timestamp: Optional[float] = None) -> List[list]:
        return super().process(oldState, newState, self.columnSpec if colspec is None else colspec,
                               _timestamp(timestamp))


class FlagChangeMessage(_TwoOrFourArguments, _today.FlagChangeMessage):
    """Today's flag messages; `FlagChangeMessage()`."""


class SlowZoneMessage(_TwoOrFourArguments, _today.FlagChangeMessage):
    """Announces slow zones only (the default flag messages leave them out,
    since many feeds toggle them constantly); add it with
    `getExtraMessageGenerators()` to opt in."""

    TEXTS: dict = {}

    def __init__(self, *args: Any) -> None:
        super().__init__(slow_zones=True)


class _PerCarBuiltIn(_TwoOrFourArguments):
    def __init__(self, columnSpec: Sequence = ()) -> None:
        self.columnSpec = columnSpec


class CarPitMessage(_PerCarBuiltIn, _today.CarPitMessage):
    """Today's pit messages; `CarPitMessage(columnSpec)`."""


class DriverChangeMessage(_PerCarBuiltIn, _today.DriverChangeMessage):
    """Today's driver-change messages; `DriverChangeMessage(columnSpec)`."""


class FastLapMessage(_PerCarBuiltIn, _today.FastLapMessage):
    """Today's best-lap messages; `FastLapMessage(columnSpec)`."""


class RaceControlMessage(_TwoOrFourArguments, _today.RaceControlMessage):
    """`RaceControlMessage(messageList)`: drains the list (or deque) by
    popping from its end, as the original did, into upper-cased "Race
    Control" messages naming the car a text mentions."""

    def __init__(self, messageList: Any) -> None:
        super().__init__(messageList)
        self.messageList = messageList

    def _take_texts(self) -> list:
        if callable(self.source):
            return super()._take_texts()
        texts = []
        while self.source:
            texts.append(self.source.pop())
        return texts


class TimingMessage(_today.MessageGenerator):
    """Base of historical generators: override `_consider(oldState,
    newState)` to return `[category, text, style(, carNum)]` or None, or
    override `process(oldState, newState)` itself to return whole messages."""

    def process(self, oldState: dict, newState: dict, colspec: Optional[Sequence] = None,
                timestamp: Optional[float] = None) -> List[list]:
        message = self._consider(oldState, newState)
        return [[_timestamp(timestamp), *message]] if message else []

    def _consider(self, oldState: dict, newState: dict) -> Optional[list]:
        return None


class PerCarMessage(PairsCars, TimingMessage):
    """`PerCarMessage(columnSpec)`: calls `_consider(oldCar, newCar)` (rows of
    the two states) for every numbered car present in both, paired by number,
    car and class as today's generators pair them; `_consider` returns
    `[category, text, style(, carNum)]` or None."""

    def __init__(self, columnSpec: Sequence) -> None:
        self.columnSpec = columnSpec

    def _column_index(self) -> dict:
        """Column → index for `self.columnSpec`, rebuilt when the spec object
        changes (subclasses may set `columnSpec` without calling __init__)."""
        cached = getattr(self, "_index_cache", None)
        if cached is None or cached[0] is not self.columnSpec:
            cached = (self.columnSpec, column_index(self.columnSpec))
            self._index_cache = cached
        return cached[1]

    def getValue(self, car: Sequence, stat: Any, default: Any = None) -> Any:
        """The cell of `car` in column `stat` (a Stat or a heading) as it is
        (a `[value, flag]` pair stays a pair), `default` when absent."""
        index = self._column_index().get(stat)
        if index is None or car is None or index >= len(car):
            return default
        return car[index]

    def process(self, oldState: dict, newState: dict, colspec: Optional[Sequence] = None,
                timestamp: Optional[float] = None) -> List[list]:
        seconds = _timestamp(timestamp)
        messages = []
        for old_car, new_car in self.pairing.pairs(oldState, newState, self.columnSpec):
            if old_car is None:
                continue
            message = self._consider(list(old_car.row), list(new_car.row))
            if message:
                messages.append([seconds, *message])
        return messages

    def _consider(self, oldCar: list, newCar: list) -> Optional[list]:
        return None
