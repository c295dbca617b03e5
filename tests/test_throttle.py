"""LogThrottle: one line per condition per interval, with what was left out."""
import pytest
from twisted.internet.task import Clock
from twisted.logger import Logger, LogLevel, formatEvent

from livetiming.service.throttle import LogThrottle


@pytest.fixture
def logged():
    events = []
    return events, Logger(observer=events.append)


def test_first_occurrence_at_once_then_one_line_a_minute_with_the_count(logged):
    events, log = logged
    clock = Clock()
    throttle = LogThrottle(log, clock.seconds)
    assert throttle.warn("disk", "Could not write {path}", path="/s")
    for _ in range(59):
        clock.advance(1)
        assert not throttle.warn("disk", "Could not write {path}", path="/s")
    clock.advance(1)
    assert throttle.warn("disk", "Could not write {path}", path="/s")
    assert [formatEvent(e) for e in events] == [
        "Could not write /s", "Could not write /s (59 more like this in the last 60s)"]
    assert all(e["log_level"] == LogLevel.warn for e in events)


def test_conditions_are_independent(logged):
    events, log = logged
    throttle = LogThrottle(log, Clock().seconds)
    throttle.warn("state", "state failed")
    throttle.warn("recording", "recording failed")
    throttle.error("state", "state failed")
    assert [formatEvent(e) for e in events] == ["state failed", "recording failed"]


def test_the_end_of_a_condition_is_one_line_and_it_may_start_again(logged):
    events, log = logged
    throttle = LogThrottle(log, Clock().seconds)
    assert throttle.resolved("disk", "works again") is None
    throttle.warn("disk", "failed")
    throttle.warn("disk", "failed")
    assert throttle.resolved("disk", "works again") == 2
    throttle.warn("disk", "failed")
    assert [formatEvent(e) for e in events] == ["failed", "works again (after 2 failures)", "failed"]
    assert events[1]["log_level"] == LogLevel.info
