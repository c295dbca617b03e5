"""The web app's own JavaScript under node: its LZ-String decoder against the
real npm `lz-string` (every state of the reference race, plus edge cases),
its WAMP client against a real Crossbar running the demo, and its pure parts
(the relay pick is Python's `pick_least_loaded` rule). The scripts live in
tests/js_web and borrow `lz-string` and `ws` from tests/js/node_modules."""
from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from livetiming.orchestration.relay_book import pick_least_loaded
from network import JS, router_env, start_router
from reference_race import iter_frames

HERE = Path(__file__).parent / "js_web"
NODE_TIMEOUT = 120


@pytest.fixture(scope="module")
def node() -> str:
    executable = shutil.which("node")
    if executable is None:
        pytest.fail("node is not installed: the web app's JavaScript tests need Node.js (v18+)")
    for package in ("lz-string", "ws"):
        if not (JS / "node_modules" / package).is_dir():
            pytest.fail(f"{JS / 'node_modules' / package} is missing: run `npm ci --prefix tests/js`")
    return executable


def run_node(node: str, script: str, *args: str) -> dict:
    try:
        result = subprocess.run([node, str(HERE / script), *args], capture_output=True, text=True,
                                timeout=NODE_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{script} did not finish within {NODE_TIMEOUT} s")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    lines = [line for line in result.stdout.split("\n") if line.startswith("{")]
    assert lines, f"no result from {script}: {result.stdout[-2000:]} {result.stderr[-2000:]}"
    return json.loads(lines[-1])


def test_decoder_matches_lz_string_on_every_fixture_state(node, tmp_path):
    states = tmp_path / "states.jsonl"
    count = 0
    with states.open("w", encoding="utf-8") as out:
        for _, state in iter_frames():
            # serialised as the service does it (cycle.py): compact, non-ASCII kept
            text = json.dumps(state, separators=(",", ":"), ensure_ascii=False)
            out.write(json.dumps(text) + "\n")
            count += 1
    result = run_node(node, "lzstring_check.mjs", str(states))
    assert result["mismatches"] == []
    assert result["states"] == count > 1000
    assert result["edge"] > 3000


@pytest.fixture(scope="module")
def demo_network(module_processes, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("wamp")
    process, ws_url = start_router(module_processes, tmp_path, env=router_env(tmp_path), args=["--demo", "30"])
    uuid = process.wait_for(r"announcing service (\w+)", timeout=60).group(1)
    return ws_url, uuid


def test_wamp_client_against_crossbar(node, demo_network):
    url, uuid = demo_network
    result = run_node(node, "wamp_check.mjs", json.dumps({"url": url, "uuid": uuid, "timeout_ms": 30000}))
    assert result["ok"], result
    steps = result["steps"]
    assert steps["directory"] == {"msgClass": 5, "retained": True, "uuids": [uuid]}
    assert steps["listServices"] == [uuid]
    assert steps["requestState"]["cars"] > 0
    assert steps["error"] == {"wampError": True, "uri": "wamp.error.no_such_procedure"}
    assert steps["prefix"] == {"topic": f"livetiming.service.{uuid}", "msgClass": 8,
                               "cars": steps["requestState"]["cars"]}
    assert steps["live"] == {"topic": f"livetiming.service.{uuid}", "newer": True}
    assert steps["analysis"]["topic"].startswith(f"livetiming.analysis/{uuid}/")
    assert steps["analysis"]["msgClass"] == 7
    assert steps["reconnect"] == {"newSession": True, "closedReasons": 1, "topic": f"livetiming.service.{uuid}",
                                  "resubscribed": True}
    assert steps["unsubscribe"] == {"active": False, "subscriptions": 2}
    assert steps["close"] == {"code": 1000, "opened": 2, "reconnecting": False}


def python_choices(listing: dict, fallback: str) -> list:
    return sorted({pick_least_loaded(listing, fallback, random.Random(seed)) for seed in range(200)})


def test_pure_parts(node):
    rng = random.Random(12)
    fallback = "ws://master:5080/ws"
    listings = [{}, {"ws://a:1/ws": 0}, {"ws://a:1/ws": 5, "ws://b:1/ws": 2, "ws://c:1/ws": 2}]
    for _ in range(30):
        listings.append({f"ws://relay{i}:{5000 + i}/ws": rng.randint(0, 3) for i in range(rng.randint(1, 6))})
    result = run_node(node, "units_check.mjs",
                      json.dumps({"relays": [{"listing": listing, "fallback": fallback} for listing in listings]}))
    assert result["relays"] == [python_choices(listing, fallback) for listing in listings]
    assert result["listingOf"] == [{"ws://a:1/ws": 2}, {}, {}]
    assert result["own"] == ["ws://h:5080/ws", "wss://h/ws"]
    assert result["delay"] == {"early": 0, "onTime": ["a"], "after": ["a", "c"]}
    assert result["format"] == ["1:23.456", "9.500", "10:01.000", "IN PIT", "1.500", "1:15.000", "1 lap", "1:02:05",
                                "\u00a9 A & B \u00a9 &bogus;"]
    assert result["analysis"] == {"stints": 2, "session": 8}
    # reconnection back-off: 0.5 s doubling to 30 s, jittered by +-25 %
    assert result["backoff"] == [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 375, 625]
    services = {"page": "services", "uuid": None}
    assert result["routes"] == [services, services, {"page": "timing", "uuid": "abc123"},
                                {"page": "analysis", "uuid": "abc123"}, {"page": "timing", "uuid": "abc123"},
                                services, services]
