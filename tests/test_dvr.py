"""The DVR with real parts: a real router, real demo services, and the DVR
as its own process (so that it can be killed) or inside the router."""
import json
import signal
import time

from livetiming.recording import RecordingReader
from network import SECRET, components_url, js_client, router_env, start_router, start_service
from processes import command

FAST = {"LIVETIMING_DVR_SILENCE_TIMEOUT": "3", "LIVETIMING_DVR_MIN_DURATION": "4",
        "LIVETIMING_DVR_TICK_INTERVAL": "0.5", "LIVETIMING_RECORDINGS_REFRESH_INTERVAL": "1"}


def wait_until(condition, timeout=60, what="condition"):
    """Poll a file-system condition (the DVR's output) with a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def frames_in_progress(tmp_path, uuid):
    directory = tmp_path / "recordings-in-progress" / uuid
    if not (directory / "manifest.json").exists():
        return 0
    return len([p for p in directory.iterdir() if p.name.endswith(".json") and p.name[0].isdigit()])


def start_dvr(processes, url, tmp_path):
    """The DVR as its own process, joined over the router's components socket."""
    env = {**router_env(tmp_path, **FAST), "LIVETIMING_ROUTER": components_url(tmp_path)}
    dvr = processes([command("livetiming-dvr"), "-v"], env=env)
    dvr.wait_for(r"DVR ready", timeout=60)
    return dvr


def test_dvr_records_finishes_and_discards(processes, tmp_path):
    router, url = start_router(processes, tmp_path, env=router_env(tmp_path, **FAST), args=["--no-dvr"])
    start_dvr(processes, url, tmp_path)
    demo = ("demo", "--cars", "20", "--speed", "20")
    kept, kept_uuid = start_service(processes, url, tmp_path, *demo)
    other, other_uuid = start_service(processes, url, tmp_path, *demo)
    norec, norec_uuid = start_service(processes, url, tmp_path, *demo, "-N")
    short, short_uuid = start_service(processes, url, tmp_path, *demo)
    wait_until(lambda: frames_in_progress(tmp_path, short_uuid) >= 1, what="the short service's first frame")
    short.stop()

    junk = [{"op": "publish", "topic": f"livetiming.service.{kept_uuid}", "args": args} for args in
            ([], ["x"], [{"msgClass": 8, "date": 1, "payload": "not lz"}], [{"msgClass": 8, "payload": 5}],
             [{"msgClass": 2, "payload": {}}])]
    junk += [{"op": "publish", "topic": f"livetiming.analysis/{kept_uuid}/lap/99", "args": [{"msgClass": 7,
                                                                                             "payload": []}]},
             {"op": "publish", "topic": "livetiming.service.a.b", "args": [{"msgClass": 4, "payload": {}}]}]
    # a session bound to the kept service's uuid (as a restarted service would be) publishes junk
    results = js_client(url, junk, authid="services", secret=SECRET, authextra={"uuid": kept_uuid})["results"]
    assert all(r.get("ok") for r in results[:-1])
    assert results[-1]["error"] == "wamp.error.not_authorized"  # not a topic any service may publish on

    for uuid in (kept_uuid, other_uuid, norec_uuid):
        wait_until(lambda uuid=uuid: frames_in_progress(tmp_path, uuid) >= 7, what=f"7 frames of {uuid}")
    kept.stop()
    norec.stop()
    recordings = tmp_path / "recordings"
    zip_path = wait_until(lambda: (recordings / f"{kept_uuid}.zip").exists() and recordings / f"{kept_uuid}.zip",
                          what="the finished recording")
    analysis = json.loads(wait_until(lambda: (recordings / f"{kept_uuid}.json").exists()
                                     and (recordings / f"{kept_uuid}.json").read_text(), what="analysis file"))
    with RecordingReader(zip_path) as reader:
        assert reader.frame_count >= 7 and reader.manifest["uuid"] == kept_uuid
        last_state = reader.state_at(reader.frames[-1])
    assert len(analysis["static"]) == 20 and len(analysis["stint"]) == 20
    assert analysis["service"]["uuid"] == kept_uuid and analysis["state"]["cars"] == last_state["cars"]

    in_progress = tmp_path / "recordings-in-progress"
    wait_until(lambda: not (in_progress / norec_uuid).exists() and not (in_progress / short_uuid).exists(),
               what="discarded recordings to go")
    recorded = sorted(p.name for p in recordings.iterdir() if p.name not in ("index.json", ".index-cache.json"))
    assert recorded == sorted([f"{kept_uuid}.zip", f"{kept_uuid}.json"])
    assert (in_progress / other_uuid).exists()  # still running: still recording


def test_dvr_killed_mid_recording_loses_nothing(processes, tmp_path):
    router, url = start_router(processes, tmp_path, env=router_env(tmp_path, **FAST), args=["--no-dvr"])
    dvr = start_dvr(processes, url, tmp_path)
    service, uuid = start_service(processes, url, tmp_path, "demo", "--cars", "20", "--speed", "20")
    wait_until(lambda: frames_in_progress(tmp_path, uuid) >= 5, what="5 frames")
    dvr.signal(signal.SIGKILL)
    dvr.wait()
    with RecordingReader(tmp_path / "recordings-in-progress" / uuid) as reader:
        before = dict(reader.iter_states())
    start_dvr(processes, url, tmp_path)
    wait_until(lambda: frames_in_progress(tmp_path, uuid) >= len(before) + 3, what="frames after the restart")
    service.stop()
    zip_path = tmp_path / "recordings" / f"{uuid}.zip"
    wait_until(zip_path.exists, what="the finished recording")
    with RecordingReader(zip_path) as reader:
        after = dict(reader.iter_states())
    assert len(after) > len(before)
    for second, state in before.items():
        assert after[second] == state


def test_dvr_and_catalogue_inside_the_router(processes, tmp_path):
    router, url = start_router(processes, tmp_path, env=router_env(tmp_path, **FAST))
    service, uuid = start_service(processes, url, tmp_path, "demo", "--cars", "20", "--speed", "20")
    wait_until(lambda: frames_in_progress(tmp_path, uuid) >= 6, what="6 frames")
    service.stop()
    wait_until((tmp_path / "recordings" / f"{uuid}.json").exists, what="recording and analysis")
    assert (tmp_path / "recordings" / f"{uuid}.zip").exists()
    out = js_client(url, [{"op": "until", "procedure": "livetiming.recordings.page", "contains": uuid},
                          {"op": "call", "procedure": "livetiming.recordings.manifest", "args": [uuid]}])
    page, manifest = out["results"]
    assert page["result"]["total"] == 1 and page["result"]["recordings"][0]["hasAnalysis"] is True
    assert manifest["result"]["uuid"] == uuid and manifest["result"]["version"] == 1
