"""Recording write and read speed on a long demo race at one frame per second.

    python benchmarks/bench_recording.py [--hours 24] [--cars 60] [--output race.zip] [--reuse]

Writing: the demo race is simulated second by second and each state goes
through the real update cycle (message generators, so messages and
highlight exist) before `RecordingWriter.write_frame`; only the
`write_frame` calls are timed (simulation and cycle are reported apart).
The writer's own diff is compared with `dictdiffer.diff` on sampled pairs.
Then `finalise()`, then reading: `iter_states()` over every frame (CPU time,
best of --read-runs), a second pass under tracemalloc for the peak Python
heap while iterating (tracemalloc slows that pass down; its time is not
reported), and `state_at()` at random times.

`--output PATH` keeps the finished ZIP there for other benchmarks (analysis);
with `--reuse` an existing PATH is read instead of being generated again.
"""
import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import dictdiffer

from livetiming.protocol import colspec_to_json
from livetiming.recording import RecordingReader, RecordingWriter, diff
from livetiming.service import cycle
from livetiming.service.messages import default_generators
from livetiming.service.plugins.demo.simulation import RaceSimulation

START_TIME = 1_700_000_000
DIFF_SAMPLES = 300


def manifest_for(simulation: RaceSimulation, cars: int) -> dict:
    return {
        "uuid": "benchrecording", "name": simulation.name, "serviceClass": "demo",
        "description": f"{simulation.description} ({cars} cars, benchmark)",
        "colSpec": colspec_to_json(simulation.column_spec),
        "trackDataSpec": simulation.track_data_spec, "pollInterval": 1,
        "hasAnalysis": False, "hidden": True,
    }


def write_recording(hours: float, cars: int, seed: int, directory: Path, zip_path: Path) -> None:
    duration = int(hours * 3600)
    simulation = RaceSimulation(seed=seed, car_count=cars, duration=duration, start_time=START_TIME)
    generators = default_generators()
    frames = duration + int(START_TIME - simulation.now) + 1
    sample_every = max(1, frames // DIFF_SAMPLES)
    writer = RecordingWriter(directory, manifest_for(simulation, cars))
    previous = cycle.initial_state()
    simulate = write = 0.0
    own_diff = dictdiffer_diff = 0.0
    samples = 0
    now = simulation.now
    print(f"writing {frames:,} frames ({hours:g} h, {cars} cars) ...", flush=True)
    for index in range(frames):
        started = time.perf_counter()
        simulation.advance(now)
        update = cycle.next_state(previous, simulation.state(), generators,
                                  simulation.column_spec, now)
        written = time.perf_counter()
        writer.write_frame(now, update.state)
        done = time.perf_counter()
        simulate += written - started
        write += done - written
        if index and index % sample_every == 0:
            own_diff, dictdiffer_diff = _time_diffs(previous, update.state, own_diff,
                                                    dictdiffer_diff)
            samples += 1
        previous = update.state
        now += 1
        if index and index % 21600 == 0:
            print(f"  {index:,} frames", flush=True)
    print(f"simulation + update cycle: {simulate:.1f} s ({simulate / frames * 1e3:.2f} ms/frame, "
          f"not part of the writer)")
    print(f"writer: {frames:,} frames in {write:.1f} s = {frames / write:,.0f} frames/s "
          f"({write / frames * 1e6:.0f} µs/frame)")
    print(f"diff of cars+session, {samples} sampled pairs: own {own_diff / samples * 1e6:.0f} µs, "
          f"dictdiffer {dictdiffer_diff / samples * 1e6:.0f} µs per pair")
    started = time.perf_counter()
    writer.finalise(zip_path)
    finalise = time.perf_counter() - started
    writer.discard()
    print(f"finalise: {finalise:.1f} s -> {zip_path} ({zip_path.stat().st_size / 1e6:.1f} MB)")


def _time_diffs(a: dict, b: dict, own: float, other: float):
    started = time.perf_counter()
    mine = [diff(a["cars"], b["cars"]), diff(a["session"], b["session"])]
    middle = time.perf_counter()
    theirs = [list(dictdiffer.diff(a["cars"], b["cars"])),
              list(dictdiffer.diff(a["session"], b["session"]))]
    finished = time.perf_counter()
    if mine != json.loads(json.dumps(theirs)):
        raise SystemExit("own diff differs from dictdiffer.diff")
    return own + middle - started, other + finished - middle


def read_recording(zip_path: Path, runs: int) -> None:
    started = time.perf_counter()
    with RecordingReader(zip_path) as recording:
        opened = time.perf_counter() - started
        print(f"reading {zip_path}: {recording.frame_count:,} frames "
              f"({recording.keyframe_count:,} key, {recording.intraframe_count:,} intra), "
              f"duration {recording.duration:,} s; opened in {opened:.2f} s")
        cpu_times, wall_times = [], []
        for _ in range(runs):
            wall, cpu = time.perf_counter(), time.process_time()
            count = sum(1 for _ in recording.iter_states())
            cpu_times.append(time.process_time() - cpu)
            wall_times.append(time.perf_counter() - wall)
        print(f"iter_states: {count / min(cpu_times):,.0f} frames/s best CPU time of {runs} "
              f"(median {count / statistics.median(cpu_times):,.0f}; wall best "
              f"{count / min(wall_times):,.0f})")

        tracemalloc.start()
        with RecordingReader(zip_path) as traced:
            index, opening = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            for _ in traced.iter_states():
                pass
            peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"Python heap (tracemalloc): open reader {index / 1e6:.1f} MB (the ZIP's member "
              f"index; {opening / 1e6:.1f} MB peak while opening); peak while iterating "
              f"{peak / 1e6:.1f} MB (+{(peak - index) / 1e6:.1f} MB for the states)")

        rng = random.Random(1)
        times = [rng.uniform(recording.first_frame, recording.last_frame) for _ in range(100)]
        started = time.perf_counter()
        for t in times:
            recording.state_at(t)
        print(f"state_at at 100 random times: {(time.perf_counter() - started) * 10:.2f} ms each")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--cars", type=int, default=60)
    parser.add_argument("--seed", type=int, default=71)
    parser.add_argument("--output", type=Path, help="keep the finished ZIP here")
    parser.add_argument("--reuse", action="store_true",
                        help="read an existing --output instead of generating it again")
    parser.add_argument("--read-runs", type=int, default=3)
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_recording_"))
    try:
        zip_path = options.output or work / "recording.zip"
        if options.reuse and options.output and options.output.exists():
            print(f"reusing {zip_path}")
        else:
            zip_path.parent.mkdir(parents=True, exist_ok=True)
            write_recording(options.hours, options.cars, options.seed, work / "in-progress",
                            zip_path)
        read_recording(zip_path, options.read_runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
