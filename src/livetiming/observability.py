"""Logging through Twisted's logger and optional Sentry reporting, set up once
per process by the command-line shells.

There is one logging path: Twisted's global log publisher. Code of ours logs
with `twisted.logger.Logger`; whatever still logs with the standard library's
`logging` (third-party libraries, plugins) is bridged into that publisher by
`StdlibBridge`, so every line reaches the same observers (the log file or
stdout, and Sentry) exactly once."""
import logging
import os
import sys
import threading
from pathlib import Path
from typing import IO, Optional

from twisted.logger import (
    FilteringLogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    formatEvent,
    globalLogBeginner,
    globalLogPublisher,
    textFileLogObserver,
)
from twisted.logger._stdlib import StringifiableFromEvent
from twisted.python.failure import Failure

from . import config
from .version import VERSION


def start_logging(name: str, verbose: bool = False, debug: bool = False,
                  stream: Optional[IO] = None) -> Optional[Path]:
    """Send Twisted log events to stdout (`verbose`) or to
    `LIVETIMING_LOG_DIR/<name>.log`. Returns the log file path when logging to a file."""
    path = None
    if stream is None:
        if verbose:
            stream = sys.stdout
            if hasattr(stream, "reconfigure"):  # log lines appear at once, even through a pipe
                stream.reconfigure(line_buffering=True)
        else:
            path = config.directory("LIVETIMING_LOG_DIR") / f"{name}.log"
            stream = open_log_file(path)
    predicate = LogLevelFilterPredicate(defaultLogLevel=LogLevel.debug if debug else LogLevel.info)
    observers = [FilteringLogObserver(textFileLogObserver(stream), [predicate])]
    sentry = start_sentry()
    if sentry:
        observers.append(sentry)
    globalLogBeginner.beginLoggingTo(observers, redirectStandardIO=False)
    bridge_stdlib_logging(LogLevel.debug if debug else LogLevel.info)
    return path


def twisted_level(levelno: int) -> LogLevel:
    """The Twisted level of a stdlib level number (custom numbers round down)."""
    if levelno >= logging.CRITICAL:
        return LogLevel.critical
    if levelno >= logging.ERROR:
        return LogLevel.error
    if levelno >= logging.WARNING:
        return LogLevel.warn
    if levelno >= logging.INFO:
        return LogLevel.info
    return LogLevel.debug


def event_from_record(record: logging.LogRecord) -> dict:
    """The Twisted log event for a stdlib record: the message already
    formatted (its text may hold braces, so it is passed as `log_text`, not
    as a format), the logger's name as namespace (shown as `[name#level]`, like ours), and an
    exception as `log_failure` (which is what Sentry is sent)."""
    event = {
        "log_format": "{log_text}",
        "log_text": record.getMessage(),
        "log_level": twisted_level(record.levelno),
        "log_namespace": record.name,
        "log_time": record.created,
        "log_source": None,
        "log_logger": None,
        "log_stdlib": True,
    }
    if record.exc_info and record.exc_info[0] is not None:
        event["log_failure"] = Failure(record.exc_info[1], record.exc_info[0], record.exc_info[2])
    return event


class StdlibBridge(logging.Handler):
    """A stdlib `logging` handler that re-emits records into Twisted's global
    log publisher. Records that came *from* Twisted (through a
    `twisted.logger.STDLibLogObserver`) are dropped, and so is anything
    logged while a record is being bridged: either would go round in a loop
    or be written twice."""

    def __init__(self, level: int = logging.NOTSET):
        super().__init__(level)
        self._local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, StringifiableFromEvent) or getattr(self._local, "busy", False):
            return
        self._local.busy = True
        try:
            globalLogPublisher(event_from_record(record))
        except Exception:  # a broken observer must not break the code that logged
            self.handleError(record)
        finally:
            self._local.busy = False


_STDLIB_LEVELS = {LogLevel.debug: logging.DEBUG, LogLevel.info: logging.INFO, LogLevel.warn: logging.WARNING,
                  LogLevel.error: logging.ERROR, LogLevel.critical: logging.CRITICAL}


def bridge_stdlib_logging(level: LogLevel = LogLevel.info) -> StdlibBridge:
    """Install the bridge on the root logger, once (calling again only
    adjusts the level), and let records of `level` and above through:
    Twisted's filter decides the rest."""
    root = logging.getLogger()
    root.setLevel(_STDLIB_LEVELS[level])
    for handler in root.handlers:
        if isinstance(handler, StdlibBridge):
            return handler
    bridge = StdlibBridge()
    root.addHandler(bridge)
    return bridge


LOG_FILE_MODE = 0o640
"""Log files: readable by the owner's group (operators), writable by the owner only."""


def open_log_fd(path: Path) -> int:
    """A file descriptor appending to `path` (also what the router hands
    Crossbar as stdout/stderr). The mode is explicit, not left to the umask
    (a umask of 0 made log files world-writable: anyone could forge log
    lines), and an existing world-writable log file is tightened."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, LOG_FILE_MODE)
    try:
        mode = os.fstat(fd).st_mode
        if mode & 0o002:
            os.fchmod(fd, mode & 0o7775)
    except OSError:  # not ours to change: log to it all the same
        pass
    return fd


def open_log_file(path: Path) -> IO:
    """Append to `path` (see `open_log_fd`), line-buffered."""
    return open(open_log_fd(path), "a", encoding="utf-8", buffering=1)


def start_sentry():
    """Initialise Sentry when SENTRY_DSN is set; returns a log observer that
    forwards logged failures, and errors logged without one, or None when
    Sentry is off. Sentry's own stdlib `logging` integration is kept to
    breadcrumbs: stdlib records reach Sentry through this observer (by the
    bridge), and capturing them there too would report each error twice."""
    dsn = config.get("SENTRY_DSN")
    if not dsn:
        return None
    import sentry_sdk
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(dsn=dsn, environment=config.get("LIVETIMING_ENVIRONMENT"), release=VERSION,
                    integrations=[LoggingIntegration(level=logging.INFO, event_level=None)])

    def forward_failures(event: dict) -> None:
        failure = event.get("log_failure")
        if failure is not None:
            sentry_sdk.capture_exception((failure.type, failure.value, failure.getTracebackObject()))
        elif event.get("log_level") in (LogLevel.error, LogLevel.critical):
            sentry_sdk.capture_message(formatEvent(event), level="error")

    return forward_failures
