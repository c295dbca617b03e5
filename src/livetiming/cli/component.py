"""Running a router component (directory, DVR, catalogue) standalone: join
LIVETIMING_ROUTER with WAMP-CRA, reconnecting with back-off, until signalled."""
import argparse
from typing import List, Optional

from autobahn.twisted.component import Component
from autobahn.twisted.wamp import Session

from .. import config
from ..observability import start_logging
from ..protocol import Realm
from ..service.router import RouterURLError, transport_for
from .errors import fail


def standalone_session(session_class: type) -> type:
    """Crossbar's in-router components must be ApplicationSessions, while
    autobahn's Component (reconnecting, WAMP-CRA) needs its Session API:
    mix the two for standalone runs."""
    return type(f"Standalone{session_class.__name__}", (session_class, Session), {})


def run_component(prog: str, description: str, session_factory, argv: Optional[List[str]] = None,
                  extra: Optional[dict] = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stdout instead of LIVETIMING_LOG_DIR")
    parser.add_argument("--debug", action="store_true", help="log debug messages")
    args = parser.parse_args(argv)
    config.load_env_file()
    url, secret = config.get("LIVETIMING_ROUTER"), config.get("LIVETIMING_SHARED_SECRET")
    if not url or not secret:
        return fail(prog, "LIVETIMING_ROUTER and LIVETIMING_SHARED_SECRET must be set")
    try:
        transport = transport_for(url)
    except RouterURLError as error:
        return fail(prog, str(error))

    from twisted.internet import reactor

    start_logging(prog, verbose=args.verbose, debug=args.debug)
    component = Component(
        transports=[transport], realm=Realm.TIMING, session_factory=standalone_session(session_factory), extra=extra or {},
        authentication={"wampcra": {"authid": config.get("LIVETIMING_AUTH_ID"), "secret": secret}},
    )
    reactor.callWhenRunning(component.start, reactor)
    reactor.addSystemEventTrigger("before", "shutdown", component.stop)
    reactor.run()
    return 0
