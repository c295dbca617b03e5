"""Relays: does the master stay flat while clients are added behind relays,
and what does a relay cost? Master + 3 relays + N demo services, K anonymous
clients through the relays, then the same K clients straight to the master,
in one run (same master, relays and services), all on loopback.

    python benchmarks/bench_relays.py [--clients 300] [--steps 3] [--relays 3] [--services 10]
                                      [--duration 30] [--warmup 10]

Set-up: a fresh `livetiming-router` (with LIVETIMING_RELAY_KEY_FILE, without
DVR and catalogue, so that its tree is the router alone), 3
`livetiming-relay` processes (each its own key, public URL and Crossbar,
reporting every --report-interval seconds), N `livetiming-service demo` at
1 Hz on the master. Clients are `load_subscriber.py` sessions (see
bench_network_load.py): subscribed by prefix to `livetiming.service.`, they
record each state's wrapper `date` and receive time and decompress nothing.

Windows of --duration seconds, each after a --warmup, every one measured like
bench_network_load.py (delivered vs expected, lost, latency = receive time -
wrapper date, CPU per process tree):

1. no clients: the master carries only the relays (the baseline);
2. relays, K/steps, 2K/steps, ... K clients: before each step the master's
   `GET /relays` is read (after waiting, bounded, for it to count the clients
   already placed) and each new client is placed with the least-loaded rule,
   `relay_book.pick_least_loaded` (what `livetiming.client.pick_relay` does).
   The counts at /relays lag by up to a report interval (--report-interval,
   2 s here, 60 s by default), so a batch of clients joining at once would
   all pick the same relay: the batch is placed by picking repeatedly, the
   listing updated locally with each client already placed, i.e. as if the
   master counted instantly (real clients arriving faster than the reports
   herd onto one relay until its next report; the spread is printed, and
   checked against /relays before the next step);
3. direct, the same steps, all clients on the master's own URL (the relays
   keep running: the master carries them and the clients).

Clients added in a step keep running through the later steps; a step's
figures count only the sessions present in it. The services run throughout;
after a phase's last window its clients listen --grace seconds more before
they stop, so "lost" means "not received within the grace time".

CPU in % of one core: the master tree (livetiming-router, Crossbar
controller, router worker), each relay tree (livetiming-relay, its Crossbar
controller and router worker, the relay component), the services, the
client processes, the whole machine (other = anything not ours; "full s" =
seconds of the window with the machine >= 95 % busy, when latency is the
machine's, not the path's). Goal: 0 lost; master CPU flat as clients are
added behind relays; p99 through a relay under 300 ms on this machine.

Every process is started here and stopped here (SIGTERM, then SIGKILL of the
process and its descendants), whatever happens; every wait is bounded.
"""
import argparse
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import psutil
from bench_network_load import (
    CAPACITY,
    LOOPBACK,
    Child,
    CpuMeter,
    Fleet,
    analyse,
    code_version,
    collect,
    console_script,
    free_port,
    hermetic_env,
    interrupted,
    measure,
    percentile,
    router_processes,
    start_router,
    start_services,
    start_subscribers,
    wait_for_quiet,
    wait_until,
)

from livetiming.client.relays import RelayListError, fetch_listing
from livetiming.orchestration.relay_book import pick_least_loaded

RELAY_READY = "Relay ready:"
LATENCY_GOAL_MS = 300.0


# --- set-up ------------------------------------------------------------------

def start_relays(fleet: Fleet, count: int, upstream: str, interval: float) -> Dict[str, Child]:
    """`count` keyed relays on free ports, started together; {public url: relay}."""
    keys = [secrets.token_hex(16) for _ in range(count)]
    (fleet.workdir / "relay-keys").write_text("".join(f"{key}\n" for key in keys), encoding="utf-8")
    relays = {}
    for number, key in enumerate(keys, 1):
        port = free_port()
        url = f"ws://{LOOPBACK}:{port}/ws"
        relays[url] = fleet.spawn(f"relay-{number}", [
            console_script("livetiming-relay"), "--port", str(port), "--interface", LOOPBACK,
            "--cbdir", str(fleet.workdir / f"relay-{number}"), "--upstream", upstream, "--public-url", url,
            "--report-interval", f"{interval:g}", "-v"], env={"LIVETIMING_RELAY_KEY": key})
    wait_until(lambda: all(RELAY_READY in relay.output() for relay in relays.values()), 90,
               f"{count} relays", list(relays.values()))
    return relays


def listing_or_empty(master_http: str) -> Dict[str, int]:
    try:
        return fetch_listing(master_http, timeout=5)
    except RelayListError as error:
        print(f"  /relays: {error}", flush=True)
        return {}


def wait_for_listing(master_http: str, placed: Dict[str, int], timeout: float) -> Dict[str, int]:
    """The master's listing once it shows every relay with the clients placed
    on it (or, after `timeout` seconds, whatever it shows then)."""
    deadline = time.monotonic() + timeout
    listing = listing_or_empty(master_http)
    while listing != placed and time.monotonic() < deadline:
        time.sleep(0.5)
        listing = listing_or_empty(master_http)
    if listing != placed:
        print(f"  /relays still lists {listing} (placed {placed}); picking from it anyway", flush=True)
    return listing


def place(listing: Dict[str, int], count: int, fallback: str, rng: random.Random) -> List[str]:
    """One least-loaded pick per new client, each counted locally before the
    next pick (the master's counts lag by a report interval). Sorted, so that
    the clients of one relay are neighbours (one process serves one URL)."""
    listing = dict(listing)
    picks = []
    for _ in range(count):
        url = pick_least_loaded(listing, fallback, rng)
        listing[url] = listing.get(url, 0) + 1
        picks.append(url)
    return sorted(picks)


# --- measurement ---------------------------------------------------------------

def tree(child: Child) -> List[psutil.Process]:
    top = psutil.Process(child.popen.pid)
    return [top] + top.children(recursive=True)


def window(fleet: Fleet, master: Child, relays: Dict[str, Child], services: List[Child],
           clients: List[Child], seconds: float) -> dict:
    """CPU of every group over `seconds`, and the window's wall-clock bounds."""
    groups = {("master" if name == "router" else "master_worker"): processes
              for name, processes in router_processes(master).items()}
    groups.update({relay.name: tree(relay) for relay in relays.values()})
    groups.update(services=[psutil.Process(c.popen.pid) for c in services],
                  clients=[psutil.Process(c.popen.pid) for c in clients], bench=[psutil.Process()])
    meter = CpuMeter(groups)
    start = time.time() * 1000.0
    measure(meter, seconds, list(fleet.children))
    return {"window": (start, time.time() * 1000.0), "cpu": meter.mean_percent(),
            "machine_seconds": meter.per_second("machine"), "worker_peak": meter.peak_percent("master_worker")}


def phase(name: str, fleet: Fleet, master: Child, master_http: str, master_ws: str, relays: Dict[str, Child],
          services: Dict[str, Child], options, rng: random.Random) -> List[dict]:
    """Clients added step by step (through the relays, or straight to the
    master), one window per step; the rows of the table."""
    via_relays = name == "relays"
    steps = [round(options.clients * (n + 1) / options.steps) for n in range(options.steps)]
    started, windows, placed = [], [], dict.fromkeys(relays, 0)
    try:
        for step, total in enumerate(steps):
            new = total - (steps[step - 1] if step else 0)
            urls = None
            if via_relays:
                listing = wait_for_listing(master_http, placed, 3 * options.report_interval + 10)
                urls = place(listing, new, master_ws, rng)
                for url in urls:
                    placed[url] = placed.get(url, 0) + 1
            began = time.monotonic()
            workers = max(1, round(options.workers * new / options.clients))
            started += start_subscribers(fleet, new, workers, master_ws, first=total - new, session_urls=urls,
                                         tag=f"{name}-{step + 1}")
            spread = ", ".join(f"{url.rsplit(':', 1)[1].split('/')[0]}: {n}" for url, n in placed.items())
            print(f"  {name}: {total} clients ({new} new in {len(started)} processes in all"
                  f"{'; per relay port ' + spread if via_relays else ''}) subscribed in "
                  f"{time.monotonic() - began:.0f} s; warming up {options.warmup:g} s", flush=True)
            time.sleep(options.warmup)
            measured = window(fleet, master, relays, list(services.values()), [c for c, _ in started],
                              options.duration)
            measured.update(setup=name, clients=total)
            windows.append(measured)
        if via_relays:
            listed = listing_or_empty(master_http)
            print(f"  /relays at the end: {listed} (placed {placed})", flush=True)
        recorded = collect(fleet, [], started, options.grace)
        started = []
    finally:
        fleet.stop([child for child, _ in started])
    for measured in windows:
        present = {**recorded, "events": [e for e in recorded["events"] if e[0] < measured["clients"]]}
        measured.update(analyse(present, measured["window"], measured["clients"], list(services),
                                measured["machine_seconds"]))
    return windows


def run(options) -> List[dict]:
    if options.quiet_wait > 0:
        busy = wait_for_quiet(options.quiet_below, options.quiet_wait)
        print(f"  machine busy before starting: {busy:.0f} % (of {CAPACITY:.0f} %)", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="ltrelays-"))
    fleet = Fleet(workdir, hermetic_env(workdir))
    rng = random.Random(options.seed)
    try:
        began = time.monotonic()
        master, master_ws = start_router(fleet, ["--no-dvr", "--no-catalogue"],
                                         env={"LIVETIMING_RELAY_KEY_FILE": str(workdir / "relay-keys")})
        master_http = master_ws.replace("ws://", "http://").rsplit("/ws", 1)[0]
        relays = start_relays(fleet, options.relays, master_ws, options.report_interval)
        wait_for_listing(master_http, dict.fromkeys(relays, 0), 3 * options.report_interval + 10)
        services = start_services(fleet, options.services, master_ws, options.cars, options.stagger)
        print(f"  master {master_ws}, {len(relays)} relays listed, {len(services)} services joined in "
              f"{time.monotonic() - began:.0f} s; warming up {options.warmup:g} s", flush=True)
        time.sleep(options.warmup)
        baseline = window(fleet, master, relays, list(services.values()), [], options.duration)
        baseline.update(setup="none", clients=0)
        rows = [baseline]
        rows += phase("relays", fleet, master, master_http, master_ws, relays, services, options, rng)
        rows += phase("direct", fleet, master, master_http, master_ws, relays, services, options, rng)
        return rows
    finally:
        fleet.stop_all()
        if options.keep:
            print(f"  logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


# --- report ------------------------------------------------------------------

def figure(row: dict, key: str, fmt: str = "{:.0f}", per: float = 1.0) -> str:
    """A delivery figure of a row, "-" for the window without clients."""
    if "published" not in row:
        return "-"
    return fmt.format(row[key] / per if per != 1.0 else row[key])


def table(rows: List[dict], relay_names: List[str]) -> None:
    header = ("setup", "clients", "pub/s", "delivered", "expected", "lost", "p50 ms", "p99 ms", "max ms",
              "master%", *(f"{name}%" for name in relay_names), "svc%", "clients%", "machine%", "other%",
              "full s")
    lines = []
    for r in rows:
        cpu = r["cpu"]
        ours = sum(cpu[g] for g in ("master", "services", "clients", "bench", *relay_names))
        seconds = (r["window"][1] - r["window"][0]) / 1000.0
        lines.append((r["setup"], r["clients"], figure(r, "published", "{:.1f}", seconds),
                      figure(r, "delivered", "{}"), figure(r, "expected", "{}"), figure(r, "lost", "{}"),
                      figure(r, "p50"), figure(r, "p99"), figure(r, "max"), f"{cpu['master']:.1f}",
                      *(f"{cpu[name]:.1f}" for name in relay_names), f"{cpu['services']:.0f}",
                      f"{cpu['clients']:.0f}", f"{cpu['machine']:.0f}", f"{max(0.0, cpu['machine'] - ours):.0f}",
                      sum(1 for _, _, busy in r["machine_seconds"] if busy >= 0.95 * CAPACITY)))
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines)]
    print(f"\nCPU in % of one core ({os.cpu_count()} cores = {CAPACITY:.0f} %); delivered/expected/lost are "
          f"updates in the window; full s: seconds of it with the machine >= 95 % busy")
    for line in (header, *lines):
        print("  ".join(str(x).rjust(w) for x, w in zip(line, widths)))


def summary(rows: List[dict], relay_names: List[str]) -> None:
    base = rows[0]["cpu"]["master"]
    for setup in ("relays", "direct"):
        mine = [r for r in rows if r["setup"] == setup]
        if not mine:
            continue
        last = mine[-1]
        growth = last["cpu"]["master"] - base
        delivered = sum(r["delivered"] for r in mine)
        expected = sum(r["expected"] for r in mine)
        latencies = "p99 " + ", ".join(f"{r['p99']:.0f}" for r in mine) + " ms"
        print(f"{setup}: master CPU {base:.1f} % with no clients -> {last['cpu']['master']:.1f} % with "
              f"{last['clients']} clients ({growth:+.1f}, {100 * growth / max(1, last['clients']):+.2f} per 100 "
              f"clients; router worker peak 1-s {last['worker_peak']:.0f} %); delivered {delivered} of "
              f"{expected}; {latencies} by step")
    relayed = [r for r in rows if r["setup"] == "relays"]
    if relayed:
        lost = sum(r["lost"] for r in relayed)
        worst = max(r["p99"] for r in relayed)
        met = lost == 0 and worst < LATENCY_GOAL_MS
        print(f"Goal through relays (0 lost, p99 < {LATENCY_GOAL_MS:g} ms): {'MET' if met else 'NOT MET'} "
              f"(lost {lost}, worst p99 {worst:.0f} ms, p50 {percentile(sorted(r['p50'] for r in relayed), 0.5):.0f} "
              f"ms); relay trees at {relayed[-1]['clients']} clients: "
              + ", ".join(f"{n} {relayed[-1]['cpu'][n]:.1f} %" for n in relay_names))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=300, help="client sessions K at the last step")
    parser.add_argument("--steps", type=int, default=3, help="steps of K/steps clients each, per setup")
    parser.add_argument("--relays", type=int, default=3, help="relays")
    parser.add_argument("--services", type=int, default=10, help="demo services N (1 state a second each)")
    parser.add_argument("--workers", type=int, default=9, help="client processes at K clients (per setup)")
    parser.add_argument("--duration", type=float, default=30, help="seconds of measurement per window")
    parser.add_argument("--warmup", type=float, default=10, help="seconds before each window")
    parser.add_argument("--grace", type=float, default=5, help="seconds clients keep listening after a setup")
    parser.add_argument("--report-interval", type=float, default=2, help="seconds between the relays' reports")
    parser.add_argument("--cars", type=int, default=30, help="cars per demo service")
    parser.add_argument("--stagger", type=float, default=0.1, help="seconds between service starts")
    parser.add_argument("--seed", type=int, default=11, help="seed of the pick's tie-breaks")
    parser.add_argument("--quiet-below", type=float, default=40,
                        help="wait for the machine to be less busy than this first (%% of one core)")
    parser.add_argument("--quiet-wait", type=float, default=90, help="... but at most this many seconds (0: don't)")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory (logs) for inspection")
    options = parser.parse_args()
    if options.clients < options.steps or options.steps < 1 or options.relays < 1:
        parser.error("need --steps >= 1, --relays >= 1 and --clients >= --steps")
    return options


def main() -> int:
    options = parse_args()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)
    print(f"Relays: master + {options.relays} relays + {options.services} demo services ({options.cars} cars), "
          f"up to {options.clients} clients in {options.steps} steps through the relays, then straight to the "
          f"master; warm-up {options.warmup:g} s, window {options.duration:g} s, grace {options.grace:g} s; "
          f"{os.cpu_count()} cores; code {code_version()}", flush=True)
    try:
        rows = run(options)
    except RuntimeError as error:
        print(f"FAILED: {error}", flush=True)
        return 1
    names = [f"relay-{n}" for n in range(1, options.relays + 1)]
    table(rows, names)
    print()
    summary(rows, names)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as stop:
        sys.exit(f"interrupted ({stop or 'SIGINT'}); all processes stopped")
