"""Benchmark LZ-String compressToUTF16 / decompressFromUTF16.

Compares, in one run and on the state of a 60-car race at the end (≈24 KB of
JSON, the SERVICE_DATA_COMPRESSED payload compressed on every update):
our C backend, our pure-Python backend and the PyPI ``lzstring`` package
(``pip install -e '.[bench]'``).

Run: python benchmarks/bench_lzstring.py
"""
from __future__ import annotations

import json
import random
import statistics
import time
from typing import Callable, Dict, Optional, Tuple

import lzstring as pypi_lzstring

from livetiming.protocol import lzstring

DRIVERS = [
    "Sébastien Marchal", "João Barbosa", "Nicolás Müller",
    "Øyvind Kjærgaard", "Frédéric Lefèvre", "Zoë O'Brien",
    "Sergio Pérez Mendoza", "Kamui Kobayashi", "佐藤 琢磨", "Jüri Vips",
    "Łukasz Wiśniewski", "Ayrton Ströbel",
]
TEAMS = [
    "Équipe Alpine Elf", "Rebellion Racing", "Porsche Penske Motorsport",
    "Hertz Team JOTA", "AF Corse", "United Autosports",
]
CARS = [
    "Toyota GR010 Hybrid", "Ferrari 499P", "Porsche 963", "Oreca 07 Gibson",
    "Aston Martin Vantage AMR", "Chevrolet Corvette Z06 GT3.R",
]
CLASSES = ["HYPERCAR", "LMP2", "LMGT3"]
TYRES = ["Michelin Soft", "Michelin Medium", "Michelin Hard", "Goodyear Wet"]

Codec = Callable[[str], str]


def race_end_state(seed: int = 71, cars: int = 60) -> str:
    """JSON of a race-end timing state: `cars` rows of 20 columns."""
    rng = random.Random(seed)

    def timed(low: float, high: float) -> list:
        flag = rng.choice(["pb", "sb", "", ""])
        return [round(rng.uniform(low, high), 3), flag]

    rows = []
    for position in range(1, cars + 1):
        rows.append([
            str(rng.randrange(1, 999)),
            "PIT" if rng.random() < 0.1 else "RUN",
            rng.choice(CLASSES),
            position,
            " / ".join(rng.sample(DRIVERS, 3)),
            rng.choice(TEAMS),
            rng.choice(CARS),
            rng.randrange(300, 390),
            "" if position == 1 else f"{rng.uniform(0, 200):.3f}",
            "" if position == 1 else f"{rng.uniform(0, 20):.3f}",
            timed(30, 36),
            timed(33, 40),
            timed(33, 38),
            timed(100, 110),
            timed(98, 104),
            rng.randrange(0, 30),
            rng.choice(TYRES),
            f"0{rng.randrange(2)}:{rng.randrange(60):02d}:"
            f"{rng.randrange(60):02d}",
            f"{rng.uniform(280, 340):.1f}",
            f"{rng.uniform(15, 30):.1f}°C",
        ])
    return json.dumps({
        "cars": rows,
        "session": {
            "flagState": "chequered",
            "timeElapsed": 86400,
            "timeRemain": 0,
            "trackTemp": f"{rng.uniform(20, 45):.1f}°C",
            "airTemp": f"{rng.uniform(15, 30):.1f}°C",
            "humidity": "64%",
        },
        "messages": [
            [
                86400 - i * 60,
                "Race Control",
                f"Car {rng.randrange(1, 99)} – track limits at T{i % 17}",
                "track",
            ]
            for i in range(110)
        ],
    }, ensure_ascii=False)


def median_seconds(func: Codec, arg: str, runs: int) -> float:
    func(arg)  # warm-up (and the pure-Python backend's lookup table)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func(arg)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    state = race_end_state()
    pypi = pypi_lzstring.LZString()

    def pypi_decompress(s: str) -> str:
        # lzstring 1.0.4 subtracts an int from each item of its argument,
        # so on Python 3 it needs the code points rather than the str.
        return pypi.decompressFromUTF16([ord(c) for c in s])

    compressed = pypi.compressToUTF16(state)
    assert pypi_decompress(compressed) == state

    # name: (compress, decompress, runs)
    candidates: Dict[str, Tuple[Optional[Codec], Optional[Codec], int]] = {
        "C": (
            lzstring._c_compress_to_utf16,
            lzstring._c_decompress_from_utf16,
            200,
        ),
        "pure Python": (
            lzstring._py_compress_to_utf16,
            lzstring._py_decompress_from_utf16,
            30,
        ),
        "PyPI lzstring": (pypi.compressToUTF16, pypi_decompress, 10),
    }
    results = {}
    for name, (compress, decompress, runs) in candidates.items():
        if compress is None or decompress is None:
            print(f"{name}: not built, skipped")
            continue
        # Sanity: the same output as the PyPI package, and a round trip.
        assert compress(state) == compressed, name
        assert decompress(compressed) == state, name
        results[name] = (
            runs,
            median_seconds(compress, state, runs),
            median_seconds(decompress, compressed, runs),
        )

    print(
        f"state: {len(state.encode())} bytes of JSON, {len(state)} "
        f"characters, compressed to {len(compressed)}; "
        f"active backend: {lzstring.BACKEND}"
    )
    print()
    _, base_compress, base_decompress = results["PyPI lzstring"]
    header = (
        f"{'backend':<14} {'runs':>4}  {'compress':>10} {'speed-up':>8}"
        f"  {'decompress':>10} {'speed-up':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, (runs, t_compress, t_decompress) in results.items():
        print(
            f"{name:<14} {runs:>4}  {t_compress * 1e3:>7.3f} ms "
            f"{base_compress / t_compress:>7.1f}x"
            f"  {t_decompress * 1e3:>7.3f} ms "
            f"{base_decompress / t_decompress:>7.1f}x"
        )
    print()
    print("median time per call; speed-up relative to PyPI lzstring")


if __name__ == "__main__":
    main()
