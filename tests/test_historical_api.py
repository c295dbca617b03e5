"""The historical plugin API (spec plugin-api.md) as thin adapters over
today's modules: names, semantics, old generator signatures giving today's
messages on the reference race, fetchers with bytes URLs, DuePublisher in
either place among the bases, and a plugin lacking a required hook failing
fast."""
import collections
import json
import os
import subprocess

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock

import livetiming.messages as old
import livetiming.service.messages as today
from livetiming.network import RPC, Channel, Message, MessageClass, Realm
from livetiming.protocol import MalformedMessageError
from livetiming.racing import FlagStatus, Stat
from livetiming.service import (
    AbstractService,
    BaseService,
    DuePublisher,
    Fetcher,
    JSONFetcher,
    MultiLineFetcher,
    ReconnectingWebSocketClientFactory,
    Watchdog,
)
from livetiming.service.options import default_args
from plugin_runner import command, plugin_file
from reference_race import iter_frames, load_manifest

# --- names and vocabulary -------------------------------------------------------


def test_livetiming_service_exports_the_historical_names():
    import livetiming.service as service
    from livetiming.service import base, due_publisher, fetcher, upstream, watchdog

    assert (AbstractService, BaseService) == (base.AbstractService, base.BaseService)
    assert DuePublisher is due_publisher.DuePublisher
    assert (Fetcher, JSONFetcher, MultiLineFetcher) == (fetcher.Fetcher, fetcher.JSONFetcher,
                                                        fetcher.MultiLineFetcher)
    assert Watchdog is watchdog.Watchdog
    assert ReconnectingWebSocketClientFactory is upstream.ReconnectingWebSocketClientFactory
    assert set(service.__all__) <= set(dir(service))
    with pytest.raises(AttributeError):
        service.NoSuchThing  # noqa: B018


def test_livetiming_service_is_a_regular_package_whose_plugins_namespace_spans_installs():
    import livetiming.service as service
    import livetiming.service.plugins as plugins

    assert service.__file__.endswith("service/__init__.py")
    assert service.__path__[0] == service.service_directories()[0]
    core_plugins = os.path.join(os.path.dirname(service.__file__), "plugins")  # installed or editable
    assert any(os.path.samefile(path, core_plugins) for path in plugins.__path__ if os.path.isdir(path))


def test_flag_status_from_string_is_case_insensitive_and_unknown_names_raise_key_and_value_errors():
    assert FlagStatus.fromString("code_60") is FlagStatus.CODE_60
    assert FlagStatus.fromString("Yellow") is FlagStatus.YELLOW
    assert [int(f) for f in (FlagStatus.NONE, FlagStatus.CODE_60_ZONE)] == [0, 12]
    for error in (KeyError, ValueError):
        with pytest.raises(error, match="unknown flag state 'purple'"):
            FlagStatus.fromString("purple")


def test_stat_has_title_type_description_and_lookups():
    assert (Stat.GAP.title, Stat.GAP.type, Stat.GAP.description) == ("Gap", "delta", "Gap to leader")
    assert Stat.LAPS.description is None
    assert Stat.from_title("Lap") is Stat.LAPS
    assert Stat.sector(2) is Stat.S2 and Stat.best_sector(3) is Stat.BS3
    assert Stat.parse_colspec([["Num", "text"], ["Mine", "text"]]) == [Stat.NUM, ["Mine", "text"]]


def test_network_message_historical_constructor_serialise_and_parse():
    message = Message(MessageClass.SERVICE_DATA, {"a": 1}, retain=True, date=5)
    assert message.serialise() == {"msgClass": 4, "date": 5, "payload": {"a": 1}, "retain": True}
    parsed = Message.parse(message.serialise())
    assert isinstance(parsed, Message) and parsed.msgClass is MessageClass.SERVICE_DATA
    assert (parsed.payload, parsed.retain, parsed.date) == ({"a": 1}, True, 5)
    with pytest.raises(MalformedMessageError):
        Message.parse({"payload": 1})
    assert Realm.TIMING == "timing"
    assert Channel.STATE_PUBLISH.format("u") == "livetiming.service.u"
    assert RPC.REQUEST_STATE.format("u") == "livetiming.service.requestState.u"


def test_format_time_and_car_number_regex():
    assert old.formatTime(83.456) == "1:23.456"
    assert old.formatTime(59.9996) == "1:00.000"
    assert old.CAR_NUMBER_REGEX.search("Penalty for CAR #12").group(1) == "12"
    assert old.CAR_NUMBER_REGEX.search("car 7 stopped").group(1) == "7"


# --- message generators ----------------------------------------------------------

FIXTURE_COLSPEC = load_manifest()["colSpec"]


def replay(generators_for):
    """Messages of each frame of the reference race from `generators_for()`'s generators."""
    generators = generators_for()
    previous = {"cars": [], "session": {"flagState": "green"}}
    frames = []
    for timestamp, state in iter_frames():
        frames.append(today.run_generators([today.adapt_generator(g) for g in generators], previous, state,
                                           FIXTURE_COLSPEC, timestamp))
        previous = state
    return frames


@pytest.fixture(scope="module")
def reference_messages():
    return replay(today.default_generators)


def test_historical_built_in_generators_give_todays_messages_on_the_reference_race(reference_messages):
    ours = replay(lambda: [old.FlagChangeMessage(), old.CarPitMessage(FIXTURE_COLSPEC),
                           old.DriverChangeMessage(FIXTURE_COLSPEC), old.FastLapMessage(FIXTURE_COLSPEC)])
    assert ours == reference_messages
    assert sum(map(len, ours)) > 50


def test_two_argument_process_of_built_ins_gives_the_same_messages_timestamped_now(monkeypatch):
    monkeypatch.setattr(old.time, "time", lambda: 1234.9)
    frames = list(iter_frames())
    previous, found = frames[0][1], 0
    pit = old.CarPitMessage(FIXTURE_COLSPEC)
    for _timestamp, state in frames[1:400]:
        expected = today.CarPitMessage().process(previous, state, FIXTURE_COLSPEC, 1234)
        assert pit.process(previous, state) == expected
        found += len(expected)
        previous = state
    assert found > 0


class OldPerCarPit(old.PerCarMessage):
    """An old-style plugin generator: pit entries, as a plugin would write it."""

    def _consider(self, oldCar, newCar):
        if self.getValue(oldCar, Stat.STATE) != "PIT" and self.getValue(newCar, Stat.STATE) == "PIT":
            num = self.getValue(newCar, Stat.NUM)
            return ["Old", "#{} pitted".format(num), "pit", num]
        return None


class OldWholeProcess:
    """An old-style generator overriding process(oldState, newState) itself."""

    def process(self, oldState, newState):
        if oldState.get("session", {}).get("flagState") != newState.get("session", {}).get("flagState"):
            return [[1, "Old", "flag is now " + newState["session"]["flagState"], "track"]]
        return []


def test_old_style_generators_run_beside_todays_in_one_update(reference_messages):
    ours = replay(lambda: [*today.default_generators(), OldPerCarPit(FIXTURE_COLSPEC), OldWholeProcess()])
    pits_today = flags_today = 0
    for frame, expected in zip(ours, reference_messages):
        assert frame[:len(expected)] == expected  # today's generators first, unchanged
        extra = frame[len(expected):]
        entered = [m for m in expected if m[2].endswith("has entered the pits")]
        assert [m[4] for m in extra if m[1] == "Old" and m[2].endswith("pitted")] == [m[4] for m in entered]
        pits_today += len(entered)
        flags_today += sum(1 for m in extra if m[2].startswith("flag is now"))
    assert pits_today > 0 and flags_today > 0


def test_per_car_message_get_value_reads_raw_cells_and_skips_new_cars():
    colspec = [Stat.NUM, Stat.STATE, Stat.LAST_LAP, ["Mine", "text"]]
    generator = OldPerCarPit(colspec)
    car = ["7", "RUN", [90.1, "pb"], "x"]
    assert generator.getValue(car, Stat.LAST_LAP) == [90.1, "pb"]
    assert generator.getValue(car, "Mine") == "x"
    assert generator.getValue(car, Stat.DRIVER, "none") == "none"
    assert generator.getValue(["7"], Stat.STATE, "short") == "short"
    new = {"cars": [["7", "PIT", [1, ""], ""], ["8", "PIT", [1, ""], ""]]}
    messages = generator.process({"cars": [["7", "RUN", [1, ""], ""]]}, new, None, 99)
    assert messages == [[99, "Old", "#7 pitted", "pit", "7"]]  # car 8 has no old row: not considered


def test_timing_message_consider():
    class SessionMessage(old.TimingMessage):
        def _consider(self, oldState, newState):
            if oldState["session"].get("name") != newState["session"].get("name"):
                return ["Session", newState["session"]["name"], None]

    generator = SessionMessage()
    assert generator.process({"session": {}}, {"session": {"name": "Race"}}, [], 7) == [[7, "Session", "Race", None]]
    assert generator.process({"session": {"name": "Race"}}, {"session": {"name": "Race"}}) == []


def test_race_control_message_pops_from_the_end_upper_cases_and_names_cars():
    queue = collections.deque(["second: car #7 black flag", "first: track clear"])
    messages = old.RaceControlMessage(queue).process({}, {}, [], 10)
    assert messages == [[10, "Race Control", "FIRST: TRACK CLEAR", "raceControl"],
                        [10, "Race Control", "SECOND: CAR #7 BLACK FLAG", "raceControl", "7"]]
    assert not queue
    texts = ["Safety car 2 in", "Car 5 stopped"]
    assert [m[2:] for m in old.RaceControlMessage(texts).process({}, {})] == [
        ["CAR 5 STOPPED", "raceControl", "5"], ["SAFETY CAR 2 IN", "raceControl"]]


def test_slow_zone_message_announces_slow_zones_only():
    generator = old.SlowZoneMessage()
    green, slow, red = ({"session": {"flagState": flag}} for flag in ("green", "slow_zone", "red"))
    assert generator.process(green, slow, [], 3) == [[3, "Track", "Slow zone(s) in operation", "yellow"]]
    assert generator.process(slow, red, [], 3) == []
    assert today.FlagChangeMessage().process(green, slow, [], 3) == []


# --- the service ----------------------------------------------------------------


class Recorder:
    def __init__(self, result=None):
        self.published, self.result = [], result

    def publish(self, topic, message):
        self.published.append((topic, message.serialise(), message.retain))
        return self.result


class OldPlugin(BaseService):
    def __init__(self, args, extra_args):
        super(OldPlugin, self).__init__(args, extra_args)

    def getName(self):
        return "Old"

    def getColumnSpec(self):
        return [Stat.NUM, Stat.STATE]

    def getRaceState(self):
        self.polls = getattr(self, "polls", 0) + 1
        return {"cars": [["1", "RUN"]], "session": {"flagState": "green"}}


def test_two_argument_init_publish_and_http_client(service_env):
    plugin = OldPlugin(default_args("old", ["--hidden"]), ["--mine", "1"])
    assert plugin.args.hidden and plugin.extra_args == ["--mine", "1"]
    assert plugin.publish("t", {"x": 1}) is False  # nobody to publish to
    recorder = Recorder()
    plugin.publishers.append(recorder)
    assert plugin.publish("t", {"x": 1}) is True
    assert plugin.publish("t", Message(MessageClass.SERVICE_DATA, 1, date=2).serialise(), {"retain": True})
    from autobahn.wamp.types import PublishOptions
    assert plugin.publish("t", Message(MessageClass.SERVICE_DATA, 3, date=4), PublishOptions(retain=True))
    assert recorder.published == [("t", {"x": 1}, False),
                                  ("t", {"msgClass": 4, "date": 2, "payload": 1}, True),
                                  ("t", {"msgClass": 4, "date": 4, "payload": 3, "retain": True}, True)]
    recorder.result = False  # e.g. the router is away
    assert plugin.publish("t", {"x": 1}) is False
    from treq.client import HTTPClient
    assert isinstance(plugin.http_client, HTTPClient) and plugin.http_client is plugin.http_client


def test_get_message_generators_can_replace_the_defaults(service_env):
    class Replacing(OldPlugin):
        def _getMessageGenerators(self):
            return [OldWholeProcess()]

    class Adding(OldPlugin):
        def getExtraMessageGenerators(self):
            return [OldWholeProcess()]

    assert [type(g).__name__ for g in Replacing(default_args("old"), []).generators] == ["TwoArgumentGenerator"]
    assert [type(g).__name__ for g in Adding(default_args("old"), []).generators] == [
        "FlagChangeMessage", "CarPitMessage", "DriverChangeMessage", "FastLapMessage", "TwoArgumentGenerator"]


@pytest.mark.parametrize("order", ["DuePublisher first", "BaseService first"])
def test_due_publisher_works_in_either_place_among_the_bases(order, service_env):
    bases = (DuePublisher, OldPlugin) if order == "DuePublisher first" else (OldPlugin, DuePublisher)
    Push = type("Push", bases, {})
    clock = Clock()
    plugin = Push(default_args("push", no_write_state=True), [])
    plugin.reactor = clock
    plugin.polls = 0
    plugin.start()
    assert plugin.polls == 0  # never auto-polled
    plugin.set_due_publish()
    clock.advance(1)
    assert plugin.polls == 1
    clock.pump([1] * 60)
    assert plugin.polls == 2  # at least every 60 s
    plugin.stop()
    plugin.set_due_publish()
    clock.advance(5)
    assert plugin.polls == 2


class ScriptedFetch:
    def __init__(self, *bodies):
        self.bodies, self.urls = list(bodies), []

    def __call__(self, url):
        self.urls.append(url)
        return defer.succeed(self.bodies.pop(0))


@pytest.mark.parametrize("url", [b"http://upstream.invalid/a", "http://upstream.invalid/a",
                                 lambda: b"http://upstream.invalid/a"])
def test_fetchers_take_bytes_str_or_callable_urls(url):
    clock, got = Clock(), []
    fetch = ScriptedFetch(b'{"a": 1}', b"x\ny\n")
    JSONFetcher(url, got.append, 5, reactor=clock, fetch=fetch).start()
    MultiLineFetcher(url, got.append, 5, reactor=clock, fetch=fetch).start()
    assert fetch.urls == ["http://upstream.invalid/a"] * 2
    assert got == [{"a": 1}, ["x", "y"]]


def test_a_callable_url_is_asked_before_every_fetch():
    clock, got, count = Clock(), [], iter(range(10))
    fetch = ScriptedFetch(b"a", b"b")
    fetcher = Fetcher(lambda: f"http://upstream.invalid/{next(count)}", got.append, 5, reactor=clock, fetch=fetch)
    fetcher.start()
    clock.advance(5)
    assert fetch.urls == ["http://upstream.invalid/0", "http://upstream.invalid/1"] and got == ["a", "b"]


def test_watchdog_passes_its_arguments_to_the_action():
    clock, calls = Clock(), []
    dog = Watchdog(3, lambda *a, **k: calls.append((a, k)), 1, "two", three=3, reactor=clock)
    dog.start()
    clock.advance(3)
    assert calls == [((1, "two"), {"three": 3})]


def test_reconnecting_factory_names_livetiming_core_and_backs_off_to_30s():
    factory = ReconnectingWebSocketClientFactory("ws://upstream.invalid/feed")
    assert factory.useragent.startswith("livetiming-core/") and factory.maxDelay == 30
    assert ReconnectingWebSocketClientFactory("ws://x.invalid/", useragent="Mine/1").useragent == "Mine/1"


# --- fail fast --------------------------------------------------------------------


def test_abstract_service_hooks_are_documented():
    for name in ("getName", "getDefaultDescription", "getColumnSpec", "getRaceState", "getTrackDataSpec",
                 "getPollInterval", "getExtraMessageGenerators", "getVersion"):
        assert len(getattr(AbstractService, name).__doc__ or "") > 40, name


@pytest.mark.parametrize("missing", ["getName", "getColumnSpec", "getRaceState"])
def test_a_plugin_lacking_a_required_hook_stops_with_one_line_and_exit_code_2(missing, tmp_path, service_env):
    path = plugin_file(tmp_path, "incomplete")
    source = path.read_text()
    start = source.index(f"    def {missing}(self):")
    end = source.find("\n\n", start)
    path.write_text(source[:start] + (source[end + 2:] if end != -1 else ""))
    result = subprocess.run(command(path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"does not implement {missing}()" in lines[0] and "incomplete" in lines[0]
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").iterdir())


def test_start_without_super_start_is_one_line_and_exit_code_2(tmp_path, service_env):
    path = plugin_file(tmp_path, "nostart", """
        def start(self):
            pass
    """)
    result = subprocess.run(command(path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "returned without calling super().start()" in result.stderr.strip()
    assert len(result.stderr.strip().splitlines()) == 1


def test_manifest_is_json(service_env):
    plugin = OldPlugin(default_args("old"), [])
    assert json.loads(json.dumps(plugin.manifest))["name"] == "Old"


def test_per_car_message_subclass_may_set_its_column_spec_itself():
    class OwnInit(old.PerCarMessage):
        def __init__(self, spec):
            self.columnSpec = spec

    generator = OwnInit([Stat.NUM, Stat.STATE])
    assert generator.getValue(["9", "PIT"], Stat.STATE) == "PIT"
    generator.columnSpec = [Stat.STATE, Stat.NUM]
    assert generator.getValue(["9", "PIT"], Stat.STATE) == "9"


def test_a_start_that_raises_before_super_start_is_one_line_and_exit_code_1(tmp_path, service_env):
    path = plugin_file(tmp_path, "badstart", """
        def start(self):
            raise RuntimeError("upstream login refused")
    """)
    result = subprocess.run(command(path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines() == [
        "livetiming-service: error: plugin 'badstart' failed while starting: RuntimeError: upstream login refused"]
