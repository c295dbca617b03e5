"""The analyser against the reference's own analysis of the reference race
(tests/fixtures/README.md, "Analysis").

The recording is replayed frame by frame (offline: the analyser works out
the new messages itself) and every section of the v1 analysis file is
compared with `reference_race.analysis.json`, exactly (average lap times
too: both are plain left-to-right float sums). One difference is intended:
quirk 3, the reference never ends a retired car's stint; we end it when the
car is marked RET, so #44's only stint is a completed one (ended at its
retirement, 19:03) instead of one still in progress at the last frame.

The lap rule (components.md: a lap when the last-lap time or the lap count
differs from the previous frame's, with a time present) did not change this
comparison when it replaced the older "new time or more laps" rule: this
race has none of the feed glitches on which the two disagree (a time that
blanks and comes back, a count that goes down), as
`test_the_race_has_no_feed_glitches` pins down. Those are covered by
test_analysis_laps.py; here `test_reference_laps_are_the_frames_the_rule_picks`
checks the rule itself against the reference, car by car.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from livetiming.analysis import Analyser
from livetiming.analysis.car import is_new_lap
from livetiming.analysis.rows import Columns, parse_lap_time, parse_laps
from reference_race import iter_frames, load_manifest

FIXTURES = Path(__file__).parent / "fixtures"
RECORDING = FIXTURES / "reference_race.zip"
REFERENCE = FIXTURES / "reference_race.analysis.json"

FIRST_FRAME = 1713099585
LAST_FRAME = 1713102459
RETIRED = "44"
RETIRED_AT = 1713100743  # #44 goes RET at 19:03


@pytest.fixture(scope="module")
def frames():
    return list(iter_frames(str(RECORDING)))


@pytest.fixture(scope="module")
def manifest():
    return load_manifest(str(RECORDING))


@pytest.fixture(scope="module")
def reference():
    with open(REFERENCE, encoding="utf-8") as handle:
        return json.load(handle)


def replay(manifest, frames, analyser=None, on_update=None):
    analyser = analyser or Analyser(manifest)
    for timestamp, state in frames:
        changed = analyser.update(timestamp, state)
        if on_update:
            on_update(analyser, changed)
    return analyser


@pytest.fixture(scope="module")
def ours(manifest, frames):
    analyser = replay(manifest, frames)
    return analyser.to_file(copy.deepcopy(manifest), frames[-1][1])


def lap_changes(manifest, frames):
    """Per car, `(last_time, laps)` at every frame where either differs from
    the car's previous frame (the car's first frame not included)."""
    columns = Columns(manifest["colSpec"])
    previous, changes = {}, {}
    for _, state in frames:
        for row in state["cars"]:
            num, _, _, laps, last = columns.read(row)
            cells = (parse_lap_time(last), parse_laps(laps))
            if num in previous and cells != previous[num]:
                changes.setdefault(num, []).append((previous[num], cells))
            previous[num] = cells
    return changes


def reference_laps(reference, num):
    """All of a car's lap times in the reference: completed stints, then the
    current one."""
    current = reference["lap"][num][0]
    stints = reference["stint"][num] + ([current] if current else [])
    return [lap_time for stint in stints for lap_time, _ in stint[9]]


def deviation_for_retired_car(reference):
    """What quirk 3's fix turns #44's reference entries into: the stint the
    reference still shows in progress, ended at the retirement, with the
    completed-stint average (the last lap dropped as well as the first)."""
    current, last_pass = reference["lap"][RETIRED]
    stint = list(current)
    laps = [lap_time for lap_time, _ in stint[9]]
    stint[3] = RETIRED_AT
    stint[4] = False
    stint[8] = sum(laps[1:-1]) / len(laps[1:-1])
    return {"lap": [None, last_pass], "stint": [stint]}


def test_reference_laps_are_the_frames_the_rule_picks(manifest, frames, reference):
    """Every car's laps in the reference, in order, are exactly the last-lap
    times of the frames `is_new_lap` picks: the rule, checked on its own."""
    changes = lap_changes(manifest, frames)
    for num in reference["lap"]:
        picked = [cells[0] for before, cells in changes[num] if is_new_lap(*before, *cells)]
        assert picked == reference_laps(reference, num), num


def test_the_race_has_no_feed_glitches(manifest, frames):
    """Why the lap rule of components.md left this comparison as it was: every
    change of a car's cells here is a lap completed normally (the time and the
    count change together), bar one lap that repeats its predecessor's time
    (#24, 1:56.717: only the count changes). No time blanks once set, no count
    goes down, no time changes alone, so the older rule ("a new time, or more
    laps") counted the same laps. The glitches are in test_analysis_laps.py."""
    changes = lap_changes(manifest, frames)
    kinds = {"both": 0, "count only": 0, "time only": 0}
    for num, car_changes in changes.items():
        for (time_before, laps_before), (time, laps) in car_changes:
            assert time is not None and laps is not None, num      # no blank
            assert time_before is None or laps > laps_before, num  # no correction
            if time != time_before and laps != laps_before:
                kinds["both"] += 1
            elif laps != laps_before:
                kinds["count only"] += 1
                assert (num, time) == ("24", 116.717)
            else:
                kinds["time only"] += 1
    assert kinds == {"both": 267, "count only": 1, "time only": 0}


def test_static(ours, reference):
    assert ours["static"] == reference["static"]
    assert list(ours["static"]) == list(reference["static"])  # first-seen order


def test_driver_names_in_order_first_seen(ours, reference):
    assert ours["driver"] == reference["driver"]
    assert list(ours["driver"]) == list(reference["driver"])
    assert ours["driver"]["31"] == ["Lars Eriksen", "Miguel Negrão"]  # Eriksen again: no repeat


def test_completed_stints(ours, reference):
    completed = sum(len(stints) for stints in reference["stint"].values())
    assert completed == 24
    assert set(ours["stint"]) == set(reference["stint"])
    for num, stints in reference["stint"].items():
        if num == RETIRED:
            continue
        assert ours["stint"][num] == stints, num
    assert sum(len(stints) for stints in ours["stint"].values()) == completed + 1


def test_lap_entries(ours, reference):
    assert set(ours["lap"]) == set(reference["lap"])
    for num, (current, last_pass) in reference["lap"].items():
        if num == RETIRED:
            continue
        assert ours["lap"][num] == [current, last_pass], num


def test_retired_car_deviates_exactly_as_intended(ours, reference):
    """Quirk 3: the only difference from the reference, asserted precisely."""
    assert reference["stint"][RETIRED] == []
    assert reference["lap"][RETIRED][0][4] is True            # still "in progress"
    assert reference["lap"][RETIRED][0][3] == LAST_FRAME       # ...to the last frame
    expected = deviation_for_retired_car(reference)
    assert ours["lap"][RETIRED] == expected["lap"]
    assert ours["stint"][RETIRED] == expected["stint"]
    # Everything else about that stint is the reference's: start, end lap
    # (its last lap, 8), driver, best lap, yellow laps and the laps themselves.
    ours_stint, ref_stint = ours["stint"][RETIRED][0], reference["lap"][RETIRED][0]
    assert ours_stint[:3] == ref_stint[:3] and ours_stint[5:8] == ref_stint[5:8]
    assert ours_stint[9] == ref_stint[9]


def test_whole_file_equals_reference_apart_from_the_deviation(ours, reference):
    patched = copy.deepcopy(ours)
    patched["stint"][RETIRED] = reference["stint"][RETIRED]
    patched["lap"][RETIRED] = reference["lap"][RETIRED]
    assert set(patched) == set(reference)
    for section in reference:
        assert patched[section] == reference[section], section
    assert patched == reference


def test_car_messages(ours, reference):
    assert ours["car_messages"] == reference["car_messages"]
    messages = [m for msgs in ours["car_messages"].values() for m in msgs]
    assert len(messages) == 64
    assert not [m for m in messages if m[3] in ("pit", "out")]
    for num, msgs in ours["car_messages"].items():
        assert all(m[4] == num for m in msgs)
        assert [m[0] for m in msgs] == sorted(m[0] for m in msgs)  # oldest first


def test_messages(ours, reference):
    assert ours["messages"] == reference["messages"]
    messages = ours["messages"]["messages"]
    assert len(messages) == 12
    assert all(len(m) == 4 or m[4] is None for m in messages)
    assert [m[0] for m in messages] == sorted((m[0] for m in messages), reverse=True)


def test_session(ours, reference):
    assert ours["session"] == reference["session"]
    session = ours["session"]
    assert len(session["flagStats"]) == 9
    assert session["flagStats"][0][:3] == [0, 0, FIRST_FRAME]  # the `none` period
    assert session["flagStats"][-1][3:] == [None, None]
    assert session["leaderLap"] == 25
    assert session["currentTimestamp"] == LAST_FRAME


def test_service_and_state(ours, reference, manifest, frames):
    assert ours["service"] == reference["service"]
    assert ours["service"]["duration"] == 2874.0
    assert ours["service"]["startTime"] == FIRST_FRAME
    assert manifest["startTime"] == 1713099585.0  # to_file did not touch the input
    assert "duration" not in manifest
    assert ours["state"] == reference["state"] == frames[-1][1]


def test_changed_keys_are_enough_to_follow_the_analysis(manifest, frames):
    """A client that only takes the payloads of the keys each update reports
    ends up with the whole analysis (bar `currentTimestamp`, which moves with
    every update but is only republished with a session change)."""
    client = {"static": {}, "driver": {}, "messages": {}, "session": {},
              "lap": {}, "stint": {}, "car_messages": {}}

    def follow(analyser, changed):
        for key in changed:
            payload = analyser.payload(key)
            section = key.split("/")[0]
            if "/" in key:
                client[section].update(payload)
            else:
                client[section] = payload

    analyser = replay(manifest, frames, on_update=follow)
    expected = analyser.data()
    client["session"]["currentTimestamp"] = expected["session"]["currentTimestamp"]
    assert client == expected


def test_restart_midway_continues_identically(manifest, frames):
    """dump() → JSON → load() at half time, then carry on: same result."""
    middle = len(frames) // 2
    first = replay(manifest, frames[:middle])
    snapshot = json.loads(json.dumps(first.dump(), allow_nan=False))
    resumed = Analyser.load(snapshot)
    changes_resumed = []
    replay(manifest, frames[middle:], resumed, lambda a, c: changes_resumed.append(c))
    changes_straight = []
    replay(manifest, frames[middle:], first, lambda a, c: changes_straight.append(c))
    assert changes_resumed == changes_straight
    assert resumed.data() == first.data()
    assert resumed.dump() == first.dump()
