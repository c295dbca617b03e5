"""`livetiming-relay`: run a relay, the public side of the network.

A relay is a Crossbar node of its own (config from `router_config`, the same
public rules as the master) with the relay component beside it (see
`orchestration/relay.py`): it joins its upstream — the master, or another
relay, so relays form a tree — anonymously, re-publishes everything under
`livetiming.` to its own clients, forwards their calls, and reports its
public URL and client count to the master, which lists it at `/relays` when
its key (LIVETIMING_RELAY_KEY) is one the master accepts. Same conventions
as `livetiming-router`: supervised children, clean stop, one-line errors."""
import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

from .. import config
from ..orchestration.relay_book import REPORT_INTERVAL, ReportError, check_report
from ..orchestration.relay_keys import RelayKeyError, check_key
from ..orchestration.router_config import RELAY_SOCKET, build_relay_config
from ..orchestration.settings import SettingError, positive_seconds
from ..service.router import RouterURLError, transport_for
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

PROG = "livetiming-relay"
DEFAULT_PORT = 5081


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Run a relay: re-publish a live-timing network's data to the public.")
    parser.add_argument("--upstream", help="the master's (or another relay's) WebSocket URL, e.g. "
                                           "wss://master.example/ws (default: LIVETIMING_RELAY_UPSTREAM)")
    parser.add_argument("--public-url", help="the URL clients reach this relay at, reported to the master "
                                             "(default: LIVETIMING_RELAY_URL; unset: not listed)")
    parser.add_argument("--report-to", help="the master's WebSocket URL to report to, when the upstream is "
                                            "another relay (default: the upstream)")
    parser.add_argument("--report-interval", help=f"seconds between reports (default: "
                                                  f"LIVETIMING_RELAY_REPORT_INTERVAL or {REPORT_INTERVAL:g})")
    parser.add_argument("--port", type=port_number,
                        help=f"port for clients (default: LIVETIMING_RELAY_PORT or {DEFAULT_PORT})")
    parser.add_argument("--interface", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--cbdir", help="Crossbar node directory (default: a per-user data directory)")
    parser.add_argument("--production", action="store_true",
                        help="TLS endpoint; key and certificates in CBDIR/tls (server.key, server.crt, chain.crt)")
    parser.add_argument("--print-config", action="store_true", help="print the Crossbar config and exit")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the logs instead of writing them to LIVETIMING_LOG_DIR")
    return parser


def settings(args) -> dict:
    """Options, else the environment; ConfigurationError names the bad one."""
    upstream = args.upstream or config.get("LIVETIMING_RELAY_UPSTREAM")
    if not upstream:
        raise ConfigurationError("no upstream: give --upstream ws://master:5080/ws (or LIVETIMING_RELAY_UPSTREAM)")
    report_to = args.report_to or upstream
    for name, url in (("--upstream", upstream), ("--report-to", report_to)):
        try:
            if transport_for(url)["type"] != "websocket":
                raise RouterURLError(f"{url!r} is not a ws:// or wss:// URL")
        except RouterURLError as error:
            raise ConfigurationError(f"{name}: {error}") from None
    public = args.public_url or config.get("LIVETIMING_RELAY_URL")
    if public:
        try:
            check_report(public, 0)
        except ReportError as error:
            raise ConfigurationError(f"--public-url {public!r}: {error}") from None
    key = config.get("LIVETIMING_RELAY_KEY")
    if key:
        try:
            check_key(key)
        except RelayKeyError as error:
            raise ConfigurationError(f"LIVETIMING_RELAY_KEY: {error}") from None
    interval = args.report_interval or config.get("LIVETIMING_RELAY_REPORT_INTERVAL") or REPORT_INTERVAL
    try:
        interval = positive_seconds(interval, "--report-interval")
    except SettingError as error:
        raise ConfigurationError(str(error)) from None
    try:
        port = args.port or port_number(config.get("LIVETIMING_RELAY_PORT", str(DEFAULT_PORT)))
    except argparse.ArgumentTypeError as error:
        raise ConfigurationError(f"LIVETIMING_RELAY_PORT: {error}") from None
    return {"upstream": upstream, "report_to": report_to, "public": public, "key": key, "interval": interval,
            "port": port}


def main(argv: Optional[List[str]] = None) -> int:
    config.load_env_file()
    args = build_parser().parse_args(argv)
    if args.print_config:
        try:
            port = args.port or port_number(config.get("LIVETIMING_RELAY_PORT", str(DEFAULT_PORT)))
        except argparse.ArgumentTypeError as error:
            return fail(PROG, f"LIVETIMING_RELAY_PORT: {error}")
        print(json.dumps(build_relay_config(port, args.interface, args.production), indent=2))
        return 0
    try:
        found = settings(args)
        probe_address(args.interface)
    except ConfigurationError as error:
        return fail(PROG, str(error))
    crossbar = executable("crossbar")
    if crossbar is None:
        return fail(PROG, "Crossbar is not installed: pip install 'livetiming-core[router]'")
    port = found["port"]
    cbdir = Path(args.cbdir).expanduser().absolute() if args.cbdir else config.data_home() / f"relay-{port}"
    url = public_url(args.interface, port, args.production)
    listed = found["public"] and found["key"]
    host = ChildSpec([sys.executable, "-m", "livetiming.cli.relay_host", "--cbdir", str(cbdir),
                      "--upstream", found["upstream"], "--report-url", found["report_to"],
                      "--report-interval", repr(found["interval"]), "--ready-fd", "3",
                      "--log-name", f"relay-{port}",
                      *(["--public-url", found["public"]] if listed else []), *(["-v"] if args.verbose else [])])
    note = (f"reporting as {found['public']} to {found['report_to']}" if listed else
            "not listed by the master (needs --public-url and LIVETIMING_RELAY_KEY)")
    plan = NodePlan(
        prog=PROG,
        crossbar=crossbar_spec(crossbar, cbdir),
        cbdir=cbdir, port=port, interface=args.interface,
        hosts={"relay": host},
        ready_lines=[f"Relay ready: clients connect to {url} (upstream {found['upstream']}; {note})"],
        private_sockets=(RELAY_SOCKET,),
        log_path=None if args.verbose else config.directory("LIVETIMING_LOG_DIR") / f"relay-{port}.log",
    )
    try:
        with claimed(cbdir):
            return run_node(plan, build_relay_config(port, args.interface, args.production))
    except ConfigurationError as error:
        return fail(PROG, str(error))


if __name__ == "__main__":
    sys.exit(main())
