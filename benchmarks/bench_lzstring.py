"""Benchmark LZ-String compressToUTF16 / decompressFromUTF16.

Compares, in one run and on the demo's 60-car, 20-column state near the end
of a race (the SERVICE_DATA_COMPRESSED payload compressed on every update):
our C backend, our pure-Python backend and the PyPI ``lzstring`` package
(``pip install -e '.[bench]'``).

Run: python benchmarks/bench_lzstring.py
"""
from __future__ import annotations

import statistics
import time
from typing import Callable, Dict, Optional, Tuple

import lzstring as pypi_lzstring

from livetiming.protocol import lzstring

Codec = Callable[[str], str]


def race_end_state() -> str:
    """The demo race's 60-car state near the end of a 6-hour race, with its
    100 messages, as the service serialises it for compression."""
    from bench_update_cycle import race_end_states

    from livetiming.service import cycle
    from livetiming.service.messages import default_generators

    simulation, states = race_end_states(120)
    previous = cycle.initial_state()
    for timestamp, raw in enumerate(states):
        update = cycle.next_state(previous, raw, default_generators(), simulation.column_spec, timestamp)
        previous = update.state
    previous["messages"] = (previous["messages"] * 100)[:100]  # a race end always has the full 100
    return cycle.to_json(previous)


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
