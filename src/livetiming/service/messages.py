"""Message generators: turn the difference between two timing states into
messages (flag changes, pit stops, driver changes, fast laps, race control).

This is a functional core with no Twisted: the service calls
`run_generators()` once per state update and prepends the result to the
state's message list (`new + old`, newest first, capped at 100).

A message is `[unix_seconds, category, text, style]`, plus the car number
(a string) for messages about one car. The default generators return
`RaceMessage`s: that list, with its kind as data (`livetiming.protocol.race_message`).
Plugins add their own generators by returning instances from
`getExtraMessageGenerators()`; they run after the defaults, which cannot be
removed. Plugin generators may return plain lists.

Cells of car rows are read with `livetiming.protocol.rows`, as the analysis
reads them. How cars of the old and new states are paired is computed once
per update for all the per-car generators of one set (`share_pairing`), the
cache belonging to that set: there is no module-level state here.
"""
import inspect
import re
from collections import deque
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from twisted.logger import Logger
from twisted.python.failure import Failure

from livetiming.protocol import FlagStatus, Stat
from livetiming.protocol.race_message import MessageKind, RaceMessage
from livetiming.protocol.rows import Colspec, cell_flag, cell_value, column_index
from livetiming.protocol.rows import text as _text

__all__ = [
    "Message", "MessageGenerator", "PerCarMessageGenerator", "CarView",
    "FlagChangeMessage", "CarPitMessage", "DriverChangeMessage",
    "FastLapMessage", "RaceControlMessage", "default_generators",
    "run_generators", "highlight_from", "format_lap_time", "column_index",
    "adapt_generator", "CarPairing", "share_pairing", "pair_cars", "RaceMessage",
    "MessageKind",
]

log = Logger(namespace=__name__)

Message = list  # [unix_seconds:int, category:str, text:str, style:str|None, car_number:str?]

CAR_NUMBER_INDEX = 4


# --------------------------------------------------------------------------
# Reading rows


def is_time(value: Any) -> bool:
    """Any int or float is a time (quirk 7: the reference required floats)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def format_lap_time(seconds: float) -> str:
    """M:SS.mmm (minutes unbounded, `0:SS.mmm` under a minute). Rounds to
    whole milliseconds first so that 59.9996 s becomes 1:00.000, not 0:60.000."""
    millis = int(round(seconds * 1000))
    sign = "-" if millis < 0 else ""
    minutes, millis = divmod(abs(millis), 60000)
    return f"{sign}{minutes}:{millis // 1000:02d}.{millis % 1000:03d}"


class CarView:
    """A cheap read accessor over one row of `cars`, through the colspec.
    Absent columns and short rows read as None, so generators work with
    whatever columns a plugin has."""

    __slots__ = ("row", "_index")

    def __init__(self, row: Sequence, index: Dict[Any, int]):
        self.row = row if isinstance(row, (list, tuple)) else ()
        self._index = index

    def cell(self, column: Union[Stat, str]) -> Any:
        """The raw cell (possibly a `[value, flag]` pair), None if absent."""
        i = self._index.get(column)
        if i is None or i >= len(self.row):
            return None
        return self.row[i]

    def get(self, column: Union[Stat, str]) -> Any:
        """The cell's value (pairs unwrapped), None if the column is absent."""
        return cell_value(self.cell(column))

    def flag(self, column: Union[Stat, str]) -> str:
        return cell_flag(self.cell(column))

    @property
    def num(self) -> str:
        return _text(self.get(Stat.NUM))

    @property
    def state(self) -> str:
        return _text(self.get(Stat.STATE)).upper()

    @property
    def driver(self) -> str:
        return _text(self.get(Stat.DRIVER))

    @property
    def key(self) -> Tuple[str, str, str]:
        """Identity across updates: number, car and class together (two
        entries may share a number, e.g. in combined-class sessions)."""
        return (self.num, _text(self.get(Stat.CAR)), _text(self.get(Stat.CLASS)))

    def category(self, default: str) -> str:
        """The car's class where there is one (column present and not empty),
        else `default`."""
        return _text(self.get(Stat.CLASS)) or default

    @property
    def display(self) -> str:
        """"#N (Driver)", or "#N" when there is no driver."""
        driver = self.driver
        return f"#{self.num} ({driver})" if driver else f"#{self.num}"

    def __repr__(self) -> str:
        return f"CarView({list(self.row)!r})"


# --------------------------------------------------------------------------
# Generator base classes


class MessageGenerator:
    """Base class for plugin authors: override process()."""

    def process(self, old_state: dict, new_state: dict, colspec: Colspec,
                timestamp: float) -> List[Message]:
        """Return the messages for the update from `old_state` to `new_state`
        (states are `{"cars": [...], "session": {...}, ...}`)."""
        raise NotImplementedError


class PairsCars:
    """A generator that pairs the cars of the old and new states through
    `self.pairing`: its own `CarPairing` unless `share_pairing` gave it the
    one its generator set shares."""

    _pairing: Optional["CarPairing"] = None

    @property
    def pairing(self) -> "CarPairing":
        pairing = self._pairing
        if pairing is None:
            pairing = self._pairing = CarPairing()
        return pairing

    @pairing.setter
    def pairing(self, pairing: "CarPairing") -> None:
        self._pairing = pairing


class PerCarMessageGenerator(PairsCars, MessageGenerator):
    """Compares each car with its row in the old state: override consider().

    Cars are matched by number, car and class together; a car with no old
    row (new, or its key changed) is passed as `old_car=None`. Cars without
    a number are skipped since a message could not name them. Messages come
    in the order of the new state's rows."""

    def process(self, old_state: dict, new_state: dict, colspec: Colspec,
                timestamp: float) -> List[Message]:
        seconds = int(timestamp)
        messages = []
        for old_car, new_car in self.pairing.pairs(old_state, new_state, colspec):
            message = self.consider(old_car, new_car, seconds)
            if message:
                messages.append(message)
        return messages

    def consider(self, old_car: Optional[CarView], new_car: CarView,
                 timestamp: int) -> Optional[Message]:
        """Return a message about `new_car`, or None."""
        raise NotImplementedError


class CarPairing:
    """`pair_cars` with the last result kept: every per-car generator of a
    set needs the same pairing for an update, so the set shares one of these
    (`share_pairing`) and the pairing is computed once per update. It holds
    the lists themselves, so the identity checks are sound."""

    __slots__ = ("_old_cars", "_new_cars", "_colspec", "_pairs")

    def __init__(self) -> None:
        self._old_cars = self._new_cars = self._colspec = None
        self._pairs: List[Tuple[Optional[CarView], CarView]] = []

    def pairs(self, old_state: dict, new_state: dict,
              colspec: Colspec) -> List[Tuple[Optional[CarView], CarView]]:
        """`pair_cars(old_state, new_state, colspec)`, reused while the car
        lists and the colspec are the same objects as last time."""
        old_cars, new_cars = _cars(old_state), _cars(new_state)
        if old_cars is self._old_cars and new_cars is self._new_cars and colspec is self._colspec:
            return self._pairs
        pairs = _pair_rows(old_cars, new_cars, colspec)
        self._old_cars, self._new_cars, self._colspec, self._pairs = old_cars, new_cars, colspec, pairs
        return pairs


def pair_cars(old_state: dict, new_state: dict,
              colspec: Colspec) -> List[Tuple[Optional[CarView], CarView]]:
    """(old row or None, new row) for each numbered car of the new state."""
    return _pair_rows(_cars(old_state), _cars(new_state), colspec)


def _pair_rows(old_cars: list, new_cars: list,
               colspec: Colspec) -> List[Tuple[Optional[CarView], CarView]]:
    index = column_index(colspec)
    old_by_key: Dict[Tuple[str, str, str], CarView] = {}
    for row in old_cars:
        car = CarView(row, index)
        old_by_key.setdefault(car.key, car)
    pairs = []
    for row in new_cars:
        car = CarView(row, index)
        if car.num:
            pairs.append((old_by_key.get(car.key), car))
    return pairs


def share_pairing(generators: Iterable[Any], pairing: Optional[CarPairing] = None) -> CarPairing:
    """Give every car-pairing generator of a set (also when wrapped by
    `adapt_generator`) one `CarPairing`, new unless given, and return it. A
    service does this once for its generators: the cache is theirs alone."""
    if pairing is None:
        pairing = CarPairing()
    for generator in generators:
        inner = generator.generator if isinstance(generator, TwoArgumentGenerator) else generator
        if isinstance(inner, PairsCars):
            inner.pairing = pairing
    return pairing


def _cars(state: Optional[dict]) -> list:
    cars = (state or {}).get("cars")
    return cars if isinstance(cars, list) else []


def _flag(state: Optional[dict]) -> FlagStatus:
    session = (state or {}).get("session")
    if not isinstance(session, dict):
        return FlagStatus.NONE
    return FlagStatus.parse(session.get("flagState"))


# --------------------------------------------------------------------------
# Default generators


class FlagChangeMessage(MessageGenerator):
    """Announces the track's new flag. Changes to flags without a text here
    (`none`, `code_60_zone`, unknown names) say nothing; slow zones only when
    the plugin opts in, because many feeds toggle them constantly."""

    CATEGORY = "Track"
    TEXTS = {
        FlagStatus.GREEN: ("Green flag - track clear", "green"),
        FlagStatus.SC: ("Safety car deployed", "yellow"),
        FlagStatus.FCY: ("Full course yellow", "yellow"),
        FlagStatus.YELLOW: ("Yellow flags shown", "yellow"),
        FlagStatus.RED: ("Red flag", "red"),
        FlagStatus.CHEQUERED: ("Chequered flag", "track"),
        FlagStatus.CODE_60: ("Code 60", "code60"),
        FlagStatus.VSC: ("Virtual safety car deployed", "yellow"),
        FlagStatus.CAUTION: ("Full course caution", "yellow"),
        FlagStatus.WHITE: ("White flag - final lap", "white"),
    }
    SLOW_ZONE = ("Slow zone(s) in operation", "yellow")

    def __init__(self, slow_zones: bool = False):
        self.slow_zones = slow_zones

    def process(self, old_state: dict, new_state: dict, colspec: Colspec,
                timestamp: float) -> List[Message]:
        old_flag, new_flag = _flag(old_state), _flag(new_state)
        if new_flag == old_flag:
            return []
        text_style = self.TEXTS.get(new_flag)
        if new_flag == FlagStatus.SLOW_ZONE and self.slow_zones:
            text_style = self.SLOW_ZONE
        if text_style is None:
            return []
        text, style = text_style
        return [RaceMessage(int(timestamp), self.CATEGORY, text, style, kind=MessageKind.FLAG)]


class CarPitMessage(PerCarMessageGenerator):
    """Pit lane and on-track status changes (entered/left the pits, fuelling,
    stopped, resumed, retired). OUT→RUN, RUN→OUT and RUN→FIN say nothing."""

    CATEGORY = "Pits"

    def consider(self, old_car: Optional[CarView], new_car: CarView,
                 timestamp: int) -> Optional[Message]:
        if old_car is None:
            return None
        old, new = old_car.state, new_car.state
        if old == new:
            return None
        pit_lane, car_state = MessageKind.PIT_LANE, MessageKind.CAR_STATE
        if (new == "OUT" and old != "RUN") or (old == "PIT" and new == "RUN"):
            text, style, kind = "has left the pits", "out", pit_lane
        elif new == "PIT":
            text, style, kind = "has entered the pits", "pit", pit_lane
        elif new == "FUEL":
            text, style, kind = "has entered the fuelling area", "pit", pit_lane
        elif new == "RET":
            text, style, kind = "has retired", "", car_state
        elif new == "STOP":
            text, style, kind = "is running slowly or stopped", "", car_state
        elif old == "STOP" and new == "RUN":
            text, style, kind = "has resumed", "", car_state
        else:
            return None
        return RaceMessage(timestamp, new_car.category(self.CATEGORY),
                           f"{new_car.display} {text}", style, new_car.num, kind)


class DriverChangeMessage(PerCarMessageGenerator):
    """A change of the Driver column (style null, so clients don't colour it)."""

    CATEGORY = "Pits"

    def consider(self, old_car: Optional[CarView], new_car: CarView,
                 timestamp: int) -> Optional[Message]:
        if old_car is None:
            return None
        old, new = old_car.driver, new_car.driver
        if old == new:
            return None
        if old and new:
            change = f"{old} to {new}"
        elif new:
            change = f"to {new}"
        else:
            change = f"from {old} to nobody"
        return RaceMessage(timestamp, new_car.category(self.CATEGORY),
                           f"#{new_car.num} Driver change ({change})", None, new_car.num,
                           MessageKind.DRIVER_CHANGE)


class FastLapMessage(PerCarMessageGenerator):
    """Personal and overall bests, read from the Last column's flag.

    Needs a previous lap time (any number), so a car's first lap says nothing
    even when it is a best. An overall best is a `Last` flag becoming
    `sb-new` (or a faster `sb-new` lap); a personal best needs `pb` and either
    a previous flag of `""` or a faster time, so a flag changing for the same
    lap (e.g. `sb-new` → `pb` when someone else goes faster) says nothing."""

    CATEGORY = "Timing"

    def consider(self, old_car: Optional[CarView], new_car: CarView,
                 timestamp: int) -> Optional[Message]:
        if old_car is None:
            return None
        old_time, new_time = old_car.get(Stat.LAST_LAP), new_car.get(Stat.LAST_LAP)
        if not (is_time(old_time) and is_time(new_time)):
            return None
        old_flag, new_flag = old_car.flag(Stat.LAST_LAP), new_car.flag(Stat.LAST_LAP)
        faster = new_time < old_time
        if new_flag == "sb-new" and (old_flag != "sb-new" or faster):
            text, style = "set a new overall best", "sb"
        elif new_flag == "pb" and (old_flag == "" or faster):
            text, style = "set a new personal best", "pb"
        else:
            return None
        return RaceMessage(timestamp, new_car.category(self.CATEGORY),
                           f"{new_car.display} {text}: {format_lap_time(new_time)}",
                           style, new_car.num, MessageKind.FAST_LAP)


TextSource = Union[deque, list, Callable[[], Any]]


class RaceControlMessage(MessageGenerator):
    """Race-control texts supplied by the plugin (opt-in), upper-cased.

    `source` is a `collections.deque` or list that the plugin appends texts
    to (this generator drains it on every update), or a callable returning
    the new texts (an iterable, a single string, or None).

    Several texts in one update keep the order they were supplied in: the
    first supplied is first in the returned list and so sits above the later
    ones in the state's newest-first list (the reference reversed them,
    quirk 8).

    The message names a car when the text contains "car N", "car #N" or
    "car#N" (case-insensitive, first such mention), unless "car" is part of
    a vehicle name such as "safety car 2", "safety-car 2" or "pace car 1"
    (quirk 8: the reference would attribute those to car 2 / car 1). Plural
    "cars 7 and 8" names nobody.
    """

    CATEGORY = "Race Control"
    STYLE = "raceControl"
    NOT_A_RACE_CAR = frozenset({"safety", "pace", "medical", "course", "chase"})
    _CAR_MENTION = re.compile(r"(?:(\w+)[\s-]+)?\bcar\s*#?\s*(\d+)\b", re.IGNORECASE)

    def __init__(self, source: TextSource):
        self.source = source

    def _take_texts(self) -> list:
        source = self.source
        if callable(source):
            texts = source()
            if texts is None:
                return []
            return [texts] if isinstance(texts, str) else list(texts)
        if isinstance(source, deque):
            texts = []
            while source:
                texts.append(source.popleft())
            return texts
        texts = list(source)
        del source[:]
        return texts

    @classmethod
    def car_number(cls, text: str) -> Optional[str]:
        """The car a text names, or None."""
        for match in cls._CAR_MENTION.finditer(text):
            before = (match.group(1) or "").lower()
            if before not in cls.NOT_A_RACE_CAR:
                return match.group(2)
        return None

    def process(self, old_state: dict, new_state: dict, colspec: Colspec,
                timestamp: float) -> List[Message]:
        messages = []
        for text in self._take_texts():
            text = _text(text)
            if not text:
                continue
            messages.append(RaceMessage(int(timestamp), self.CATEGORY, text.upper(), self.STYLE,
                                        self.car_number(text), MessageKind.RACE_CONTROL))
        return messages


# --------------------------------------------------------------------------
# Running them


class TwoArgumentGenerator(MessageGenerator):
    """A generator whose `process(oldState, newState)` takes only the two
    states (historical plugins define it so), run as today's generators are;
    it computes its own timestamps."""

    def __init__(self, generator: Any):
        self.generator = generator

    def process(self, old_state: dict, new_state: dict, colspec: Colspec,
                timestamp: float) -> List[Message]:
        return self.generator.process(old_state, new_state)

    def __repr__(self) -> str:
        return repr(self.generator)


def _takes_four_arguments(process: Callable) -> bool:
    try:
        inspect.signature(process).bind(None, None, None, None)
    except TypeError:
        return False
    except ValueError:  # no signature to read (a builtin): assume today's
        return True
    return True


def adapt_generator(generator: Any) -> MessageGenerator:
    """`generator` as today's `process(old, new, colspec, timestamp)` expects:
    itself, or wrapped when its `process` takes only the two states."""
    if _takes_four_arguments(generator.process):
        return generator
    return TwoArgumentGenerator(generator)


def default_generators() -> List[MessageGenerator]:
    """The generators every service runs, in message order."""
    return [FlagChangeMessage(), CarPitMessage(), DriverChangeMessage(), FastLapMessage()]


ErrorHandler = Callable[[MessageGenerator, BaseException], Any]


def run_generators(generators: Iterable[MessageGenerator], old_state: dict,
                   new_state: dict, colspec: Colspec, timestamp: float,
                   on_error: Optional[ErrorHandler] = None) -> List[Message]:
    """Run the generators in order and concatenate their messages, in the
    order they belong in the state's newest-first list (so the service can
    do `new + old`). A generator that raises is reported to
    `on_error(generator, exception)` (logged when there is none) and
    skipped: one faulty plugin generator must not silence the others."""
    messages: List[Message] = []
    for generator in generators:
        try:
            produced = list(generator.process(old_state or {}, new_state or {},
                                              colspec, timestamp) or [])
        except Exception as error:  # noqa: BLE001 - isolate faulty generators
            _report(generator, error, on_error)
        else:
            messages.extend(m for m in produced if m)
    return messages


def _report(generator: MessageGenerator, error: Exception,
            on_error: Optional[ErrorHandler]) -> None:
    """Hand a generator's failure to the service; never let reporting itself
    break the update."""
    if on_error is not None:
        try:
            on_error(generator, error)
            return
        except Exception:  # noqa: BLE001
            log.failure("Error handler failed for message generator {generator!r}", generator=generator)
    log.failure("Message generator {generator!r} failed", Failure(error), generator=generator)


def highlight_from(messages: Iterable[Message]) -> List[str]:
    """Car numbers of per-car messages, without duplicates, in order of first
    appearance (the reference used a set, so its order was random: quirk 1)."""
    seen: Dict[str, None] = {}
    for message in messages:
        if len(message) > CAR_NUMBER_INDEX and message[CAR_NUMBER_INDEX]:
            seen.setdefault(str(message[CAR_NUMBER_INDEX]), None)
    return list(seen)
