"""Shared helpers for the recording tests (no tests here): demo-race states
made once per session, and small ZIP surgery for the error cases."""
import functools
import sys
import zipfile
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from livetiming.service import cycle
from livetiming.service.messages import RaceControlMessage, default_generators
from livetiming.service.plugins.demo.simulation import RaceSimulation

HERE = Path(__file__).resolve().parent
REFERENCE_RACE = HERE / "fixtures" / "reference_race.zip"

DEMO_START = 1_700_000_000
MANIFEST = {"uuid": "0123456789abcdef0123456789abcdef", "name": "Demo Endurance Series",
            "serviceClass": "demo", "description": "recording tests", "colSpec": [],
            "pollInterval": 1, "hasAnalysis": False, "hidden": False}


def iter_demo_states(cars: int = 30, seed: int = 7,
                     hours: float = 1.0) -> Iterator[Tuple[int, dict]]:
    """`(timestamp, state)` once a second, as a service would publish them
    (message generators, race control, highlight). Deterministic."""
    simulation = RaceSimulation(seed=seed, car_count=cars, duration=hours * 3600,
                                start_time=DEMO_START)
    generators = default_generators() + [RaceControlMessage(simulation.pop_race_control)]
    previous = cycle.initial_state()
    now = int(simulation.now)
    while True:
        simulation.advance(now)
        previous = cycle.next_state(previous, simulation.state(), generators,
                                    simulation.column_spec, now).state
        yield now, previous
        now += 1


@functools.lru_cache(maxsize=None)
def demo_states(frames: int = 3000, cars: int = 30, seed: int = 7,
                hours: float = 1.0) -> Tuple[Tuple[int, dict], ...]:
    """The first `frames` states of a demo race (cached: treat as read-only)."""
    states = iter_demo_states(cars, seed, hours)
    return tuple(next(states) for _ in range(frames))


@functools.lru_cache(maxsize=None)
def reference_states() -> Tuple[Tuple[int, dict], ...]:
    """Every state of the reference race by the independent test reader
    (tests/reference_race.py, dictdiffer.patch). Cached: treat as read-only."""
    import reference_race
    return tuple(reference_race.iter_frames(str(REFERENCE_RACE)))


def rewrite_zip(source: Path, target: Path,
                change: Optional[Callable[[str, bytes], Optional[bytes]]] = None,
                add: Optional[Dict[str, bytes]] = None) -> Path:
    """Copy a ZIP member by member; `change(name, data)` returns new data, or
    None to drop the member."""
    with zipfile.ZipFile(source) as old, \
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if change is not None:
                data = change(info.filename, data)
            if data is not None:
                new.writestr(info.filename, data)
        for name, data in (add or {}).items():
            new.writestr(name, data)
    return target


def frame_names(path: Path) -> List[str]:
    with zipfile.ZipFile(path) as archive:
        return sorted((n for n in archive.namelist() if n != "manifest.json"),
                      key=lambda n: int(n[:11]))


def write_until_killed(directory: str, cars: int = 20) -> None:
    """Child process of the SIGKILL test: write demo frames as fast as
    possible, printing each frame's index once it is written."""
    from livetiming.recording import RecordingWriter
    writer = RecordingWriter(directory, MANIFEST)
    for index, (timestamp, state) in enumerate(iter_demo_states(cars=cars)):
        writer.write_frame(timestamp, state)
        print(index, flush=True)


if __name__ == "__main__":   # python test_recording_support.py DIR
    write_until_killed(sys.argv[1])
