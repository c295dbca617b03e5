"""`python -m livetiming.cli.relay_host`: the relay component
(`orchestration/relay.py`) in a process of its own beside the relay's
Crossbar, which `livetiming-relay` starts and restarts. It reports `ready`
on `--ready-fd` each time it has joined the relay's router, and runs until
signalled (its sessions reconnect by themselves)."""
import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional

from twisted.internet import defer

from .. import config
from ..observability import start_logging
from ..orchestration.relay import Relay
from ..orchestration.relay_book import REPORT_INTERVAL
from ..orchestration.router_config import RELAY_SOCKET
from .component import SESSION_ENDED


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="livetiming-relay component")
    parser.add_argument("--cbdir", required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--public-url")
    parser.add_argument("--report-url")
    parser.add_argument("--report-interval", type=float, default=REPORT_INTERVAL)
    parser.add_argument("--ready-fd", type=int)
    parser.add_argument("--log-name", default="livetiming-relay")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    config.load_env_file()

    from twisted.internet import reactor

    start_logging(args.log_name, verbose=args.verbose)

    def ready() -> None:
        if args.ready_fd is not None:
            os.write(args.ready_fd, b"ready\n")

    relay = Relay(args.upstream, str(Path(args.cbdir) / RELAY_SOCKET), public_url=args.public_url,
                  key=config.get("LIVETIMING_RELAY_KEY"), report_url=args.report_url,
                  report_interval=args.report_interval, on_ready=ready)
    asked = {"stop": False}

    def done(_):
        """A session autobahn will not reconnect (e.g. one the router ended):
        exit, and be restarted by `livetiming-relay`."""
        if not asked["stop"]:
            reactor.stop()

    def stop():
        asked["stop"] = True
        return relay.stop()

    reactor.callWhenRunning(lambda: defer.DeferredList(relay.start(reactor), fireOnOneCallback=True,
                                                       fireOnOneErrback=True, consumeErrors=True).addBoth(done))
    reactor.addSystemEventTrigger("before", "shutdown", stop)
    reactor.run()
    return 0 if asked["stop"] else SESSION_ENDED


if __name__ == "__main__":
    sys.exit(main())
