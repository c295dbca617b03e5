"""`livetiming-service -r FILE`: local recording, finalised on exit, crash-safe."""
import json
import signal
import subprocess
import sys

import pytest
import websocket

from livetiming.protocol.lzstring import decompress_from_utf16
from livetiming.recording import RecordingReader
from processes import command

STARTUP = r"listening on port:(\d+)"


def states_seen(port, count):
    """The next `count` states published after a client connects (the
    current state, sent on connecting, is not counted)."""
    client = websocket.create_connection(f"ws://127.0.0.1:{port}/", timeout=20)
    states = []
    try:
        while len(states) < count + 1:
            topic, wrapper = json.loads(client.recv())
            if topic.startswith("livetiming.service."):
                states.append(json.loads(decompress_from_utf16(wrapper["payload"])))
    finally:
        client.close()
    return states[1:]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_recording_is_finalised_on_exit_even_without_state_files(processes, service_env, tmp_path, sig):
    recording = tmp_path / "out.zip"
    service = processes([command("livetiming-service"), "demo", "--speed", "30", "--no-write-state",
                         "-r", str(recording)])
    port = int(service.wait_for(STARTUP, stream="stderr").group(1))
    seen = states_seen(port, 4)
    service.signal(sig)
    assert service.wait() == 0
    assert not (tmp_path / "out.zip.inprogress").exists()
    with RecordingReader(recording) as reader:
        assert reader.manifest["serviceClass"] == "demo" and reader.manifest["version"] == 1
        recorded = [state for _, state in reader.iter_states()]
    assert len(recorded) >= 4
    for state in seen:  # every state published while recording is in the recording
        assert state in recorded


IGNORING_SIGINT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                   "os.execv(sys.argv[1], sys.argv[1:])")
"""Runs a command with SIGINT ignored, as every background job of a
non-interactive shell (`livetiming-service demo &` in a script) starts."""


def test_sigint_stops_the_service_even_when_started_with_sigint_ignored(processes, service_env, tmp_path):
    """The cause of the once-seen hang of the SIGINT variant above: Twisted
    installs its SIGINT handler only over Python's default one, so a service
    that inherited an ignored SIGINT (a test run started in the background)
    never stopped."""
    recording = tmp_path / "out.zip"
    service = processes([sys.executable, "-c", IGNORING_SIGINT, command("livetiming-service"), "demo",
                         "--speed", "30", "-r", str(recording)])
    port = int(service.wait_for(STARTUP, stream="stderr").group(1))
    states_seen(port, 2)
    service.signal(signal.SIGINT)
    assert service.wait() == 0
    assert recording.exists() and not (tmp_path / "out.zip.inprogress").exists()


def test_a_second_stop_signal_during_shutdown_is_harmless(processes, service_env, tmp_path):
    recording = tmp_path / "out.zip"
    service = processes([command("livetiming-service"), "demo", "-v", "--speed", "30", "-r", str(recording)])
    port = int(service.wait_for(STARTUP, stream="stderr").group(1))
    states_seen(port, 2)
    service.signal(signal.SIGINT)
    service.signal(signal.SIGTERM)  # microseconds later: the first shutdown is still running
    service.wait_for(r"Received SIGTERM while shutting down \(after SIGINT\)", stream="stdout")
    assert service.wait() == 0
    output = "\n".join(service.output)
    for trouble in ("Traceback", "ReactorNotRunning", "Unhandled", "critical"):
        assert trouble not in output
    with RecordingReader(recording) as reader:
        assert reader.frame_count >= 2


def test_a_stop_signal_while_the_service_starts_stops_it_cleanly(processes, service_env, tmp_path):
    """A signal before the reactor runs (here: as soon as logging has started)
    stops the service once it runs, with its state saved, not a KeyboardInterrupt."""
    service = processes([command("livetiming-service"), "demo", "-v", "--uuid", "early"])
    service.wait_for(r"Service early \(demo\) running standalone", stream="stdout")
    service.signal(signal.SIGINT)
    assert service.wait() == 0
    assert "Traceback" not in "\n".join(service.output)
    assert (tmp_path / "state" / "early.json").exists()


def test_a_killed_service_leaves_a_resumable_recording(processes, service_env, tmp_path):
    recording = tmp_path / "out.zip"
    args = [command("livetiming-service"), "demo", "--speed", "30", "-r", str(recording)]
    first = processes(args)
    states_seen(int(first.wait_for(STARTUP, stream="stderr").group(1)), 3)
    first.signal(signal.SIGKILL)
    first.wait()
    in_progress = tmp_path / "out.zip.inprogress"
    assert in_progress.is_dir() and not recording.exists()
    with RecordingReader(in_progress) as reader:  # readable as it is
        frames_before = reader.frame_count
    assert frames_before >= 3

    second = processes(args)  # the same -r resumes the in-progress recording
    states_seen(int(second.wait_for(STARTUP, stream="stderr").group(1)), 3)
    second.signal(signal.SIGTERM)
    assert second.wait() == 0
    with RecordingReader(recording) as reader:
        assert reader.frame_count >= frames_before + 2
        assert sum(1 for _ in reader.iter_states()) == reader.frame_count


def test_an_unusable_recording_path_is_a_usage_error(service_env, tmp_path):
    (tmp_path / "a-file").write_text("not a directory")
    result = subprocess.run([command("livetiming-service"), "demo", "-r", str(tmp_path / "a-file" / "out.zip")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "livetiming-service: error:" in result.stderr
