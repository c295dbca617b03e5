"""The DVR's CPU per recorded service at 1 Hz: a real router, the DVR as its
own process, N demo services (60 cars) publishing once a second; the DVR's
CPU time over a measurement window, divided by N.

    python benchmarks/bench_dvr.py [--services 10] [--seconds 60]

Loopback only; every process is stopped at the end.
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent
SECRET = "bench-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(args, env, ready: str, timeout: float = 120) -> subprocess.Popen:
    """Start a process and wait for a line matching `ready` on its stdout."""
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    deadline = time.monotonic() + timeout
    for line in process.stdout:
        if re.search(ready, line):
            return process
        if time.monotonic() > deadline:
            break
    stop(process)
    raise RuntimeError(f"{args[0]} did not become ready")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    options = parser.parse_args()
    processes = []
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "LIVETIMING_SHARED_SECRET": SECRET, "LIVETIMING_LOG_DIR": f"{work}/logs",
               "LIVETIMING_STATE_DIR": f"{work}/state", "LIVETIMING_ANALYSIS_DIR": f"{work}/analysis",
               "LIVETIMING_RECORDINGS_DIR": f"{work}/rec", "LIVETIMING_RECORDINGS_TEMP_DIR": f"{work}/tmp"}
        port = free_port()
        url = f"ws://127.0.0.1:{port}/ws"
        try:
            processes.append(start([str(BIN / "livetiming-router"), "--port", str(port), "--cbdir", f"{work}/cb",
                                    "--no-dvr", "--no-catalogue"], env, r"Router ready"))
            env["LIVETIMING_ROUTER"] = url
            dvr = start([str(BIN / "livetiming-dvr"), "-v"], env, r"DVR ready")
            processes.append(dvr)
            for _ in range(options.services):
                processes.append(start([str(BIN / "livetiming-service"), "demo", "-v", "--cars", "60",
                                        "--no-write-state"], env, r"Joined the router"))
            time.sleep(10)  # warm-up: every service recording, analysis published once
            meter = psutil.Process(dvr.pid)
            before, start_time = meter.cpu_times(), time.monotonic()
            time.sleep(options.seconds)
            after, elapsed = meter.cpu_times(), time.monotonic() - start_time
            frames = sum(len([f for f in d.iterdir() if f.name[0].isdigit()])
                         for d in Path(work, "tmp").iterdir())
        finally:
            for process in reversed(processes):
                stop(process)
    cpu = (after.user + after.system) - (before.user + before.system)
    print(f"{options.services} services (60 cars, 1 Hz), {elapsed:.0f} s: DVR CPU {cpu / elapsed * 100:.1f}% "
          f"of one core = {cpu / elapsed / options.services * 100:.2f}% per recorded service "
          f"({cpu / elapsed / options.services * 1000:.1f} ms of CPU per service-second); {frames} frames on disk")


if __name__ == "__main__":
    main()
