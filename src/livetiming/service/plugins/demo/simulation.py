"""A simulated endurance race: the data source of the built-in ``demo`` plugin.

It is what a newcomer sees first and what tests and benchmarks feed on, so it
has to look like real timing data (see the reference race in the shared
fixtures) and be fast enough to write a 24-hour recording at one frame per
second in well under a minute.

Design:

* The race is a plain object driven by a simulated clock: ``advance(now)``
  handles, in time order, every event due up to ``now`` (sector crossings,
  pit stops, flags, incidents, weather). Nothing depends on the size of the
  steps, so one big step and many small ones end in the same state.
* All randomness comes from one ``random.Random(seed)``, consumed only while
  setting the race up and while handling events; ``state()`` only reads. A
  race is therefore a pure function of its parameters and the seed.
* Times inside are integer milliseconds since the simulation clock started
  (``start_time - grid_time``). Sector and lap times and gaps are then exact:
  S1 + S2 + S3 == Last to the millisecond and gaps never show float noise.
* Each car keeps its displayed row cached and rebuilds it only when something
  in it changed; the classification and gaps are recomputed only after a
  line crossing. ``state()`` then mostly copies cached values.
"""
from __future__ import annotations

import heapq
import math
import random
import time
from bisect import bisect_right
from operator import attrgetter
from typing import List, NamedTuple, Optional

from livetiming.protocol import FlagStatus, Stat

COLUMN_SPEC = (
    Stat.NUM, Stat.STATE, Stat.CLASS, Stat.POS_IN_CLASS, Stat.TEAM, Stat.DRIVER,
    Stat.CAR, Stat.TYRE, Stat.LAPS, Stat.GAP, Stat.INT, Stat.CLASS_GAP,
    Stat.S1, Stat.S2, Stat.S3, Stat.LAST_LAP, Stat.BEST_LAP, Stat.SPEED,
    Stat.BEST_SPEED, Stat.PITS,
)
TRACK_DATA_SPEC = ("Air temp", "Track temp", "Humidity", "Wind speed")
SERIES_NAME = "Demo Endurance Series"

MIN_CARS = 20
MAX_CARS = 60

# Flag names as they appear in the state.
_NONE = FlagStatus.NONE.to_string()
_GREEN = FlagStatus.GREEN.to_string()
_YELLOW = FlagStatus.YELLOW.to_string()
_FCY = FlagStatus.FCY.to_string()
_SC = FlagStatus.SC.to_string()
_CHEQUERED = FlagStatus.CHEQUERED.to_string()

# Car states.
RUN, PIT, OUT, FUEL, STOP, RET, FIN = "RUN", "PIT", "OUT", "FUEL", "STOP", "RET", "FIN"


class Circuit(NamedTuple):
    """An invented circuit. Class lap times scale with its length."""
    name: str
    length_m: int
    sector_share: tuple      # share of the lap time in S1, S2, S3
    sector_turns: tuple      # (first, last) turn number in each sector


CIRCUITS = (
    Circuit("Serra Vermelha", 5612, (0.305, 0.372, 0.323), ((1, 5), (6, 11), (12, 15))),
    Circuit("Lake Ashwater", 5480, (0.318, 0.349, 0.333), ((1, 4), (5, 10), (11, 14))),
    Circuit("Montferrand-les-Bains", 5730, (0.296, 0.381, 0.323), ((1, 6), (7, 12), (13, 17))),
)
_REFERENCE_LENGTH_M = 5612
"""Class lap times below are for a lap of this length."""


class ClassSpec(NamedTuple):
    name: str
    share: float            # share of the field
    lap: float              # lap time of a mid-field car, seconds, reference length
    spread: float           # car-to-car performance spread (fraction of the lap)
    stint: float            # fuel stint, seconds of green running
    tiers: tuple            # weights of pro / silver / bronze drivers
    models: tuple


CLASSES = (
    ClassSpec("LMP2", 0.28, 100.0, 0.005, 3300.0, (6, 3, 1), (
        "Oreca 07 - Gibson", "Ligier JS P217 - Gibson", "Dallara P217 - Gibson",
        "Riley Mk. 30 - Gibson")),
    ClassSpec("LMP3", 0.14, 107.0, 0.007, 2700.0, (3, 4, 3), (
        "Ligier JS P320 - Nissan", "Duqueine D08 - Nissan", "Ginetta G61-LT-P3 - Nissan")),
    ClassSpec("GTE", 0.22, 110.0, 0.004, 3000.0, (7, 2, 1), (
        "Ferrari 488 GTE Evo", "Porsche 911 RSR-19", "Aston Martin Vantage AMR",
        "Chevrolet Corvette C8.R")),
    ClassSpec("GT3", 0.36, 115.0, 0.007, 3300.0, (3, 4, 3), (
        "BMW M4 GT3", "Audi R8 LMS GT3 Evo II", "Mercedes-AMG GT3 Evo",
        "Lamborghini Huracán GT3 Evo2", "McLaren 720S GT3 Evo", "Porsche 911 GT3 R",
        "Ferrari 296 GT3", "Aston Martin Vantage AMR GT3", "Ford Mustang GT3",
        "Lexus RC F GT3")),
)

# Driver tiers: (mean lap-time offset in seconds, its spread, per-sector noise).
_TIERS = ((0.0, 0.25, 0.09), (0.7, 0.3, 0.13), (1.8, 0.6, 0.19))

# Tyres: lap-time offset and wear per lap (seconds, for a 100 s lap).
_TYRE_OFFSET = {"S": -0.45, "M": 0.0, "H": 0.45}
_TYRE_WEAR = {"S": 0.045, "M": 0.028, "H": 0.016}
_FUEL_EFFECT = 0.9            # seconds per lap slower on a full tank
_EVOLUTION = 1.2              # seconds per lap slower on a green track
_MISTAKE_CHANCE = 0.012       # per sector

_SC_CATCH_UP = 1.15           # a car closing up to the safety car queue, own lap times
_SC_PACE = 1.65               # the safety car, LMP2 lap times
_FCY_PACE = 1.85
_GRID_SPACING_MS = 500        # rolling start: cars cross the line this far apart

_FIRST_NAMES = (
    "Sébastien", "Jürgen", "João", "Søren", "Zoë", "Ana", "Tomás", "Mikaël", "Björn",
    "Chloé", "Renée", "Matías", "Ólafur", "Łukasz", "François", "Hélène", "Kaspar",
    "Nils", "Giulia", "Lorenzo", "Emma", "Oliver", "Harriet", "Kenji", "Yuki", "Ravi",
    "Mateo", "Diego", "Luca", "Finn", "Inês", "Joël", "Anaïs", "Dávid", "Ömer",
    "Mårten", "Åsa", "Thiago", "Gonçalo", "Rúben", "Léa", "Maëlle", "Noé", "Sven",
    "Tobias", "Felix", "Isabel", "Marta", "Pavel", "Daniel", "Ryan", "Jack", "Sam",
    "Charlie", "Owen", "Max", "Nico", "Paul", "Hugo", "Theo", "Raphaël", "Selin",
    "Aylin", "Kai", "Leon", "Niamh", "Ciarán", "Freya", "Astrid", "Jarno",
)
_SURNAMES = (
    "Lindqvist", "Ødegaard", "Brändle", "Conceição", "Fernández", "Dubois", "Lefèvre",
    "Castañeda", "Novák", "Kowalczyk", "Østergaard", "Sørlie", "Gonçalves",
    "Hämäläinen", "Nyström", "Åberg", "Rossetti", "Bianchi", "Moretti", "Ferreira",
    "Almeida", "Brennan", "Hargreaves", "Whitfield", "Ashdown", "Pemberton", "Okafor",
    "Nakamura", "Takeda", "Kobayashi", "van den Berg", "De Smet", "Peeters",
    "Vermeulen", "Schäfer", "Köhler", "Weiß", "Zimmermann", "García", "Muñoz",
    "Ibáñez", "Dupré", "Girard", "Mercier", "Barros", "Simões", "Magalhães",
    "Quintana", "Halvorsen", "Holmgren", "Jović", "Horváth", "Szabó", "Dvořák",
    "Černý", "Yılmaz", "O'Connell", "McAllister", "Fitzgerald", "Carrington",
    "Blackwood", "Thorne", "Salazar", "Marchetti", "Lacroix", "Rousseau", "Byrne",
)
_TEAM_PREFIXES = (
    "Aldermoor", "Blackthorn", "Cedar Point", "Duneview", "Emberline", "Foxhollow",
    "Greystone", "Harrowgate", "Ironbridge", "Juniper", "Kingsmere", "Larkspur",
    "Meridian", "Northcliff", "Oakridge", "Pinecrest", "Redhill", "Silverbeck",
    "Tidewater", "Valemont", "Westmarch", "Yarrow", "Zephyr", "Ashcombe",
    "Brightwater", "Coldharbour", "Driftwood", "Eastwind", "Fjällbacka", "Montclair",
    "Rivière", "Sierra Alta", "Lagoa Azul", "Nordstern", "Alpenglühen", "Halcyon",
    "Copperfield", "Stormcrest", "Bellavista", "Kestrelmoor",
)
_TEAM_SUFFIXES = (
    "Racing", "Motorsport", "Autosport", "Racing Team", "Competition", "Engineering",
    "Motorsports", "Performance",
)
_FAILURES = (
    "gearbox", "engine", "electrical problem", "suspension damage", "hydraulics",
    "fuel pressure", "driveshaft",
)


class _Car:
    """One car's simulation state and what its timing row shows."""

    __slots__ = (
        "idx", "num", "cls", "cls_name", "team", "model", "drivers", "skill", "sigma",
        "driver", "base_lap", "share", "cls_scale", "fuel_laps", "grid",
        "state", "laps", "pits", "tyre", "tyre_laps", "stint_laps", "on_track",
        "sector", "sector_start", "sector_end", "constraint_end", "lap_start",
        "epoch", "pit_planned", "pit_kind", "pit_tyres", "pit_driver", "ailing", "stopped_left",
        "cross", "s_ms", "s_pb", "s_old", "best_s", "last_ms", "last_pb", "best_ms",
        "last_speed", "best_speed", "warnings", "pic", "gap", "interval", "class_gap",
        "sort_key", "row",
    )

    def __init__(self, idx: int):
        self.idx = idx
        self.state = RUN
        self.laps = 0
        self.pits = 0
        self.tyre_laps = 0
        self.stint_laps = 0
        self.on_track = False
        self.sector = 0
        self.sector_start = 0
        self.sector_end = 0
        self.constraint_end = 0
        self.lap_start = 0
        self.epoch = 0
        self.pit_planned = False
        self.pit_kind = None
        self.pit_tyres = None
        self.pit_driver = False
        self.ailing = None
        self.stopped_left = 0
        self.cross = []
        self.s_ms = [None, None, None]
        self.s_pb = [False, False, False]
        self.s_old = [False, False, False]
        self.best_s = [None, None, None]
        self.last_ms = None
        self.last_pb = False
        self.best_ms = None
        self.last_speed = ""
        self.best_speed = ""
        self.warnings = 0
        self.pic = 0
        self.gap = ""
        self.interval = ""
        self.class_gap = ""
        self.row = None


class _Pacer:
    """The safety car, as far as the cars behind it are concerned."""

    __slots__ = ("active", "sector", "constraint_end", "on_track", "epoch")

    def __init__(self):
        self.active = False
        self.on_track = False
        self.sector = 0
        self.constraint_end = 0
        self.epoch = 0


class _Incident:
    """A scheduled flag period and what causes it."""

    __slots__ = ("flag", "cause", "t_car", "t_flag", "t_end", "car", "sector", "turn")

    def __init__(self, flag: str, cause: str, t_car: int, t_flag: int, t_end: int):
        self.flag = flag
        self.cause = cause    # "resume", "retire" (a car stops) or "debris"
        self.t_car = t_car
        self.t_flag = t_flag
        self.t_end = t_end
        self.car = None
        self.sector = 0
        self.turn = 1


# Event kinds, an index into RaceSimulation._handlers.
(_EV_START, _EV_SECTOR, _EV_PIT_IN, _EV_DRIVER, _EV_PIT_OUT, _EV_OUT_RUN, _EV_RESUME,
 _EV_RETIRE, _EV_FAILURE, _EV_GREEN, _EV_FLAG, _EV_TRACK, _EV_TEXT, _EV_INCIDENT,
 _EV_PACER, _EV_INVESTIGATION) = range(16)

_sort_key = attrgetter("sort_key")


def _laps_text(laps: int) -> str:
    return "1 lap" if laps == 1 else f"{laps} laps"


def _duration_label(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = int(seconds // 3600)
        return "1 hour" if hours == 1 else f"{hours} hours"
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds:g} seconds"


class RaceSimulation:
    """A timed endurance race with 20-60 cars in four classes.

    The simulation clock starts ``grid_time`` seconds before the green flag
    (cars on the grid, flag ``none``); the race lasts ``duration`` seconds,
    after which the leader takes the chequered flag at the line and the
    others finish as they next cross it.
    """

    def __init__(self, seed: int = 0, car_count: int = 30, duration: float = 6 * 3600,
                 start_time: float = 1_700_000_000.0, grid_time: float = 60.0):
        if not isinstance(car_count, int) or not MIN_CARS <= car_count <= MAX_CARS:
            raise ValueError(f"car_count must be between {MIN_CARS} and {MAX_CARS}, not {car_count!r}")
        if not duration > 0:
            raise ValueError(f"duration must be positive, not {duration!r}")
        if not grid_time >= 0:
            raise ValueError(f"grid_time must not be negative, not {grid_time!r}")

        self._rng = random.Random(seed)
        rng = self._rng
        self.circuit = rng.choice(CIRCUITS)
        self.column_spec: List[Stat] = list(COLUMN_SPEC)
        self.track_data_spec: List[str] = list(TRACK_DATA_SPEC)
        self.name: str = SERIES_NAME
        self.description: str = f"{_duration_label(duration)} of {self.circuit.name}"

        self._t0 = float(start_time) - float(grid_time)
        self.now: float = self._t0
        self._now_ms = 0
        self._green_ms = int(round(grid_time * 1000))
        self._duration_s = int(round(duration))
        self._end_ms = self._green_ms + int(round(duration * 1000))
        self._duration = float(duration)

        self._events: list = []
        self._seq = 0
        self._handlers = (
            self._on_start, self._on_sector, self._on_pit_in, self._on_driver_change,
            self._on_pit_out, self._on_out_run, self._on_resume, self._on_retire,
            self._on_failure, self._on_green, self._on_flag, self._on_track_data,
            self._on_text, self._on_incident, self._on_pacer, self._on_investigation,
        )

        self._flag = _NONE
        self._flag_owner: Optional[_Incident] = None
        self._chequered = False
        self._max_laps = 0
        self._yellow_sector = None
        self._pacer = _Pacer()
        self._last_cross: list = [None, None, None]   # last car (or pacer) past each boundary
        self._best_sector: list = [None, None, None]  # (ms, car) overall best per sector
        self._best_lap = None                          # (ms, car)
        self._race_control: List[str] = []
        self._order_dirty = True
        self._lap_scale = self.circuit.length_m / _REFERENCE_LENGTH_M

        self._cars: List[_Car] = self._make_entry(car_count)
        self._order: List[_Car] = sorted(self._cars, key=lambda c: c.grid)
        for car in self._cars:
            car.sort_key = (0, 0, car.grid)
        self._unfinished = car_count
        self._class_count = len(CLASSES)

        self._weather = self._initial_weather()
        self._track_data = self._format_weather()
        self._push(60_000, _EV_TRACK)
        self._push(self._green_ms, _EV_GREEN)
        self._schedule_race()

    # ------------------------------------------------------------------ public

    @property
    def finished(self) -> bool:
        """True once the chequered flag is out and every car has finished or retired."""
        return self._chequered and self._unfinished == 0

    def advance(self, now: float) -> None:
        """Move the clock forward to `now` (unix seconds), handling every event due by then."""
        if now <= self.now:
            return
        limit = int(math.floor((now - self._t0) * 1000 + 0.01))
        events = self._events
        cars = self._cars
        handlers = self._handlers
        pop = heapq.heappop
        while events and events[0][0] <= limit:
            t, _, kind, car_idx, epoch, payload = pop(events)
            if car_idx >= 0:
                car = cars[car_idx]
                if epoch >= 0 and epoch != car.epoch:
                    continue    # cancelled: the car's plans changed since
            else:
                car = None
            handlers[kind](t, car, payload)
        self.now = now
        self._now_ms = max(self._now_ms, limit)

    def state(self) -> dict:
        """The current timing state: fresh plain objects, safe to keep or mutate."""
        if self._order_dirty:
            self._classify()
        cars = []
        append = cars.append
        build = self._build_row
        for car in self._order:
            r = car.row
            if r is None:
                r = car.row = build(car)
            append([r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11],
                    [r[12], r[13]], [r[14], r[15]], [r[16], r[17]], [r[18], r[19]],
                    [r[20], r[21]], r[22], r[23], r[24]])
        elapsed = max(0, (self._now_ms - self._green_ms) // 1000)
        return {
            "cars": cars,
            "session": {
                "flagState": self._flag,
                "timeElapsed": elapsed,
                "timeRemain": max(0, self._duration_s - elapsed),
                "trackData": list(self._track_data),
            },
        }

    def pop_race_control(self) -> List[str]:
        """Race-control texts issued since the last call, oldest first."""
        texts, self._race_control = self._race_control, []
        return texts

    # ------------------------------------------------------------------- setup

    def _make_entry(self, car_count: int) -> List[_Car]:
        """Classes, numbers, teams, cars, drivers and the grid."""
        rng = self._rng
        counts = self._class_counts(car_count)
        numbers = rng.sample(range(1, 100), car_count)
        team_names = [f"{p} {s}" for p in _TEAM_PREFIXES for s in _TEAM_SUFFIXES]
        teams = rng.sample(team_names, car_count)
        names = set()
        cars = []
        for cls_idx, (spec, count) in enumerate(zip(CLASSES, counts)):
            class_numbers = sorted(numbers[len(cars):len(cars) + count])
            models = list(spec.models)
            rng.shuffle(models)
            for i in range(count):
                car = _Car(len(cars))
                car.num = str(class_numbers[i])
                car.cls = cls_idx
                car.cls_name = spec.name
                # Now and then a team runs a sister car in the same class.
                if i and rng.random() < 0.15:
                    car.team = cars[-1].team
                    car.model = cars[-1].model
                else:
                    car.team = teams[car.idx]
                    car.model = models[i % len(models)] if rng.random() < 0.8 else rng.choice(models)
                n_drivers = rng.choices((1, 2, 3), (8, 42, 50))[0]
                car.drivers, car.skill, car.sigma = [], [], []
                for _ in range(n_drivers):
                    name = self._unique_name(names)
                    mean, spread, sigma = _TIERS[rng.choices((0, 1, 2), spec.tiers)[0]]
                    car.drivers.append(name)
                    car.skill.append(max(-0.5, rng.gauss(mean, spread)) * spec.lap / 100)
                    car.sigma.append(sigma * rng.uniform(0.8, 1.2))
                car.driver = 0
                car.cls_scale = spec.lap / 100 * self._lap_scale
                car.base_lap = spec.lap * self._lap_scale * (1 + rng.gauss(0, spec.spread))
                shares = [s * rng.uniform(0.99, 1.01) for s in self.circuit.sector_share]
                total = sum(shares)
                car.share = tuple(s / total for s in shares)
                stint = min(spec.stint, max(240.0, 0.38 * self._duration))
                car.fuel_laps = max(3, int(stint / car.base_lap * rng.uniform(0.92, 1.05)))
                car.tyre = rng.choices(("S", "M", "H"), (3, 6, 1))[0]
                cars.append(car)

        # Grid: by class, then qualifying pace (car plus starting driver, with noise).
        qualifying = sorted(
            cars, key=lambda c: (c.cls, c.base_lap + c.skill[0] + rng.gauss(0, 0.3)))
        for grid, car in enumerate(qualifying):
            car.grid = grid
            car.on_track = True
        if rng.random() < 0.4:
            # One car starts from the pit lane, behind everyone else.
            car = rng.choice(cars[len(cars) // 2:])
            car.grid = car_count
            car.state = PIT
            car.on_track = False
        return cars

    @staticmethod
    def _class_counts(car_count: int) -> List[int]:
        """Split the field between the classes by their share (largest remainder)."""
        raw = [spec.share * car_count for spec in CLASSES]
        counts = [int(x) for x in raw]
        by_remainder = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
        for i in by_remainder[:car_count - sum(counts)]:
            counts[i] += 1
        return counts

    def _unique_name(self, taken: set) -> str:
        rng = self._rng
        while True:
            name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_SURNAMES)}"
            if name not in taken:
                taken.add(name)
                return name

    def _schedule_race(self) -> None:
        """Lay out the flag periods, failures and race-control chatter of the race.

        Every race gets a local yellow (a car spins and resumes), a full
        course yellow (a car stops and retires: so at least one retirement
        in every race) and a safety car, at times scaled to the duration, so
        that a 20-minute demo shows them all. Longer races get more of each.
        """
        rng = self._rng
        d = self._duration
        g = self._green_ms
        incidents: List[_Incident] = []

        def add(flag: str, cause: str, at: float, force: bool = False) -> bool:
            """Add a flag period starting `at` seconds into the race, if it fits."""
            if flag == _YELLOW:
                delay = rng.uniform(2, 5)
                length = min(rng.uniform(70, 130), max(40.0, 0.08 * d))
            elif flag == _FCY:
                delay = rng.uniform(10, 18)
                length = min(min(max(100.0, 0.06 * d), 360.0) + rng.uniform(-10, 40), max(60.0, 0.12 * d))
            else:
                delay = rng.uniform(15, 30)
                length = min(min(max(360.0, 0.15 * d), 720.0) + rng.uniform(-20, 60), max(90.0, 0.25 * d))
            start, end = g + int(at * 1000), g + int((at + delay + length) * 1000)
            if not force:
                if end > g + 0.96 * d * 1000 or start < g + 0.03 * d * 1000:
                    return False
                if any(start < other.t_end + 240_000 and other.t_car < end + 240_000
                       for other in incidents):
                    return False
            incidents.append(_Incident(flag, cause, start, start + int(delay * 1000), end))
            return True

        # The three every race has; `force` only matters in races of a few minutes.
        add(_YELLOW, "resume", d * rng.uniform(0.12, 0.17), force=True)
        add(_FCY, "retire", d * rng.uniform(0.30, 0.35), force=True)
        add(_SC, "debris", d * rng.uniform(0.52, 0.58), force=True)
        if d > 3600:
            for flag, every, causes in ((_SC, 14400, ("retire", "debris")),
                                        (_FCY, 10800, ("retire", "resume", "debris")),
                                        (_YELLOW, 2700, ("resume", "resume", "debris"))):
                for _ in range(int(d / every * rng.uniform(0.7, 1.3))):
                    for _attempt in range(30):
                        if add(flag, rng.choice(causes), rng.uniform(0.04, 0.92) * d):
                            break
        for incident in sorted(incidents, key=attrgetter("t_car")):
            self._push(incident.t_car, _EV_INCIDENT, payload=incident)
            self._push(incident.t_flag, _EV_FLAG, payload=(incident.flag, incident))
            self._push(incident.t_end, _EV_FLAG, payload=(_GREEN, incident))
            if incident.flag == _SC:
                self._push(max(incident.t_flag + 20_000, incident.t_end - 45_000), _EV_TEXT,
                           payload="Safety car in this lap")

        # Mechanical failures: the car pits at the end of its lap and retires there.
        chance = min(0.15, d / 86400 * 0.15)
        for car in self._cars:
            if rng.random() < chance:
                at = g + int(rng.uniform(0.05, 0.9) * d * 1000)
                self._push(at, _EV_FAILURE, car, epoch=-1, payload=rng.choice(_FAILURES))

        # Stewards' business and announcements.
        for _ in range(max(1, int(d / 1200))):
            self._push(g + int(rng.uniform(0.05, 0.9) * d * 1000), _EV_INVESTIGATION)
        self._push(g + int(rng.uniform(0.3, 0.6) * d * 1000), _EV_TEXT,
                   payload="Drivers are reminded of the pit lane speed limit")
        end_clock = time.strftime("%H:%M", time.gmtime(self._t0 + self._end_ms / 1000))
        self._push(self._end_ms - int(min(0.07 * d, 1800) * 1000), _EV_TEXT,
                   payload=f"Race ends at {end_clock} UTC")

    # -------------------------------------------------------------- the queue

    def _push(self, t: int, kind: int, car: Optional[_Car] = None, epoch: Optional[int] = None,
              payload=None) -> None:
        self._seq += 1
        if car is None:
            heapq.heappush(self._events, (t, self._seq, kind, -1, 0, payload))
        else:
            heapq.heappush(self._events, (t, self._seq, kind, car.idx,
                                          car.epoch if epoch is None else epoch, payload))

    def _say(self, text: str) -> None:
        self._race_control.append(text)

    # ----------------------------------------------------------------- driving

    def _sector_seconds(self, car: _Car, k: int, t0: int) -> float:
        """Green-flag time for sector `k` starting at `t0`, before any traffic."""
        rng = self._rng
        tyre = car.tyre
        fuel = max(0.0, 1.0 - car.stint_laps / car.fuel_laps)
        elapsed_h = max(0, t0 - self._green_ms) / 3_600_000
        lap = (car.base_lap + car.skill[car.driver]
               + car.cls_scale * (_TYRE_OFFSET[tyre] + _TYRE_WEAR[tyre] * car.tyre_laps
                                  + _FUEL_EFFECT * fuel + _EVOLUTION * math.exp(-elapsed_h * 1.5)))
        seconds = lap * car.share[k] + rng.gauss(0, car.sigma[car.driver])
        if rng.random() < _MISTAKE_CHANCE:
            seconds += rng.uniform(0.4, 2.8)
        return seconds

    def _start_sector(self, car: _Car, k: int, t0: int, lap_start: Optional[int] = None,
                      extra: float = 0.0) -> None:
        """The car passes boundary `k` at `t0`: work out when it reaches the next one.

        Traffic and the safety car are modelled through the car that passed
        the same boundary last: behind the safety car nobody overtakes; under
        green a clearly faster car gets by for a small loss, a similar one
        may be stuck behind.
        """
        rng = self._rng
        flag = self._flag
        car.sector = k
        car.sector_start = t0 if lap_start is None else lap_start
        seconds = self._sector_seconds(car, k, t0) + extra
        if flag == _FCY:
            seconds *= _FCY_PACE
        elif flag == _SC:
            seconds *= _SC_CATCH_UP
        elif flag == _YELLOW and k == self._yellow_sector:
            seconds += rng.uniform(0.4, 1.6)
        end = t0 + int(seconds * 1000)

        ahead = self._last_cross[k]
        if (ahead is not None and ahead is not car and ahead.on_track and ahead.sector == k
                and ahead.constraint_end > t0 and flag != _FCY):
            behind = ahead.constraint_end
            if flag == _SC and (ahead is not self._pacer or self._pacer.active):
                end = max(end, behind + int(rng.uniform(0.5, 1.4) * 1000))
            elif end < behind + 400 and ahead is not self._pacer:
                if end + 600 < behind or rng.random() < 0.25:
                    end += int(rng.uniform(0.1, 0.6) * 1000)     # gets by, loses a little
                else:
                    end = behind + int(rng.uniform(0.25, 0.9) * 1000)
        car.constraint_end = end
        if car.on_track:
            self._last_cross[k] = car

        if k == 2 and car.state in (RUN, OUT) and self._wants_pit(car, t0):
            self._plan_pit(car, t0, end)
            return
        car.sector_end = end
        self._push(end, _EV_SECTOR, car)

    def _wants_pit(self, car: _Car, t0: int) -> bool:
        if self._chequered or t0 >= self._end_ms:
            return False
        if car.ailing:
            return True
        laps = car.stint_laps + 1       # counting the lap being finished
        lap_ms = car.base_lap * 1000
        to_go = (self._end_ms - t0) / lap_ms + 1
        if laps + to_go <= car.fuel_laps * 1.2:
            return False                # enough fuel to the flag
        if laps >= car.fuel_laps:
            return True
        # A cheap stop while the field is neutralised.
        return self._flag in (_SC, _FCY) and laps >= 0.55 * car.fuel_laps

    def _plan_pit(self, car: _Car, t0: int, track_end: int) -> None:
        """The car will dive into the pit lane during this last sector."""
        rng = self._rng
        entry = t0 + int((track_end - t0) * rng.uniform(0.74, 0.82))
        line = entry + int(rng.uniform(9, 13) * 1000)
        if car.ailing:
            car.pit_kind, car.pit_tyres, car.pit_driver = PIT, None, False
            stop = None
        else:
            fuel_only = car.tyre_laps + car.fuel_laps < 2.2 * car.fuel_laps and rng.random() < 0.3
            if fuel_only:
                car.pit_kind, car.pit_tyres, car.pit_driver = FUEL, None, False
                stop = rng.uniform(34, 48)
            else:
                car.pit_kind = PIT
                car.pit_driver = len(car.drivers) > 1 and rng.random() < 0.85
                car.pit_tyres = self._pick_tyre() if rng.random() < 0.85 or not car.pit_driver else None
                stop = rng.uniform(58, 86) if car.pit_driver else rng.uniform(44, 66)
        car.pit_planned = True
        car.sector_end = line
        car.constraint_end = track_end
        self._push(line, _EV_SECTOR, car)
        self._push(entry, _EV_PIT_IN, car)
        if stop is None:
            self._push(entry + int(rng.uniform(60, 180) * 1000), _EV_RETIRE, car, payload=car.ailing)
            return
        exit_ = max(entry + int(stop * 1000), line + 8000)
        self._push(exit_, _EV_PIT_OUT, car)
        if car.pit_driver:
            change = entry + int(stop * 1000 * rng.uniform(0.45, 0.6))
            self._push(max(change, line + 1000), _EV_DRIVER, car)

    def _pick_tyre(self) -> str:
        """Harder tyres on a hot track, softer on a cold one."""
        track = self._weather[1]
        if track > 38:
            weights = (1, 5, 4)
        elif track < 24:
            weights = (5, 4, 0)
        else:
            weights = (3, 6, 1)
        return self._rng.choices(("S", "M", "H"), weights)[0]

    def _stop_on_track(self, car: _Car, t: int) -> None:
        """A spin or a failure: the car stops where it is, mid-sector."""
        car.epoch += 1      # whatever it planned (sector end, pit stop) is off
        car.pit_planned = False
        car.stopped_left = max(0, car.sector_end - t)
        car.state = STOP
        car.on_track = False
        car.row = None

    # ------------------------------------------------------------- car events

    def _on_start(self, t: int, car: _Car, payload) -> None:
        car.lap_start = t
        self._start_sector(car, 0, t, extra=0.8)

    def _on_sector(self, t: int, car: _Car, payload) -> None:
        k = car.sector
        ms = t - car.sector_start
        car.row = None
        personal = car.best_s[k]
        car.s_ms[k] = ms
        car.s_old[k] = False
        car.s_pb[k] = personal is None or ms < personal
        if car.s_pb[k]:
            car.best_s[k] = ms
            best = self._best_sector[k]
            if best is None or ms < best[0]:
                if best is not None:
                    best[1].row = None
                self._best_sector[k] = (ms, car)
        if k == 0:
            car.s_old[1] = car.s_ms[1] is not None
            car.s_old[2] = car.s_ms[2] is not None
        if k == 2:
            self._cross_line(car, t)
            return
        if car.state in (RUN, OUT) and self._flag != _CHEQUERED and car.on_track:
            self._track_limits(car, k)
        self._start_sector(car, k + 1, t)

    def _cross_line(self, car: _Car, t: int) -> None:
        lap_ms = car.s_ms[0] + car.s_ms[1] + car.s_ms[2]
        car.laps += 1
        car.cross.append(t)
        car.stint_laps += 1
        car.tyre_laps += 1
        car.lap_start = t
        car.last_ms = lap_ms
        car.last_speed = round(self.circuit.length_m * 3.6 / lap_ms * 1000, 1)
        car.last_pb = car.best_ms is None or lap_ms < car.best_ms
        if car.last_pb:
            car.best_ms = lap_ms
            car.best_speed = car.last_speed
            best = self._best_lap
            if best is None or lap_ms < best[0]:
                if best is not None:
                    best[1].row = None
                self._best_lap = (lap_ms, car)
        car.sort_key = (-car.laps, t, car.grid)
        self._order_dirty = True

        leading = car.laps > self._max_laps
        if leading:
            self._max_laps = car.laps
        if not self._chequered and leading and t >= self._end_ms:
            self._chequered = True
            self._flag = _CHEQUERED
        if self._chequered:
            car.epoch += 1
            car.state = FIN
            car.on_track = False
            self._unfinished -= 1
            return
        if car.state in (PIT, FUEL):
            return      # crossed the line in the pit lane: wait for the stop
        self._start_sector(car, 0, t)

    def _track_limits(self, car: _Car, k: int) -> None:
        rng = self._rng
        if rng.random() >= 0.0025:
            return
        car.warnings += 1
        first, last = self.circuit.sector_turns[k]
        turn = rng.randint(first, last)
        if car.warnings <= 3:
            self._say(f"Car {car.num} - track limits warning at turn {turn}")
        elif car.warnings == 4:
            self._say(f"Car {car.num} - track limits - black and white flag")
        else:
            self._say(f"Car {car.num} - track limits at turn {turn} - 5 second time penalty")

    def _on_pit_in(self, t: int, car: _Car, payload) -> None:
        car.state = car.pit_kind
        car.pit_planned = False
        car.pits += 1
        car.on_track = False
        car.row = None

    def _on_driver_change(self, t: int, car: _Car, payload) -> None:
        car.driver = (car.driver + 1) % len(car.drivers)
        car.row = None

    def _on_pit_out(self, t: int, car: _Car, payload) -> None:
        """Leave the pits (or the pit lane at the start) and drive the rest of the out-lap S1."""
        rng = self._rng
        starting = car.laps == 0 and car.pits == 0
        car.state = OUT
        car.on_track = True
        car.row = None
        car.stint_laps = 0
        if car.pit_tyres:
            car.tyre = car.pit_tyres
            car.tyre_laps = 0
        car.pit_tyres = None
        if starting:
            self._say(f"Car {car.num} starts from the pit lane")
        elif rng.random() < 0.02:
            self._say(f"Car {car.num} - speeding in the pit lane - 5 second time penalty")
        # Out of the pit lane part-way down the first sector, on cold tyres.
        self._start_sector(car, 0, t, lap_start=car.lap_start, extra=rng.uniform(1.0, 3.0))
        self._push(t + int(rng.uniform(5, 8) * 1000), _EV_OUT_RUN, car, epoch=-1)

    def _on_out_run(self, t: int, car: _Car, payload) -> None:
        if car.state == OUT:
            car.state = RUN
            car.row = None

    def _on_resume(self, t: int, car: _Car, payload) -> None:
        """Back on the move after a spin: finish the sector, a little slowly."""
        car.state = RUN
        car.on_track = True
        car.row = None
        end = t + int(car.stopped_left * 1.2) + int(self._rng.uniform(1, 4) * 1000)
        car.sector_end = car.constraint_end = end
        self._push(end, _EV_SECTOR, car)

    def _on_retire(self, t: int, car: _Car, payload) -> None:
        car.epoch += 1
        car.state = RET
        car.on_track = False
        car.row = None
        self._unfinished -= 1
        if payload:
            self._say(f"Car {car.num} retired - {payload}")

    def _on_failure(self, t: int, car: _Car, payload) -> None:
        if car.state not in (RET, FIN) and not self._chequered:
            car.ailing = payload

    # ---------------------------------------------------------- race events

    def _on_green(self, t: int, car: None, payload) -> None:
        """Rolling start: cars cross the line in grid order, then the pit-lane starter follows."""
        self._flag = _GREEN
        rng = self._rng
        for c in self._ordered():
            if c.state == PIT:
                c.lap_start = t
                self._push(t + int(rng.uniform(20, 35) * 1000), _EV_PIT_OUT, c)
            else:
                self._push(t + c.grid * _GRID_SPACING_MS, _EV_START, c)

    def _on_flag(self, t: int, car: None, payload) -> None:
        flag, incident = payload
        if self._chequered:
            return
        if flag == _GREEN:
            if self._flag_owner is incident:    # (periods overlap only in races of minutes)
                self._flag = _GREEN
                self._pacer.active = False
                self._yellow_sector = None
            return
        self._flag = flag
        self._flag_owner = incident
        culprit = incident.car
        turn = incident.turn
        if flag == _YELLOW:
            self._yellow_sector = incident.sector
            if culprit is None:
                self._say(f"Yellow flag at turn {turn} - debris on track")
            else:
                self._say(f"Yellow flag at turn {turn} - car {culprit.num} stopped")
        elif flag == _FCY:
            if culprit is None:
                self._say(f"Full course yellow - debris at turn {turn}")
            else:
                self._say(f"Full course yellow - car {culprit.num} stopped at turn {turn}")
            self._neutralise(t, _FCY_PACE)
        elif flag == _SC:
            if culprit is None:
                self._say(f"Safety car deployed - debris at turn {turn}")
            else:
                self._say(f"Safety car deployed - accident involving car {culprit.num} at turn {turn}")
            self._neutralise(t, _SC_CATCH_UP)
            self._deploy_pacer(t)

    def _neutralise(self, t: int, factor: float) -> None:
        """Everyone on track slows down at once, not just from their next sector."""
        for car in self._cars:
            if car.state in (RUN, OUT) and car.on_track and not car.pit_planned and car.sector_end > t:
                car.epoch += 1
                end = t + int((car.sector_end - t) * factor)
                car.sector_end = car.constraint_end = end
                self._push(end, _EV_SECTOR, car)

    def _deploy_pacer(self, t: int) -> None:
        """The safety car joins just ahead of the race leader's next sector boundary."""
        pacer = self._pacer
        pacer.active = True
        pacer.epoch += 1
        leader = next((c for c in self._ordered() if c.state == RUN and c.on_track), None)
        if leader is None:
            boundary, join = 0, t
        else:
            boundary, join = (leader.sector + 1) % 3, max(t, leader.sector_end - 1500)
        self._push(join, _EV_PACER, payload=(boundary, pacer.epoch))

    def _on_pacer(self, t: int, car: None, payload) -> None:
        boundary, epoch = payload
        pacer = self._pacer
        if not pacer.active or epoch != pacer.epoch:
            pacer.on_track = False
            return
        share = self.circuit.sector_share[boundary]
        lap = CLASSES[0].lap * self._lap_scale * _SC_PACE
        pacer.on_track = True
        pacer.sector = boundary
        pacer.constraint_end = t + int(lap * share * 1000)
        self._last_cross[boundary] = pacer
        self._push(pacer.constraint_end, _EV_PACER, payload=((boundary + 1) % 3, epoch))

    def _on_incident(self, t: int, car: None, incident: _Incident) -> None:
        """Something happens on track; a flag follows a few seconds later."""
        rng = self._rng
        culprit = None
        if incident.cause != "debris" and not self._chequered:
            candidates = [c for c in self._ordered()
                          if c.state == RUN and c.on_track and c.sector_end - t > 4000]
            if candidates:
                culprit = rng.choice(candidates)
        incident.sector = rng.randrange(3) if culprit is None else culprit.sector
        first, last = self.circuit.sector_turns[incident.sector]
        incident.turn = rng.randint(first, last)
        incident.car = culprit
        if culprit is None:
            return
        self._stop_on_track(culprit, t)
        if incident.cause == "resume":
            self._push(t + int(rng.uniform(12, 35) * 1000), _EV_RESUME, culprit)
            self._push(incident.t_end + int(rng.uniform(20, 60) * 1000), _EV_TEXT,
                       payload=f"Car {culprit.num} - spin at turn {incident.turn} - no further action")
        else:
            self._push(t + int(rng.uniform(50, 110) * 1000), _EV_RETIRE, culprit)

    def _on_investigation(self, t: int, car: None, payload) -> None:
        """Two cars running together touch: the stewards have a look."""
        rng = self._rng
        if self._chequered:
            return
        running = [c for c in self._ordered() if c.state == RUN and c.on_track]
        pairs = [(a, b) for a, b in zip(running, running[1:])]
        if not pairs:
            return
        a, b = rng.choice(pairs)
        if rng.random() < 0.5:
            a, b = b, a
        first, last = self.circuit.sector_turns[a.sector]
        turn = rng.randint(first, last)
        self._say(f"Car {a.num} and car {b.num} - incident at turn {turn} under investigation")
        if rng.random() < 0.65:
            verdict = f"Car {a.num} and car {b.num} - incident at turn {turn} - no further action"
        else:
            verdict = f"Car {a.num} - 5 second time penalty - causing a collision"
        self._push(t + int(rng.uniform(120, 420) * 1000), _EV_TEXT, payload=verdict)

    def _on_text(self, t: int, car: None, text: str) -> None:
        self._say(text)

    # ---------------------------------------------------------------- weather

    def _initial_weather(self) -> list:
        rng = self._rng
        self._air_base = rng.uniform(14, 24)
        self._wind = rng.uniform(0.5, 5)
        self._humidity_bias = rng.uniform(-10, 10)
        return self._weather_at(0)

    def _weather_at(self, t: int) -> list:
        """Air and track temperature follow the (UTC) time of day; the sun heats the track."""
        rng = self._rng
        hour = ((self._t0 + t / 1000) % 86400) / 3600
        air = self._air_base + 5 * math.cos((hour - 15) / 24 * 2 * math.pi) + rng.gauss(0, 0.15)
        sun = max(0.0, math.sin((hour - 6) / 12 * math.pi))
        track = air + 2 + 15 * sun + rng.gauss(0, 0.3)
        humidity = min(95.0, max(20.0, 60 - (air - 18) * 2.5 + self._humidity_bias + rng.gauss(0, 1)))
        self._wind = min(9.0, max(0.3, self._wind + rng.gauss(0, 0.3)))
        return [air, track, humidity, self._wind]

    def _format_weather(self) -> List[str]:
        air, track, humidity, wind = self._weather
        return [f"{air:.1f}°C", f"{track:.1f}°C", f"{humidity:.0f}%", f"{wind:.1f} m/s"]

    def _on_track_data(self, t: int, car: None, payload) -> None:
        self._weather = self._weather_at(t)
        self._track_data = self._format_weather()
        self._push(t + 60_000, _EV_TRACK)

    # ------------------------------------------------------- classification

    def _ordered(self) -> List[_Car]:
        """The classification, up to date. Handlers that pick cars use this:
        it does not depend on whether `state()` was called in between."""
        if self._order_dirty:
            self._classify()
        return self._order

    def _classify(self) -> None:
        """Order by laps then time at the line; positions in class and gaps at the line."""
        self._order_dirty = False
        order = self._order
        order.sort(key=_sort_key)
        leader = order[0]
        class_leaders: list = [None] * self._class_count
        class_positions = [0] * self._class_count
        gap_of = self._gap
        previous = None
        for car in order:
            cls = car.cls
            class_positions[cls] += 1
            class_leader = class_leaders[cls]
            if class_leader is None:
                class_leaders[cls] = car
                class_gap = ""
            else:
                class_gap = gap_of(car, class_leader)
            gap = "" if previous is None else gap_of(car, leader)
            interval = "" if previous is None else gap_of(car, previous)
            pic = class_positions[cls]
            if (pic != car.pic or gap != car.gap or interval != car.interval
                    or class_gap != car.class_gap):
                car.pic, car.gap, car.interval, car.class_gap = pic, gap, interval, class_gap
                car.row = None
            previous = car

    @staticmethod
    def _gap(car: _Car, ref: _Car) -> str:
        """How far `car` is behind `ref`, measured when it last crossed the line.

        A car is a lap down when `ref` had already completed the lap after
        the one `car` just finished; a car that has not crossed the line for
        a long while (stopped, retired) is at least `ref`'s lead in laps
        less one down.
        """
        laps = car.laps
        if laps == 0:
            return ""
        t = car.cross[laps - 1]
        ref_cross = ref.cross
        if ref.laps == laps:
            return f"{(t - ref_cross[laps - 1]) / 1000:.3f}"
        down = max(bisect_right(ref_cross, t) - laps, ref.laps - laps - 1)
        if down >= 1:
            return _laps_text(down)
        behind = t - ref_cross[laps - 1]
        return _laps_text(1) if behind < 0 else f"{behind / 1000:.3f}"

    def _build_row(self, car: _Car) -> tuple:
        """The car's row, flattened: [value, flag] pairs become two entries."""
        cells = []
        for k in range(3):
            ms = car.s_ms[k]
            if ms is None:
                cells += ("", "")
                continue
            if car.s_old[k]:
                flag = "old"
            else:
                best = self._best_sector[k]
                if best[1] is car and best[0] == ms:
                    flag = "sb"
                else:
                    flag = "pb" if car.s_pb[k] else ""
            cells += (ms / 1000, flag)
        if car.last_ms is None:
            last = best = ("", "")
        else:
            holder = self._best_lap[1] is car
            if holder and self._best_lap[0] == car.last_ms:
                last = (car.last_ms / 1000, "sb-new")
            else:
                last = (car.last_ms / 1000, "pb" if car.last_pb else "")
            best = (car.best_ms / 1000, "sb" if holder else "")
        return (car.num, car.state, car.cls_name, car.pic, car.team, car.drivers[car.driver],
                car.model, car.tyre, car.laps, car.gap, car.interval, car.class_gap,
                *cells, *last, *best, car.last_speed, car.best_speed, car.pits)
