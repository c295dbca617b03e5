"""The recordings catalogue inside a real router (`livetiming-router`, its
own catalogue component), called by the real JavaScript WAMP client with
absurd and wrong-typed arguments: every call is answered at once, with an
empty page or a short livetiming.error.invalid_argument; hostile files in
the recordings directory are skipped and never reach an answer."""
import json
import zipfile

import pytest

from livetiming.protocol import RPC
from network import js_client, router_env, start_router
from test_catalogue import make_recording

START = 1_600_000_000
LONG = "9" * 40_000   # the probe's plan is one command-line argument (at most 128 KiB)


@pytest.fixture(scope="module")
def network(module_processes, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("hostile-catalogue")
    directory = tmp_path / "recordings"
    make_recording(directory, "good.zip", "uuid-good", START, name="Good")
    with zipfile.ZipFile(directory / "deep.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", b'{"uuid": "uuid-deep", "version": 1, "x": ' + b"[" * 200_000
                         + b"]" * 200_000 + b"}")
        archive.writestr("01600000000.json", b'{"cars": []}')
    with zipfile.ZipFile(directory / "long-name.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps({"uuid": "uuid-long", "version": 1, "name": "n" * 100_000,
                                                      "startTime": START}))
        archive.writestr("01600000000.json", b'{"cars": []}')
    env = router_env(tmp_path, LIVETIMING_RECORDINGS_DIR=directory, LIVETIMING_RECORDINGS_REFRESH_INTERVAL=1)
    router, url = start_router(module_processes, tmp_path, env=env)
    out = js_client(url, [{"op": "until", "procedure": RPC.GET_RECORDINGS_NAMES, "contains": "Good",
                           "within_ms": 60000}], timeout=90)
    assert "error" not in out["results"][0], out
    return {"url": url, "directory": directory}


def call(procedure, *args, **kwargs):
    return {"op": "call", "procedure": procedure, "args": list(args), "kwargs": kwargs}


def test_absurd_page_arguments_are_answered_at_once(network):
    empty = {"recordings": [], "pages": 1, "total": 1}
    out = js_client(network["url"], [
        call(RPC.GET_RECORDINGS_PAGE, -1),
        call(RPC.GET_RECORDINGS_PAGE, 0),
        call(RPC.GET_RECORDINGS_PAGE, 2**63),     # as a JavaScript number: 9223372036854775808
        call(RPC.GET_RECORDINGS_PAGE, 1e300),
        call(RPC.GET_RECORDINGS_PAGE, page_number=None),
        call(RPC.GET_RECORDINGS_PAGE, "1"),
    ], timeout=10)
    results = [r.get("result", r) for r in out["results"]]
    assert results[:4] == [empty] * 4
    assert [r["uuid"] for r in results[4]["recordings"]] == ["uuid-good"]
    assert results[5] == results[4]


def test_wrong_typed_page_arguments_are_a_short_invalid_argument(network):
    out = js_client(network["url"], [
        call(RPC.GET_RECORDINGS_PAGE, "x"),
        call(RPC.GET_RECORDINGS_PAGE, LONG),
        call(RPC.GET_RECORDINGS_PAGE, [1]),
        call(RPC.GET_RECORDINGS_PAGE, {"a": 1}),
        call(RPC.GET_RECORDINGS_PAGE, 1.5),
        call(RPC.GET_RECORDINGS_PAGE, 1, {"name": "Good"}),
    ], timeout=10)
    for result in out["results"]:
        assert result.get("error") == "livetiming.error.invalid_argument", result
        assert len(json.dumps(result["args"])) < 300


def test_bad_manifest_uuids_are_a_short_invalid_argument(network):
    out = js_client(network["url"], [
        call(RPC.GET_RECORDINGS_MANIFEST, 5),
        call(RPC.GET_RECORDINGS_MANIFEST, None),
        call(RPC.GET_RECORDINGS_MANIFEST, "x" * 40_000),
        call(RPC.GET_RECORDINGS_MANIFEST, "../../etc/passwd"),
        call(RPC.GET_RECORDINGS_MANIFEST, ["uuid-good"]),
        call(RPC.GET_RECORDINGS_MANIFEST, "uuid-good"),
    ], timeout=10)
    *refused, good = out["results"]
    for result in refused:
        assert result.get("error") == "livetiming.error.invalid_argument", result
        assert len(json.dumps(result["args"])) < 300
    assert good["result"]["name"] == "Good"


def test_hostile_recordings_never_reach_an_answer(network):
    out = js_client(network["url"], [
        call(RPC.GET_RECORDINGS_NAMES, True),
        call(RPC.GET_RECORDINGS_PAGE, 1, None, True),
        call(RPC.GET_RECORDINGS_MANIFEST, "uuid-deep"),
        call(RPC.GET_RECORDINGS_MANIFEST, "uuid-long"),
    ], timeout=10)
    names, page, deep, long_name = out["results"]
    assert names["result"] == ["Good"] and page["result"]["total"] == 1
    assert deep["error"] == long_name["error"] == "livetiming.error.no_such_recording"
    index = (network["directory"] / "index.json").read_text()
    assert "uuid-deep" not in index and "n" * 1001 not in index


def test_page_two_to_the_64_is_answered(network):
    """Components join with JSON: msgpack cannot carry integers from 2**64, and
    Crossbar, unable to forward such a call, would never answer the caller."""
    out = js_client(network["url"], [call(RPC.GET_RECORDINGS_PAGE, 2**64)], timeout=5)
    assert out["results"][0].get("result") == {"recordings": [], "pages": 1, "total": 1}, out
