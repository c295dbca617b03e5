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
