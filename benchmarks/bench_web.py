"""The web app in a real headless Chromium, against a real router running the
demo race at 60 cars, all on loopback. How fast does the page show what is
published, what does each update cost in the page, how soon is the first
table there, and how big is the app?

    python benchmarks/bench_web.py [--duration 180] [--loads 5] [--cars 60] [--speed 10]

- publish → table: the page's own record of each drawn update
  (`window.livetiming.metrics`): the time the table was updated in the DOM
  (and the next animation frame, i.e. painted) minus the wrapper `date`, the
  service's time of sending (same machine, same wall clock); p50/p99/max over
  `--duration` seconds (one state a second).
- decode + render: LZ-String decompression and JSON parsing of the state,
  plus updating the table, messages and header, measured in the page with
  `performance.now()`.
- load to first table: from navigation start to the first table drawn with
  cars, in fresh browser contexts (`--loads` of them).
- app size: the bytes of `src/livetiming/web/static/` (uncompressed).

Goals (issue 12): p99 publish → screen under 500 ms; decode + render under
20 ms per update; first table under 1.5 s; the app under 150 KB. Needs
/usr/bin/chromium and Playwright (the `test` extra). Every process is started
here and stopped here; every wait is bounded.
"""
import argparse
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "src" / "livetiming" / "web" / "static"
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(args: List[str], env: dict, log: Path, pattern: str, timeout: float) -> tuple:
    """A process whose output goes to `log`; waits (bounded) for a line matching `pattern`."""
    handle = log.open("w")
    process = subprocess.Popen(args, env={**os.environ, "PYTHONUNBUFFERED": "1", **env}, stdout=handle,
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    regex = re.compile(pattern)
    while time.monotonic() < deadline:
        match = regex.search(log.read_text(errors="replace"))
        if match:
            return process, match
        if process.poll() is not None:
            break
        time.sleep(0.2)
    stop(process)
    raise SystemExit(f"{args[0]} did not print {pattern!r}; see {log}:\n{log.read_text()[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def app_size() -> int:
    return sum(path.stat().st_size for path in STATIC.rglob("*") if path.is_file())


def measure(url: str, uuid: str, args) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            first_tables = []
            for _ in range(args.loads):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.goto(f"{url}#/{uuid}")
                page.wait_for_function("window.livetiming && window.livetiming.metrics.firstTablePerf !== null",
                                       timeout=30_000)
                first_tables.append(page.evaluate("window.livetiming.metrics.firstTablePerf"))
                context.close()
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(f"{url}#/{uuid}")
            page.wait_for_function("window.livetiming && window.livetiming.metrics.firstTablePerf !== null",
                                   timeout=30_000)
            started = page.evaluate("Date.now()")
            print(f"measuring for {args.duration} s ...", flush=True)
            time.sleep(args.duration)
            updates = page.evaluate(f"window.livetiming.metrics.updates.filter(u => u.receivedAt > {started})")
            recorded = page.evaluate("window.livetiming.metrics.updates.length")
            context.close()
        finally:
            browser.close()
    updates = [u for u in updates if u["paintedAt"]]
    if not updates:
        raise SystemExit("no updates were drawn")
    dom = [u["shownAt"] - u["date"] for u in updates]
    painted = [u["paintedAt"] - u["date"] for u in updates]
    cost = [u["decodeMs"] + u["renderMs"] for u in updates]
    decode = [u["decodeMs"] for u in updates]
    render = [u["renderMs"] for u in updates]
    cars = max(u["cars"] for u in updates)
    print(f"updates drawn: {len(updates)} ({cars} cars; {recorded} in the page's record)")
    for name, values in (("publish -> table (DOM)", dom), ("publish -> table (painted)", painted),
                         ("decode + render", cost), ("  decode", decode), ("  render", render)):
        print(f"{name:28s} p50 {statistics.median(values):7.1f} ms  p99 {percentile(values, 0.99):7.1f} ms"
              f"  max {max(values):7.1f} ms")
    print(f"{'load to first table':28s} median {statistics.median(first_tables):7.1f} ms"
          f"  max {max(first_tables):7.1f} ms  ({len(first_tables)} loads)")
    print(f"{'app size':28s} {app_size()} bytes uncompressed ({app_size() / 1024:.1f} KiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=180, help="seconds of updates to measure (default 180)")
    parser.add_argument("--loads", type=int, default=5, help="page loads for the first-table time (default 5)")
    parser.add_argument("--cars", type=int, default=60)
    parser.add_argument("--speed", type=float, default=10, help="demo speed (default 10x real time)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        tmp_path = Path(tmp)
        port = free_port()
        env = {"LIVETIMING_SHARED_SECRET": secrets.token_hex(16), "LIVETIMING_ROUTER": "", "SENTRY_DSN": "",
               **{f"LIVETIMING_{name}_DIR": str(tmp_path / name.lower())
                  for name in ("LOG", "STATE", "ANALYSIS", "RECORDINGS", "RECORDINGS_TEMP")}}
        router, _ = start([str(BIN / "livetiming-router"), "--port", str(port), "--cbdir", str(tmp_path / "cbdir"),
                           "--no-dvr", "--no-catalogue"], env, tmp_path / "router.log", r"Router ready", 120)
        try:
            service, match = start([str(BIN / "livetiming-service"), "demo", "--cars", str(args.cars), "--speed",
                                    str(args.speed), "--grid", "2", "-v"],
                                   {**env, "LIVETIMING_ROUTER": f"ws://127.0.0.1:{port}/ws"}, tmp_path / "demo.log",
                                   r"announcing service (\w+)", 60)
            try:
                measure(f"http://127.0.0.1:{port}/", match.group(1), args)
            finally:
                stop(service)
        finally:
            stop(router)


if __name__ == "__main__":
    main()
