"""RecordingWriter: round trips, dictdiffer compatibility, same-second
updates, crash safety, resuming and atomic finalising."""
import json
import os
import signal
import subprocess
import sys
import zipfile

import dictdiffer
import pytest

import reference_race
from livetiming.recording import (
    EmptyRecordingError,
    FrameError,
    FrameOrderError,
    InvalidStateError,
    RecordingError,
    RecordingExistsError,
    RecordingLockedError,
    RecordingReader,
    RecordingWriter,
    validate,
)
from livetiming.recording.writer import finalise_directory
from test_recording_support import HERE, MANIFEST, demo_states, frame_names, iter_demo_states


def record(directory, states, manifest=MANIFEST):
    writer = RecordingWriter(directory, manifest)
    for timestamp, state in states:
        writer.write_frame(timestamp, state)
    return writer


def replay_with_dictdiffer(zip_path):
    """States of a ZIP rebuilt with the real dictdiffer.patch (in place, as
    a plain reader of the format would)."""
    with zipfile.ZipFile(zip_path) as archive:
        state = None
        for name in frame_names(zip_path):
            frame = json.loads(archive.read(name))
            if name.endswith("i.json"):
                dictdiffer.patch(frame["cars"], state["cars"], in_place=True)
                dictdiffer.patch(frame["session"], state["session"], in_place=True)
                state["messages"] = (frame["messages"] + state["messages"])[:100]
                state["highlight"] = frame["highlight"]
            else:
                state = frame
            yield int(name[:11]), json.loads(json.dumps(state))


def in_progress_files(directory):
    return sorted(name for name in os.listdir(directory) if not name.startswith("."))


# -------------------------------------------------------------- round trip


@pytest.fixture(scope="module")
def demo_zip(tmp_path_factory):
    directory = tmp_path_factory.mktemp("demo")
    writer = record(directory / "in-progress", demo_states())
    zip_path = writer.finalise(directory / "demo.zip")
    writer.close()
    return zip_path


def test_round_trip_every_frame(demo_zip):
    states = demo_states()
    with RecordingReader(demo_zip) as recording:
        assert recording.frame_count == 3000
        assert recording.keyframe_count == 300
        assert recording.duration == 2999
        assert recording.start_time == float(states[0][0])
        assert recording.manifest == {**MANIFEST, "version": 1, "startTime": float(states[0][0])}
        count = 0
        for (second, state), (timestamp, expected) in zip(recording.iter_states(), states):
            assert second == timestamp
            assert state == expected, second
            count += 1
        assert count == 3000
    assert sum(len(state["messages"]) > 0 for _, state in states) > 2500   # messages were recorded
    assert len(states[-1][1]["messages"]) == 100


def test_zip_layout(demo_zip):
    states = demo_states()
    with zipfile.ZipFile(demo_zip) as archive:
        names = archive.namelist()
        assert names[0] == "manifest.json"
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in archive.infolist())
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["version"] == 1 and isinstance(manifest["startTime"], float)
    expected = [f"{t:011d}.json" if i % 10 == 0 else f"{t:011d}i.json"
                for i, (t, _) in enumerate(states)]
    assert names[1:] == expected


def test_dictdiffer_patch_reads_our_recordings(demo_zip):
    states = demo_states()
    count = 0
    for (second, state), (timestamp, expected) in zip(replay_with_dictdiffer(demo_zip), states):
        assert second == timestamp and state == expected, second
        count += 1
    assert count == len(states)


def test_in_progress_directory_reads_like_the_zip(tmp_path):
    states = demo_states()[:250]
    writer = record(tmp_path / "rec", states)
    with RecordingReader(tmp_path / "rec") as recording:
        assert recording.in_progress
        assert recording.frame_count == 250 and recording.keyframe_count == 25
        assert recording.manifest == {**MANIFEST, "version": 1, "startTime": float(states[0][0])}
        assert [state for _, state in recording.iter_states()] == [s for _, s in states]
    writer.close()


def test_recorded_state_keeps_only_the_protocol_keys(tmp_path):
    writer = RecordingWriter(tmp_path / "rec", MANIFEST)
    writer.write_frame(100, {"cars": [], "session": {"flagState": "green"}, "extra": 1})
    writer.write_frame(101.5, {"cars": [["1"]], "session": {"flagState": "green"}})
    with RecordingReader(writer.finalise(tmp_path / "r.zip")) as recording:
        assert list(recording.iter_states()) == [
            (100, {"cars": [], "session": {"flagState": "green"}, "messages": [], "highlight": []}),
            (101, {"cars": [["1"]], "session": {"flagState": "green"}, "messages": [],
                   "highlight": []})]
    writer.close()


# ------------------------------------------------------- same-second updates


def msg(t, text, car=None):
    return [t, "Class", text, "pb"] + ([car] if car else [])


def make_state(laps, messages, highlight=()):
    return {"cars": [["1", "RUN", laps], ["2", "RUN", laps - 1]],
            "session": {"flagState": "green", "timeElapsed": laps},
            "messages": messages, "highlight": list(highlight)}


def test_two_and_three_updates_in_one_second_keep_every_message(tmp_path):
    a = msg(100, "A", "1")
    b = msg(101, "B", "2")
    c = msg(101, "C", "1")
    d = msg(101, "D")
    e = msg(102, "E", "2")
    timeline = [
        (100.0, make_state(1, [a], ["1"])),
        (101.0, make_state(2, [b, a], ["2"])),
        (101.4, make_state(3, [c, b, a], ["1"])),          # same second: replaces 101
        (101.9, make_state(4, [d, c, b, a])),              # and again
        (102.2, make_state(5, [e, d, c, b, a], ["2"])),
        (103.0, make_state(6, [e, d, c, b, a])),
    ]
    writer = record(tmp_path / "rec", timeline)
    assert writer.frame_count == 4
    zip_path = writer.finalise(tmp_path / "r.zip")
    writer.close()
    expected = {100: timeline[0][1], 101: timeline[3][1], 102: timeline[4][1],
                103: timeline[5][1]}
    with RecordingReader(zip_path) as recording:
        assert recording.frames == [100, 101, 102, 103]
        assert dict(recording.iter_states()) == expected
    assert dict(replay_with_dictdiffer(zip_path)) == expected
    assert dict(reference_race.iter_frames(str(zip_path))) == expected
    with zipfile.ZipFile(zip_path) as archive:
        frame = json.loads(archive.read("00000000101i.json"))
    assert frame["messages"] == [d, c, b]          # all new since the second before
    assert frame["cars"] == [["change", [0, 2], [1, 4]], ["change", [1, 2], [0, 3]]]


def test_same_second_update_of_a_keyframe_and_of_the_first_frame(tmp_path):
    states = [state for _, state in demo_states()[:25]]
    writer = RecordingWriter(tmp_path / "rec", MANIFEST)
    writer.write_frame(1000.1, states[0])
    writer.write_frame(1000.7, states[1])                 # replaces the first frame
    for i in range(2, 11):
        writer.write_frame(999 + i, states[i])            # 1001 ... 1009 (indices 1..9)
    writer.write_frame(1010.0, states[11])                # index 10: a keyframe
    writer.write_frame(1010.5, states[12])                # replaces that keyframe
    writer.write_frame(1011.0, states[13])
    zip_path = writer.finalise(tmp_path / "r.zip")
    writer.close()
    expected = [states[1]] + states[2:11] + [states[12], states[13]]
    with RecordingReader(zip_path) as recording:
        assert [s for _, s in recording.iter_states()] == expected
        assert recording.keyframe_count == 2
    assert "00000001010.json" in frame_names(zip_path)


def test_identical_message_in_the_same_second_is_not_lost(tmp_path):
    """Reference quirk 4 told messages apart by timestamp; whole messages here."""
    green = [200, "Track", "Green flag - track clear", "track"]
    timeline = [(200, make_state(1, [green])),
                (201, make_state(2, [green, green])),      # a second, identical message
                (202, make_state(3, [msg(202, "X"), green, green]))]
    writer = record(tmp_path / "rec", timeline)
    with RecordingReader(writer.finalise(tmp_path / "r.zip")) as recording:
        assert [s for _, s in recording.iter_states()] == [s for _, s in timeline]
    writer.close()


def test_more_than_a_hundred_new_messages_at_once(tmp_path):
    old = [msg(300, f"old {i}") for i in range(100)]
    new = [msg(301, f"new {i}") for i in range(100)]
    timeline = [(300, make_state(1, old)), (301, make_state(2, new))]
    writer = record(tmp_path / "rec", timeline)
    with RecordingReader(writer.finalise(tmp_path / "r.zip")) as recording:
        assert recording.state_at(301)["messages"] == new
    writer.close()


def test_messages_replaced_wholesale_resync_at_the_next_keyframe(tmp_path):
    """If the previous newest message is gone (a plugin reset its list), the
    intra-frame carries all current messages; the older ones stay visible
    below them until the next keyframe, which is exact."""
    states = [(400 + i, make_state(i + 1, [msg(400, "before reset")])) for i in range(5)]
    states += [(405 + i, make_state(i + 6, [msg(405, "after reset")])) for i in range(6)]
    writer = record(tmp_path / "rec", states)
    with RecordingReader(writer.finalise(tmp_path / "r.zip")) as recording:
        assert recording.state_at(405)["messages"] == [msg(405, "after reset"),
                                                       msg(400, "before reset")]
        assert recording.state_at(410)["messages"] == [msg(405, "after reset")]   # keyframe
    writer.close()


def test_frames_must_not_go_back_in_time(tmp_path):
    writer = record(tmp_path / "rec", [(500, make_state(1, [])), (501, make_state(2, []))])
    with pytest.raises(FrameOrderError, match="older than the last frame"):
        writer.write_frame(500.9, make_state(3, []))
    assert writer.frame_count == 2
    writer.close()


@pytest.mark.parametrize("state, message", [
    ([], "a state is a dict"),
    ({"cars": {}}, "state 'cars' is dict"),
    ({"session": []}, "state 'session' is list"),
    ({"cars": [[float("nan")]]}, "not JSON-serialisable"),
    ({"cars": [[object()]]}, "not JSON-serialisable"),
])
def test_unrecordable_states_change_nothing(tmp_path, state, message):
    writer = record(tmp_path / "rec", [(600, make_state(1, []))])
    with pytest.raises(InvalidStateError, match=message):
        writer.write_frame(601, state)
    assert writer.frame_count == 1
    assert in_progress_files(tmp_path / "rec") == ["00000000600.json", "manifest.json"]
    writer.write_frame(601, make_state(2, []))
    assert writer.frame_count == 2
    writer.close()


@pytest.mark.parametrize("timestamp", [float("nan"), -1, "100", None, True])
def test_bad_timestamps(tmp_path, timestamp):
    with RecordingWriter(tmp_path / "rec", MANIFEST) as writer:
        with pytest.raises(InvalidStateError, match="timestamp"):
            writer.write_frame(timestamp, make_state(1, []))


def test_manifest_updates_and_reserved_keys(tmp_path):
    writer = record(tmp_path / "rec", [(700, make_state(1, []))],
                    manifest={**MANIFEST, "version": 7, "startTime": 5})
    writer.update_manifest({**MANIFEST, "description": "new session"})
    with RecordingReader(writer.finalise(tmp_path / "r.zip")) as recording:
        assert recording.manifest["description"] == "new session"
        assert recording.manifest["version"] == 1
        assert recording.manifest["startTime"] == 700.0
    writer.close()
    with pytest.raises(InvalidStateError):
        RecordingWriter(tmp_path / "other", ["not", "a", "dict"])


def test_new_writer_refuses_an_existing_recording(tmp_path):
    record(tmp_path / "rec", [(800, make_state(1, []))]).close()
    with pytest.raises(RecordingExistsError, match="resume"):
        RecordingWriter(tmp_path / "rec", MANIFEST)


def test_one_writer_per_directory(tmp_path):
    writer = record(tmp_path / "rec", [(800, make_state(1, []))])
    with pytest.raises(RecordingLockedError):
        RecordingWriter.resume(tmp_path / "rec")
    writer.close()
    with pytest.raises(RecordingError, match="closed"):
        writer.write_frame(801, make_state(2, []))
    RecordingWriter.resume(tmp_path / "rec").close()


def test_finalise_without_frames(tmp_path):
    with RecordingWriter(tmp_path / "rec", MANIFEST) as writer:
        with pytest.raises(EmptyRecordingError):
            writer.finalise(tmp_path / "r.zip")
    assert not (tmp_path / "r.zip").exists()


def test_discard_removes_the_directory(tmp_path):
    writer = record(tmp_path / "rec", [(800, make_state(1, []))])
    writer.discard()
    assert not (tmp_path / "rec").exists()


# ------------------------------------------------------ crash safety, resume


def test_leftover_temporary_file_is_ignored_and_cleaned(tmp_path):
    states = demo_states()[:40]
    record(tmp_path / "rec", states[:25]).close()
    leftover = tmp_path / "rec" / f".{states[25][0]:011d}i.json.tmp"
    leftover.write_bytes(b'{"cars": [["chan')           # the frame in flight
    with RecordingReader(tmp_path / "rec") as recording:
        assert recording.frame_count == 25
        assert [s for _, s in recording.iter_states()] == [s for _, s in states[:25]]
    writer = RecordingWriter.resume(tmp_path / "rec")
    assert not leftover.exists() and writer.discarded == []
    for timestamp, state in states[25:]:
        writer.write_frame(timestamp, state)
    with RecordingReader(writer.finalise(tmp_path / "r.zip")) as recording:
        assert [s for _, s in recording.iter_states()] == [s for _, s in states]
    writer.close()


@pytest.mark.parametrize("frames, lost", [(25, 1), (21, 1), (1, 1)])
def test_truncated_last_frame_is_set_aside(tmp_path, frames, lost):
    """A damaged last frame (an intra-frame; a keyframe, index 20; the only
    frame) is set aside on resume; writing continues from the frame before."""
    states = demo_states()[:40]
    record(tmp_path / "rec", states[:frames]).close()
    last = tmp_path / "rec" / frame_names_in(tmp_path / "rec")[-1]
    last.write_bytes(last.read_bytes()[:len(last.read_bytes()) // 2])
    writer = RecordingWriter.resume(tmp_path / "rec")
    assert writer.discarded == [last.name]
    assert writer.frame_count == frames - lost
    assert (tmp_path / "rec" / (last.name + ".corrupt")).exists()
    for timestamp, state in states[frames - lost:]:
        writer.write_frame(timestamp, state)
    zip_path = writer.finalise(tmp_path / "r.zip")
    writer.close()
    assert validate(zip_path).valid
    with RecordingReader(zip_path) as recording:
        assert [s for _, s in recording.iter_states()] == [s for _, s in states]


def frame_names_in(directory):
    return sorted((n for n in os.listdir(directory) if n[:1].isdigit() and n.endswith(".json")),
                  key=lambda n: int(n[:11]))


def test_damaged_frames_at_the_end_after_a_power_loss(tmp_path):
    """Without fsync a power loss can leave several empty frames at the end."""
    states = demo_states()[:40]
    record(tmp_path / "rec", states[:33]).close()
    for name in frame_names_in(tmp_path / "rec")[-4:]:
        (tmp_path / "rec" / name).write_bytes(b"")
    writer = RecordingWriter.resume(tmp_path / "rec")
    assert writer.frame_count == 29 and len(writer.discarded) == 4
    for timestamp, state in states[29:]:
        writer.write_frame(timestamp, state)
    with RecordingReader(writer.finalise(tmp_path / "r.zip")) as recording:
        assert [s for _, s in recording.iter_states()] == [s for _, s in states]
    writer.close()


def test_resume_continues_the_chain_and_the_keyframe_cadence(tmp_path):
    states = demo_states()[:60]
    record(tmp_path / "rec", states[:27]).close()
    writer = RecordingWriter.resume(tmp_path / "rec", {**MANIFEST, "description": "resumed"})
    assert writer.frame_count == 27 and writer.last_frame == states[26][0]
    assert writer.state == states[26][1]
    # a same-second update right after resuming: rewritten relative to frame 25
    writer.write_frame(states[26][0] + 0.5, states[27][1])
    for timestamp, state in states[28:]:
        writer.write_frame(timestamp, state)
    zip_path = writer.finalise(tmp_path / "r.zip")
    writer.close()
    expected = [s for _, s in states[:26]] + [s for _, s in states[27:]]
    with RecordingReader(zip_path) as recording:
        assert [s for _, s in recording.iter_states()] == expected
        assert recording.manifest["description"] == "resumed"
    keyframes = [i for i, name in enumerate(frame_names(zip_path)) if not name.endswith("i.json")]
    assert keyframes == list(range(0, 59, 10))


def test_writer_killed_with_sigkill_loses_at_most_the_frame_in_flight(tmp_path):
    directory = tmp_path / "rec"
    child = subprocess.Popen([sys.executable, str(HERE / "test_recording_support.py"),
                              str(directory)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, cwd=str(HERE))
    try:
        written = -1
        for line in child.stdout:
            written = int(line)
            if written >= 300:
                break
        assert written >= 300, child.stderr.read()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()
    expected = iter_demo_states(cars=20)
    with RecordingReader(directory) as recording:       # readable as it was left
        count = recording.frame_count
        assert count >= written + 1                     # every reported frame is there
        for (second, state), (timestamp, wanted) in zip(recording.iter_states(), expected):
            assert (second, state) == (timestamp, wanted)
    writer = RecordingWriter.resume(directory)
    assert writer.discarded == [] and writer.frame_count == count
    for _ in range(30):
        writer.write_frame(*next(expected))
    zip_path = writer.finalise(tmp_path / "r.zip")
    writer.close()
    assert validate(zip_path).valid
    with RecordingReader(zip_path) as recording:
        assert recording.frame_count == count + 30
        first = recording.frames[0]
        assert recording.frames == list(range(first, first + count + 30))
        replay = iter_demo_states(cars=20)
        for (second, state), (timestamp, wanted) in zip(recording.iter_states(), replay):
            assert (second, state) == (timestamp, wanted)


# ------------------------------------------------------------ finalising


def test_finalise_is_atomic_when_a_frame_is_damaged(tmp_path):
    states = demo_states()[:30]
    writer = record(tmp_path / "rec", states)
    target = tmp_path / "out" / "r.zip"
    target.parent.mkdir()
    target.write_bytes(b"previous version")
    (tmp_path / "rec" / f"{states[13][0]:011d}i.json").write_bytes(b"{garbage")
    with pytest.raises(FrameError, match=f"{states[13][0]:011d}i.json"):
        writer.finalise(target)
    assert target.read_bytes() == b"previous version"
    assert os.listdir(target.parent) == ["r.zip"]       # no temporary file left
    writer.close()


def test_finalise_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    writer = record(tmp_path / "rec", demo_states()[:30])
    calls = []
    original = zipfile.ZipFile.writestr

    def failing_writestr(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 12:
            raise OSError(28, "No space left on device")
        return original(self, *args, **kwargs)
    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    with pytest.raises(RecordingError, match="No space left on device"):
        writer.finalise(tmp_path / "r.zip")
    assert os.listdir(tmp_path) == ["rec"]
    monkeypatch.undo()
    assert validate(writer.finalise(tmp_path / "r.zip")).valid
    writer.close()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root can write into read-only directories")
def test_finalise_into_a_read_only_directory(tmp_path):
    writer = record(tmp_path / "rec", demo_states()[:5])
    target_dir = tmp_path / "ro"
    target_dir.mkdir()
    target_dir.chmod(0o555)
    try:
        with pytest.raises(RecordingError, match="cannot write"):
            writer.finalise(target_dir / "r.zip")
        assert os.listdir(target_dir) == []
    finally:
        target_dir.chmod(0o755)
        writer.close()


def test_finalise_into_a_missing_directory(tmp_path):
    writer = record(tmp_path / "rec", demo_states()[:5])
    with pytest.raises(RecordingError, match="cannot write"):
        writer.finalise(tmp_path / "missing" / "r.zip")
    assert not (tmp_path / "missing").exists()
    writer.close()


def test_finalise_directory_function(tmp_path):
    record(tmp_path / "rec", demo_states()[:12]).close()
    zip_path = finalise_directory(tmp_path / "rec", tmp_path / "r.zip")
    with RecordingReader(zip_path) as recording:
        assert recording.frame_count == 12
    assert (tmp_path / "rec" / "manifest.json").exists()     # the directory is kept
