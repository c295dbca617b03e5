"""CPU of `livetiming-service replay` at 60x on the 24-hour, 60-car recording.

    python benchmarks/bench_recording.py --hours 24 --cars 60 --output /tmp/race24h.zip   # once
    python benchmarks/bench_replay.py [--recording /tmp/race24h.zip] [--speed 60] [--seconds 60]

The replay runs as its own process, standalone (`--standalone`: no router),
with analysis and state files as by default, from `--start` (default
+1:00:00, in the middle of the race), with `--clients` WebSocket clients
(default 1, in this process) reading everything it sends; they count the
states they receive (at 60x on a 1 frame/s recording: 60 a second). After a warm-up, its CPU time (user +
system, psutil) over `--seconds` of wall time is reported as % of one core.
The replay's own progress is checked through its state file: the recorded
race time it advanced over the window divided by the wall time is the
effective speed (it should equal --speed, within the state file's once-a-second
writes: +-1 s of wall time; a clearly lower one means the replay fell
behind). Goal: under 10 % of a core at 60x. The process is stopped at the end.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import websocket

BIN = Path(sys.executable).parent
GOAL = 10.0


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def race_time(state_file: Path) -> float:
    """The recorded race time (session.timeElapsed) of the replay's latest state."""
    for _ in range(50):
        try:
            return float(json.loads(state_file.read_text())["session"]["timeElapsed"])
        except (OSError, ValueError, KeyError):
            time.sleep(0.02)   # being replaced right now: try again
    raise RuntimeError(f"cannot read {state_file}")


class Client(threading.Thread):
    """A standalone client counting the states it receives (after `counting` is set)."""

    def __init__(self, port: int, counting: threading.Event, stop: threading.Event):
        super().__init__(daemon=True)
        self.connection = websocket.create_connection(f"ws://127.0.0.1:{port}/", timeout=10)
        self.counting, self.stop = counting, stop
        self.states = 0

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                topic, _ = json.loads(self.connection.recv())
                if topic.startswith("livetiming.service.") and self.counting.is_set():
                    self.states += 1
        except (websocket.WebSocketException, OSError):
            pass
        finally:
            self.connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recording", default="/tmp/race24h.zip")
    parser.add_argument("--speed", default="60")
    parser.add_argument("--start", default="+1:00:00")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=1)
    args = parser.parse_args()
    if not Path(args.recording).exists():
        print(f"{args.recording} does not exist: make it with benchmarks/bench_recording.py --hours 24 --cars 60 "
              f"--output {args.recording}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as directory:
        env = {**os.environ, "LIVETIMING_STATE_DIR": f"{directory}/state", "LIVETIMING_LOG_DIR": f"{directory}/log",
               "LIVETIMING_ANALYSIS_DIR": f"{directory}/analysis", "LIVETIMING_STANDALONE_PORT": "0",
               "LIVETIMING_ROUTER": ""}
        command = [str(BIN / "livetiming-service"), "replay", args.recording, "--speed", args.speed,
                   "--start", args.start, "--standalone", "--uuid", "benchreplay"]
        opened = time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)
        try:
            for line in process.stdout:
                listening = re.search(r"listening on port:(\d+)", line)
                if listening:
                    break
            else:
                print(f"the replay exited ({process.wait()}) before listening", file=sys.stderr)
                return 1
            counting, stop = threading.Event(), threading.Event()
            clients = [Client(int(listening.group(1)), counting, stop) for _ in range(args.clients)]
            for client in clients:
                client.start()
            print(f"{' '.join(command)}\nlistening after {time.monotonic() - opened:.1f} s (opening the recording)")
            state_file = Path(directory) / "state" / "benchreplay.json"
            time.sleep(args.warmup)
            watched = psutil.Process(process.pid)
            counting.set()
            cpu0, wall0, race0 = cpu_seconds(watched), time.monotonic(), race_time(state_file)
            time.sleep(args.seconds)
            cpu1, wall1, race1 = cpu_seconds(watched), time.monotonic(), race_time(state_file)
            counting.clear()
            stop.set()
            received = [client.states for client in clients]
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        wall = wall1 - wall0
        percent = 100 * (cpu1 - cpu0) / wall
        print(f"speed {args.speed}x over {wall:.1f} s: CPU {percent:.1f} % of a core "
              f"({'within' if percent < GOAL else 'ABOVE'} the {GOAL:g} % goal); "
              f"race time advanced {race1 - race0:.0f} s = {(race1 - race0) / wall:.1f}x real time; "
              f"{args.clients} client(s) received {', '.join(f'{n / wall:.1f}' for n in received)} states/s")
        return 0


if __name__ == "__main__":
    sys.exit(main())
