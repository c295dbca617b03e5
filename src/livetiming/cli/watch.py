"""`livetiming-watch`: a live timing screen in the terminal.

It connects to a router or relay (`--url ws://host:port/ws`), to the least
loaded relay of a master (`--master http://host:port`, re-picking when the
relay dies) or to a standalone service (`--standalone ws://host:port`);
`--url` also recognises the other two by their form (`http(s)://` is a
master, a `ws://` URL whose path is not `/ws` a standalone service). It picks
the service (`--service`, or the only one running; else it lists them and
exits) and draws header, table and messages with rich, from the pure
`livetiming.viewer` functions, twice a second and at every shown update.
Ctrl-C (or SIGTERM) leaves the session and exits 0."""
import argparse
import sys
import time
from typing import List, Optional, Sequence

from rich.console import Console
from rich.live import Live
from rich.text import Text

from ..client import RelayListError, StandaloneSubscriber, Subscriber, SubscriberURLError, master_urls, standalone_url
from ..viewer.choose import choose_service, describe
from ..viewer.delay import MAX_DELAY, DelayBuffer
from ..viewer.model import ColumnError, columns_of, select_columns
from ..viewer.render import View, render
from .errors import FAILURE, USAGE_ERROR, fail

PROG = "livetiming-watch"
DEFAULT_URL = "ws://127.0.0.1:5080/ws"
FRAME_INTERVAL = 0.5
"""Seconds between two redraws (the clock and the age move between updates)."""
LEAVE_TIMEOUT = 3.0
"""Seconds given to leaving the server cleanly on exit."""


class UsageError(ValueError):
    """A bad option: one line, exit 2."""


def delay_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value <= MAX_DELAY:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_DELAY:g} seconds")
    return value


def column_list(text: str) -> List[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("name at least one column, e.g. Num,Driver,Last")
    return names


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are the one line of the other tools (exit 2)."""

    def error(self, message: str) -> None:
        sys.exit(fail(self.prog, message))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Watch a live timing service in the terminal.")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--url", help=f"router or relay WebSocket URL (default {DEFAULT_URL}); an http(s):// URL is "
                                     "taken as --master, a ws:// URL not ending in /ws as --standalone")
    where.add_argument("--master", metavar="URL", help="master's http://host:port: watch through its least "
                                                       "loaded relay")
    where.add_argument("--standalone", metavar="URL", help="a standalone service's ws://host:port (or host:port, "
                                                           "or a port on this machine)")
    parser.add_argument("--service", metavar="UUID|NAME",
                        help="the service to watch: its uuid (or a unique start of it) or name (or a unique part "
                             "of it); a hidden service by its whole uuid (default: the only one running)")
    parser.add_argument("--delay", type=delay_seconds, default=0.0, metavar="SECONDS",
                        help="show every update this many seconds late (to match a TV feed)")
    parser.add_argument("--columns", type=column_list, metavar="A,B,...",
                        help="show only these columns, in this order (headings, e.g. Num,Driver,Last,Best)")
    return parser


def classify(args: argparse.Namespace) -> "tuple[str, str]":
    """(kind, URL): kind is `router`, `master` or `standalone`. UsageError
    for a URL of none of those forms."""
    if args.master:
        kind, url = "master", args.master
    elif args.standalone:
        kind, url = "standalone", args.standalone
    else:
        url = args.url or DEFAULT_URL
        if url.startswith(("http://", "https://")):
            kind = "master"
        elif url.startswith(("ws://", "wss://")) and not url.rstrip("/").endswith("/ws"):
            kind = "standalone"
        else:
            kind = "router"
    try:
        if kind == "master":
            master_urls(url)
        elif kind == "standalone":
            url = standalone_url(url)
        elif not url.startswith(("ws://", "wss://")):
            raise UsageError(f"--url {url!r} must be ws://host:port/ws (or http:// for a master)")
    except (RelayListError, SubscriberURLError) as error:
        raise UsageError(str(error)) from None
    return kind, url


class Watcher:
    """The shell: subscriber callbacks in, frames out to a rich Live."""

    def __init__(self, args: argparse.Namespace, kind: str, url: str, console: Console, reactor):
        self.args, self.kind, self.target = args, kind, url
        self.console, self.reactor = console, reactor
        self.buffer = DelayBuffer(args.delay)
        self.manifest = None
        self.state = None
        self.updated_at: Optional[float] = None
        self.connected = False
        self.server = url
        self.exit_code = 0
        self.exit_message: Optional[str] = None
        self.exit_lines: Sequence[str] = ()
        self.listed = False
        self.gone = False
        """The watched service has left the directory listing (it ended, or its service stopped)."""
        callbacks = dict(on_state=self.on_state, on_listing=self.on_listing, on_status=self.on_status)
        if kind == "standalone":
            self.subscriber = StandaloneSubscriber(url, reactor=reactor, **callbacks)
        else:  # a hidden service can be watched by its uuid, so the directory is asked for those too
            where = {"master": url} if kind == "master" else {"url": url}
            self.subscriber = Subscriber(**where, include_hidden=bool(args.service), reactor=reactor, **callbacks)
        self.live: Optional[Live] = None

    # ---------------------------------------------------------- callbacks

    def on_status(self, status: str, url: str) -> None:
        self.connected = status == "connected"
        self.server = url
        self.draw()

    def on_listing(self, listing) -> None:
        if self.manifest is not None:
            current = [manifest for manifest in listing if manifest.get("uuid") == self.manifest.get("uuid")]
            if current:
                self.manifest = current[0]  # a new session may bring a new manifest
            self.gone = not current and self.manifest.get("hidden") is not True  # only asked for on joining
            self.draw()
            return
        if not listing:
            self.listed = True
            self.draw()
            return  # nothing running yet: wait for the directory to change
        choice = choose_service(listing, self.args.service)
        if choice.manifest is None:
            if self.args.service:
                self.finish(FAILURE, f"no single service matches {self.args.service!r}; running:",
                            describe(choice.candidates))
            else:
                self.finish(USAGE_ERROR, "several services are running; choose one with --service:",
                            describe(choice.candidates))
            return
        try:
            select_columns(columns_of(choice.manifest), self.args.columns)
        except ColumnError as error:
            self.finish(USAGE_ERROR, f"--columns: {error}")
            return
        self.manifest = choice.manifest
        self.subscriber.follow(choice.manifest["uuid"])
        self.draw()

    def on_state(self, uuid: str, state: dict, message) -> None:
        if self.manifest is None or uuid != self.manifest.get("uuid"):
            return
        date = message.date / 1000.0 if message.date else time.time()
        self.buffer.push(time.monotonic(), (state, date))
        self.tick()

    # ------------------------------------------------------------ drawing

    def tick(self) -> None:
        due = self.buffer.due(time.monotonic())
        if due is not None:
            self.state, self.updated_at = due
        self.draw()

    def status_line(self) -> str:
        link = "connected to" if self.connected else "connecting to"
        delay = f" · delay {self.args.delay:g}s" if self.args.delay else ""
        gone = " · the service is no longer listed" if self.gone else ""
        return f"{link} {self.server}{delay}{gone} · Ctrl-C to quit"

    def frame(self):
        width, height = self.console.size
        if self.manifest is None:
            waiting = "Waiting for a service to start..." if self.listed else "Waiting for the service list..."
            return Text(f"{waiting}\n{self.status_line()}", no_wrap=True, overflow="ellipsis")
        view = View(self.manifest, self.state, time.time() - self.args.delay, self.updated_at, self.args.columns,
                    self.status_line())
        return render(view, width, height)

    def draw(self) -> None:
        if self.live is not None:
            self.live.update(self.frame(), refresh=True)

    # --------------------------------------------------------- life cycle

    def finish(self, code: int, message: str, lines: Sequence[str] = ()) -> None:
        self.exit_code, self.exit_message, self.exit_lines = code, message, lines
        if self.reactor.running:
            self.reactor.stop()

    def stop_subscriber(self):
        d = self.subscriber.stop()
        d.addTimeout(LEAVE_TIMEOUT, self.reactor)
        d.addErrback(lambda failure: None)  # leaving is best effort on the way out
        return d


def start_logging_quietly() -> None:
    """Logs go to LIVETIMING_LOG_DIR/livetiming-watch.log (the terminal is
    the screen); a log directory that cannot be made costs only the logs."""
    from ..observability import start_logging
    try:
        start_logging(PROG)
    except OSError:
        pass


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # argparse prints usage + error (exit 2) or help (exit 0)
        return int(exit.code or 0)
    try:
        kind, url = classify(args)
    except UsageError as error:
        return fail(PROG, str(error))

    from twisted.internet import reactor
    from twisted.internet.task import LoopingCall

    start_logging_quietly()
    console = Console()
    watcher = Watcher(args, kind, url, console, reactor)
    ticker = LoopingCall(watcher.tick)
    reactor.addSystemEventTrigger("before", "shutdown", watcher.stop_subscriber)
    with Live(watcher.frame(), console=console, auto_refresh=False, screen=console.is_terminal,
              redirect_stdout=False, redirect_stderr=False) as live:
        watcher.live = live
        reactor.callWhenRunning(watcher.subscriber.start)
        reactor.callWhenRunning(ticker.start, FRAME_INTERVAL)
        reactor.run()
        watcher.live = None
    if watcher.exit_message:
        fail(PROG, watcher.exit_message, watcher.exit_code)
        for line in watcher.exit_lines:
            print(line)
    return watcher.exit_code


if __name__ == "__main__":
    sys.exit(main())
