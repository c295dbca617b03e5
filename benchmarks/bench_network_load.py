"""Network load: N demo services and K anonymous subscribers through one real
Crossbar router, all on loopback. Does every state update reach every
subscriber, how late, and what does each part cost in CPU?

    python benchmarks/bench_network_load.py [--services 10,25,50] [--subscribers 100]
                                            [--duration 30] [--warmup 10]

For each N: a fresh `livetiming-router` on a free 127.0.0.1 port, N
`livetiming-service demo` processes (each publishes its state once a second,
retained, as SERVICE_DATA_COMPRESSED), K subscriber sessions spread over a few
`load_subscriber.py` processes, all subscribed by prefix to
`livetiming.service.`. After the warm-up, states whose wrapper `date` falls in
the measurement window are counted:

- published: the union of the distinct (uuid, date) pairs any subscriber saw,
  cross-checked against N x duration and against gaps in each service's dates
  (a state nobody received would show up there, not in the union);
- delivered: distinct (subscriber, uuid, date) triples; expected is
  published x K; loss is the difference. Services stop when the window ends
  and subscribers get --grace seconds more, so "lost" means "not received
  within the grace time";
- latency: subscriber receive time minus the wrapper `date` (same machine,
  same wall clock);
- CPU: user+system time over the window, in % of one core (the machine has
  os.cpu_count() x 100 %): the router's process tree (livetiming-router,
  Crossbar controller, router worker), each service, each subscriber process,
  and the whole machine (other = machine - ours, i.e. anything else running).

Mind what else runs: on a small machine the latency tail follows the
machine's total load, hence the wait for a quiet machine before each N and
the latency-by-machine-load line. The demo races all get their green flag
about 30 s after their service starts, i.e. within seconds of each other,
early in the window; their states are small then (~3 KiB compressed for 30
cars; a mid-race state with 100 messages is a few times that).

Every process is started here and stopped here (SIGTERM, then SIGKILL of the
process and its descendants), whatever happens; every wait is bounded.
"""
import argparse
import bisect
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import psutil

HERE = Path(__file__).resolve().parent
SUBSCRIBER_SCRIPT = HERE / "load_subscriber.py"
LOOPBACK = "127.0.0.1"
JOINED = re.compile(r"Joined the router as \S+; announcing service ([0-9a-f]{32})")
ROUTER_READY = "Router ready:"
POLL_INTERVAL_MS = 1000
GAP_MS = 1.5 * POLL_INTERVAL_MS
GOAL_SERVICES = 50
LATENCY_GOAL_MS = 250.0


# --- processes ---------------------------------------------------------------

@dataclass
class Child:
    name: str
    popen: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 15) -> str:
        return "\n".join(f"    | {line}" for line in self.output().splitlines()[-lines:])


class Fleet:
    """Owns every process of one run so that `stop_all` in a `finally` can
    leave nothing behind, including the Crossbar processes under the router."""

    def __init__(self, workdir: Path, env: Dict[str, str]):
        self.workdir = workdir
        self.env = env
        self.children: List[Child] = []

    def spawn(self, name: str, argv: List[str], env: Optional[Dict[str, str]] = None) -> Child:
        log = self.workdir / f"{name}.log"
        with open(log, "w", encoding="utf-8") as out:
            # A session of its own: a Ctrl-C in the terminal reaches only us,
            # and we stop the children in the order we choose.
            popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.workdir, env={**self.env, **(env or {})}, start_new_session=True)
        child = Child(name, popen, log)
        self.children.append(child)
        return child

    def stop(self, children: List[Child], timeout: float = 15.0) -> None:
        """SIGTERM all at once (a clean stop, so the router sees sessions
        leave), then SIGKILL whatever is left of them and their descendants."""
        descendants = []
        for child in children:
            try:
                descendants += psutil.Process(child.popen.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                pass
            if child.alive():
                child.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in children:
            try:
                child.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"  {child.name} ignored SIGTERM; killing it", file=sys.stderr)
                child.popen.kill()
                child.popen.wait(5)
        _, survivors = psutil.wait_procs(descendants, timeout=max(0.1, deadline - time.monotonic()))
        for process in survivors:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        for child in children:
            if child in self.children:
                self.children.remove(child)

    def stop_all(self) -> None:
        self.stop(list(reversed(self.children)))


def wait_until(ready, timeout: float, what: str, watched: List[Child]) -> None:
    """Poll `ready()` until true; fail early (with its log) if a watched process dies."""
    deadline = time.monotonic() + timeout
    while not ready():
        for child in watched:
            if not child.alive():
                raise RuntimeError(f"{child.name} exited (code {child.popen.returncode}) while waiting for "
                                   f"{what}:\n{child.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def console_script(name: str) -> str:
    """The venv's console script next to this interpreter, else the PATH's."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        sys.exit(f"{name} not found (install livetiming-core with the router extra)")
    return found


def hermetic_env(workdir: Path) -> Dict[str, str]:
    """Our environment without any LIVETIMING_/SENTRY_ setting of the user,
    with state, logs and data in the run's temporary directory."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LIVETIMING_", "SENTRY_"))}
    env.update({
        "LIVETIMING_SHARED_SECRET": secrets.token_hex(16),
        "LIVETIMING_LOG_DIR": str(workdir / "log"),
        "LIVETIMING_STATE_DIR": str(workdir / "state"),
        "XDG_DATA_HOME": str(workdir / "data"),
        "PYTHONUNBUFFERED": "1",
    })
    return env


# --- the three parts -----------------------------------------------------------

def start_router(fleet: Fleet, extra: Sequence[str] = (), env: Optional[Dict[str, str]] = None) -> tuple:
    port = free_port()
    router = fleet.spawn("router", [console_script("livetiming-router"), "--port", str(port),
                                    "--interface", LOOPBACK, "--cbdir", str(fleet.workdir / "cbdir"), *extra],
                         env=env)
    wait_until(lambda: ROUTER_READY in router.output(), 90, "the router", [router])
    return router, f"ws://{LOOPBACK}:{port}/ws"


def start_services(fleet: Fleet, count: int, url: str, cars: int, stagger: float) -> Dict[str, Child]:
    """Staggered starts, so the services' once-a-second publishes do not all
    fall at the same instant (as with independent services in production)."""
    services = []
    for number in range(count):
        services.append(fleet.spawn(f"service-{number:02d}", [
            console_script("livetiming-service"), "demo", "--no-write-state", "-v", "--cars", str(cars),
            "--seed", str(71 + number)], env={"LIVETIMING_ROUTER": url}))
        time.sleep(stagger)

    def all_joined():
        return all(JOINED.search(service.output()) for service in services)

    wait_until(all_joined, 60 + 3 * count, f"{count} services to join", services)
    return {JOINED.search(service.output()).group(1): service for service in services}


def start_subscribers(fleet: Fleet, sessions: int, workers: int, url: str, first: int = 0,
                      session_urls: Optional[List[str]] = None, tag: str = "subscriber") -> List[tuple]:
    """K sessions over a few processes, so that no single subscriber process
    (one core at most) is what limits delivery. To add sessions to a run:
    `first` is the index of the first one and `tag` names the processes.
    `session_urls` (one URL per session, equal URLs next to each other)
    spreads them over several servers instead of all at `url`: each process
    serves one URL, the processes shared in proportion."""
    runs = [(key, len(list(group))) for key, group in groupby(session_urls)] if session_urls else [(url, sessions)]
    started = []
    for run_url, run_sessions in runs:
        run_workers = max(1, round(workers * run_sessions / sessions)) if session_urls else workers
        for number in range(run_workers):
            share = run_sessions // run_workers + (1 if number < run_sessions % run_workers else 0)
            if not share:
                continue
            name = f"{tag}-{len(started)}"
            out = fleet.workdir / f"{name}.json"
            child = fleet.spawn(name, [
                sys.executable, str(SUBSCRIBER_SCRIPT), "--url", run_url, "--sessions", str(share),
                "--first-index", str(first), "--out", str(out)])
            started.append((child, out))
            first += share
    children = [child for child, _ in started]
    wait_until(lambda: all("READY" in child.output() for child in children), 60 + sessions * 0.5,
               f"{sessions} subscriber sessions to subscribe", children)
    return started


# --- CPU ---------------------------------------------------------------------

def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def machine_busy_seconds() -> float:
    """Busy CPU seconds of all cores (Linux counts guest time inside user
    and nice already; steal is time the hypervisor gave someone else)."""
    times = psutil.cpu_times()
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq"))


def machine_busy_percent(seconds: float) -> float:
    start = machine_busy_seconds()
    time.sleep(seconds)
    return 100.0 * (machine_busy_seconds() - start) / seconds


def wait_for_quiet(threshold: float, patience: float) -> float:
    """Other people's work on a 2-core machine skews every number here, so
    wait (at most `patience` seconds) for the machine to be mostly idle before
    starting. Returns the last busy % seen; the run goes ahead regardless."""
    deadline = time.monotonic() + patience
    busy = machine_busy_percent(2.0)
    while busy > threshold and time.monotonic() < deadline:
        busy = machine_busy_percent(2.0)
    return busy


class CpuMeter:
    """CPU seconds of named groups of processes, read at the start and end of
    the window and once a second in between (for the per-second peaks that
    show whether a single-threaded process sat at 100 %)."""

    def __init__(self, groups: Dict[str, List[psutil.Process]]):
        self.groups = groups
        self.samples = []  # (monotonic time, {group: cpu seconds, "machine": ...})

    def sample(self) -> None:
        try:
            reading = {name: sum(cpu_seconds(p) for p in processes) for name, processes in self.groups.items()}
        except psutil.Error as error:
            raise RuntimeError(f"a measured process went away: {error}") from error
        reading["machine"] = machine_busy_seconds()
        reading["steal"] = psutil.cpu_times().steal
        reading["wall_ms"] = time.time() * 1000.0
        self.samples.append((time.monotonic(), reading))

    def mean_percent(self) -> Dict[str, float]:
        (start, first), (end, last) = self.samples[0], self.samples[-1]
        return {name: 100.0 * (last[name] - first[name]) / (end - start) for name in first if name != "wall_ms"}

    def peak_percent(self, name: str) -> float:
        return max((percent for _, _, percent in self.per_second(name)), default=0.0)

    def per_second(self, name: str) -> List[tuple]:
        """(wall-clock start ms, end ms, % of one core) of each sampling step."""
        steps = zip(self.samples, self.samples[1:])
        return [(a["wall_ms"], b["wall_ms"], 100.0 * (b[name] - a[name]) / (t1 - t0)) for (t0, a), (t1, b) in steps]


def router_processes(router: Child) -> Dict[str, List[psutil.Process]]:
    """The router's tree, with Crossbar's router worker singled out: it does
    all the routing in one Python thread, so it is the one that can saturate."""
    top = psutil.Process(router.popen.pid)
    tree = [top] + top.children(recursive=True)
    worker = [p for p in tree if "RouterController" in " ".join(p.cmdline()) or "worker" in p.name()]
    return {"router": tree, "router_worker": worker}


def measure(meter: CpuMeter, seconds: float, watched: List[Child]) -> None:
    meter.sample()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))
        meter.sample()
        dead = [child.name for child in watched if not child.alive()]
        if dead:
            raise RuntimeError(f"died during the measurement: {', '.join(dead)}")


# --- analysis --------------------------------------------------------------

def load_events(outputs: List[Path]) -> dict:
    merged = {"events": [], "subscribed": 0, "disconnects": 0, "other": 0, "payload_bytes": []}
    for path in outputs:
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in merged:
            merged[key] += data[key]
    return merged


def percentile(ordered: List[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def fan_out_latencies(first_receipt: dict) -> dict:
    """Per published state, the latency of its first and of its last receipt
    among the K subscribers: the first is the service -> router -> one
    subscriber path, the gap to the last is the fan-out (router sending K
    copies, subscriber processes working through them)."""
    first, last = {}, {}
    for (_, uuid, date), latency in first_receipt.items():
        key = (uuid, date)
        first[key] = min(latency, first.get(key, latency))
        last[key] = max(latency, last.get(key, latency))
    return {"first": sorted(first.values()), "last": sorted(last.values())}


CAPACITY = 100.0 * (os.cpu_count() or 1)
LOAD_BANDS = ((0, 0.8 * CAPACITY), (0.8 * CAPACITY, 0.95 * CAPACITY), (0.95 * CAPACITY, float("inf")))


def latency_by_machine_load(first_receipt: dict, machine_seconds: List[tuple]) -> List[tuple]:
    """p99 latency of the deliveries of the states published in each second,
    grouped by how busy the whole machine was in that second: separates "our
    system is slow" from "the machine was full" (few cores, shared with
    anything else that runs)."""
    def band(busy):
        return next(number for number, (low, high) in enumerate(LOAD_BANDS) if low <= busy < high)

    starts = [start for start, _, _ in machine_seconds]
    latencies = [[] for _ in LOAD_BANDS]
    for (_, _, date), latency in first_receipt.items():
        step = bisect.bisect_right(starts, date) - 1
        if step >= 0 and date < machine_seconds[step][1]:
            latencies[band(machine_seconds[step][2])].append(latency)
    seconds = [sum(1 for _, _, busy in machine_seconds if band(busy) == number) for number in range(len(LOAD_BANDS))]
    return [(low, high, seconds[number], percentile(sorted(latencies[number]), 0.99))
            for number, (low, high) in enumerate(LOAD_BANDS)]


def analyse(recorded: dict, window: tuple, subscribers: int, uuids: List[str],
            machine_seconds: List[tuple] = ()) -> dict:
    start_ms, end_ms = window
    first_receipt = {}
    duplicates = 0
    for session, uuid, date, received in recorded["events"]:
        if not start_ms <= date < end_ms:
            continue
        key = (session, uuid, date)
        if key in first_receipt:
            duplicates += 1
        else:
            first_receipt[key] = received - date
    published = {(uuid, date) for _, uuid, date in first_receipt}
    fan_out = fan_out_latencies(first_receipt)
    dates = defaultdict(list)
    for uuid, date in published:
        dates[uuid].append(date)
    gaps = sum(1 for uuid in dates for a, b in zip(sorted(dates[uuid]), sorted(dates[uuid])[1:]) if b - a > GAP_MS)
    per_session = defaultdict(int)
    for session, _, _ in first_receipt:
        per_session[session] += 1
    latencies = sorted(first_receipt.values())
    expected = len(published) * subscribers
    return {
        "published": len(published),
        "silent_services": [uuid for uuid in uuids if uuid not in dates],
        "gaps": gaps,
        "delivered": len(first_receipt),
        "expected": expected,
        "lost": expected - len(first_receipt),
        "sessions_with_loss": sum(1 for s in range(subscribers) if per_session[s] < len(published)),
        "duplicates": duplicates,
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "max": latencies[-1] if latencies else float("nan"),
        "first_p50": percentile(fan_out["first"], 0.50), "first_p99": percentile(fan_out["first"], 0.99),
        "last_p50": percentile(fan_out["last"], 0.50), "last_p99": percentile(fan_out["last"], 0.99),
        "by_load": latency_by_machine_load(first_receipt, list(machine_seconds)),
        "payload_bytes": statistics.mean(recorded["payload_bytes"]) if recorded["payload_bytes"] else 0,
        "disconnects": recorded["disconnects"],
    }


def collect(fleet: Fleet, services: List[Child], subscribers: List[tuple], grace: float) -> dict:
    """Stop the services first (no new states), give the last states `grace`
    seconds to arrive, then stop the subscribers, which write what they saw."""
    fleet.stop(services)
    time.sleep(grace)
    fleet.stop([child for child, _ in subscribers])
    missing = [str(out) for _, out in subscribers if not out.exists()]
    if missing:
        raise RuntimeError(f"subscriber output missing: {missing}")
    return load_events([out for _, out in subscribers])


# --- one run -----------------------------------------------------------------

def run_one(services: int, options) -> dict:
    """Everything for one N, from a fresh router to the last process stopped."""
    if options.quiet_wait > 0:
        busy = wait_for_quiet(options.quiet_below, options.quiet_wait)
        print(f"  machine busy before starting: {busy:.0f} % (of {CAPACITY:.0f} %)", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"ltload-{services}-"))
    fleet = Fleet(workdir, hermetic_env(workdir))
    try:
        began = time.monotonic()
        router, url = start_router(fleet)
        by_uuid = start_services(fleet, services, url, options.cars, options.stagger)
        subscribers = start_subscribers(fleet, options.subscribers, options.workers, url)
        print(f"  N={services}: router {url}, {services} services joined, {options.subscribers} sessions "
              f"subscribed in {time.monotonic() - began:.0f} s; warming up {options.warmup:g} s", flush=True)
        time.sleep(options.warmup)

        sub_children = [child for child, _ in subscribers]
        groups = {**router_processes(router), "services": [psutil.Process(c.popen.pid) for c in by_uuid.values()],
                  "subscribers": [psutil.Process(c.popen.pid) for c in sub_children],
                  "bench": [psutil.Process()]}
        meter = CpuMeter(groups)
        window_start = time.time() * 1000.0
        measure(meter, options.duration, [router, *by_uuid.values(), *sub_children])
        window = (window_start, time.time() * 1000.0)

        recorded = collect(fleet, list(by_uuid.values()), subscribers, options.grace)
        result = analyse(recorded, window, options.subscribers, list(by_uuid), meter.per_second("machine"))
        result.update(services=services, seconds=(window[1] - window[0]) / 1000.0, cpu=meter.mean_percent(),
                      router_worker_peak=meter.peak_percent("router_worker"),
                      machine_peak=meter.peak_percent("machine"))
        return result
    finally:
        fleet.stop_all()
        if options.keep:
            print(f"  logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


# --- report ------------------------------------------------------------------

def other_percent(cpu: Dict[str, float]) -> float:
    """CPU of everything on the machine that is not this benchmark (floored at
    0: the per-process and machine-wide counters disagree by a percent or so)."""
    return max(0.0, cpu["machine"] - cpu["router"] - cpu["services"] - cpu["subscribers"] - cpu["bench"])


def report(result: dict, subscribers: int) -> None:
    n, seconds, cpu = result["services"], result["seconds"], result["cpu"]
    print(f"  published  {result['published'] / seconds:7.1f} states/s (N = {n}: nominal {n:.0f}/s; "
          f"{result['published']} in {seconds:.1f} s vs N x duration = {n * seconds:.0f}; "
          f"gaps > {GAP_MS / 1000:g} s: {result['gaps']}; silent services: {len(result['silent_services'])})")
    print(f"  delivered  {result['delivered'] / seconds:7.1f} updates/s vs expected "
          f"{result['expected'] / seconds:.1f} (published x {subscribers}); lost {result['lost']} "
          f"({100.0 * result['lost'] / max(1, result['expected']):.2f} %, {result['sessions_with_loss']} sessions), "
          f"duplicates {result['duplicates']}, disconnects {result['disconnects']}")
    print(f"  latency    p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, max {result['max']:.1f} ms "
          f"(payload ~{result['payload_bytes'] / 1024:.1f} KiB; router sends "
          f"~{result['delivered'] / seconds * result['payload_bytes'] / 2**20:.1f} MiB/s)")
    bands = [f"{low:.0f}-{high:.0f} %: p99 {p99:.0f} ms ({count} s)" if high != float("inf")
             else f">= {low:.0f} %: p99 {p99:.0f} ms ({count} s)"
             for low, high, count, p99 in result["by_load"] if count]
    print(f"  latency by machine load in the second of publishing: {'; '.join(bands)}")
    print(f"  per state  first receipt p50 {result['first_p50']:.1f} / p99 {result['first_p99']:.1f} ms, "
          f"last of {subscribers} p50 {result['last_p50']:.1f} / p99 {result['last_p99']:.1f} ms")
    others = other_percent(cpu)
    print(f"  CPU (% of one core; machine = {CAPACITY:.0f} %): router tree {cpu['router']:.0f} "
          f"(router worker {cpu['router_worker']:.0f}, peak 1-s {result['router_worker_peak']:.0f}), "
          f"services {cpu['services']:.0f} ({cpu['services'] / n:.1f} per service), "
          f"subscribers {cpu['subscribers']:.0f}, machine {cpu['machine']:.0f} "
          f"(peak 1-s {result['machine_peak']:.0f}; other processes {others:.0f}; steal {cpu['steal']:.0f})")
    # CPU per unit of work hardly depends on what else runs, unlike latency:
    # these extrapolate to other N and K.
    delivered, published = max(1, result["delivered"]), max(1, result["published"])
    print(f"  cost       router {cpu['router'] * 1e4 * seconds / delivered:.0f} µs per delivered update, "
          f"service {cpu['services'] * 10 * seconds / published:.2f} ms per published state, "
          f"subscriber {cpu['subscribers'] * 1e4 * seconds / delivered:.0f} µs per received update", flush=True)


def table(results: List[dict], subscribers: int) -> None:
    header = ("N", "pub/s", "deliv/s", "expect/s", "lost", "p50 ms", "p99 ms", "max ms",
              "router%", "worker%", "svc%", "svc%/N", "subs%", "machine%", "other%")
    rows = []
    for r in results:
        cpu, s = r["cpu"], r["seconds"]
        others = other_percent(cpu)
        rows.append((r["services"], f"{r['published'] / s:.1f}", f"{r['delivered'] / s:.0f}",
                     f"{r['expected'] / s:.0f}", r["lost"], f"{r['p50']:.0f}", f"{r['p99']:.0f}",
                     f"{r['max']:.0f}", f"{cpu['router']:.0f}", f"{cpu['router_worker']:.0f}",
                     f"{cpu['services']:.0f}", f"{cpu['services'] / r['services']:.1f}",
                     f"{cpu['subscribers']:.0f}", f"{cpu['machine']:.0f}", f"{others:.0f}"))
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    print(f"\nK = {subscribers} subscribers; CPU in % of one core ({os.cpu_count()} cores)")
    for row in (header, *rows):
        print("  ".join(str(x).rjust(w) for x, w in zip(row, widths)))


def goal(results: List[dict]) -> None:
    for r in results:
        if r["services"] == GOAL_SERVICES:
            met = r["lost"] == 0 and r["p99"] < LATENCY_GOAL_MS
            print(f"\nGoal ({GOAL_SERVICES} services x K subscribers, no loss, p99 < {LATENCY_GOAL_MS:g} ms): "
                  f"{'MET' if met else 'NOT MET'} (lost {r['lost']}, p99 {r['p99']:.0f} ms)")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", default="10,25,50", help="comma-separated service counts N")
    parser.add_argument("--subscribers", type=int, default=100, help="subscriber sessions K")
    parser.add_argument("--workers", type=int, default=4, help="subscriber processes the K sessions share")
    parser.add_argument("--duration", type=float, default=30, help="seconds of measurement per N")
    parser.add_argument("--warmup", type=float, default=10, help="seconds between all-subscribed and measuring")
    parser.add_argument("--grace", type=float, default=5, help="seconds subscribers keep listening after the window")
    parser.add_argument("--cars", type=int, default=30, help="cars per demo service")
    parser.add_argument("--stagger", type=float, default=0.1, help="seconds between service starts")
    parser.add_argument("--quiet-below", type=float, default=40,
                        help="before each N, wait for the machine to be less busy than this (%% of one core)")
    parser.add_argument("--quiet-wait", type=float, default=90, help="... but at most this many seconds (0: don't)")
    parser.add_argument("--keep", action="store_true", help="keep each run's directory (logs) for inspection")
    options = parser.parse_args()
    options.service_counts = [int(n) for n in options.services.split(",") if n.strip()]
    return options


def code_version() -> str:
    """Which product code was measured: the numbers move with it."""
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = " + uncommitted changes in src/" if git("status", "--porcelain", "--", "../src") else ""
    return f"git {head}{dirty}"


def interrupted(signum, frame):
    """SIGTERM/SIGHUP unwind like Ctrl-C, so every `finally` stops its processes."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main() -> int:
    options = parse_args()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)
    print(f"Network load: services {options.service_counts}, K = {options.subscribers} sessions in "
          f"{options.workers} processes, {options.cars} cars per service, warm-up {options.warmup:g} s, "
          f"window {options.duration:g} s, grace {options.grace:g} s; {os.cpu_count()} cores; "
          f"code {code_version()}", flush=True)
    results = []
    for services in options.service_counts:
        print(f"\nN = {services} services", flush=True)
        try:
            results.append(run_one(services, options))
        except RuntimeError as error:
            print(f"  FAILED: {error}", flush=True)
            continue
        report(results[-1], options.subscribers)
    if results:
        table(results, options.subscribers)
        goal(results)
    return 0 if results else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as stop:
        sys.exit(f"interrupted ({stop or 'SIGINT'}); all processes stopped")
