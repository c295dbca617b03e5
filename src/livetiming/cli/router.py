"""`livetiming-router`: start the master router (Crossbar with the project's
config, the authenticator and the directory inside it) and print where
services and clients connect."""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional

from .. import config
from ..orchestration.router_config import build_config
from .errors import FAILURE, fail

PROG = "livetiming-router"
DEFAULT_PORT = 5080
READY_TIMEOUT = 90.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Run the master router of a live-timing network.")
    parser.add_argument("--port", type=int, help=f"WebSocket port (default: LIVETIMING_ROUTER_PORT or {DEFAULT_PORT})")
    parser.add_argument("--interface", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--cbdir", help="Crossbar node directory (default: a per-user data directory)")
    parser.add_argument("--production", action="store_true",
                        help="TLS endpoint; key and certificates in CBDIR/tls (server.key, server.crt, chain.crt)")
    parser.add_argument("--print-config", action="store_true", help="print the Crossbar config and exit")
    parser.add_argument("--no-dvr", action="store_true", help="do not run the DVR inside the router")
    parser.add_argument("--no-catalogue", action="store_true",
                        help="do not run the recordings catalogue inside the router")
    parser.add_argument("--demo", nargs="?", type=float, const=10.0, metavar="SPEED",
                        help="also run the demo race in the network (at SPEED x real time, default 10)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show Crossbar's log instead of writing it to LIVETIMING_LOG_DIR/router.log")
    return parser


def crossbar_executable() -> Optional[str]:
    beside = Path(sys.executable).parent / "crossbar"
    return str(beside) if beside.exists() else shutil.which("crossbar")


def port_is_free(interface: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((interface, port))
        except OSError:
            return False
    return True


def port_is_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def directory_settings() -> dict:
    """Directory intervals may be shortened through the environment (tests)."""
    settings = {}
    for key, env in (("liveness_interval", "LIVETIMING_DIRECTORY_LIVENESS_INTERVAL"),
                     ("publish_interval", "LIVETIMING_DIRECTORY_PUBLISH_INTERVAL")):
        if config.get(env):
            settings[key] = float(config.get(env))
    return settings


def main(argv: Optional[List[str]] = None) -> int:
    config.load_env_file()
    args = build_parser().parse_args(argv)
    port = args.port if args.port is not None else int(config.get("LIVETIMING_ROUTER_PORT", str(DEFAULT_PORT)))
    node_config = build_config(port=port, interface=args.interface, production=args.production,
                               directory=directory_settings(), dvr=not args.no_dvr,
                               catalogue=not args.no_catalogue)
    if args.print_config:
        print(json.dumps(node_config, indent=2))
        return 0
    if not config.get("LIVETIMING_SHARED_SECRET"):
        return fail(PROG, "LIVETIMING_SHARED_SECRET is not set; the router will not run without a secret "
                          "(set it in the environment or in livetiming.env)")
    crossbar = crossbar_executable()
    if crossbar is None:
        return fail(PROG, "Crossbar is not installed: pip install 'livetiming-core[router]'")
    if not port_is_free(args.interface, port):
        return fail(PROG, f"port {port} on {args.interface} is already in use (choose another with --port)", FAILURE)

    cbdir = Path(args.cbdir) if args.cbdir else config.data_home() / "router"
    cbdir.mkdir(parents=True, exist_ok=True)
    (cbdir / "config.json").write_text(json.dumps(node_config, indent=2), encoding="utf-8")
    log_path = None
    if args.verbose:
        output = None
    else:
        log_path = config.directory("LIVETIMING_LOG_DIR") / "router.log"
        output = open(log_path, "a", encoding="utf-8")
    router = subprocess.Popen([crossbar, "start", "--cbdir", str(cbdir), "--config", "config.json"],
                              stdout=output, stderr=subprocess.STDOUT if output else None,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return supervise(router, port, args.interface, log_path, args.demo)


def start_demo(url: str, speed: float) -> subprocess.Popen:
    """The demo race as a service of this network, its live summary on our stdout."""
    service = Path(sys.executable).parent / "livetiming-service"
    return subprocess.Popen([str(service), "demo", "-v", "--speed", str(speed), "--grid", "10"],
                            env={**os.environ, "LIVETIMING_ROUTER": url})


def supervise(router: subprocess.Popen, port: int, interface: str, log_path: Optional[Path],
              demo_speed: Optional[float] = None) -> int:
    """Wait for the router to listen, report, forward SIGINT/SIGTERM, wait for it to stop."""
    stopping = []
    children = []

    def stop(signum, frame):
        stopping.append(signum)
        for child in children + [router]:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    deadline = time.monotonic() + READY_TIMEOUT
    while not port_is_open(port):
        if router.poll() is not None or time.monotonic() > deadline:
            if router.poll() is None:
                router.terminate()
            where = f"; see {log_path}" if log_path else ""
            return fail(PROG, f"Crossbar did not start (exit code {router.wait()}){where}", FAILURE)
        if stopping:
            break
        time.sleep(0.1)
    else:
        host = "127.0.0.1" if interface in ("0.0.0.0", "127.0.0.1") else interface
        url = f"ws://{host}:{port}/ws"
        print(f"Router ready: services and clients connect to {url} (realm timing; LIVETIMING_ROUTER={url})",
              flush=True)
        if demo_speed:
            children.append(start_demo(url, demo_speed))
    try:
        code = router.wait(timeout=None)
    except KeyboardInterrupt:
        code = router.wait()
    for child in children:
        if child.poll() is None:
            child.terminate()
        child.wait()
    if stopping:
        return 0
    return fail(PROG, f"Crossbar exited unexpectedly (exit code {code})", FAILURE)


if __name__ == "__main__":
    sys.exit(main())
