"""Built-in demo: a simulated endurance race, live. What a newcomer runs first,
and what tests and benchmarks feed on."""
import argparse
from collections import deque

from livetiming.service.base import BaseService
from livetiming.service.messages import RaceControlMessage
from livetiming.version import VERSION

from .simulation import RaceSimulation

__version__ = VERSION

SUMMARY_EVERY = 10
"""Log a one-line live summary every this many updates."""


def _car_count(text: str) -> int:
    count = int(text)
    if not 20 <= count <= 60:
        raise argparse.ArgumentTypeError(f"must be between 20 and 60, not {count}")
    return count


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


class Service(BaseService):
    """A simulated endurance race (20-60 cars, several classes, pit stops, flags)."""

    attribution = ["livetiming-core demo race (simulated)", None]

    @classmethod
    def add_arguments(cls, parser) -> None:
        parser.add_argument("--cars", type=_car_count, default=30, help="number of cars, 20-60 (default 30)")
        parser.add_argument("--seed", type=int, default=71, help="random seed: same seed, same race (default 71)")
        parser.add_argument("--speed", type=_positive, default=1.0,
                            help="run N times faster than real time (default 1)")
        parser.add_argument("--hours", type=_positive, default=6.0, help="race length in hours (default 6)")
        parser.add_argument("--grid", type=float, default=30.0,
                            help="seconds on the grid before the green flag (default 30)")

    def __init__(self, args, extra_args=None, reactor=None):
        super().__init__(args, extra_args, reactor)
        self._real_origin = self.reactor.seconds()
        self.simulation = RaceSimulation(
            seed=args.seed, car_count=args.cars, duration=args.hours * 3600,
            start_time=self._real_origin + args.grid, grid_time=args.grid,
        )
        self._sim_origin = self.simulation.now
        self._race_control = deque()
        self._updates = 0
        messages = self.state.get("messages") or []
        self._last_shown = messages[0] if messages else None  # a resumed race's old messages are not news

    def getName(self) -> str:
        return self.simulation.name

    def getDefaultDescription(self) -> str:
        return self.simulation.description

    def getColumnSpec(self) -> list:
        return self.simulation.column_spec

    def getTrackDataSpec(self) -> list:
        return self.simulation.track_data_spec

    def getPollInterval(self) -> float:
        return 1

    def getExtraMessageGenerators(self) -> list:
        return [RaceControlMessage(self._race_control)]

    def getRaceState(self) -> dict:
        self._show_new_messages()
        elapsed = self.reactor.seconds() - self._real_origin
        self.simulation.advance(self._sim_origin + elapsed * self.args.speed)
        self._race_control.extend(self.simulation.pop_race_control())
        state = self.simulation.state()
        self._updates += 1
        if self._updates % SUMMARY_EVERY == 1:
            self.log.info("{summary}", summary=summarise(state))
        return state

    def _show_new_messages(self) -> None:
        """Log the race's messages as they happen (the demo is meant to look
        live): those the last published state (`self.state`, newest first)
        holds beyond the ones already shown, so one poll after they were made.
        Public attributes only: no reaching into the service's update cycle."""
        messages = self.state.get("messages") or []
        new = []
        for message in messages:
            if message == self._last_shown:
                break
            new.append(message)
        if messages:
            self._last_shown = messages[0]
        for message in reversed(new):
            self.log.info("{category}: {text}", category=message[1], text=message[2])


def summarise(state: dict) -> str:
    """One line a person can read to see the race is live."""
    session = state.get("session", {})
    cars = state.get("cars", [])
    remain = int(session.get("timeRemain", 0) or 0)
    clock = f"{remain // 3600}:{remain % 3600 // 60:02d}:{remain % 60:02d}"
    flag = str(session.get("flagState", "none")).upper()
    if not cars:
        return f"[{flag}] waiting for cars, {clock} remaining"
    leader = cars[0]
    states = [row[1] for row in cars]
    in_pits = sum(1 for s in states if s in ("PIT", "FUEL"))
    return (f"[{flag}] {clock} remaining | leader #{leader[0]} {leader[5]} ({leader[2]}), lap {leader[8]} | "
            f"{len(cars)} cars, {in_pits} in the pits")
