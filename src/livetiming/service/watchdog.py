"""Calls an action when not notified within a timeout, e.g. to reconnect an
upstream feed that went silent without closing."""
from typing import Callable

from twisted.logger import Logger


class Watchdog:
    log = Logger()

    def __init__(self, timeout: float, action: Callable[..., None], *args, reactor=None, **kwargs):
        """`action(*args, **kwargs)` runs when `timeout` seconds pass without
        notify(). `reactor` is keyword-only and never passed to the action."""
        if reactor is None:
            from twisted.internet import reactor
        self.timeout = timeout
        self.action = action
        self.args = args
        self.kwargs = kwargs
        self.reactor = reactor
        self._call = None

    def start(self) -> None:
        self.notify()

    def notify(self) -> None:
        """All is well: push the deadline back."""
        if self._call is not None and self._call.active():
            self._call.reset(self.timeout)
        else:
            self._call = self.reactor.callLater(self.timeout, self._expired)

    def stop(self) -> None:
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None

    @property
    def running(self) -> bool:
        return self._call is not None and self._call.active()

    def _expired(self) -> None:
        self._call = None
        self.log.warn("Watchdog: nothing for {timeout}s, acting", timeout=self.timeout)
        try:
            self.action(*self.args, **self.kwargs)
        except Exception:
            self.log.failure("Watchdog action raised")
