"""`livetiming-service <plugin> [options]`: run a timing-service plugin."""
import sys
from typing import List, Optional

from twisted.internet.error import CannotListenError

from .. import config
from ..observability import start_logging
from ..service.discovery import PluginError, UnknownPluginError, load_plugin
from ..service.options import build_parser
from ..recording import RecordingError
from ..service.persistence import StateFileError
from ..service.router import RouterPublisher, RouterURLError
from ..service.standalone import StandaloneServer, announce
from .errors import FAILURE, fail

PROG = "livetiming-service"


def parse(argv: List[str]):
    """Two passes: find the plugin, then parse with the plugin's own options."""
    known, _ = build_parser(add_help=False).parse_known_args(argv)
    service_class = load_plugin(known.plugin)
    parser = build_parser()
    add_arguments = getattr(service_class, "add_arguments", None)
    if callable(add_arguments):
        add_arguments(parser.add_argument_group(f"options of the '{known.plugin}' plugin"))
        args, extra = parser.parse_args(argv), []
    else:
        args, extra = parser.parse_known_args(argv)
    if args.uuid and args.initial_state:
        parser.error("--uuid and -s/--initial-state both set the uuid; give one")
    return service_class, args, extra


def main(argv: Optional[List[str]] = None) -> int:
    config.load_env_file()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        build_parser().parse_args(argv)  # prints usage/help and exits
    try:
        service_class, args, extra = parse(argv)
    except UnknownPluginError as error:
        return fail(PROG, str(error))
    except PluginError as error:
        return fail(PROG, str(error), FAILURE)

    from twisted.internet import reactor

    start_logging(args.plugin, verbose=args.verbose, debug=args.debug)
    try:
        service = service_class(args, extra)
        service.open_recording()
    except (StateFileError, RecordingError) as error:
        return fail(PROG, str(error))
    except Exception as error:
        from twisted.logger import Logger
        Logger().failure("Plugin {plugin} failed to start", plugin=args.plugin)
        return fail(PROG, f"plugin '{args.plugin}' failed to start: {type(error).__name__}: {error}", FAILURE)

    router = config.get("LIVETIMING_ROUTER")
    if router and not args.standalone:
        return run_router_mode(service, router, reactor)
    return run_standalone(service, reactor)


def run_router_mode(service, url: str, reactor) -> int:
    """Join the master router with WAMP-CRA and publish there until signalled."""
    secret = config.get("LIVETIMING_SHARED_SECRET")
    if not secret:
        return fail(PROG, "LIVETIMING_ROUTER is set but LIVETIMING_SHARED_SECRET is not")
    try:
        publisher = RouterPublisher(service, url, config.get("LIVETIMING_AUTH_ID"), secret)
    except RouterURLError as error:
        return fail(PROG, str(error))
    service.publishers.append(publisher)
    service.log.info("Service {uuid} ({cls}) publishing to {url}", uuid=service.uuid,
                     cls=service._getServiceClass(), url=url)
    reactor.callWhenRunning(publisher.start, reactor)
    reactor.callWhenRunning(service.start)
    reactor.addSystemEventTrigger("before", "shutdown", service.stop)
    reactor.addSystemEventTrigger("before", "shutdown", publisher.stop)
    reactor.run()
    return 0


def run_standalone(service, reactor) -> int:
    """Attach the WebSocket server, announce it on stderr, run until signalled."""
    server = StandaloneServer(service.snapshot)
    port_setting = config.get("LIVETIMING_STANDALONE_PORT")
    try:
        port = server.listen(reactor, int(port_setting), config.get("LIVETIMING_STANDALONE_INTERFACE"))
    except ValueError:
        return fail(PROG, f"LIVETIMING_STANDALONE_PORT is not a port number: {port_setting!r}")
    except CannotListenError as error:
        return fail(PROG, f"cannot listen on port {port_setting}: {error.socketError}", FAILURE)
    service.publishers.append(server)
    # Announce once the reactor runs: its signal handlers are in place by then,
    # so a client that reacts to the line with SIGTERM gets a clean stop.
    reactor.callWhenRunning(announce, service.uuid, port)
    service.log.info("Service {uuid} ({cls}) running standalone: clients connect to ws://{host}:{port}/",
                     uuid=service.uuid, cls=service._getServiceClass(), port=port,
                     host=config.get("LIVETIMING_STANDALONE_INTERFACE"))
    reactor.callWhenRunning(service.start)
    reactor.addSystemEventTrigger("before", "shutdown", service.stop)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
