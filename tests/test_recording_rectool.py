"""`livetiming-rectool` as users run it: exit codes 0/1/2, one-line errors,
never a traceback."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from livetiming.recording import RecordingReader, RecordingWriter
from test_recording_support import MANIFEST, REFERENCE_RACE, demo_states, rewrite_zip

RECTOOL = Path(sys.executable).parent / "livetiming-rectool"
FIRST = 1713099585


def rectool(*args):
    result = subprocess.run([str(RECTOOL), *map(str, args)], capture_output=True, text=True,
                            timeout=120)
    assert "Traceback" not in result.stderr + result.stdout
    return result


def assert_usage_error(result, text):
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert text in result.stderr
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("livetiming-rectool") and ": error: " in last_line


@pytest.fixture(scope="module")
def reference_states():
    with RecordingReader(REFERENCE_RACE) as recording:
        return dict(recording.iter_states())


def test_inspect(tmp_path):
    result = rectool("inspect", REFERENCE_RACE)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Timing71 reference race" in out
    assert "0:47:54 (2874 s)" in out
    assert "2,875 (288 keyframes, 2,587 intra-frames)" in out
    assert "1,231,931 bytes" in out
    assert "2024-04-14 12:59:45 UTC" in out


def test_inspect_json():
    result = rectool("inspect", "--json", REFERENCE_RACE)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert (info["frames"], info["keyframes"], info["intraframes"]) == (2875, 288, 2587)
    assert info["duration"] == 2874 and info["startTime"] == 1713099585.0
    assert info["size"] == REFERENCE_RACE.stat().st_size
    assert info["manifest"]["uuid"] == "7e1f0c0a71a54c1e9b1d2024041413ff"
    assert info["inProgress"] is False


@pytest.mark.parametrize("time, second", [(str(FIRST + 700), FIRST + 700),
                                          ("1713100285.7", FIRST + 700),
                                          ("+11:40", FIRST + 700),
                                          ("+0:11:40", FIRST + 700),
                                          ("+700", FIRST + 700),
                                          ("+0", FIRST),
                                          ("+99:00:00", FIRST + 2874)])
def test_state_at(reference_states, time, second):
    result = rectool("state-at", REFERENCE_RACE, time)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == reference_states[second]


@pytest.mark.parametrize("time, text", [("-5", "no state at -5"),
                                        (str(FIRST - 1), "recording starts at 1713099585"),
                                        ("+1:99", "invalid time offset"),
                                        ("+x", "invalid time offset"),
                                        ("yesterday", "invalid time 'yesterday'"),
                                        ("nan", "invalid time")])
def test_state_at_bad_times(time, text):
    assert_usage_error(rectool("state-at", REFERENCE_RACE, time), text)


def test_finalise(tmp_path):
    states = demo_states()[:40]
    writer = RecordingWriter(tmp_path / "rec", MANIFEST)
    for timestamp, state in states:
        writer.write_frame(timestamp, state)
    writer.close()
    result = rectool("finalise", tmp_path / "rec", tmp_path / "r.zip")
    assert result.returncode == 0, result.stderr
    assert "40 frames" in result.stdout
    with RecordingReader(tmp_path / "r.zip") as recording:
        assert [s for _, s in recording.iter_states()] == [s for _, s in states]
    assert rectool("validate", tmp_path / "r.zip").returncode == 0
    assert rectool("inspect", tmp_path / "rec").returncode == 0       # still there
    assert_usage_error(rectool("finalise", tmp_path / "rec", tmp_path / "r.zip"),
                       "exists (use --force")
    assert rectool("finalise", "--force", tmp_path / "rec", tmp_path / "r.zip").returncode == 0


def test_finalise_errors(tmp_path):
    assert_usage_error(rectool("finalise", tmp_path / "missing", tmp_path / "r.zip"),
                       "is not a directory")
    (tmp_path / "empty").mkdir()
    assert_usage_error(rectool("finalise", tmp_path / "empty", tmp_path / "r.zip"),
                       "no manifest.json")
    assert not (tmp_path / "r.zip").exists()


def test_finalise_refuses_a_directory_being_written(tmp_path):
    writer = RecordingWriter(tmp_path / "rec", MANIFEST)
    writer.write_frame(100, {"cars": []})
    try:
        assert_usage_error(rectool("finalise", tmp_path / "rec", tmp_path / "r.zip"),
                           "being written by another writer")
    finally:
        writer.close()


def test_validate_valid():
    result = rectool("validate", REFERENCE_RACE)
    assert result.returncode == 0, result.stderr
    assert "valid: 2,875 frames" in result.stdout


def test_validate_reports_broken_frames(tmp_path):
    broken = {"01713100000i.json": lambda data: data[:20],
              "01713101000i.json": lambda data: data.replace(b'"session": [', b'"session": '
                                                             b'[["change", [50, 1], [1, 2]], ', 1)}
    path = rewrite_zip(REFERENCE_RACE, tmp_path / "r.zip",
                       lambda name, data: broken[name](data) if name in broken else data)
    result = rectool("validate", path)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "INVALID: 2 problem(s)" in result.stdout
    assert "01713100000i.json is not valid JSON" in result.stdout
    assert "01713101000i.json does not apply" in result.stdout
    assert "could not be checked" in result.stdout


@pytest.mark.parametrize("command", ["inspect", "validate", "state-at"])
def test_bad_files_are_usage_errors(tmp_path, command):
    text_file = tmp_path / "notes.zip"
    text_file.write_text("not a zip")
    extra = ["+0"] if command == "state-at" else []
    assert_usage_error(rectool(command, tmp_path / "missing.zip", *extra), "no such file")
    assert_usage_error(rectool(command, text_file, *extra), "not a valid ZIP")
    version_2 = rewrite_zip(REFERENCE_RACE, tmp_path / "v2.zip", lambda name, data: data.replace(
        b'"version": 1', b'"version": 2') if name == "manifest.json" else data)
    assert_usage_error(rectool(command, version_2, *extra), "version 2 is not supported")


@pytest.mark.parametrize("args, text", [([], "required: COMMAND"),
                                        (["bogus"], "invalid choice: 'bogus'"),
                                        (["inspect"], "required: FILE"),
                                        (["state-at", str(REFERENCE_RACE)], "required: TIME"),
                                        (["inspect", str(REFERENCE_RACE), "--bogus"],
                                         "unrecognized arguments: --bogus")])
def test_usage_errors(args, text):
    assert_usage_error(rectool(*args), text)


def test_help():
    result = rectool("--help")
    assert result.returncode == 0
    for command in ("inspect", "state-at", "finalise", "validate"):
        assert command in result.stdout
