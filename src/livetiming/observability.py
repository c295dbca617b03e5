"""Logging through Twisted's logger and optional Sentry reporting, set up once
per process by the command-line shells."""
import os
import sys
from pathlib import Path
from typing import IO, Optional

from twisted.logger import (
    FilteringLogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    textFileLogObserver,
)

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
    return path


LOG_FILE_MODE = 0o640
"""Log files: readable by the owner's group (operators), writable by the owner only."""


def open_log_file(path: Path) -> IO:
    """Append to `path`, line-buffered. The mode is explicit, not left to the
    umask (a umask of 0 made log files world-writable: anyone could forge log
    lines), and an existing world-writable log file is tightened."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, LOG_FILE_MODE)
    try:
        mode = os.fstat(fd).st_mode
        if mode & 0o002:
            os.fchmod(fd, mode & 0o7775)
    except OSError:  # not ours to change: log to it all the same
        pass
    return open(fd, "a", encoding="utf-8", buffering=1)


def start_sentry():
    """Initialise Sentry when SENTRY_DSN is set; returns a log observer that
    forwards logged Twisted failures, or None when Sentry is off."""
    dsn = config.get("SENTRY_DSN")
    if not dsn:
        return None
    import sentry_sdk

    sentry_sdk.init(dsn=dsn, environment=config.get("LIVETIMING_ENVIRONMENT"), release=VERSION)

    def forward_failures(event: dict) -> None:
        failure = event.get("log_failure")
        if failure is not None:
            sentry_sdk.capture_exception((failure.type, failure.value, failure.getTracebackObject()))

    return forward_failures
