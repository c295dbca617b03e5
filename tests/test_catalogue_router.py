"""The recordings catalogue as a standalone component (`python -m
livetiming.cli.recordings`) in a real router, called by the real JavaScript
WAMP client as an anonymous member of the public."""
import json
import signal
import sys

import pytest

from livetiming.cli import recordings
from livetiming.protocol import RPC
from livetiming.recording import RecordingReader
from network import components_url, js_client, router_env, start_router
from test_catalogue import make_recording

CODE = "router-admin-code"
START = 1_600_000_000
COUNT = 120  # 3 pages: 50, 50, 20


@pytest.fixture(scope="module")
def network(module_processes, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("catalogue")
    directory = tmp_path / "recordings"
    for i in range(COUNT):
        make_recording(directory, f"race{i:03d}.zip", f"uuid{i:03d}", START + i * 86400,
                       name=["Series A", "Series B"][i % 2], frames=2)
    make_recording(directory, "secret.zip", "uuid-secret", START - 86400, name="Secret", hidden=True)
    (directory / "race000.json").write_text(json.dumps({"service": {"name": "Series A"}}))
    (directory / "broken.zip").write_text("not a zip")
    settings = {"LIVETIMING_RECORDINGS_DIR": directory, "LIVETIMING_ADMIN_AUTHCODE": CODE,
                "LIVETIMING_RECORDINGS_REFRESH_INTERVAL": 1, "GENERATE_ANALYSIS": ""}
    # the router's own catalogue is left out: the standalone component under test must serve the calls
    router, url = start_router(module_processes, tmp_path, env=router_env(tmp_path, **settings),
                               args=["--no-catalogue"])
    component = module_processes([sys.executable, "-m", "livetiming.cli.recordings", "-v"],
                                 env=router_env(tmp_path, LIVETIMING_ROUTER=components_url(tmp_path), **settings))
    component.wait_for(r"Recordings catalogue ready", timeout=60)
    component.wait_for(r"Recordings index refreshed: 121 recordings \(\d+ added, 0 removed, 1 invalid\)",
                       timeout=60)
    return {"url": url, "directory": directory, "component": component, "tmp": tmp_path}


def call(procedure, *args, **kwargs):
    return {"op": "call", "procedure": procedure, "args": list(args), "kwargs": kwargs}


def test_pages_newest_first_positional_and_keyword(network):
    out = js_client(network["url"], [
        call(RPC.GET_RECORDINGS_PAGE),
        call(RPC.GET_RECORDINGS_PAGE, 2),
        call(RPC.GET_RECORDINGS_PAGE, page_number=3),
        call(RPC.GET_RECORDINGS_PAGE, 4),
        call(RPC.GET_RECORDINGS_PAGE, 1, None, True),
        call(RPC.GET_RECORDINGS_PAGE, page_number=1, filter_name="Series B"),
        call(RPC.GET_RECORDINGS_PAGE, page_number="x"),
    ])
    assert out["joined"] and out["authrole"] == "anonymous"
    first, second, third, beyond, with_hidden, series_b, bad = [r.get("result", r) for r in out["results"]]
    assert [len(p["recordings"]) for p in (first, second, third)] == [50, 50, 20]
    assert all(p["pages"] == 3 and p["total"] == COUNT for p in (first, second, third))
    uuids = [r["uuid"] for p in (first, second, third) for r in p["recordings"]]
    assert uuids == [f"uuid{i:03d}" for i in reversed(range(COUNT))]
    assert first["recordings"][-1] == {"description": "Series A uuid070", "duration": 1, "filename": "race070.zip",
                                       "name": "Series A", "startTime": START + 70 * 86400, "uuid": "uuid070",
                                       "hasAnalysis": False}
    assert beyond == {"recordings": [], "pages": 3, "total": COUNT}
    assert with_hidden["total"] == COUNT + 1 and with_hidden["pages"] == 3
    assert series_b["total"] == 60 and {r["name"] for r in series_b["recordings"]} == {"Series B"}
    assert bad["error"] == "livetiming.error.invalid_argument"


def test_names_and_hidden(network):
    out = js_client(network["url"], [
        call(RPC.GET_RECORDINGS_NAMES),
        call(RPC.GET_RECORDINGS_NAMES, True),
        call(RPC.GET_RECORDINGS_NAMES, show_hidden=True),
    ])
    plain, hidden, hidden_kw = [r["result"] for r in out["results"]]
    assert plain == ["Series A", "Series B"]
    assert hidden == hidden_kw == ["Secret", "Series A", "Series B"]


def test_manifest(network):
    out = js_client(network["url"], [
        call(RPC.GET_RECORDINGS_MANIFEST, "uuid007"),
        call(RPC.GET_RECORDINGS_MANIFEST, uuid="uuid-secret"),
        call(RPC.GET_RECORDINGS_MANIFEST, "no-such-uuid"),
    ])
    plain, hidden, missing = out["results"]
    with RecordingReader(network["directory"] / "race007.zip") as recording:
        assert plain["result"] == recording.manifest
    assert plain["result"]["colSpec"] == [["Num", "text"]] and plain["result"]["version"] == 1
    assert hidden["result"]["hidden"] is True
    assert missing["error"] == "livetiming.error.no_such_recording"


def test_update_manifest_only_with_the_code(network):
    directory = network["directory"]
    before = (directory / "race000.zip").read_bytes()
    out = js_client(network["url"], [
        call(RPC.UPDATE_RECORDING_MANIFEST, {"uuid": "uuid000", "name": "Hacked"}, "wrong-code"),
        call(RPC.UPDATE_RECORDING_MANIFEST, manifest={"uuid": "uuid000", "name": "Hacked"}),
        call(RPC.UPDATE_RECORDING_MANIFEST, {"uuid": "uuid000", "name": "Hacked"}, ""),
        call(RPC.GET_RECORDINGS_MANIFEST, "uuid000"),
    ])
    assert [r.get("error") for r in out["results"][:3]] == ["livetiming.error.not_authorised"] * 3
    assert out["results"][3]["result"]["name"] == "Series A"
    assert (directory / "race000.zip").read_bytes() == before
    for reason in ("wrong code", "no code given", "no code given"):
        network["component"].wait_for(rf"Refused to update the manifest of recording uuid000: {reason}", timeout=10)

    out = js_client(network["url"], [
        call(RPC.GET_RECORDINGS_MANIFEST, "uuid000"),
    ])
    manifest = out["results"][0]["result"]
    out = js_client(network["url"], [
        call(RPC.UPDATE_RECORDING_MANIFEST, {**manifest, "name": "Renamed", "description": "Fixed"}, CODE),
        call(RPC.UPDATE_RECORDING_MANIFEST, manifest={"uuid": "uuid000", "startTime": 1}, authcode=CODE),
        call(RPC.UPDATE_RECORDING_MANIFEST, manifest={"uuid": "nope", "name": "x"}, authcode=CODE),
        call(RPC.GET_RECORDINGS_MANIFEST, "uuid000"),
        call(RPC.GET_RECORDINGS_PAGE, 3),
        call(RPC.GET_RECORDINGS_NAMES),
    ])
    updated, refused, unknown, fetched, last_page, names = out["results"]
    assert updated["result"] == {**manifest, "name": "Renamed", "description": "Fixed"}
    assert refused["error"] == "livetiming.error.invalid_argument"
    assert unknown["error"] == "livetiming.error.no_such_recording"
    assert fetched["result"] == updated["result"]
    entry = last_page["result"]["recordings"][-1]
    assert entry["uuid"] == "uuid000" and entry["name"] == "Renamed" and entry["description"] == "Fixed"
    assert "Renamed" in names["result"]
    with RecordingReader(directory / "race000.zip") as recording:
        assert recording.manifest["name"] == "Renamed" and recording.frame_count == 2
    assert json.loads((directory / "race000.json").read_text())["service"]["name"] == "Renamed"
    assert json.loads((directory / "index.json").read_text())["uuid000"]["name"] == "Renamed"


def test_periodic_refresh_finds_new_and_deleted_recordings(network):
    directory = network["directory"]
    make_recording(directory, "newest.zip", "uuid-newest", START + 1000 * 86400, name="Newcomer")
    out = js_client(network["url"], [
        {"op": "until", "procedure": RPC.GET_RECORDINGS_NAMES, "contains": "Newcomer", "within_ms": 10000},
    ])
    assert "error" not in out["results"][0]
    (directory / "newest.zip").unlink()
    out = js_client(network["url"], [
        {"op": "until", "procedure": RPC.GET_RECORDINGS_PAGE, "contains": "uuid-newest", "absent": True,
         "within_ms": 10000},
        call(RPC.GET_RECORDINGS_MANIFEST, "uuid-newest"),
    ])
    assert "error" not in out["results"][0]
    assert out["results"][1]["error"] == "livetiming.error.no_such_recording"


def test_component_stops_cleanly(network):
    """Last in the module: SIGTERM ends the component with exit code 0."""
    component = network["component"]
    component.signal(signal.SIGTERM)
    assert component.wait(30) == 0


def test_component_creates_missing_analysis_files(network, processes):
    """Runs after the first component stopped: this one takes the procedures."""
    directory = network["tmp"] / "to-analyse"
    make_recording(directory, "one.zip", "uuid-one", START, name="One", frames=12)
    make_recording(directory, "two.zip", "uuid-two", START + 10, name="Two")
    env = router_env(network["tmp"], LIVETIMING_ROUTER=components_url(network["tmp"]),
                     LIVETIMING_RECORDINGS_DIR=directory, GENERATE_ANALYSIS="1",
                     LIVETIMING_RECORDINGS_REFRESH_INTERVAL="not a number")
    component = processes([sys.executable, "-m", "livetiming.cli.recordings", "-v"], env=env)
    component.wait_for(r"Invalid recordings refresh interval 'not a number'; using 300.0s", timeout=60)
    component.wait_for(r"creating missing analysis files", timeout=60)
    for filename in ("one.zip", "two.zip"):
        component.wait_for(rf"Created the analysis file of {filename}", timeout=60)
    out = js_client(network["url"], [call(RPC.GET_RECORDINGS_PAGE)])
    page = out["results"][0]["result"]
    assert page["total"] == 2 and all(r["hasAnalysis"] for r in page["recordings"])
    assert json.loads((directory / "one.json").read_text())["service"]["uuid"] == "uuid-one"
    assert json.loads((directory / "index.json").read_text())["uuid-two"]["hasAnalysis"] is True
    component.signal(signal.SIGTERM)
    assert component.wait(30) == 0


def test_standalone_command_needs_a_router(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LIVETIMING_ROUTER", "")
    assert recordings.main([]) == 2
    assert "LIVETIMING_ROUTER must be set" in capsys.readouterr().err
    monkeypatch.setenv("LIVETIMING_ROUTER", "ws://127.0.0.1:5080/ws")
    monkeypatch.setenv("LIVETIMING_SHARED_SECRET", "s")
    monkeypatch.setenv("LIVETIMING_AUTH_ID", "services")
    assert recordings.main([]) == 2
    assert "an auth id of role components" in capsys.readouterr().err
