"""Running a router component (directory, DVR, catalogue) standalone: join
LIVETIMING_ROUTER, reconnecting with back-off, until signalled.

A component needs the role `components`: either join over the router's
private socket (`rs://unix:<node directory>/components.sock`, no secret: the
socket's file permissions are the credential), or with WAMP-CRA as an auth
id of role `components` from the router's LIVETIMING_AUTH_FILE
(LIVETIMING_AUTH_ID and LIVETIMING_SHARED_SECRET here)."""
import argparse
from typing import List, Optional

from autobahn.twisted.component import Component
from autobahn.twisted.wamp import Session
from twisted.logger import Logger
from twisted.python.failure import Failure

from .. import config
from ..observability import start_logging
from ..orchestration.permissions import SERVICES
from ..protocol import Realm
from ..service.router import RouterURLError, transport_for
from .errors import fail


def standalone_session(session_class: type) -> type:
    """Crossbar's in-router components must be ApplicationSessions, while
    autobahn's Component (reconnecting, WAMP-CRA) needs its Session API:
    mix the two for standalone runs."""
    return type(f"Standalone{session_class.__name__}", (session_class, Session), {})


def authentication_for(transport: dict, authid: Optional[str], secret: Optional[str]) -> Optional[dict]:
    """WAMP-CRA when a secret and a components auth id are set (`services`
    is the timing services' auth id, bound to one service each: never a
    component's), and anonymous over a unix socket (the router's
    components.sock takes only that, and maps it to role `components`);
    None when neither applies."""
    methods = {"wampcra": {"authid": authid, "secret": secret}} if secret and authid != SERVICES else {}
    if transport.get("endpoint", {}).get("type") == "unix":
        methods["anonymous"] = {}
    return methods or None


def run_component(prog: str, description: str, session_factory, argv: Optional[List[str]] = None,
                  extra: Optional[dict] = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stdout instead of LIVETIMING_LOG_DIR")
    parser.add_argument("--debug", action="store_true", help="log debug messages")
    args = parser.parse_args(argv)
    config.load_env_file()
    url = config.get("LIVETIMING_ROUTER")
    if not url:
        return fail(prog, "LIVETIMING_ROUTER must be set (e.g. rs://unix:<router node directory>/components.sock)")
    try:
        transport = transport_for(url)
    except RouterURLError as error:
        return fail(prog, str(error))
    authentication = authentication_for(transport, config.get("LIVETIMING_AUTH_ID"),
                                        config.get("LIVETIMING_SHARED_SECRET"))
    if authentication is None:
        return fail(prog, "a component joins as an auth id of role components (LIVETIMING_AUTH_ID and "
                          "LIVETIMING_SHARED_SECRET, listed in the router's LIVETIMING_AUTH_FILE); on the router's "
                          "host use LIVETIMING_ROUTER=rs://unix:<node directory>/components.sock")

    from twisted.internet import reactor

    start_logging(prog, verbose=args.verbose, debug=args.debug)
    component = Component(
        transports=[transport], realm=Realm.TIMING, session_factory=standalone_session(session_factory),
        extra=extra or {}, authentication=authentication,
    )
    return run_until_done(component, reactor)


SESSION_ENDED = 3
"""Exit code of a component whose session ended without being asked to
(killed by an operator, refused by the router): whoever supervises it
(`livetiming-router`, systemd) starts it again."""


def run_until_done(component: Component, reactor) -> int:
    """Run the reactor until a stop signal (exit code 0) or until the
    component is done by itself: autobahn treats a session the router ended
    normally (e.g. `wamp.session.kill`) as finished and never reconnects, so
    the process ends and its supervisor restarts it (SESSION_ENDED)."""
    outcome = {"code": 0, "stopping": False}
    log = Logger(namespace="livetiming.cli.component")

    def done(result):
        if not outcome["stopping"]:
            reason = result.getErrorMessage() if isinstance(result, Failure) else "the session ended"
            log.error("Component stopped by itself ({reason}); exiting so that it is restarted", reason=reason)
            outcome["code"] = SESSION_ENDED
            outcome["stopping"] = True
            reactor.stop()

    def stop():
        if not outcome["stopping"]:
            outcome["stopping"] = True
            return component.stop()
        return None

    reactor.callWhenRunning(lambda: component.start(reactor).addBoth(done))
    reactor.addSystemEventTrigger("before", "shutdown", stop)
    reactor.run()
    return outcome["code"]
