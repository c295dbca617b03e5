"""A mix-in for push-driven plugins (`auto_poll = False`): mark the state due
whenever upstream data changes; it is published at most once a second, and at
least every 60 s even when nothing changed (so clients see a live service).

`BaseService.start()` and `stop()` start and stop it for any service that is
an instance of `DuePublisher`, so the mix-in works wherever it sits among the
bases (`class Service(DuePublisher, BaseService)`, as the historical API
documents, or after `BaseService`), and whether or not a plugin's own
`start()` chains to `super().start()` before or after other work. For the
same reason a `DuePublisher` is never auto-polled, whatever `auto_poll`
resolves to through the bases."""
from twisted.internet import task

MIN_INTERVAL = 1.0
MAX_INTERVAL = 60.0


class DuePublisher:
    auto_poll = False
    max_publish_interval = MAX_INTERVAL
    """Seconds after which the state is published even if never marked due."""

    def set_due_publish(self) -> None:
        """Upstream changed: publish at the next tick (at most once a second)."""
        self._due_publish = True

    def start_due_publisher(self) -> None:
        """Called by `BaseService.start()`; plugins need not call it."""
        if getattr(self, "_due_loop", None) is not None and self._due_loop.running:
            return
        self._due_publish = getattr(self, "_due_publish", False)
        self._last_due_publish = self.reactor.seconds()
        self._due_loop = task.LoopingCall(self._check_due)
        self._due_loop.clock = self.reactor
        self._due_loop.start(MIN_INTERVAL, now=False)

    def stop_due_publisher(self) -> None:
        """Called by `BaseService.stop()`."""
        loop = getattr(self, "_due_loop", None)
        if loop is not None and loop.running:
            loop.stop()

    def _check_due(self) -> None:
        now = self.reactor.seconds()
        if self._due_publish or now - self._last_due_publish >= self.max_publish_interval:
            self._due_publish = False
            self._last_due_publish = now
            self._updateAndPublishRaceState()
