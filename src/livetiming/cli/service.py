"""`livetiming-service <plugin> [options]`: run a timing-service plugin."""
import sys
from pathlib import Path
from typing import List, Optional

from twisted.internet.error import CannotListenError

from .. import config
from ..observability import start_logging
from ..recording import RecordingError
from ..service.discovery import PluginError, UnknownPluginError, load_plugin
from ..service.hooks import PluginHookError, check_implemented, check_plugin
from ..service.options import UUID_PATTERN, build_parser
from ..service.persistence import StateFileError
from ..service.router import RouterPublisher, RouterURLError, transport_for
from ..service.shutdown import SignalShutdown, bounded
from ..service.standalone import MAX_BUFFER, StandaloneServer, announce
from .errors import FAILURE, USAGE_ERROR, fail

PROG = "livetiming-service"
LEAVE_TIMEOUT = 5.0
"""Seconds a stopping service waits for the router to acknowledge its goodbye."""


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
    if args.updates is not None and not args.check:
        parser.error("--updates is an option of --check")
    if args.uuid and args.initial_state:
        parser.error("--uuid and -s/--initial-state both set the uuid; give one")
    if args.initial_state and not UUID_PATTERN.match(Path(args.initial_state).stem):
        parser.error(f"-s {args.initial_state}: the file's name is the service uuid, so it may only hold "
                     "letters, digits, '-' and '_' (e.g. 0123abcd.json)")
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
    try:
        check_implemented(service_class)
    except PluginHookError as error:
        return fail(PROG, f"plugin '{args.plugin}': {error}")
    if args.check:
        from .check import check
        return check(service_class, args, extra)

    # Everything the environment can get wrong is checked before the plugin
    # is built (it may start fetching) and before -r creates any file.
    try:
        router = None if args.standalone else config.get("LIVETIMING_ROUTER")
        if router:
            secret = config.get("LIVETIMING_SHARED_SECRET")
            if not secret:
                raise ConfigurationError("LIVETIMING_ROUTER is set but LIVETIMING_SHARED_SECRET is not")
            transport_for(router)
        else:
            port = port_number("LIVETIMING_STANDALONE_PORT")
            max_buffer = byte_count("LIVETIMING_STANDALONE_MAX_BUFFER", MAX_BUFFER)
        for name in ("LIVETIMING_STATE_DIR", "LIVETIMING_ANALYSIS_DIR", "LIVETIMING_LOG_DIR"):
            try:
                config.directory(name)
            except OSError as error:
                raise ConfigurationError(f"{name} cannot be used: {error.strerror or error}") from None
    except (ConfigurationError, RouterURLError) as error:
        return fail(PROG, str(error))

    from twisted.internet import reactor

    try:
        start_logging(args.plugin, verbose=args.verbose, debug=args.debug)
    except OSError as error:
        return fail(PROG, f"cannot write the log file in LIVETIMING_LOG_DIR: {error.strerror or error} "
                          f"({error.filename}); -v logs to the terminal instead")
    # From here on a stop signal stops the service cleanly, however early it comes.
    SignalShutdown(reactor).install()
    try:
        service = service_class(args, extra)
    except StateFileError as error:
        return fail(PROG, str(error))
    except Exception as error:
        from twisted.logger import Logger
        Logger().failure("Plugin {plugin} failed to start", plugin=args.plugin)
        return fail(PROG, f"plugin '{args.plugin}' failed to start: {type(error).__name__}: {error}", FAILURE)
    try:
        check_plugin(service)
    except PluginHookError as error:
        return fail(PROG, f"plugin '{args.plugin}': {error}")

    if router:
        return run_router_mode(service, router, secret, reactor)
    return run_standalone(service, port, reactor, max_buffer)


class ConfigurationError(Exception):
    """A setting in the environment (or livetiming.env) is unusable."""


def port_number(name: str) -> int:
    value = config.get(name)
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} is not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigurationError(f"{name} must be between 0 and 65535, not {port}")
    return port


def byte_count(name: str, default: int) -> int:
    """A size setting in bytes (a positive whole number), `default` when unset."""
    value = config.get(name)
    if value is None:
        return default
    try:
        size = int(value)
    except ValueError:
        raise ConfigurationError(f"{name} is not a number of bytes: {value!r}") from None
    if size <= 0:
        raise ConfigurationError(f"{name} must be a positive number of bytes, not {size}")
    return size


def open_recording(service) -> bool:
    try:
        service.open_recording()
        return True
    except RecordingError as error:
        fail(PROG, str(error))
        return False


def run_router_mode(service, url: str, secret: str, reactor) -> int:
    """Join the master router with WAMP-CRA and publish there until signalled."""
    publisher = RouterPublisher(service, url, config.get("LIVETIMING_AUTH_ID"), secret)
    if not open_recording(service):
        return USAGE_ERROR
    service.publishers.append(publisher)
    service.log.info("Service {uuid} ({cls}) publishing to {url}", uuid=service.uuid,
                     cls=service._getServiceClass(), url=url)
    reactor.callWhenRunning(publisher.start, reactor)
    reactor.addSystemEventTrigger("before", "shutdown", service.stop)
    reactor.addSystemEventTrigger("before", "shutdown", bounded, publisher.stop, LEAVE_TIMEOUT, reactor,
                                  "Leaving the router")
    return run_service(service, reactor)


def run_standalone(service, port: int, reactor, max_buffer: int = MAX_BUFFER) -> int:
    """Attach the WebSocket server, announce it on stderr, run until signalled."""
    server = StandaloneServer(service.snapshot, max_buffer=max_buffer)
    try:
        port = server.listen(reactor, port, config.get("LIVETIMING_STANDALONE_INTERFACE"))
    except CannotListenError as error:
        return fail(PROG, f"cannot listen on port {port}: {error.socketError}", FAILURE)
    if not open_recording(service):
        return USAGE_ERROR
    service.publishers.append(server)
    # Announce once the reactor runs: its signal handlers are in place by then,
    # so a client that reacts to the line with SIGTERM gets a clean stop.
    reactor.callWhenRunning(announce, service.uuid, port)
    service.log.info("Service {uuid} ({cls}) running standalone: clients connect to ws://{host}:{port}/",
                     uuid=service.uuid, cls=service._getServiceClass(), port=port,
                     host=config.get("LIVETIMING_STANDALONE_INTERFACE"))
    reactor.addSystemEventTrigger("before", "shutdown", service.stop)
    return run_service(service, reactor)


def run_service(service, reactor) -> int:
    """Call the plugin's `start()`, which (through `BaseService.start()`) runs
    the reactor until shutdown: the historical contract, under which plugin
    code after `super().start()` runs at shutdown."""
    ran = []
    reactor.callWhenRunning(ran.append, True)
    service._runs_reactor = True
    plugin = service.plugin_name
    try:
        service.start()
    except Exception as error:  # the plugin's own start() code
        service.log.failure("Plugin {plugin}: start() raised", plugin=plugin)
        when = "at shutdown" if ran else "while starting"
        return fail(PROG, f"plugin '{plugin}' failed {when}: {type(error).__name__}: {error}", FAILURE)
    if not ran:
        return fail(PROG, f"plugin '{plugin}': {type(service).__name__}.start() returned without calling "
                          "super().start(), so the service never ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
