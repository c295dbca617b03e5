"""The v1 analysis files we write are accepted by the real consumer: the
Timing71 web client's `@timing71/common` (migrateAnalysisState, then
createAnalyser and mobx-state-tree's applySnapshot), run under node by
tests/js_analysis/check_analysis.mjs. Install it with
``npm ci --prefix tests/js_analysis``.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from livetiming.analysis import Analyser
from livetiming.protocol import Stat, colspec_to_json
from reference_race import iter_frames, load_manifest

HERE = Path(__file__).parent
JS_DIR = HERE / "js_analysis"
SCRIPT = JS_DIR / "check_analysis.mjs"
RECORDING = HERE / "fixtures" / "reference_race.zip"
REFERENCE = HERE / "fixtures" / "reference_race.analysis.json"
NODE_TIMEOUT = 120


@pytest.fixture(scope="module")
def node():
    executable = shutil.which("node")
    if executable is None:
        pytest.fail("node is not installed: the analysis consumer test needs Node.js (v16+)")
    if not (JS_DIR / "node_modules" / "@timing71" / "common").is_dir() \
            or not (JS_DIR / "node_modules" / "mobx-state-tree").is_dir():
        pytest.fail(f"{JS_DIR / 'node_modules'} is missing or incomplete: "
                    "run `npm ci --prefix tests/js_analysis`")
    return executable


def consume(node, path: Path) -> dict:
    """What the consumer made of the file at `path` (fails the test if it threw)."""
    try:
        result = subprocess.run([node, str(SCRIPT), str(path)], capture_output=True, text=True,
                                timeout=NODE_TIMEOUT, cwd=JS_DIR)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the consumer did not finish within {NODE_TIMEOUT} s")
    if result.returncode != 0:
        pytest.fail(f"@timing71/common rejected {path.name}:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout)


def expected_counts(analysis: dict) -> dict:
    """The same counts, from our side: a car's stints are its completed ones
    plus the current one (the migration appends it)."""
    stints = laps = 0
    for num, completed in analysis["stint"].items():
        current = analysis["lap"][num][0]
        for stint in completed + ([current] if current else []):
            stints += 1
            laps += len(stint[9])
    messages = sum(len(m) for m in analysis["car_messages"].values())
    return {
        "cars": len(analysis["static"]),
        "stints": stints,
        "laps": laps,
        "messages": messages + len(analysis["messages"]["messages"]),
        "flagStats": len(analysis["session"]["flagStats"]),
        "leaderLap": analysis["session"]["leaderLap"],
    }


@pytest.fixture(scope="module")
def fixture_analysis():
    manifest = load_manifest(str(RECORDING))
    analyser = Analyser(manifest)
    state = None
    for timestamp, state in iter_frames(str(RECORDING)):
        analyser.update(timestamp, state)
    return analyser.to_file(manifest, state)


def test_consumer_accepts_our_analysis_of_the_reference_race(node, fixture_analysis, tmp_path):
    path = tmp_path / "reference_race.json"
    path.write_text(json.dumps(fixture_analysis, allow_nan=False), encoding="utf-8")
    seen = consume(node, path)
    expected = expected_counts(fixture_analysis)
    assert {key: seen[key] for key in expected} == expected
    assert expected["cars"] == 12 and expected["stints"] == 25 and expected["laps"] == 268
    assert expected["messages"] == 76 and expected["flagStats"] == 9
    assert seen["version"] == 3  # migrated all the way to the client's current version
    for num, counts in seen["perCar"].items():
        assert counts["drivers"] == len(fixture_analysis["driver"][num])


def test_consumer_harness_accepts_the_reference_file(node):
    """Sanity check of the harness itself: the reference's own file goes through."""
    with open(REFERENCE, encoding="utf-8") as handle:
        reference = json.load(handle)
    assert {k: v for k, v in consume(node, REFERENCE).items() if k in expected_counts(reference)} \
        == expected_counts(reference)


def test_consumer_accepts_sparse_data(node, tmp_path):
    """No Class/Team/Car/Driver/Laps columns: nulls in static, no drivers
    (driver index -1), counted laps, a car that never left the pits."""
    manifest = {"uuid": "sparse", "name": "Sparse", "description": "",
                "colSpec": colspec_to_json([Stat.NUM, Stat.STATE, Stat.LAST_LAP])}
    analyser = Analyser(manifest)
    state = None
    for i in range(8):
        state = {
            "cars": [["1", "PIT" if i in (4, 5) else "RUN", [100.0 + i, ""] if i else ["", ""]],
                     ["2", "PIT", ""]],
            "session": {"flagState": "yellow" if i == 3 else "green"},
            "messages": [[1000 + i, "Track", f"message {i}", "green"]],
        }
        analyser.update(1000 + i * 100, state, new_messages=state["messages"])
    analysis = analyser.to_file(manifest, state)
    path = tmp_path / "sparse.json"
    path.write_text(json.dumps(analysis, allow_nan=False), encoding="utf-8")
    seen = consume(node, path)
    expected = expected_counts(analysis)
    assert {key: seen[key] for key in expected} == expected
    assert analysis["static"]["1"] == [None, None, None]
    assert analysis["lap"]["1"][0][5] == -1
