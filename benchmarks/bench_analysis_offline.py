"""`livetiming-analysis` on a long recording: wall time, frames/s and peak
memory (maximum resident set size of the process).

    python benchmarks/bench_recording.py --hours 24 --cars 60 --output /tmp/race24h.zip   # once
    python benchmarks/bench_analysis_offline.py /tmp/race24h.zip

Goal (24 hours, 60 cars, one frame per second): under 60 s and 500 MB.
"""
import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from livetiming.recording import RecordingReader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", type=Path)
    options = parser.parse_args()
    with RecordingReader(options.recording) as reader:
        frames, cars = reader.frame_count, len(reader.state_at(reader.frames[-1])["cars"])
        duration = reader.duration
    command = Path(sys.executable).parent / "livetiming-analysis"
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([str(command), str(options.recording), "-q", "-o", f"{out}/analysis.json"], check=True)
        wall = time.perf_counter() - start
        size = Path(out, "analysis.json").stat().st_size
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"recording: {frames} frames, {duration / 3600:.1f} h, {cars} cars")
    print(f"livetiming-analysis: {wall:.1f} s wall, {frames / wall:,.0f} frames/s, peak RSS {peak_mb:.0f} MB, "
          f"analysis file {size / 1e6:.1f} MB  (goal: < 60 s, < 500 MB)")


if __name__ == "__main__":
    main()
