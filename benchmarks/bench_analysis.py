"""Cost of the live analyser per state update on a 60-car demo race.

    python benchmarks/bench_analysis.py [--updates 3000] [--cars 60] [--skip 0]

The states (with messages, as the service publishes them) are made
beforehand with the demo simulation and `cycle.next_state`, one per simulated
second, starting `--skip` seconds after the simulation's start (the grid, one
minute before the green flag); only `Analyser.update` is timed. Reported:
median and p95 per update when the service passes the new messages (live)
and when the analyser works them out (offline replay), and the cost of
building the payloads of the keys an update reports changed. Goal: live
median < 2 ms. The states are moved out of the garbage collector's way
(`gc.freeze()`), so a full collection over them does not show up as an
analyser cost.
"""
from __future__ import annotations

import argparse
import gc
import statistics
import time
from typing import List, Tuple

from livetiming.analysis import Analyser
from livetiming.protocol import colspec_to_json
from livetiming.service import cycle
from livetiming.service.messages import default_generators
from livetiming.service.plugins.demo.simulation import RaceSimulation

START = 1_700_000_000
GOAL_MS = 2.0


def make_states(updates: int, cars: int, skip: int) -> Tuple[dict, List[Tuple[int, dict, list]]]:
    simulation = RaceSimulation(seed=71, car_count=cars, duration=6 * 3600, start_time=START)
    manifest = {"colSpec": colspec_to_json(simulation.column_spec)}
    generators = default_generators()
    previous = cycle.initial_state()
    now = int(simulation.now)
    if skip:
        now += skip
        simulation.advance(now)
        previous = cycle.next_state(previous, simulation.state(), generators,
                                    simulation.column_spec, now).state
    states = []
    for _ in range(updates):
        now += 1
        simulation.advance(now)
        update = cycle.next_state(previous, simulation.state(), generators,
                                  simulation.column_spec, now)
        states.append((now, update.state, update.new_messages))
        previous = update.state
    return manifest, states


def percentile(samples: List[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def run(manifest: dict, states: list, live: bool) -> Tuple[List[float], List[float], Analyser]:
    analyser = Analyser(manifest)
    updates, payloads = [], []
    clock = time.perf_counter
    for timestamp, state, new_messages in states:
        start = clock()
        changed = analyser.update(timestamp, state, new_messages if live else None)
        middle = clock()
        for key in changed:
            analyser.payload(key)
        payloads.append(clock() - middle)
        updates.append(middle - start)
    return updates, payloads, analyser


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--cars", type=int, default=60)
    parser.add_argument("--skip", type=int, default=0,
                        help="seconds of race to simulate before the measured updates")
    options = parser.parse_args()

    manifest, states = make_states(options.updates, options.cars, options.skip)
    # The precomputed states are not part of a live service's heap: keep the
    # garbage collector from walking them in the middle of timed updates.
    gc.collect()
    gc.freeze()
    cars = max(len(state["cars"]) for _, state, _ in states)
    print(f"{len(states)} updates of a {cars}-car demo race "
          f"({len(manifest['colSpec'])} columns), starting {options.skip} s in")
    for live in (True, False):
        updates, payloads, analyser = run(manifest, states, live)
        label = "live (new messages given)" if live else "offline (messages derived)"
        print(f"{label:<28} update median {ms(statistics.median(updates))}, "
              f"p95 {ms(percentile(updates, 0.95))}, max {ms(max(updates))}")
        print(f"{'':<28} payloads of changed keys median {ms(statistics.median(payloads))}, "
              f"p95 {ms(percentile(payloads, 0.95))}")
        if live:
            median = statistics.median(updates)
            verdict = "OK" if median * 1000 < GOAL_MS else "OVER GOAL"
            data = analyser.data()
            stints = sum(len(s) for s in data["stint"].values())
            print(f"{'':<28} goal median < {GOAL_MS} ms: {verdict}; "
                  f"analysed {len(data['static'])} cars, {stints} completed stints, "
                  f"leader lap {data['session']['leaderLap']}")


if __name__ == "__main__":
    main()
