"""The built-in `replay` plugin: a recording played back as a live service.

The schedule is a pure function of time and the service runs on Twisted's
simulated clock, so pace and order are checked exactly; the command line is
checked as a real process."""
import json
import subprocess
import zipfile

import pytest
import websocket
from twisted.internet.task import Clock

from livetiming.cli.service import parse
from livetiming.protocol import Channel, MessageClass
from livetiming.protocol.lzstring import decompress_from_utf16
from livetiming.recording import RecordingReader
from livetiming.service.plugins.replay import REPLAY_PREFIX, Service
from livetiming.service.plugins.replay.cursor import FrameCursor
from livetiming.service.plugins.replay.schedule import (
    LOOP_GAP,
    ReplayOptionError,
    Schedule,
    parse_speed,
    parse_start,
    start_position,
)
from processes import command
from reference_race import REFERENCE_RACE

pytestmark = pytest.mark.timeout(120)
GOLDEN_ANALYSIS = REFERENCE_RACE.replace(".zip", ".analysis.json")
T0 = 1_000_000.0


@pytest.fixture(scope="module")
def recorded():
    """Every (second, state) of the reference race, and its manifest."""
    with RecordingReader(REFERENCE_RACE) as reader:
        return [(second, state) for second, state in reader.iter_states(copy=True)], reader.manifest


# --- the pure parts -----------------------------------------------------------------


@pytest.mark.parametrize("text, seconds", [("+0:00:00", 0), ("+1:30:05", 5405), ("+0:10:00", 600),
                                           ("+25:00:00", 90000), ("+10:00", 600), ("0:47:54", 2874)])
def test_start_offsets(text, seconds):
    assert parse_start(text) == seconds


@pytest.mark.parametrize("text", ["", "+", "1h", "+1:60:00", "+0:00:60", "+-1:00:00", "+1:2:3:4", "+a:00:00"])
def test_bad_start_offsets(text):
    with pytest.raises(ReplayOptionError, match="--start"):
        parse_start(text)


@pytest.mark.parametrize("text, speed", [("1", 1.0), ("60", 60.0), ("0.5", 0.5), ("1000", 1000.0)])
def test_speeds(text, speed):
    assert parse_speed(text) == speed


@pytest.mark.parametrize("text", ["0", "-1", "1000.5", "nan", "inf", "-inf", "fast", ""])
def test_bad_speeds(text):
    with pytest.raises(ReplayOptionError, match="--speed"):
        parse_speed(text)


def test_start_position_is_the_newest_frame_at_or_before_the_offset():
    frames = [100, 101, 105, 110]
    assert [start_position(frames, offset) for offset in (0, 1, 2, 4, 5, 9, 10)] == [0, 1, 1, 1, 2, 2, 3]
    with pytest.raises(ReplayOptionError, match="after the end"):
        start_position(frames, 11)


def test_schedule_hands_out_each_frame_once_at_recorded_pace_divided_by_speed():
    frames = [100, 101, 103, 110]
    schedule = Schedule(frames, speed=2.0, origin=T0)
    assert [schedule.due_time(p) for p in range(4)] == [T0, T0 + 0.5, T0 + 1.5, T0 + 5.0]
    assert [d.position for d in schedule.take_due(T0)] == [0]
    assert schedule.take_due(T0 + 0.49) == []
    assert schedule.next_time() == T0 + 0.5
    assert [(d.position, d.second) for d in schedule.take_due(T0 + 2)] == [(1, 101), (2, 103)]
    assert schedule.take_due(T0 + 2) == []
    assert [d.position for d in schedule.take_due(T0 + 5)] == [3]
    assert schedule.finished and schedule.next_time() is None and schedule.take_due(T0 + 1e9) == []


def test_schedule_starting_later_and_looping():
    frames = [100, 101, 103, 110]
    schedule = Schedule(frames, speed=1.0, origin=T0, start=1, loop=True)
    assert [(d.position, d.pass_number) for d in schedule.take_due(T0 + 9)] == [(1, 0), (2, 0), (3, 0)]
    # the next pass starts at the start position LOOP_GAP recorded seconds after the last frame
    assert schedule.next_time() == T0 + 9 + LOOP_GAP
    assert [(d.position, d.pass_number) for d in schedule.take_due(T0 + 9 + LOOP_GAP)] == [(1, 1)]
    assert schedule.next_time() == T0 + 9 + LOOP_GAP + 2


def test_a_long_stall_is_caught_up_one_pass_at_a_time():
    schedule = Schedule([0, 1, 2], speed=1.0, origin=0.0, loop=True)
    assert len(schedule.take_due(1e6)) == 3
    assert len(schedule.take_due(1e6)) == 3


class SpyReader(RecordingReader):
    """Counts the frames read, by position."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reads = []

    def read_frame(self, position):
        self.reads.append(position)
        return super().read_frame(position)


def test_cursor_equals_the_reader_and_reads_each_frame_once_in_order(recorded):
    states, _ = recorded
    with SpyReader(REFERENCE_RACE) as reader:
        cursor = FrameCursor(reader)
        for position, (_, state) in enumerate(states):
            assert cursor.move_to(position) == state
        assert reader.reads == list(range(len(states)))


def test_cursor_jumps_read_from_the_keyframe_before_only(recorded):
    states, _ = recorded
    with SpyReader(REFERENCE_RACE) as reader:
        cursor = FrameCursor(reader)
        assert cursor.move_to(1234) == states[1234][1]
        assert reader.reads == list(range(1230, 1235))
        assert reader.is_keyframe(reader.frames[1230])
        reader.reads.clear()
        assert cursor.move_to(17) == states[17][1]   # backwards, as a loop does
        assert reader.reads == list(range(10, 18))


# --- the service on a simulated clock ------------------------------------------------


class Captured:
    """A publisher that keeps what the service publishes, with the clock's time."""

    def __init__(self, clock):
        self.clock = clock
        self.states = []      # (time, state)
        self.manifests = []

    def publish(self, topic, message):
        if message.msg_class == MessageClass.SERVICE_DATA_COMPRESSED:
            self.states.append((self.clock.seconds(), json.loads(decompress_from_utf16(message.payload))))
        elif topic == Channel.CONTROL and message.msg_class == MessageClass.SERVICE_REGISTRATION:
            self.manifests.append(message.payload)
        return True


def replay_service(argv, spy=False, analysis=False):
    service_class, args, extra = parse(["replay", REFERENCE_RACE, *argv]
                                       + ([] if analysis else ["--disable-analysis"]))
    assert service_class is Service
    if spy:
        class SpyService(Service):
            def open_reader(self, path):
                return SpyReader(path)
        service_class = SpyService
    clock = Clock()
    clock.advance(T0)
    service = service_class(args, extra, reactor=clock)
    captured = Captured(clock)
    service.publishers.append(captured)
    return service, clock, captured


def test_manifest_is_the_recordings_marked_as_a_replay(service_env, recorded):
    _, manifest = recorded
    service, _, captured = replay_service(["--no-write-state"])
    service.start()
    published = captured.manifests[0]
    for key in ("name", "serviceClass", "colSpec", "trackDataSpec"):
        assert published[key] == manifest[key], key
    assert published["description"] == REPLAY_PREFIX + manifest["description"]
    assert published["uuid"] != manifest["uuid"] and len(published["uuid"]) == 32
    assert published["doNotRecord"] is True
    assert published["source"] == manifest["source"]
    service.stop()
    fixed, _, captured = replay_service(["--uuid", "replay-one", "--no-write-state", "-d", "Our race"])
    fixed.start()
    assert captured.manifests[0]["uuid"] == "replay-one" and captured.manifests[0]["description"] == "Our race"
    fixed.stop()


def test_every_state_is_published_in_order_at_recorded_pace_over_speed(service_env, recorded):
    states, _ = recorded
    speed = 4.0  # binary fractions: the simulated clock lands exactly on each due time
    service, clock, captured = replay_service(["--speed", "4", "--no-write-state"])
    service.start()
    first = states[0][0]
    assert len(captured.states) == 1
    for index, (second, _) in enumerate(states[1:], start=1):
        due = T0 + (second - first) / speed
        clock.advance(due - 1 / 64 - clock.seconds())
        assert len(captured.states) == index, "published before its time"
        clock.advance(due - clock.seconds())
        assert len(captured.states) == index + 1, "not published when due"
    assert [time for time, _ in captured.states] == [T0 + (second - first) / speed for second, _ in states]
    assert [state for _, state in captured.states] == [state for _, state in states]
    assert service.state == states[-1][1]
    clock.advance(3600)
    assert len(captured.states) == len(states)   # the end: no more states, no loop
    assert not clock.getDelayedCalls()
    service.stop()


def test_start_begins_at_the_right_state_reading_from_the_keyframe_before(service_env, recorded):
    states, _ = recorded
    service, clock, captured = replay_service(["--start", "+0:20:37", "--speed", "2", "--no-write-state"],
                                              spy=True)
    service.start()
    target = states[0][0] + 20 * 60 + 37
    position = next(i for i, (second, _) in enumerate(states) if second == target)
    assert captured.states == [(T0, states[position][1])]
    keyframe = position - position % 10
    assert service.reader.reads == list(range(keyframe, position + 1))
    clock.advance(0.5)
    assert captured.states[-1] == (T0 + 0.5, states[position + 1][1])
    assert service.reader.reads[-1] == position + 1 and min(service.reader.reads) == keyframe
    service.stop()


def test_loop_starts_over_at_the_start(service_env, recorded):
    states, _ = recorded
    service, clock, captured = replay_service(["--start", "+0:47:50", "--loop", "--no-write-state"])
    service.start()
    tail = [state for _, state in states[-5:]]
    for _ in range(11):
        clock.advance(1)
    assert [state for _, state in captured.states] == tail + tail + [tail[0], tail[1]]
    # the second pass begins LOOP_GAP after the last frame of the first
    assert [time - T0 for time, _ in captured.states] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    service.stop()
    assert not clock.getDelayedCalls()


def test_frames_due_together_publish_the_newest_only(service_env, recorded):
    states, _ = recorded
    service, clock, captured = replay_service(["--no-write-state"])
    service.start()
    clock.advance(9.5)
    assert [state for _, state in captured.states] == [states[0][1], states[9][1]]
    service.stop()


def test_analysis_runs_on_recorded_time_and_equals_the_offline_analysis(service_env, recorded):
    """Played to the end (in big steps, so most frames only reach the
    analysis), the live analysis is the golden offline analysis of the file."""
    states, _ = recorded
    service, clock, captured = replay_service(["--speed", "100"], analysis=True)
    service.start()
    for _ in range(60):   # 2875 frames at 100x: 29 s
        clock.advance(1)
    assert service.schedule.finished and len(captured.states) == 30
    ours = service.analyser.analyser.data()
    with open(GOLDEN_ANALYSIS) as handle:
        golden = json.load(handle)
    assert service.state == states[-1][1]
    for section in ("static", "driver", "messages", "session", "car_messages"):
        assert ours[section] == golden[section], section
    # Quirk 3 (see test_analysis_cli): only #44's entries differ from the reference's.
    for section in ("lap", "stint"):
        assert {k: v for k, v in ours[section].items() if k != "44"} == \
               {k: v for k, v in golden[section].items() if k != "44"}, section
    service.stop()


def test_state_file_is_written_at_most_once_a_second(service_env, recorded):
    states, _ = recorded
    service, clock, captured = replay_service(["--speed", "8"])
    writes = []
    service._write = lambda what, path, write, *args: writes.append((what, clock.seconds()))
    service.start()
    for _ in range(80):       # 10 s at 8x: 81 states
        clock.advance(1 / 8)
    assert len(captured.states) == 81
    assert [time - T0 for what, time in writes if what == "state"] == [float(t) for t in range(11)]
    service.stop()


def test_a_damaged_frame_stops_the_replay_with_one_error(service_env, tmp_path, recorded, log_events):
    """The file checked at start-up may hold a frame that does not apply: the
    replay stops there (the service stays up with the last good state)."""
    states, _ = recorded
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(REFERENCE_RACE) as source, zipfile.ZipFile(damaged, "w") as target:
        names = sorted(source.namelist())
        for name in names:
            target.writestr(name, b"{broken" if name == names[3] else source.read(name))
    service_class, args, extra = parse(["replay", str(damaged), "--disable-analysis", "--no-write-state"])
    clock = Clock()
    clock.advance(T0)
    service = service_class(args, extra, reactor=clock)
    captured = Captured(clock)
    service.publishers.append(captured)
    service.start()
    for _ in range(10):
        clock.advance(1)
    assert [state for _, state in captured.states] == [state for _, state in states[:3]]
    errors = [event for event in log_events if event.get("log_format", "").startswith("The replay stops")]
    assert len(errors) == 1 and "01713099588i.json is not valid JSON" in errors[0]["error"]
    assert service.state == states[2][1]
    assert not [call for call in clock.getDelayedCalls() if call.func == service._tick]
    service.stop()


def test_get_race_state_serves_the_current_frame(service_env, recorded):
    states, _ = recorded
    service, _, _ = replay_service(["--start", "+0:01:00", "--no-write-state"])
    assert service.getRaceState() == {"cars": states[60][1]["cars"], "session": states[60][1]["session"]}


# --- the command line -------------------------------------------------------------


def run_service(*args, timeout=60):
    return subprocess.run([command("livetiming-service"), "replay", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


def _bad_files(tmp_path):
    (tmp_path / "text.zip").write_text("not a zip at all")
    with zipfile.ZipFile(tmp_path / "no-manifest.zip", "w") as archive:
        archive.writestr("01713099585.json", "{}")
    with zipfile.ZipFile(tmp_path / "no-frames.zip", "w") as archive:
        archive.writestr("manifest.json", json.dumps({"version": 1, "startTime": 1, "name": "x", "colSpec": []}))
    (tmp_path / "a-directory").mkdir()


@pytest.mark.parametrize("args, text", [
    (["{tmp}/missing.zip"], "missing.zip: no such file"),
    (["{tmp}/text.zip"], "not a valid ZIP"),
    (["{tmp}/no-manifest.zip"], "no manifest.json"),
    (["{tmp}/no-frames.zip"], "no frames"),
    (["{tmp}/a-directory"], "no manifest.json"),
    (["{race}", "--speed", "0"], "--speed 0: must be above 0"),
    (["{race}", "--speed", "-2"], "--speed -2: must be above 0"),
    (["{race}", "--speed", "1001"], "at most 1000"),
    (["{race}", "--speed", "nan"], "--speed nan"),
    (["{race}", "--start", "soon"], "use +H:MM:SS"),
    (["{race}", "--start", "+1:00:00"], "after the end of the recording"),
    (["--start", "+1:00:00", "{race}"], "after the end of the recording"),
])
def test_mistakes_are_one_line_and_exit_code_2(service_env, tmp_path, args, text):
    _bad_files(tmp_path)
    result = run_service(*[arg.format(tmp=tmp_path, race=REFERENCE_RACE) for arg in args])
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("livetiming-service: error: ") and text in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stdout == ""   # refused before the service was built: nothing listened


def test_a_replay_is_a_live_service_to_a_client(service_env, processes, recorded):
    """A real process, standalone: a client gets the replay's manifest and
    then consecutive recorded states from the --start point on."""
    states, manifest = recorded
    process = processes([command("livetiming-service"), "replay", REFERENCE_RACE, "--speed", "20",
                         "--start", "+0:30:00", "-v"])
    port = int(process.wait_for(r"listening on port:(\d+)", timeout=30).group(1))
    process.wait_for(r"Replaying .*reference_race\.zip \(2875 frames, \+0:47:54\) from \+0:30:00 at 20x",
                     timeout=30)
    client = websocket.create_connection(f"ws://127.0.0.1:{port}/", timeout=20)
    received, manifests = [], []
    try:
        while len(received) < 15:
            topic, wrapper = json.loads(client.recv())
            if topic.startswith("livetiming.service."):
                received.append(json.loads(decompress_from_utf16(wrapper["payload"])))
            elif topic == Channel.CONTROL and wrapper["msgClass"] == MessageClass.SERVICE_REGISTRATION.value:
                manifests.append(wrapper["payload"])
    finally:
        client.close()
    assert manifests[0]["description"] == REPLAY_PREFIX + manifest["description"]
    assert manifests[0]["colSpec"] == manifest["colSpec"]
    recorded_states = [state for _, state in states]
    first = recorded_states.index(received[0])
    assert first >= 30 * 60
    assert received == recorded_states[first:first + len(received)]
    assert process.stop() == 0


def test_each_run_analyses_afresh_under_a_fixed_uuid(service_env, recorded):
    """An earlier run's saved analysis is set aside, not resumed and fed the race again."""
    from pathlib import Path
    snapshot = Path(service_env["LIVETIMING_ANALYSIS_DIR"]) / "fixed-replay.json"
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    runs = []
    for _ in range(2):
        service, clock, _ = replay_service(["--uuid", "fixed-replay", "--speed", "1000", "--no-write-state"],
                                           analysis=True)
        service.start()
        clock.advance(5)
        assert service.schedule.finished
        runs.append(service.analyser.analyser.data())
        service.stop()
        assert snapshot.exists()
    assert (snapshot.parent / "fixed-replay.json.previous").exists()
    for section in ("stint", "lap", "messages", "session", "car_messages"):
        assert runs[1][section] == runs[0][section], section

