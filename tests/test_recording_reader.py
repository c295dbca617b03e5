"""RecordingReader on the golden recording and on broken files."""
import copy
import json
import zipfile

import pytest

from livetiming.recording import (
    EmptyRecordingError,
    FrameError,
    ManifestError,
    RecordingError,
    RecordingReader,
    TimeOutOfRangeError,
    validate,
)
from test_recording_support import REFERENCE_RACE, frame_names, reference_states, rewrite_zip

FIRST, LAST = 1713099585, 1713102459


@pytest.fixture(scope="module")
def race():
    with RecordingReader(REFERENCE_RACE) as recording:
        yield recording


def test_fixture_counts_and_manifest(race):
    assert race.frame_count == 2875
    assert race.keyframe_count == 288
    assert race.intraframe_count == 2587
    assert race.duration == 2874
    assert race.frames[0] == race.first_frame == FIRST
    assert race.frames[-1] == race.last_frame == LAST
    assert race.frames == list(range(FIRST, LAST + 1))
    assert race.start_time == 1713099585.0
    assert race.size == REFERENCE_RACE.stat().st_size
    assert not race.in_progress
    manifest = race.manifest
    assert manifest["version"] == 1
    assert manifest["uuid"] == "7e1f0c0a71a54c1e9b1d2024041413ff"
    assert manifest["serviceClass"] == "reference_race"
    assert manifest["name"] == "Timing71 reference race"
    assert manifest["trackDataSpec"] == ["Air temp", "Track temp"]
    assert [column[0] for column in manifest["colSpec"]][:3] == ["Num", "State", "Class"]
    assert manifest["livetimingVersion"] == {"core": "unknown", "plugin": "1.0.0"}
    assert race.is_keyframe(FIRST) and not race.is_keyframe(FIRST + 1)
    assert race.is_keyframe(FIRST + 10)


def test_every_state_equals_the_oracle(race):
    oracle = reference_states()
    states = list(race.iter_states())   # kept: states must stay valid after iteration
    assert [second for second, _ in states] == [second for second, _ in oracle]
    for (second, state), (_, expected) in zip(states, oracle):
        assert state["cars"] == expected["cars"], second
        assert state["session"] == expected["session"], second
        assert state["messages"] == expected["messages"], second
        assert state["highlight"] == expected["highlight"], second
    assert len(states[-1][1]["messages"]) == 100          # the cap
    assert states[3][1]["cars"] and not states[2][1]["cars"]   # 12 rows added at once


def test_iteration_shares_unchanged_parts_but_never_changes_old_states(race):
    iterator = race.iter_states()
    states = [state for _, (_, state) in zip(range(150), iterator)]
    frozen = copy.deepcopy(states[100])
    later = [state for _, (_, state) in zip(range(50), iterator)]
    assert states[100] == frozen
    assert later[-1]["cars"] != frozen["cars"]
    shared = sum(a is b for a, b in zip(later[-1]["cars"], later[-2]["cars"]))
    assert shared >= 6    # unchanged rows are not copied


def test_copy_option_yields_independent_states(race):
    states = [state for _, (_, state) in zip(range(30), race.iter_states(copy=True))]
    states[20]["cars"][0][1] = "MUTATED"
    assert states[21]["cars"][0][1] != "MUTATED"


@pytest.mark.parametrize("t", [FIRST, FIRST + 3, FIRST + 9, FIRST + 10, FIRST + 11, 1713100664,
                               1713101100, 1713102343, LAST - 1, LAST])
def test_state_at_frame_times(race, t):
    expected = dict(reference_states())[t]
    assert race.state_at(t) == expected


def test_state_at_between_frames_is_the_frame_before(race):
    expected = dict(reference_states())
    assert race.state_at(1713100664.999) == expected[1713100664]
    assert race.state_at(FIRST + 0.5) == expected[FIRST]


def test_state_at_after_the_last_frame_is_the_last_state(race):
    assert race.state_at(LAST + 3600) == reference_states()[-1][1]


def test_state_at_before_the_first_frame_is_an_error(race):
    with pytest.raises(TimeOutOfRangeError, match="starts at 1713099585"):
        race.state_at(FIRST - 0.5)


def test_state_at_result_is_the_callers_own(race):
    state = race.state_at(FIRST + 200)
    state["cars"][0][0] = "MUTATED"
    assert race.state_at(FIRST + 200)["cars"][0][0] != "MUTATED"


def test_fixture_is_valid():
    report = validate(REFERENCE_RACE)
    assert report.valid, report.problems
    assert (report.frames, report.keyframes, report.intraframes) == (2875, 288, 2587)


# ------------------------------------------------------------------ errors


def _open_and_read_all(path):
    with RecordingReader(path) as recording:
        for _ in recording.iter_states():
            pass


def test_missing_file(tmp_path):
    with pytest.raises(RecordingError, match="no such file"):
        RecordingReader(tmp_path / "nope.zip")


def test_not_a_zip(tmp_path):
    path = tmp_path / "text.zip"
    path.write_text("hello, not a zip\n")
    with pytest.raises(RecordingError, match="not a valid ZIP"):
        RecordingReader(path)


def test_truncated_zip(tmp_path):
    path = tmp_path / "truncated.zip"
    path.write_bytes(REFERENCE_RACE.read_bytes()[:600_000])
    with pytest.raises(RecordingError, match="not a valid ZIP"):
        RecordingReader(path)


def test_missing_manifest(tmp_path):
    path = rewrite_zip(REFERENCE_RACE, tmp_path / "r.zip",
                       lambda name, data: None if name == "manifest.json" else data)
    with pytest.raises(ManifestError, match="no manifest.json"):
        RecordingReader(path)


@pytest.mark.parametrize("version, message", [(2, "version 2 is not supported"),
                                              ("1", "version '1' is not supported"),
                                              (None, "no format version")])
def test_other_versions(tmp_path, version, message):
    def change(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["version"] = version
        if version is None:
            del manifest["version"]
        return json.dumps(manifest).encode()
    path = rewrite_zip(REFERENCE_RACE, tmp_path / "r.zip", change)
    with pytest.raises(ManifestError, match=message):
        RecordingReader(path)


def test_manifest_not_json(tmp_path):
    path = rewrite_zip(REFERENCE_RACE, tmp_path / "r.zip",
                       lambda name, data: b"{oops" if name == "manifest.json" else data)
    with pytest.raises(ManifestError, match="manifest.json is not valid JSON"):
        RecordingReader(path)


def test_directory_that_is_not_a_recording(tmp_path):
    (tmp_path / "00000000100.json").write_text("{}")
    with pytest.raises(ManifestError, match="no manifest.json"):
        RecordingReader(tmp_path)


def test_no_frames(tmp_path):
    path = tmp_path / "empty.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"version": 1, "startTime": 1.0}))
    with pytest.raises(EmptyRecordingError, match="no frames"):
        RecordingReader(path)


def test_first_frame_must_be_a_keyframe(tmp_path):
    first = frame_names(REFERENCE_RACE)[0]
    path = rewrite_zip(REFERENCE_RACE, tmp_path / "r.zip",
                       lambda name, data: None if name == first else data)
    with pytest.raises(FrameError, match="01713099586i.json is an intra-frame"):
        RecordingReader(path)


def test_corrupt_frame_json(tmp_path):
    bad = "01713100000i.json"
    path = rewrite_zip(REFERENCE_RACE, tmp_path / "r.zip",
                       lambda name, data: data[:20] if name == bad else data)
    with RecordingReader(path) as recording:
        assert recording.state_at(1713099999) == dict(reference_states())[1713099999]
        with pytest.raises(FrameError, match=f"frame {bad} is not valid JSON") as caught:
            recording.state_at(1713100000)
        assert caught.value.name == bad
    with pytest.raises(FrameError, match=bad):
        _open_and_read_all(path)
    report = validate(path)
    assert not report.valid
    assert len(report.problems) == 1 and bad in report.problems[0]
    assert report.unchecked == 4     # ...0001i to ...0004i, until the keyframe ...0005


def test_diff_that_does_not_apply(tmp_path):
    bad = "01713101000i.json"

    def change(name, data):
        if name != bad:
            return data
        frame = json.loads(data)
        frame["cars"].append(["change", [40, 3], [1, 2]])    # there are 12 rows
        return json.dumps(frame).encode()
    path = rewrite_zip(REFERENCE_RACE, tmp_path / "r.zip", change)
    with pytest.raises(FrameError, match=rf"frame {bad} does not apply: change at \[40, 3\]"):
        _open_and_read_all(path)
    assert any(bad in problem for problem in validate(path).problems)


def test_frame_that_only_a_strict_check_catches(tmp_path):
    bad = "01713101000i.json"

    def change(name, data):
        if name != bad:
            return data
        frame = json.loads(data)
        frame["session"].append(["change", "flagState", ["red", "green"]])
        return json.dumps(frame).encode()
    path = rewrite_zip(REFERENCE_RACE, tmp_path / "r.zip", change)
    _open_and_read_all(path)     # dictdiffer would apply it, and so does the reader
    problems = validate(path).problems
    assert len(problems) == 1 and "old value 'red'" in problems[0] and bad in problems[0]


def test_damaged_member_data(tmp_path):
    path = tmp_path / "damaged.zip"
    data = bytearray(REFERENCE_RACE.read_bytes())
    with zipfile.ZipFile(REFERENCE_RACE) as archive:
        info = archive.getinfo("01713100505.json")
    start = info.header_offset + 30 + len(info.filename) + 40
    data[start:start + 20] = bytes(20)
    path.write_bytes(bytes(data))
    with pytest.raises(FrameError, match="01713100505.json is damaged"):
        _open_and_read_all(path)


def test_keyframe_that_is_not_a_state(tmp_path):
    bad = "01713100005.json"   # a keyframe
    assert bad in frame_names(REFERENCE_RACE)
    path = rewrite_zip(REFERENCE_RACE, tmp_path / "r.zip",
                       lambda name, data: b"[1, 2]" if name == bad else data)
    with pytest.raises(FrameError, match="not a JSON object"):
        _open_and_read_all(path)


def test_two_frames_for_one_second(tmp_path):
    path = rewrite_zip(REFERENCE_RACE, tmp_path / "r.zip",
                       add={"01713100001.json": b"{}"})
    with pytest.raises(RecordingError, match="two frames for second 1713100001"):
        RecordingReader(path)


def test_unrelated_members_are_ignored(tmp_path):
    path = rewrite_zip(REFERENCE_RACE, tmp_path / "r.zip", add={"README.txt": b"hi"})
    with RecordingReader(path) as recording:
        assert recording.frame_count == 2875


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_other_member_compressions(tmp_path, compression):
    path = tmp_path / "r.zip"
    with zipfile.ZipFile(REFERENCE_RACE) as old, zipfile.ZipFile(path, "w", compression) as new:
        for name in old.namelist()[:200]:
            new.writestr(name, old.read(name))
    with RecordingReader(path) as recording:
        states = list(recording.iter_states())
    assert states == list(reference_states()[:199])
