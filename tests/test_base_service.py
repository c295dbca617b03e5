"""BaseService driven by a simulated clock: polling, publishing, state files."""
import json

import pytest
from twisted.internet.task import Clock
from twisted.logger import LogLevel

from livetiming.protocol import Channel, MessageClass, Stat
from livetiming.protocol.lzstring import decompress_from_utf16
from livetiming.service.base import BaseService
from livetiming.service.options import default_args
from livetiming.service.persistence import StateFileError


class Recorder:
    def __init__(self):
        self.published = []

    def publish(self, topic, message):
        self.published.append((topic, message))

    def of_class(self, msg_class):
        return [(t, m) for t, m in self.published if m.msg_class == msg_class]


class Plugin(BaseService):
    attribution = ["Upstream Ltd", "https://example.invalid/"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = [["7", "RUN", "Ann"]]
        self.fail_with = None
        self.calls = 0

    def getName(self):
        return "Test series"

    def getDefaultDescription(self):
        return "Round 1"

    def getColumnSpec(self):
        return [Stat.NUM, Stat.STATE, Stat.DRIVER]

    def getTrackDataSpec(self):
        return ["Air"]

    def getPollInterval(self):
        return 5

    def getRaceState(self):
        self.calls += 1
        if self.fail_with:
            raise self.fail_with
        return {"cars": [list(r) for r in self.rows], "session": {"flagState": "green"}}


@pytest.fixture
def make(service_env):
    def build(**options):
        clock = Clock()
        clock.advance(1_700_000_000)
        service = Plugin(default_args("testplugin", **options), reactor=clock)
        recorder = Recorder()
        service.publishers.append(recorder)
        return service, clock, recorder
    return build


def states(recorder):
    return [json.loads(decompress_from_utf16(m.payload))
            for _, m in recorder.of_class(MessageClass.SERVICE_DATA_COMPRESSED)]


def test_start_publishes_manifest_then_state_retained(make):
    service, clock, recorder = make()
    service.start()
    (topic, manifest), = recorder.of_class(MessageClass.SERVICE_REGISTRATION)
    assert topic == Channel.CONTROL
    (topic, state), = recorder.of_class(MessageClass.SERVICE_DATA_COMPRESSED)
    assert topic == f"livetiming.service.{service.uuid}"
    assert state.retain and state.serialise()["retain"] is True
    assert state.date == 1_700_000_000_000
    assert json.loads(decompress_from_utf16(state.payload))["cars"] == [["7", "RUN", "Ann"]]


def test_polls_every_poll_interval(make):
    service, clock, recorder = make()
    service.start()
    service.rows = [["7", "PIT", "Ann"]]
    clock.advance(4.9)
    assert service.calls == 1
    clock.advance(0.1)
    assert service.calls == 2
    latest = states(recorder)[-1]
    assert latest["messages"][0][2] == "#7 (Ann) has entered the pits"
    assert latest["highlight"] == ["7"]


def test_a_plugin_that_raises_is_logged_and_polling_goes_on(make, log_events):
    service, clock, recorder = make()
    service.fail_with = RuntimeError("upstream exploded")
    service.start()
    assert any(e.get("log_failure") and "upstream exploded" in str(e["log_failure"].value) for e in log_events)
    service.fail_with = None
    clock.advance(5)
    assert service.calls == 2 and len(states(recorder)) == 1


def test_unserialisable_state_is_reported_not_published(make, log_events):
    service, clock, recorder = make()
    service.rows = [["7", object(), "Ann"]]
    service.start()
    errors = [e for e in log_events if e.get("log_level") == LogLevel.error]
    assert errors and "state['cars'][0][1]" in str(errors[-1]["error"])
    assert states(recorder) == []
    service.rows = [["7", "RUN", "Ann"]]
    clock.advance(5)
    assert len(states(recorder)) == 1


def test_state_is_saved_each_update_and_restored_with_s(make, service_env, tmp_path):
    service, clock, recorder = make()
    service.start()
    service.rows = [["7", "PIT", "Ann"]]
    clock.advance(5)
    saved = tmp_path / "state" / f"{service.uuid}.json"
    assert json.loads(saved.read_text())["messages"][0][2] == "#7 (Ann) has entered the pits"

    resumed, clock2, recorder2 = make(initial_state=str(saved))
    assert resumed.uuid == service.uuid
    assert resumed.state == service.state
    resumed.rows = [["7", "OUT", "Ann"]]
    resumed.start()
    messages = states(recorder2)[-1]["messages"]
    assert [m[2] for m in messages] == ["#7 (Ann) has left the pits", "#7 (Ann) has entered the pits"]


def test_no_write_state_writes_nothing(make, tmp_path):
    service, clock, recorder = make(no_write_state=True)
    service.start()
    clock.advance(5)
    service.stop()
    assert not list((tmp_path / "state").glob("*.json")) if (tmp_path / "state").exists() else True
    assert len(states(recorder)) == 2


def test_stop_saves_state_and_stops_polling(make, tmp_path):
    service, clock, recorder = make()
    service.start()
    service.stop()
    assert (tmp_path / "state" / f"{service.uuid}.json").exists()
    clock.advance(60)
    assert service.calls == 1


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", ""])
def test_a_bad_state_file_is_a_clear_error(make, tmp_path, content):
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(StateFileError, match="broken.json"):
        make(initial_state=str(path))


def test_manifest_fields(make):
    service, clock, recorder = make()
    manifest = service.manifest
    assert list(manifest) == ["uuid", "name", "serviceClass", "description", "colSpec", "trackDataSpec",
                              "pollInterval", "hasAnalysis", "hidden", "livetimingVersion", "source"]
    assert len(manifest["uuid"]) == 32 and int(manifest["uuid"], 16) >= 0
    assert manifest["serviceClass"] == "test_base_service"  # the plugin module's last segment
    assert manifest["name"] == "Test series" and manifest["description"] == "Round 1"
    assert manifest["colSpec"] == [["Num", "text", "Car number"], ["State", "text"], ["Driver", "text"]]
    assert manifest["trackDataSpec"] == ["Air"] and manifest["pollInterval"] == 5
    assert manifest["hidden"] is False and "doNotRecord" not in manifest
    assert manifest["source"] == ["Upstream Ltd", "https://example.invalid/"]
    assert set(manifest["livetimingVersion"]) == {"core", "plugin"}


def test_manifest_options(make):
    service, clock, recorder = make(masquerade="other", description="Race 2", hidden=True, do_not_record=True,
                                    uuid="fixeduuid", disable_analysis=True)
    manifest = service.manifest
    assert manifest["uuid"] == "fixeduuid" and manifest["serviceClass"] == "other"
    assert manifest["description"] == "Race 2" and manifest["hidden"] is True
    assert manifest["doNotRecord"] is True and manifest["hasAnalysis"] is False


def test_publish_manifest_is_rate_limited_and_coalesced(make):
    service, clock, recorder = make()
    service.publishManifest()
    service.publishManifest()
    service.publishManifest()
    assert len(recorder.of_class(MessageClass.SERVICE_REGISTRATION)) == 1
    clock.advance(1)
    assert len(recorder.of_class(MessageClass.SERVICE_REGISTRATION)) == 2
    clock.advance(10)
    assert len(recorder.of_class(MessageClass.SERVICE_REGISTRATION)) == 2


def test_snapshot_has_manifest_and_current_state(make):
    service, clock, recorder = make()
    service.start()
    (t1, m1), (t2, m2), *analysis = service.snapshot()
    assert analysis and all(t.startswith(f"livetiming.analysis/{service.uuid}/") for t, _ in analysis)
    assert (t1, m1.msg_class) == (Channel.CONTROL, MessageClass.SERVICE_REGISTRATION)
    assert (t2, m2.msg_class) == (f"livetiming.service.{service.uuid}", MessageClass.SERVICE_DATA_COMPRESSED)
    assert json.loads(decompress_from_utf16(m2.payload)) == service.state == service.requestState()


def test_a_failing_publisher_does_not_stop_the_others(make, log_events):
    service, clock, recorder = make()

    class Broken:
        def publish(self, topic, message):
            raise ConnectionError("gone")

    service.publishers.insert(0, Broken())
    service.start()
    assert len(states(recorder)) == 1
    assert any(e.get("log_failure") and isinstance(e["log_failure"].value, ConnectionError) for e in log_events)


def result_of(value):
    """The value of an already-fired Deferred (analysis runs inline on a simulated clock)."""
    from twisted.internet.defer import Deferred
    if not isinstance(value, Deferred):
        return value
    results = []
    value.addBoth(results.append)
    assert results, "Deferred has not fired"
    return results[0]


def analysis_published(recorder):
    return {t.split("/", 2)[2]: m for t, m in recorder.of_class(MessageClass.ANALYSIS_DATA)}


def test_analysis_is_published_per_key_with_retain_rules_and_rate_limit(make):
    service, clock, recorder = make()
    service.start()
    published = analysis_published(recorder)
    assert {"static", "driver", "messages", "session", "lap/7", "stint/7", "car_messages/7"} <= set(published)
    assert published["static"].payload == {"7": [None, None, None]} and published["static"].retain
    assert published["driver"].payload == {"7": ["Ann"]}
    assert not published["lap/7"].retain and not published["stint/7"].retain
    assert published["session"].retain and published["car_messages/7"].retain

    before = len(recorder.of_class(MessageClass.ANALYSIS_DATA))
    service.rows = [["7", "RUN", "Bob"]]  # driver change: "driver" key changes
    clock.advance(5)
    assert len(recorder.of_class(MessageClass.ANALYSIS_DATA)) == before  # within 10 s of the last publish
    clock.advance(5)
    assert analysis_published(recorder)["driver"].payload == {"7": ["Ann", "Bob"]}


def test_request_analysis_data_is_the_v1_dict(make):
    service, clock, recorder = make()
    service.start()
    data = result_of(service.requestAnalysisData())
    assert set(data) == {"static", "driver", "messages", "session", "lap", "stint", "car_messages"}
    assert data["driver"] == {"7": ["Ann"]}


def test_disable_analysis(make):
    service, clock, recorder = make(disable_analysis=True)
    service.start()
    assert service.analyser is None and analysis_published(recorder) == {}
    assert service.requestAnalysisData() == {} and service.manifest["hasAnalysis"] is False


def test_analysis_is_saved_on_stop_and_resumed_with_the_same_uuid(make, tmp_path):
    service, clock, recorder = make()
    service.start()
    service.rows = [["7", "RUN", "Bob"]]
    clock.advance(5)
    service.stop()
    saved = tmp_path / "analysis" / f"{service.uuid}.json"
    assert json.loads(saved.read_text())["version"] == 1

    resumed, clock2, recorder2 = make(uuid=service.uuid, no_write_state=True)
    resumed.start()
    assert result_of(resumed.requestAnalysisData())["driver"] == {"7": ["Ann", "Bob"]}


def test_a_corrupt_analysis_file_is_reported_and_analysis_starts_empty(make, tmp_path, log_events):
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis" / "brokenuuid.json").write_text("{not json")
    service, clock, recorder = make(uuid="brokenuuid")
    service.start()
    assert any(e.get("log_level") == LogLevel.error and "brokenuuid.json" in str(e.get("path")) for e in log_events)
    assert result_of(service.requestAnalysisData())["driver"] == {"7": ["Ann"]}


def test_a_manifest_the_plugin_cannot_build_yet_is_retried(make, log_events):
    service, clock, recorder = make()
    service.getDefaultDescription = lambda: service.data["session"]  # upstream data not fetched yet
    service.data = None
    service.start()
    assert recorder.of_class(MessageClass.SERVICE_REGISTRATION) == []
    assert service.calls == 1  # polling started all the same
    service.data = {"session": "Qualifying"}
    clock.advance(5)
    (_, manifest), = recorder.of_class(MessageClass.SERVICE_REGISTRATION)
    assert manifest.payload["description"] == "Qualifying"


def test_a_push_plugin_stop_returns_the_analysis_save(service_env):
    from livetiming.service.due_publisher import DuePublisher

    class Push(DuePublisher, Plugin):
        pass

    clock = Clock()
    service = Push(default_args("push"), reactor=clock)
    service.start()
    assert service.stop() is not None  # the shutdown trigger waits for this Deferred


def lines(log_events, level):
    from twisted.logger import formatEvent
    return [formatEvent(e) for e in log_events if e.get("log_level") == level]


def test_a_get_race_state_that_blocks_for_over_a_second_is_warned_about(make, log_events):
    service, clock, recorder = make()
    service.getRaceState = lambda: clock.advance(1.5) or {"cars": [], "session": {}}
    service.start()
    warnings = lines(log_events, LogLevel.warn)
    assert len(warnings) == 1
    assert warnings[0].startswith("getRaceState() of plugin test_base_service blocked the service for 1.5s")
    assert len(states(recorder)) == 1  # still published


def test_a_quick_get_race_state_is_not_warned_about(make, log_events):
    service, clock, recorder = make()
    service.getRaceState = lambda: clock.advance(1.0) or {"cars": [], "session": {}}
    service.start()
    assert lines(log_events, LogLevel.warn) == []


def test_a_full_disk_is_one_warning_a_minute_not_a_traceback_per_update(make, log_events, monkeypatch):
    import errno

    from livetiming.service import base

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(base, "write_atomically", full)
    service, clock, recorder = make()
    service.start()
    for _ in range(24):  # two minutes of 5 s polls
        clock.advance(5)
    warnings = lines(log_events, LogLevel.warn)
    path = service.state_file
    assert warnings == [f"Could not write the state to {path}: No space left on device",
                        f"Could not write the state to {path}: No space left on device "
                        "(11 more like this in the last 60s)",
                        f"Could not write the state to {path}: No space left on device "
                        "(11 more like this in the last 60s)"]
    assert not any(e.get("log_failure") for e in log_events)
    assert len(states(recorder)) == 25  # publishing goes on

    monkeypatch.setattr(base, "write_atomically", lambda path, data: None)
    clock.advance(5)
    assert lines(log_events, LogLevel.info)[-1] == f"Writing the state to {path} works again (after 25 failures)"


def test_a_state_that_contains_itself_is_one_error_line_and_polling_goes_on(make, log_events):
    service, clock, recorder = make()
    polls = []

    def cyclic():
        polls.append(clock.seconds())
        state = {"cars": [], "session": {"flagState": "green"}}
        state["session"]["all"] = state["session"]
        return state

    service.getRaceState = cyclic
    service.start()
    clock.advance(5)
    errors = lines(log_events, LogLevel.error)
    assert errors == ["Plugin state not published: state is not JSON-serialisable: state['session']['all'] "
                      "is the enclosing dict itself (the state contains itself)"]
    assert not any(e.get("log_failure") for e in log_events)
    assert states(recorder) == [] and len(polls) == 2


def test_a_state_that_cannot_be_saved_on_stop_is_a_warning(make, log_events, tmp_path):
    service, clock, recorder = make(no_write_state=False)
    service.state_file.mkdir()  # the file's place is taken by a directory
    service.stop()
    assert any("on shutdown: Is a directory" in line for line in lines(log_events, LogLevel.warn))
    assert not any(e.get("log_failure") for e in log_events)


def test_an_analysis_that_cannot_be_saved_is_a_warning(make, log_events, tmp_path):
    (tmp_path / "analysis" / "blocked.json").mkdir(parents=True)
    service, clock, recorder = make(uuid="blocked")
    service.start()
    service.stop()
    assert any(line.startswith("Could not save the analysis to") and line.endswith("blocked.json: Is a directory")
               for line in lines(log_events, LogLevel.warn))
    assert not any(e.get("log_failure") for e in log_events)


def test_request_state_is_the_published_state_shared_by_every_call(make):
    service, clock, recorder = make()
    service.start()
    answers = [service.requestState() for _ in range(100)]
    assert all(answer is answers[0] for answer in answers)
    assert answers[0] == states(recorder)[-1]
    service.rows = [["7", "PIT", "Ann"]]
    clock.advance(5)
    assert service.requestState() is not answers[0] and answers[0]["cars"] == [["7", "RUN", "Ann"]]


def test_each_service_owns_the_car_pairing_of_its_generators(make):
    from livetiming.service.messages import PerCarMessageGenerator
    first, _, _ = make()
    second, _, _ = make()
    pairings = []
    for service in (first, second):
        per_car = [g for g in service.generators if isinstance(g, PerCarMessageGenerator)]
        assert per_car and all(g.pairing is service._car_pairing for g in per_car)
        pairings.append(service._car_pairing)
    assert pairings[0] is not pairings[1]
