"""The command-line options every service has (components.md,
`livetiming-service`). Plugins add their own: either a classmethod
`add_arguments(parser)` on their Service class, or by parsing `extra_args`."""
import argparse
from typing import List, Optional

from ..orchestration.identity import SERVICE_UUID

UUID_PATTERN = SERVICE_UUID
"""The one rule for a live service's uuid (the router refuses any other at login)."""


def _uuid(value: str) -> str:
    if not UUID_PATTERN.match(value):
        raise argparse.ArgumentTypeError(f"invalid uuid {value!r}: use 1-64 letters, digits, '-' and '_'")
    return value


CHECK_UPDATES = 5


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def build_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livetiming-service",
        description="Run a timing-service plugin and publish its data.",
        add_help=add_help,
    )
    parser.add_argument("plugin", help="plugin name (see livetiming-plugins)")
    parser.add_argument("-d", "--description", help="service description (default: the plugin's)")
    parser.add_argument("--debug", action="store_true", help="log debug messages")
    parser.add_argument("--disable-analysis", action="store_true", help="do not run the live analyser")
    parser.add_argument("-H", "--hidden", action="store_true", help="hide from the public directory listing")
    parser.add_argument("-N", "--do-not-record", action="store_true", help="ask the DVR not to record this service")
    parser.add_argument("-m", "--masquerade", metavar="CLASS",
                        help="serviceClass to announce instead of the plugin name")
    parser.add_argument("-r", "--recording-file", metavar="FILE", help="record this service locally to FILE")
    parser.add_argument("-s", "--initial-state", metavar="FILE",
                        help="resume from a saved state file (reuses its uuid)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stdout instead of LIVETIMING_LOG_DIR")
    parser.add_argument("--standalone", action="store_true",
                        help="serve over a local WebSocket even if LIVETIMING_ROUTER is set")
    parser.add_argument("--no-write-state", action="store_true", help="do not write state files")
    parser.add_argument("--uuid", type=_uuid, help="service uuid (default: a fresh one)")
    parser.add_argument("--check", action="store_true",
                        help="check the plugin without any network: run it for --updates updates on a simulated "
                             "clock, validate every state against its manifest, print the timing table; "
                             "exit 0 when valid, 1 when problems were found")
    parser.add_argument("--updates", type=_positive_int, metavar="N",
                        help=f"with --check: how many updates to run (default {CHECK_UPDATES})")
    return parser


def default_args(plugin: str = "demo", argv: Optional[List[str]] = None, **overrides) -> argparse.Namespace:
    """Options as the command line would give them, for tests and benchmarks."""
    args = build_parser().parse_args([plugin] + list(argv or []))
    for key, value in overrides.items():
        setattr(args, key, value)
    return args
