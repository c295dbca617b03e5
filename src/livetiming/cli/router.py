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
    parser.add_argument("--port", type=port_number,
                        help=f"WebSocket port (default: LIVETIMING_ROUTER_PORT or {DEFAULT_PORT})")
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


class ConfigurationError(Exception):
    """A setting is unusable; the message says which."""


def port_number(text: str) -> int:
    try:
        port = int(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is between 1 and 65535, not {port}")
    return port


def executable(name: str) -> Optional[str]:
    """A console script: beside this interpreter (a virtualenv), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def probe_address(interface: str) -> tuple:
    """(family, address) to bind or connect to for a listening interface."""
    try:
        family, _, _, _, address = socket.getaddrinfo(interface, None, type=socket.SOCK_STREAM)[0]
    except socket.gaierror:
        raise ConfigurationError(f"--interface {interface!r} is not an address of this machine") from None
    host = address[0]
    if host == "0.0.0.0":
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return family, host


def port_is_free(interface: str, port: int) -> bool:
    family, _ = probe_address(interface)
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((interface, port))
        except OSError:
            return False
    return True


def port_is_open(interface: str, port: int) -> bool:
    _, host = probe_address(interface)
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def directory_settings() -> dict:
    """Directory intervals may be shortened through the environment (tests)."""
    settings = {}
    for key, env in (("liveness_interval", "LIVETIMING_DIRECTORY_LIVENESS_INTERVAL"),
                     ("publish_interval", "LIVETIMING_DIRECTORY_PUBLISH_INTERVAL")):
        value = config.get(env)
        if value:
            try:
                settings[key] = float(value)
            except ValueError:
                raise ConfigurationError(f"{env} is not a number of seconds: {value!r}") from None
    return settings


def main(argv: Optional[List[str]] = None) -> int:
    config.load_env_file()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        port = args.port or port_number(config.get("LIVETIMING_ROUTER_PORT", str(DEFAULT_PORT)))
        node_config = build_config(port=port, interface=args.interface, production=args.production,
                                   directory=directory_settings(), dvr=not args.no_dvr,
                                   catalogue=not args.no_catalogue)
        probe_address(args.interface)
    except argparse.ArgumentTypeError as error:
        return fail(PROG, f"LIVETIMING_ROUTER_PORT: {error}")
    except ConfigurationError as error:
        return fail(PROG, str(error))
    if args.print_config:
        print(json.dumps(node_config, indent=2))
        return 0
    if not config.get("LIVETIMING_SHARED_SECRET"):
        return fail(PROG, "LIVETIMING_SHARED_SECRET is not set; the router will not run without a secret "
                          "(set it in the environment or in livetiming.env)")
    crossbar = executable("crossbar")
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
    try:
        return supervise(router, port, args.interface, log_path, args.demo, args.production)
    finally:  # whatever happened here, Crossbar must not outlive us
        if router.poll() is None:
            router.terminate()
            try:
                router.wait(30)
            except subprocess.TimeoutExpired:
                router.kill()


def start_demo(url: str, speed: float) -> subprocess.Popen:
    """The demo race as a service of this network, its live summary on our stdout."""
    return subprocess.Popen([sys.executable, "-m", "livetiming.cli.service", "demo", "-v", "--speed", str(speed),
                             "--grid", "10"], env={**os.environ, "LIVETIMING_ROUTER": url})


def supervise(router: subprocess.Popen, port: int, interface: str, log_path: Optional[Path],
              demo_speed: Optional[float] = None, tls: bool = False) -> int:
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
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not port_is_open(interface, port):
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
            url = f"{'wss' if tls else 'ws'}://{host}:{port}/ws"
            print(f"Router ready: services and clients connect to {url} (realm timing; LIVETIMING_ROUTER={url})",
                  flush=True)
            if demo_speed:
                children.append(start_demo(url, demo_speed))
        try:
            code = router.wait(timeout=None)
        except KeyboardInterrupt:
            code = router.wait()
        if stopping:
            return 0
        return fail(PROG, f"Crossbar exited unexpectedly (exit code {code})", FAILURE)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
            child.wait()


if __name__ == "__main__":
    sys.exit(main())
