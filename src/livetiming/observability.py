"""Logging through Twisted's logger and optional Sentry reporting, set up once
per process by the command-line shells."""
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
            stream = open(path, "a", encoding="utf-8", buffering=1)
    predicate = LogLevelFilterPredicate(defaultLogLevel=LogLevel.debug if debug else LogLevel.info)
    observers = [FilteringLogObserver(textFileLogObserver(stream), [predicate])]
    sentry = start_sentry()
    if sentry:
        observers.append(sentry)
    globalLogBeginner.beginLoggingTo(observers, redirectStandardIO=False)
    return path


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
