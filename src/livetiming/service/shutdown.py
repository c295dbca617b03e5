"""Stopping a service on SIGINT/SIGTERM exactly once.

Twisted's own signal handling is not enough for a service:

- it installs its SIGINT handler only when SIGINT still has Python's default
  handler, so a service started with SIGINT ignored (every background job of
  a non-interactive shell, `livetiming-service demo &` in a script, many CI
  runners and supervisors) never stopped on SIGINT at all;
- every signal calls `reactor.stop()`, so a second signal while the service
  is still shutting down (SIGINT, then SIGTERM from a supervisor) logged
  `ReactorNotRunning` as a critical unhandled error with its traceback;
- a signal that arrives before the reactor runs (while the plugin starts)
  raised KeyboardInterrupt, or killed the process without saving.

`SignalShutdown` owns SIGINT and SIGTERM from before the reactor runs until
the process exits: the first signal stops the reactor (once it runs), later
ones are logged and otherwise ignored while the shutdown finishes."""
import signal
from typing import Callable, Iterable, Optional

from twisted.internet import defer
from twisted.internet.error import ReactorNotRunning
from twisted.logger import Logger

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SignalShutdown:
    """Turns the first stop signal into one `reactor.stop()`."""

    log = Logger()

    def __init__(self, reactor, signals: Iterable[int] = STOP_SIGNALS,
                 set_handler: Callable = signal.signal):
        self.reactor = reactor
        self.signals = tuple(signals)
        self._set_handler = set_handler
        self.reason: Optional[str] = None
        """What started the shutdown (a signal name), once it has started."""

    def install(self) -> None:
        """Take the stop signals now, so that one arriving while the service
        starts stops it as soon as the reactor runs, and again once the
        reactor has installed its own handlers (it does so during start-up
        and would replace ours)."""
        self._take_signals()
        self.reactor.addSystemEventTrigger("during", "startup", self._take_signals)
        self.reactor.addSystemEventTrigger("before", "shutdown", self._shutdown_started)

    def _take_signals(self) -> None:
        for number in self.signals:
            self._set_handler(number, self._on_signal)

    def _on_signal(self, number: int, frame=None) -> None:
        """Runs between two bytecodes of whatever the main thread was doing,
        possibly in the middle of writing a log line: only hand over to the
        reactor thread, which acts (and logs) safely."""
        self.reactor.callFromThread(self.request, signal.Signals(number).name)

    def _shutdown_started(self) -> None:
        if self.reason is None:
            self.reason = "reactor.stop()"

    def request(self, reason: str) -> bool:
        """Stop the reactor the first time; True when this call started the shutdown."""
        if self.reason is not None:
            self.log.info("Received {reason} while shutting down (after {first}): "
                          "the service stops once its data is saved", reason=reason, first=self.reason)
            return False
        self.reason = reason
        self.log.info("Received {reason}, shutting down", reason=reason)
        try:
            self.reactor.stop()
        except ReactorNotRunning:  # stopped meanwhile by something else: nothing left to do
            pass
        return True


def bounded(step: Callable[[], object], timeout: float, reactor, what: str) -> defer.Deferred:
    """Run a shutdown step, but go on after `timeout` seconds at the latest
    (with a warning), so that a step waiting for the network (e.g. leaving a
    router that no longer answers) cannot keep the process alive for ever.
    Fires with None; a failing step is logged, never raised."""
    d = defer.maybeDeferred(step)
    d.addTimeout(timeout, reactor)

    def report(failure):
        if failure.check(defer.TimeoutError):
            SignalShutdown.log.warn("{what} did not finish within {timeout:g}s; going on with the shutdown",
                                    what=what, timeout=timeout)
        else:
            SignalShutdown.log.failure("{what} failed", failure, what=what)

    return d.addCallbacks(lambda _: None, report)
