"""`python -m livetiming.cli.host NAME --cbdir DIR`: one router component
(authorizer, directory, DVR, catalogue or relay monitor) in a process of its own, joined
over the node directory's private unix socket, which gives it its role.

`livetiming-router` starts one host per component and restarts it when it
dies or its session ends (it reconnects by itself after a router restart,
and exits when its session is killed). Each time its
session is set up it writes `ready` to the file descriptor given with
`--ready-fd`, which is how the router knows (and reports) that it is back."""
import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional

from autobahn.twisted.component import Component
from twisted.internet.defer import inlineCallbacks

from .. import config
from ..backoff import COMPONENT_HOST, autobahn_retry
from ..observability import start_logging
from ..orchestration.authorizer import AuthorizerSession
from ..orchestration.catalogue_session import CatalogueSession
from ..orchestration.directory import DirectorySession
from ..orchestration.dvr_session import DVRSession
from ..orchestration.relay_monitor import RelayMonitorSession
from ..orchestration.router_config import COMPONENTS_SOCKET, GUARD_SOCKET
from ..protocol import Realm
from ..service.router import SERIALIZERS
from .component import run_until_done, standalone_session

HOSTED = {
    "authorizer": (AuthorizerSession, GUARD_SOCKET),
    "directory": (DirectorySession, COMPONENTS_SOCKET),
    "dvr": (DVRSession, COMPONENTS_SOCKET),
    "catalogue": (CatalogueSession, COMPONENTS_SOCKET),
    "relays": (RelayMonitorSession, COMPONENTS_SOCKET),
}
RETRY = autobahn_retry(COMPONENT_HOST)
"""The socket is local: come back quickly after a router restart
(`livetiming.backoff.COMPONENT_HOST`)."""


def announcing(session_class: type, ready_fd: Optional[int]) -> type:
    """`session_class` that reports on `ready_fd` once its onJoin has finished."""

    class Announcing(session_class):
        @inlineCallbacks
        def onJoin(self, details):
            yield super().onJoin(details)
            if ready_fd is not None:
                os.write(ready_fd, b"ready\n")

    Announcing.__name__ = session_class.__name__
    return Announcing


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="livetiming-router component host")
    parser.add_argument("name", choices=sorted(HOSTED))
    parser.add_argument("--cbdir", required=True, help="the router's node directory")
    parser.add_argument("--ready-fd", type=int, help="file descriptor to report readiness on")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    config.load_env_file()
    session_class, socket_name = HOSTED[args.name]
    path = str(Path(args.cbdir) / socket_name)

    from twisted.internet import reactor

    start_logging(f"livetiming-{args.name}", verbose=args.verbose)
    component = Component(
        transports=[{"type": "rawsocket", "url": f"rs://unix:{path}", "serializer": SERIALIZERS[0],
                     "endpoint": {"type": "unix", "path": path}, **RETRY}],
        realm=Realm.TIMING,
        session_factory=standalone_session(announcing(session_class, args.ready_fd)),
        extra={"cbdir": args.cbdir},
    )
    return run_until_done(component, reactor)


if __name__ == "__main__":
    sys.exit(main())
