"""Downloads of the catalogue's recordings from the master's web port, on a
real router: the right bytes (whole and by range), and nothing else — no
listing, no unknown or hidden names, no path traversal, no other file."""
import http.client
import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from network import js_client, router_env, start_router
from test_catalogue import make_recording

FIXTURES = Path(__file__).parent / "fixtures"
UUID = "7e1f0c0a71a54c1e9b1d2024041413ff"


@pytest.fixture(scope="module")
def master(module_processes, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("downloads")
    directory = tmp_path / "recordings"
    directory.mkdir()
    shutil.copy(FIXTURES / "reference_race.zip", directory / "reference.zip")
    shutil.copy(FIXTURES / "reference_race.analysis.json", directory / "reference.json")
    make_recording(directory, "secret.zip", "uuid-secret", 1_600_000_000, name="Secret", hidden=True)
    (directory / "notes.txt").write_text("not a recording")
    (tmp_path / "outside.zip").write_bytes(b"outside the recordings directory")
    env = router_env(tmp_path, LIVETIMING_RECORDINGS_DIR=directory, LIVETIMING_RECORDINGS_REFRESH_INTERVAL=1,
                     GENERATE_ANALYSIS="")
    _, url = start_router(module_processes, tmp_path, env=env)
    out = js_client(url, [{"op": "until", "procedure": "livetiming.recordings.page", "contains": UUID}])
    assert "error" not in out["results"][0]
    return {"http": url.replace("ws://", "http://").rsplit("/ws", 1)[0], "directory": directory}


def get(url: str, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def raw_get(base: str, path: str) -> tuple:
    """A request line sent as is (urllib would normalise `..`)."""
    host, port = base.split("//", 1)[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=20)
    connection.putrequest("GET", path, skip_accept_encoding=True)
    connection.endheaders()
    answer = connection.getresponse()
    return answer.status, answer.read()


def test_a_listed_recording_and_its_analysis_download_whole(master):
    status, headers, body = get(f"{master['http']}/recordings/{UUID}.zip")
    assert status == 200 and body == (FIXTURES / "reference_race.zip").read_bytes()
    assert headers["Content-Type"] == "application/zip" and headers["Access-Control-Allow-Origin"] == "*"
    assert 'filename="reference.zip"' in headers["Content-Disposition"]
    status, headers, body = get(f"{master['http']}/recordings/{UUID}.json")
    assert status == 200 and json.loads(body) == json.loads((FIXTURES / "reference_race.analysis.json").read_text())


def test_a_recording_downloads_by_range(master):
    whole = (FIXTURES / "reference_race.zip").read_bytes()
    status, headers, body = get(f"{master['http']}/recordings/{UUID}.zip", {"Range": "bytes=-22"})
    assert status == 206 and body == whole[-22:]
    status, _, body = get(f"{master['http']}/recordings/{UUID}.zip", {"Range": "bytes=1000-1999"})
    assert status == 206 and body == whole[1000:2000]
    status, _, body = get(f"{master['http']}/recordings/{UUID}.zip", {"Range": f"bytes=-{len(whole) + 5}"})
    assert status in (200, 206) and body == whole  # a suffix longer than the file is the whole file
    status, _, body = get(f"{master['http']}/recordings/{UUID}.zip", {"Range": f"bytes={len(whole)}-"})
    assert status == 416


@pytest.mark.parametrize("path", [
    "/recordings/", "/recordings", "/recordings/uuid-unknown.zip", "/recordings/uuid-secret.zip",
    "/recordings/index.json", "/recordings/reference.zip", "/recordings/notes.txt", f"/recordings/{UUID}",
    f"/recordings/{UUID}.zip/more", f"/recordings/{UUID}.txt",
])
def test_nothing_else_is_served(master, path):
    status, _, body = get(master["http"] + path)
    assert status == 404 and b"PK" not in body[:2]


@pytest.mark.parametrize("path", [
    "/recordings/../outside.zip", "/recordings/..%2Foutside.zip", "/recordings/%2E%2E/outside.zip",
    "/recordings/../../cbdir/config.json", "/recordings/..%2F..%2Fcbdir%2Fconfig.json",
    "/recordings/%2Fetc%2Fpasswd", "/recordings//etc/passwd",
])
def test_path_traversal_is_refused(master, path):
    status, body = raw_get(master["http"], path)
    assert status in (400, 404)
    assert b"outside the recordings" not in body and b"root:" not in body and b"realms" not in body
