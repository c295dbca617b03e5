"""SignalShutdown and bounded shutdown steps, with a fake reactor and a
simulated clock (the real signals are exercised in test_service_recording.py)."""
import signal

from twisted.internet import defer
from twisted.internet.error import ReactorNotRunning
from twisted.internet.task import Clock
from twisted.logger import LogLevel

from livetiming.service.shutdown import SignalShutdown, bounded


class FakeReactor:
    """Records what SignalShutdown asks of a reactor; calls from "threads" run at once."""

    def __init__(self):
        self.triggers = []
        self.stops = 0
        self.running = True

    def addSystemEventTrigger(self, phase, event, function, *args):
        self.triggers.append((phase, event, function))

    def callFromThread(self, function, *args):
        function(*args)

    def stop(self):
        if not self.running:
            raise ReactorNotRunning()
        self.running = False
        self.stops += 1

    def fire(self, phase, event):
        for trigger_phase, trigger_event, function in self.triggers:
            if (trigger_phase, trigger_event) == (phase, event):
                function()


def installed(reactor):
    handlers = {}
    shutdown = SignalShutdown(reactor, set_handler=handlers.__setitem__)
    shutdown.install()
    return shutdown, handlers


def test_handlers_are_taken_at_once_and_again_after_the_reactor_installs_its_own():
    reactor = FakeReactor()
    shutdown, handlers = installed(reactor)
    assert set(handlers) == {signal.SIGINT, signal.SIGTERM}
    handlers.clear()
    reactor.fire("during", "startup")  # after Twisted's own handlers (registered when the reactor was made)
    assert set(handlers) == {signal.SIGINT, signal.SIGTERM}


def test_the_first_signal_stops_the_reactor_and_later_ones_are_only_logged(log_events):
    reactor = FakeReactor()
    shutdown, handlers = installed(reactor)
    handlers[signal.SIGINT](signal.SIGINT, None)
    assert reactor.stops == 1 and shutdown.reason == "SIGINT"
    reactor.fire("before", "shutdown")
    handlers[signal.SIGTERM](signal.SIGTERM, None)
    handlers[signal.SIGINT](signal.SIGINT, None)
    assert reactor.stops == 1
    lines = [e["log_format"].format(**e) for e in log_events if e.get("log_namespace", "").endswith("SignalShutdown")]
    assert lines[0] == "Received SIGINT, shutting down"
    assert lines[1].startswith("Received SIGTERM while shutting down (after SIGINT)")
    assert not any(e.get("log_failure") or e.get("log_level") == LogLevel.critical for e in log_events)


def test_a_signal_after_another_stop_is_not_a_second_stop():
    reactor = FakeReactor()
    shutdown, handlers = installed(reactor)
    reactor.stop()
    reactor.fire("before", "shutdown")
    assert shutdown.request("SIGTERM") is False and reactor.stops == 1


def test_a_reactor_stopped_meanwhile_is_not_an_error():
    reactor = FakeReactor()
    reactor.running = False
    shutdown, handlers = installed(reactor)
    assert shutdown.request("SIGINT") is True


def test_bounded_step_waits_for_the_step_but_not_for_ever(log_events):
    clock = Clock()
    never = defer.Deferred()
    done = []
    bounded(lambda: never, 5, clock, "Leaving the router").addCallback(done.append)
    clock.advance(4.9)
    assert done == []
    clock.advance(0.1)
    assert done == [None]
    assert any("did not finish within 5s" in e["log_format"].format(**e) for e in log_events
               if e.get("log_level") == LogLevel.warn)


def test_bounded_step_fires_when_the_step_does_and_failures_are_logged_not_raised(log_events):
    clock = Clock()
    results = []
    bounded(lambda: defer.succeed("left"), 5, clock, "x").addCallback(results.append)
    bounded(lambda: 1 / 0, 5, clock, "Broken step").addCallback(results.append)
    assert results == [None, None] and clock.getDelayedCalls() == []
    assert any(e.get("log_failure") and e["log_failure"].check(ZeroDivisionError) for e in log_events)
