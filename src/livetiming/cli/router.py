"""`livetiming-router`: run the master router and keep it running.

It starts Crossbar with the project's config and, beside it, one process per
component (authorizer, directory, DVR, catalogue, relay monitor; see
`cli/host.py`), supervised by `cli/node.py`. With `--demo` it also runs the
demo race in the network, and with `--relays N` N local relays with keys, so
that a newcomer sees the whole three-tier network on one machine."""
import argparse
import json
import secrets
import sys
from pathlib import Path
from typing import Dict, List, Optional

from .. import config
from ..atomic import write_atomically
from ..orchestration.directory import intervals
from ..orchestration.relay_keys import RelayKeyError, load_keys
from ..orchestration.router_config import PRIVATE_SOCKETS, build_config
from ..orchestration.settings import SettingError
from .errors import fail
from .node import (
    ChildSpec,
    ConfigurationError,
    NodePlan,
    claimed,
    crossbar_spec,
    executable,
    port_number,
    probe_address,
    public_url,
    run_node,
)

PROG = "livetiming-router"
DEFAULT_PORT = 5080
MAX_LOCAL_RELAYS = 16
RELAY_KEY_FILE = "relay-keys"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Run the master router of a live-timing network.")
    parser.add_argument("--port", type=port_number,
                        help=f"WebSocket port (default: LIVETIMING_ROUTER_PORT or {DEFAULT_PORT})")
    parser.add_argument("--interface", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--cbdir", help="Crossbar node directory (default: a per-user data directory)")
    parser.add_argument("--production", action="store_true",
                        help="TLS endpoint; key and certificates in CBDIR/tls (server.key, server.crt, chain.crt)")
    parser.add_argument("--print-config", action="store_true", help="print the Crossbar config and exit")
    parser.add_argument("--no-dvr", action="store_true", help="do not run the DVR beside the router")
    parser.add_argument("--no-catalogue", action="store_true", help="do not run the recordings catalogue")
    parser.add_argument("--demo", nargs="?", type=float, const=10.0, metavar="SPEED",
                        help="also run the demo race in the network (at SPEED x real time, default 10)")
    parser.add_argument("--relays", type=relay_count, default=0, metavar="N",
                        help="also run N local relays (ports after the router's), listed at /relays")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the logs instead of writing them to LIVETIMING_LOG_DIR")
    return parser


def relay_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of relays: {text!r}") from None
    if not 0 <= count <= MAX_LOCAL_RELAYS:
        raise argparse.ArgumentTypeError(f"--relays is between 0 and {MAX_LOCAL_RELAYS}, not {count}")
    return count


def directory_settings() -> None:
    """The directory's intervals come from the environment (tests shorten
    them): check them now, so that a bad one stops us before anything runs."""
    try:
        intervals(None)
    except SettingError as error:
        raise ConfigurationError(str(error)) from None


def local_relay_keys(cbdir: Path, count: int) -> tuple:
    """(key file, keys) for `count` local relays: the operator's
    LIVETIMING_RELAY_KEY_FILE when set (its first keys), else a file of new
    keys in the node directory."""
    configured = config.get("LIVETIMING_RELAY_KEY_FILE")
    if configured:
        try:
            keys = list(load_keys(configured).values())
        except RelayKeyError as error:
            raise ConfigurationError(str(error)) from None
        if len(keys) < count:
            raise ConfigurationError(f"--relays {count} needs {count} keys in LIVETIMING_RELAY_KEY_FILE "
                                     f"{configured}; it lists {len(keys)}")
        return configured, keys[:count]
    keys = [secrets.token_urlsafe(24) for _ in range(count)]
    path = cbdir / RELAY_KEY_FILE
    write_atomically(path, "".join(f"{key}\n" for key in keys), mode=0o600)
    return str(path), keys


def extras(args, cbdir: Path, port: int, url: str, relay_keys: List[str]) -> Dict[str, ChildSpec]:
    """The demo race and the local relays, started once the router is ready."""
    children = {}
    if args.demo:
        children["demo"] = ChildSpec(
            [sys.executable, "-m", "livetiming.cli.service", "demo", "-v", "--speed", str(args.demo), "--grid", "10"],
            {"LIVETIMING_ROUTER": url}, reports_ready=False)
    for number, key in enumerate(relay_keys, start=1):
        relay_port = port + number
        children[f"relay {number}"] = ChildSpec(
            [sys.executable, "-m", "livetiming.cli.relay", "--port", str(relay_port),
             "--interface", args.interface, "--cbdir", str(cbdir / f"relay-{number}"),
             "--upstream", url, "--public-url", public_url(args.interface, relay_port, args.production),
             *(["-v"] if args.verbose else [])],
            {"LIVETIMING_RELAY_KEY": key}, reports_ready=False)
    return children


def main(argv: Optional[List[str]] = None) -> int:
    config.load_env_file()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        port = args.port or port_number(config.get("LIVETIMING_ROUTER_PORT", str(DEFAULT_PORT)))
        node_config = build_config(port=port, interface=args.interface, production=args.production)
        directory_settings()
        probe_address(args.interface)
        if port + args.relays > 65535:
            raise ConfigurationError(f"--relays {args.relays} needs ports {port + 1}-{port + args.relays}")
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
    cbdir = Path(args.cbdir).expanduser().absolute() if args.cbdir else config.data_home() / "router"
    url = public_url(args.interface, port, args.production)
    try:
        with claimed(cbdir):
            key_file, keys = local_relay_keys(cbdir, args.relays) if args.relays else (None, [])
            plan = router_plan(args, crossbar, cbdir, port, url, keys, key_file)
            return run_node(plan, node_config)
    except ConfigurationError as error:
        return fail(PROG, str(error))


def router_plan(args, crossbar: str, cbdir: Path, port: int, url: str, relay_keys: List[str],
                relay_key_file: Optional[str]) -> NodePlan:
    host_argv = [sys.executable, "-m", "livetiming.cli.host"]
    hosts = [name for name, wanted in (("authorizer", True), ("directory", True), ("dvr", not args.no_dvr),
                                       ("catalogue", not args.no_catalogue), ("relays", True)) if wanted]
    crossbar_env = {"LIVETIMING_RELAY_KEY_FILE": relay_key_file} if relay_key_file else {}
    return NodePlan(
        prog=PROG,
        crossbar=crossbar_spec(crossbar, cbdir, crossbar_env),
        cbdir=cbdir, port=port, interface=args.interface,
        hosts={name: ChildSpec([*host_argv, name, "--cbdir", str(cbdir), "--ready-fd", "3",
                                *(["-v"] if args.verbose else [])]) for name in hosts},
        ready_lines=[f"Router ready: services and clients connect to {url} (realm timing; LIVETIMING_ROUTER={url})",
                     f"Watch: {public_url(args.interface, port, args.production, '/')}"],
        extras=extras(args, cbdir, port, url, relay_keys),
        private_sockets=PRIVATE_SOCKETS,
        log_path=None if args.verbose else config.directory("LIVETIMING_LOG_DIR") / "router.log",
    )


if __name__ == "__main__":
    sys.exit(main())
