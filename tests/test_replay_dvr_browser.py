"""A recording made by the router's own DVR, replayed in the browser: a real
router records a real demo service; once the service stops, the DVR
finishes the recording and the catalogue lists it; the web app's player
shows exactly what `livetiming-rectool state-at` gives for it, and the
download is the DVR's file."""
import urllib.request

import pytest

from livetiming.recording import RecordingReader
from network import http_of, js_client, router_env, start_router, start_service
from test_dvr import FAST, frames_in_progress, wait_until
from test_replay_browser import check_shows, frame_time, jump, open_player, rectool_state


@pytest.fixture(scope="module")
def recorded(module_processes, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("dvr-replay")
    _, url = start_router(module_processes, tmp_path, env=router_env(tmp_path, **FAST))
    service, uuid = start_service(module_processes, url, tmp_path, "demo", "--cars", "20", "--speed", "20")
    wait_until(lambda: frames_in_progress(tmp_path, uuid) >= 8, what="8 frames recorded")
    service.stop()
    path = tmp_path / "recordings" / f"{uuid}.zip"
    wait_until(path.exists, what="the DVR's finished recording")
    out = js_client(url, [{"op": "until", "procedure": "livetiming.recordings.page", "contains": uuid}])
    assert "error" not in out["results"][0]
    return {"http": http_of(url) + "/", "uuid": uuid, "path": path}


def test_the_dvrs_recording_is_listed_downloads_and_replays_as_rectool_reads_it(browser, recorded):
    uuid, path = recorded["uuid"], recorded["path"]
    with urllib.request.urlopen(f"{recorded['http']}recordings/{uuid}.zip", timeout=20) as answer:
        assert answer.read() == path.read_bytes()
    page, console = open_player(browser, recorded["http"], uuid)
    with RecordingReader(path) as reader:
        manifest = reader.manifest
        assert reader.frame_count >= 8
    check_shows(page, rectool_state(path, "+0"), manifest)
    for offset_text, offset in [("+0:00:05", 5), ("+0:00:02", 2)]:
        jump(page, offset_text, frame_time(path, offset))
        check_shows(page, rectool_state(path, offset_text), manifest)
    assert console.errors == []
