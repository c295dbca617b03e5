"""A mix-in for push-driven plugins (`auto_poll = False`): mark the state due
whenever upstream data changes; it is published at most once a second, and at
least every 60 s even when nothing changed (so clients see a live service)."""
from twisted.internet import task

MIN_INTERVAL = 1.0
MAX_INTERVAL = 60.0


class DuePublisher:
    auto_poll = False

    def set_due_publish(self) -> None:
        """Upstream changed: publish at the next tick."""
        self._due_publish = True

    def start_due_publisher(self) -> None:
        self._due_publish = getattr(self, "_due_publish", False)
        self._last_due_publish = self.reactor.seconds()
        self._due_loop = task.LoopingCall(self._check_due)
        self._due_loop.clock = self.reactor
        self._due_loop.start(MIN_INTERVAL, now=False)

    def stop_due_publisher(self) -> None:
        loop = getattr(self, "_due_loop", None)
        if loop is not None and loop.running:
            loop.stop()

    def _check_due(self) -> None:
        now = self.reactor.seconds()
        if self._due_publish or now - self._last_due_publish >= MAX_INTERVAL:
            self._due_publish = False
            self._last_due_publish = now
            self._updateAndPublishRaceState()

    def start(self) -> None:
        super().start()
        self.start_due_publisher()

    def stop(self):
        self.stop_due_publisher()
        return super().stop()  # a Deferred while the analysis is saved: shutdown waits for it
