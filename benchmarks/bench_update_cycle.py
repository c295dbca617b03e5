"""The whole per-update cycle of BaseService on a 60-car, 20-column race-end
state (≈24 KB of JSON): message generators, copies, state save, compression.

    python benchmarks/bench_update_cycle.py [--updates 300]

Plugin work (producing the state) is excluded: the states are made by the demo
simulation beforehand and handed over as they are.
"""
import argparse
import os
import statistics
import tempfile
import time

from twisted.internet.task import Clock

from livetiming.protocol.lzstring import BACKEND, compress_to_utf16
from livetiming.service import cycle
from livetiming.service.base import BaseService
from livetiming.service.options import default_args
from livetiming.service.plugins.demo.simulation import RaceSimulation

HOURS = 6


class Replay(BaseService):
    """Returns precomputed states, so only the cycle is measured."""

    def __init__(self, args, states, simulation, reactor):
        super().__init__(args, reactor=reactor)
        self.states = iter(states)
        self.simulation = simulation

    def getName(self):
        return "bench"

    def getColumnSpec(self):
        return self.simulation.column_spec

    def getRaceState(self):
        return next(self.states)


class Sink:
    def publish(self, topic, message):
        pass


def race_end_states(updates: int):
    simulation = RaceSimulation(seed=71, car_count=60, duration=HOURS * 3600, start_time=1_700_000_000)
    simulation.advance(simulation.now + HOURS * 3600 - updates - 60)
    states = []
    for _ in range(updates + 1):
        simulation.advance(simulation.now + 1)
        states.append(simulation.state())
    return simulation, states


def median_ms(samples):
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=300)
    options = parser.parse_args()

    simulation, states = race_end_states(options.updates)
    with tempfile.TemporaryDirectory() as state_dir:
        os.environ["LIVETIMING_STATE_DIR"] = state_dir
        clock = Clock()
        clock.advance(1_700_000_000)
        # analysis runs on its own thread in a service (see bench_analysis.py), so it is left out here
        service = Replay(default_args("bench", disable_analysis=True), states, simulation, clock)
        service.publishers.append(Sink())
        service._updateAndPublishRaceState()  # warm up: first state
        cycles = []
        for _ in range(options.updates):
            clock.advance(1)
            start = time.perf_counter()
            service._updateAndPublishRaceState()
            cycles.append(time.perf_counter() - start)

        # The same work, step by step, to show where the time goes.
        previous, parts = cycle.initial_state(), {"generators + copies": [], "save": [], "compress": []}
        colspec = simulation.column_spec
        for timestamp, raw in enumerate(states):
            start = time.perf_counter()
            update = cycle.next_state(previous, raw, service.generators, colspec, timestamp)
            middle = time.perf_counter()
            service._save_state(update)
            saved = time.perf_counter()
            compress_to_utf16(update.text)
            done = time.perf_counter()
            previous = update.state
            parts["generators + copies"].append(middle - start)
            parts["save"].append(saved - middle)
            parts["compress"].append(done - saved)

    size = len(update.text.encode("utf-8"))
    print(f"state: {len(states[-1]['cars'])} cars x {len(colspec)} columns, {size} bytes of JSON; "
          f"LZ-String backend: {BACKEND}; {options.updates} updates")
    print(f"whole BaseService cycle: median {median_ms(cycles):.3f} ms, "
          f"p95 {sorted(cycles)[int(len(cycles) * 0.95)] * 1000:.3f} ms  (goal < 5 ms)")
    for name, samples in parts.items():
        print(f"  {name:<20} median {median_ms(samples):.3f} ms")


if __name__ == "__main__":
    main()
