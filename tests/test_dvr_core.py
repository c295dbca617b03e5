"""The DVR's core on simulated time: recording, finishing, discarding,
sessions, de-duplication, analysis files, resuming after a restart."""
import json

import pytest

from livetiming.orchestration.dvr import DVR, DVRSettings, merge_analysis
from livetiming.recording import RecordingReader

T0 = 1_700_000_000


def manifest(uuid="svc", **extra):
    return {"uuid": uuid, "name": "Series", "description": "Race", "serviceClass": "demo",
            "colSpec": [["Num", "text", "Car number"], ["State", "text"], ["Driver", "text"],
                        ["Laps", "numeric"], ["Last", "time", "Last lap time"]],
            "pollInterval": 1, "hasAnalysis": True, **extra}


def state(second, laps=0):
    return {"cars": [["7", "RUN", "Ann", laps, [100.0 + laps, ""]]], "session": {"flagState": "green"},
            "messages": [], "highlight": []}


@pytest.fixture
def dvr(tmp_path):
    return DVR(DVRSettings(tmp_path / "rec", tmp_path / "tmp", silence_timeout=600, min_duration=600))


def feed(dvr, uuid, start, seconds):
    for i in range(seconds):
        assert dvr.on_state(uuid, start + i, state(start + i, laps=i // 100), now=start + i)


def test_records_and_finishes_after_ten_minutes_of_silence(dvr, tmp_path):
    dvr.on_manifest(manifest(), T0)
    feed(dvr, "svc", T0, 700)
    assert dvr.tick(T0 + 699 + 599) == []
    finished = dvr.tick(T0 + 699 + 600)
    assert finished == [tmp_path / "rec" / "svc.zip"]
    with RecordingReader(finished[0]) as reader:
        assert reader.frame_count == 700 and reader.manifest["uuid"] == "svc"
    analysis = json.loads((tmp_path / "rec" / "svc.json").read_text())  # offline: no analysis was published
    assert analysis["driver"] == {"7": ["Ann"]} and analysis["service"]["duration"] == 699.0
    assert list((tmp_path / "tmp").iterdir()) == []


def test_state_of_an_unknown_service_is_refused(dvr):
    assert not dvr.on_state("nobody", T0, state(T0), T0)


def test_short_and_do_not_record_recordings_are_discarded(dvr, tmp_path):
    dvr.on_manifest(manifest("short"), T0)
    dvr.on_manifest(manifest("norec", doNotRecord=True), T0)
    feed(dvr, "short", T0, 599)
    feed(dvr, "norec", T0, 700)
    assert dvr.tick(T0 + 5000) == []
    assert list((tmp_path / "rec").iterdir()) == [] and list((tmp_path / "tmp").iterdir()) == []


def test_new_name_or_description_starts_a_new_recording_and_names_are_deduplicated(dvr, tmp_path):
    dvr.on_manifest(manifest(), T0)
    feed(dvr, "svc", T0, 650)
    assert dvr.on_manifest(manifest(), T0 + 650) is None  # same session: nothing happens
    first = dvr.on_manifest(manifest(description="Race 2"), T0 + 651)
    assert first == tmp_path / "rec" / "svc.zip"
    feed(dvr, "svc", T0 + 700, 650)
    second = dvr.tick(T0 + 5000)[0]
    assert second == tmp_path / "rec" / "svc_1.zip"
    with RecordingReader(second) as reader:
        assert reader.manifest["uuid"] == "svc:1" and reader.manifest["description"] == "Race 2"
    assert json.loads((tmp_path / "rec" / "svc_1.json").read_text())["service"]["uuid"] == "svc:1"


def test_analysis_file_from_the_analysis_messages_seen(dvr, tmp_path):
    dvr.on_manifest(manifest(), T0)
    feed(dvr, "svc", T0, 10)
    dvr.on_analysis("svc", "static", {"7": ["GT3", "Team", "Car"]}, T0)
    dvr.on_analysis("svc", "driver", {"7": ["Ann"]}, T0)
    dvr.on_analysis("svc", "stint/7", {"7": [[1, T0, 2, T0 + 9, False, 0, 100.0, 0, None, []]]}, T0)
    dvr.on_analysis("svc", "lap/7", {"7": [None, T0 + 9]}, T0)
    dvr.settings.min_duration = 5
    zip_path = dvr.tick(T0 + 9 + 600)[0]
    analysis = json.loads(zip_path.with_suffix(".json").read_text())
    assert analysis["static"] == {"7": ["GT3", "Team", "Car"]}
    assert analysis["stint"]["7"][0][0] == 1 and analysis["lap"]["7"] == [None, T0 + 9]
    assert analysis["messages"] == {"messages": []}
    assert analysis["service"]["startTime"] == T0 and analysis["service"]["duration"] == 9.0
    assert analysis["state"]["cars"][0][0] == "7"


@pytest.mark.parametrize("key, payload", [("lap/7", {"8": []}), ("bogus", {}), ("stint", {}), ("lap/7", [])])
def test_bad_analysis_payloads_are_rejected(key, payload):
    with pytest.raises(ValueError):
        merge_analysis({}, key, payload)


def test_a_restarted_dvr_resumes_in_progress_recordings(tmp_path):
    settings = DVRSettings(tmp_path / "rec", tmp_path / "tmp", silence_timeout=600, min_duration=600)
    first = DVR(settings)
    first.on_manifest(manifest(), T0)
    feed(first, "svc", T0, 400)
    first.on_analysis("svc", "driver", {"7": ["Ann"]}, T0)
    first.close(T0 + 400)  # what a shutdown leaves behind (a crash leaves the same files, see test_dvr.py)

    second = DVR(settings)
    assert second.resume_all(T0 + 410) == ["svc"]
    feed(second, "svc", T0 + 420, 300)
    zip_path = second.tick(T0 + 720 + 600)[0]
    with RecordingReader(zip_path) as reader:
        seconds = reader.frames
    assert seconds[:400] == list(range(T0, T0 + 400)) and len(seconds) == 700
    assert json.loads(zip_path.with_suffix(".json").read_text())["driver"] == {"7": ["Ann"]}


def test_a_failed_finish_keeps_the_frames_and_recording_goes_on(dvr, tmp_path, monkeypatch):
    from livetiming.recording import RecordingError, RecordingWriter
    dvr.on_manifest(manifest(), T0)
    feed(dvr, "svc", T0, 650)
    original = RecordingWriter.finalise

    def disk_full(self, path):
        raise RecordingError("disk full")

    monkeypatch.setattr(RecordingWriter, "finalise", disk_full)
    assert dvr.tick(T0 + 650 + 600) == []
    assert (tmp_path / "tmp" / "svc" / "manifest.json").exists()
    monkeypatch.setattr(RecordingWriter, "finalise", original)
    feed(dvr, "svc", T0 + 2000, 10)  # the service is back: the same directory is carried on with
    zip_path = dvr.tick(T0 + 2010 + 600)[0]
    assert sorted(p.name for p in (tmp_path / "rec").iterdir()) == ["svc.json", "svc.zip"]
    with RecordingReader(zip_path) as reader:
        assert reader.frame_count == 660


def test_an_analysis_failure_still_keeps_the_recording(dvr, tmp_path):
    dvr.on_manifest(manifest(colSpec=[5]), T0)  # the offline analyser cannot read this colSpec
    feed(dvr, "svc", T0, 650)
    assert dvr.tick(T0 + 650 + 600) == [tmp_path / "rec" / "svc.zip"]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_dvr_killed_while_finishing_does_not_make_a_duplicate(tmp_path):
    import json as json_module

    from livetiming.orchestration.dvr import FINISHING_FILE
    settings = DVRSettings(tmp_path / "rec", tmp_path / "tmp", silence_timeout=600, min_duration=600)
    first = DVR(settings)
    first.on_manifest(manifest(), T0)
    feed(first, "svc", T0, 650)
    recording = first.recordings["svc"]
    # what finish() does up to the ZIP, then the process dies
    (recording.directory / FINISHING_FILE).write_text(json_module.dumps({"zip": "svc.zip", "last_frame": T0 + 649}))
    recording.writer.finalise(tmp_path / "rec" / "svc.zip")
    recording.writer.close()

    second = DVR(settings)
    assert second.resume_all(T0 + 700) == []
    assert sorted(p.name for p in (tmp_path / "rec").iterdir()) == ["svc.json", "svc.zip"]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_later_recordings_of_a_service_keep_its_unchanged_analysis(dvr, tmp_path):
    dvr.on_manifest(manifest(), T0)
    dvr.on_analysis("svc", "static", {"7": ["GT3", "Team", "Car"]}, T0)  # before the first state
    feed(dvr, "svc", T0, 650)
    dvr.on_analysis("svc", "driver", {"7": ["Ann"]}, T0 + 10)
    dvr.on_manifest(manifest(description="Race 2"), T0 + 700)
    feed(dvr, "svc", T0 + 700, 650)
    dvr.on_analysis("svc", "session", {"currentTimestamp": T0 + 1349, "flagStats": [], "leaderLap": 1}, T0 + 1349)
    zip_path = dvr.tick(T0 + 1349 + 600)[0]
    analysis = json.loads(zip_path.with_suffix(".json").read_text())
    assert zip_path.name == "svc_1.zip"
    assert analysis["static"] == {"7": ["GT3", "Team", "Car"]} and analysis["driver"] == {"7": ["Ann"]}


def test_service_clocks_cannot_make_frames_unwritable(dvr, tmp_path):
    dvr.on_manifest(manifest(), T0)
    dvr.on_state("svc", T0 + 3600, state(0), now=T0)  # an hour ahead: recorded at the DVR's time
    dvr.on_state("svc", T0 + 1, state(1), now=T0 + 1)
    dvr.on_state("svc", T0 - 5, state(2), now=T0 + 2)  # went backwards: recorded as the last frame
    dvr.on_state("svc", T0 + 3, state(3), now=T0 + 3)
    assert dvr.recordings["svc"].writer.frame_count == 3
    assert dvr.recordings["svc"].writer.last_frame == T0 + 3


def test_the_dvr_parses_compressed_states_under_the_untrusted_limits():
    """A state from the network is parsed like every other untrusted JSON: a
    too deeply nested one is refused with a PayloadError (not a RecursionError)."""
    from livetiming.orchestration.dvr_session import PayloadError, decode_state
    from livetiming.protocol import Message, MessageClass
    from livetiming.protocol.lzstring import compress_to_utf16
    from livetiming.untrusted import Limits

    def wrapper(text):
        return Message(MessageClass.SERVICE_DATA_COMPRESSED, compress_to_utf16(text), date=5000).serialise()

    limits = Limits(json_depth=16)
    assert decode_state(wrapper('{"cars": [["7", "RUN"]], "session": {}}'), limits) == (
        5.0, {"cars": [["7", "RUN"]], "session": {}})
    with pytest.raises(PayloadError, match="nested too deeply"):
        decode_state(wrapper('{"cars": []' + ', "x": ' + "[" * 40 + "]" * 40 + "}"), limits)
    with pytest.raises(PayloadError, match="not valid JSON"):
        decode_state(wrapper("{not json"), limits)
