"""Lap counting exactly as components.md states it, on the glitches real
timing feeds produce (issue #10, point 1).

The rule: a lap is counted when the car's last-lap time or its lap count
differs from the car's cells in the previous frame (any change, either
direction) and the last-lap time is present. Each pattern below is a small
hand-built sequence of states fed through the analyser, then the same
sequences are written as a recording and run through `livetiming-analysis`.
Also here: whose name a stint carries (the driver shown in the frame in which
the car leaves the pits).
"""
from __future__ import annotations

import json
import subprocess
from typing import List, Optional

import pytest

from livetiming.analysis import Analyser
from livetiming.analysis.car import is_new_lap
from livetiming.protocol import FlagStatus, Stat, colspec_to_json
from processes import command

COLUMNS = [Stat.NUM, Stat.STATE, Stat.CLASS, Stat.TEAM, Stat.DRIVER, Stat.CAR, Stat.LAPS,
           Stat.LAST_LAP]
MANIFEST = {"uuid": "laps", "name": "Laps", "description": "glitches", "colSpec": colspec_to_json(COLUMNS)}
T0 = 1_700_000_000
GREEN, YELLOW = int(FlagStatus.GREEN), int(FlagStatus.YELLOW)

A, B, C = 100.0, 95.5, 101.25   # lap times; B is faster, as a glitching time often is


def row(num="1", state="RUN", laps=0, last="", driver="Alice", flag=""):
    return [num, state, "GT3", "Team", driver, "Car", laps, [last, flag]]


def states(rows_per_frame, flags=None) -> List[dict]:
    """One state per frame (each a list of rows), green unless `flags` says."""
    flags = flags or ["green"] * len(rows_per_frame)
    return [{"cars": rows, "session": {"flagState": flag}, "messages": []}
            for rows, flag in zip(rows_per_frame, flags)]


def analyse(frames: List[dict], manifest: Optional[dict] = None) -> dict:
    analyser = Analyser(manifest or MANIFEST)
    for second, state in enumerate(frames):
        analyser.update(T0 + second, state)
    return analyser.data()


def laps_of(data: dict, num: str = "1") -> List[list]:
    """Every lap of a car, completed stints first, as `[time, flag]`."""
    stints = data["stint"][num] + ([data["lap"][num][0]] if data["lap"][num][0] else [])
    return [lap for stint in stints for lap in stint[9]]


def times_of(data: dict, num: str = "1") -> List[float]:
    return [lap_time for lap_time, _ in laps_of(data, num)]


def current_lap(data: dict, num: str = "1") -> int:
    return data["lap"][num][0][2]


# ------------------------------------------------------------------ the rule


@pytest.mark.parametrize("previous_time, previous_laps, last_time, laps, expected", [
    (A, 3, A, 3, False),      # nothing changed
    (A, 3, B, 3, True),       # the time changed
    (A, 3, A, 4, True),       # the count went up (the same time twice)
    (A, 3, A, 2, True),       # the count went down (a correction)
    (B, 3, A, 3, True),       # back from a flicker
    (None, 3, A, 3, True),    # the time came back after a blank
    (A, 3, None, 3, False),   # the time blanked: no time, no lap
    (A, 3, None, 4, False),   # the count moved without a time
    (None, None, A, None, True),   # no Laps column: the time alone decides
    (A, None, A, None, False),
])
def test_is_new_lap(previous_time, previous_laps, last_time, laps, expected):
    assert is_new_lap(previous_time, previous_laps, last_time, laps) is expected


# ------------------------------------------------------- the feed's glitches

#: name → (frames of car 1, expected lap times, expected current lap number)
PATTERNS = {
    # A → B → A: the time flickers to another value and back: two laps.
    "flicker": ([row(laps=0), row(laps=1, last=A), row(laps=1, last=B), row(laps=1, last=A),
                 row(laps=2, last=C)],
                [A, B, A, C], 2),
    # The new time arrives one update before the count: one entry when the
    # time changes, one when the count does.
    "time before count": ([row(laps=0), row(laps=1, last=A), row(laps=1, last=C),
                           row(laps=2, last=C), row(laps=2, last=C)],
                          [A, C, C], 2),
    # A → "" → A: the time blanks and comes back: a lap when it comes back.
    "blank and back": ([row(laps=0), row(laps=1, last=A), row(laps=1, last=""),
                        row(laps=1, last=""), row(laps=1, last=A), row(laps=1, last=A)],
                       [A, A], 1),
    # A blank that spans a count change: the count alone gives nothing (no
    # time), the time coming back gives the lap.
    "blank across the count": ([row(laps=0), row(laps=1, last=A), row(laps=2, last=""),
                                row(laps=2, last=C)],
                               [A, C], 2),
    # The count goes down (a correction) with the time present: a lap; the
    # car's lap number follows the Laps column down.
    "count corrected down": ([row(laps=0), row(laps=1, last=A), row(laps=2, last=C),
                              row(laps=1, last=C), row(laps=2, last=B)],
                             [A, C, C, B], 2),
    # ...and without a time: no lap, the lap number still follows.
    "count down without a time": ([row(laps=0), row(laps=1, last=A), row(laps=2, last=""),
                                   row(laps=1, last="")],
                                  [A], 1),
    # The count blanks and comes back while the time stays: any change of
    # the count is one, so two laps; the lap number is counted on (2) while
    # there is no count, then read again (1).
    "count blank and back": ([row(laps=0), row(laps=1, last=A), row(laps="", last=A),
                              row(laps=1, last=A)],
                             [A, A, A], 1),
    # Only the Last cell's flag changes (`pb` → `""`): the same time, no lap.
    "flag only": ([row(laps=0), row(laps=1, last=A, flag="pb"), row(laps=1, last=A, flag=""),
                   row(laps=1, last=A, flag="sb-new")],
                  [A], 1),
    # The same time twice in a row with the count moving: two laps.
    "same time twice": ([row(laps=0), row(laps=1, last=A), row(laps=2, last=A)],
                        [A, A], 2),
}


@pytest.mark.parametrize("name", PATTERNS)
def test_glitch_patterns(name):
    frames, expected_times, expected_lap = PATTERNS[name]
    data = analyse(states([[cells] for cells in frames]))
    assert times_of(data) == expected_times
    assert current_lap(data) == expected_lap
    highest = max(cells[6] for cells in frames if cells[6] != "")
    if name == "count blank and back":
        highest = 2   # the lap counted while the Laps cell was blank
    assert data["session"]["leaderLap"] == highest  # the highest lap ever, not the current one


def test_a_flicker_to_a_faster_time_is_the_stints_best_lap():
    """What the rule means for best laps: the flickered time is a lap like any
    other (the reference's best lap is that time too)."""
    frames = [row(laps=0), row(laps=1, last=A), row(laps=2, last=C), row(laps=2, last=B - 5),
              row(laps=2, last=C), row(laps=3, last=A)]
    current = analyse(states([[cells] for cells in frames]))["lap"]["1"][0]
    assert current[6] == B - 5
    assert current[8] == pytest.approx((C + B - 5 + C + A) / 4)  # out-lap dropped


def test_glitch_laps_take_the_worst_flag_seen_during_them():
    """Each entry's flag covers the frames since the previous entry: the second
    entry of a time-before-count pair spans the one frame between them."""
    frames = [row(laps=0), row(laps=1, last=A), row(laps=1, last=C), row(laps=2, last=C),
              row(laps=2, last=""), row(laps=2, last=B)]
    flags = ["green", "green", "green", "yellow", "yellow", "green"]
    data = analyse(states([[cells] for cells in frames], flags))
    assert laps_of(data) == [[A, GREEN], [C, GREEN], [C, GREEN], [B, YELLOW]]
    assert data["lap"]["1"][0][7] == 1   # one yellow lap


def test_without_a_laps_column_every_change_of_time_is_a_lap():
    manifest = {"colSpec": colspec_to_json([Stat.NUM, Stat.STATE, Stat.LAST_LAP])}
    frames = [["1", "RUN", ""], ["1", "RUN", A], ["1", "RUN", B], ["1", "RUN", A],
              ["1", "RUN", ""], ["1", "RUN", A], ["1", "RUN", [A, "pb"]]]
    data = analyse(states([[cells] for cells in frames]), manifest)
    assert times_of(data) == [A, B, A, A]
    assert current_lap(data) == 4   # counted, as there is no Laps column


def test_a_car_missing_from_frames_is_compared_with_the_last_frame_it_was_in():
    """"The previous frame" of a car that drops out of the feed for a while is
    the last one it was in: coming back unchanged is no lap, changed is one."""
    frames = [[row("1", laps=0), row("2", laps=0)],
              [row("1", laps=1, last=A), row("2", laps=1, last=B)],
              [row("1", laps=2, last=C)],
              [row("1", laps=2, last=C), row("2", laps=1, last=B)],   # back, unchanged
              [row("1", laps=3, last=A)],
              [row("1", laps=3, last=A), row("2", laps=3, last=C)]]   # back, changed
    data = analyse(states(frames))
    assert times_of(data, "2") == [B, C]
    assert current_lap(data, "2") == 3


def test_glitches_across_a_pit_stop():
    """A glitch in the pit lane after the in-lap belongs to no stint; the
    in-lap rule (the first lap after the stint ended joins it) is unchanged."""
    frames = [row(laps=0), row(laps=1, last=A), row(state="PIT", laps=1, last=A),
              row(state="PIT", laps=2, last=C),             # the in-lap
              row(state="PIT", laps=2, last=""),
              row(state="PIT", laps=2, last=C),             # blank and back in the pits
              row(state="OUT", laps=2, last=C), row(laps=3, last=B)]
    data = analyse(states([[cells] for cells in frames]))
    [stint] = data["stint"]["1"]
    assert [t for t, _ in stint[9]] == [A, C]
    assert stint[2] == 2
    current = data["lap"]["1"][0]
    assert current[0] == 3 and [t for t, _ in current[9]] == [B]


def test_a_restart_in_the_middle_of_a_glitch_continues_it():
    """The previous frame's cells are part of the saved analysis: a service
    restarted while a time is blank still counts the lap when it comes back."""
    frames = states([[cells] for cells in PATTERNS["blank and back"][0]])
    analyser = Analyser(MANIFEST)
    for second, state in enumerate(frames[:3]):
        analyser.update(T0 + second, state)
    analyser = Analyser.load(json.loads(json.dumps(analyser.dump())))
    for second, state in enumerate(frames[3:], start=3):
        analyser.update(T0 + second, state)
    assert times_of(analyser.data()) == [A, A]


# ----------------------------------------------------------- the stint's driver


def test_the_stint_driver_is_the_one_shown_as_the_car_leaves_the_pits():
    frames = [row(laps=0, driver="Alice"), row(laps=1, last=A, driver="Alice"),
              row(state="PIT", laps=1, last=A, driver="Alice"),
              row(state="PIT", laps=1, last=A, driver="Bob"),       # a change not taken
              row(state="OUT", laps=1, last=A, driver="Carol"),     # the one shown on leaving
              row(laps=2, last=B, driver="Bob")]                    # a later name does not count
    data = analyse(states([[cells] for cells in frames]))
    assert data["driver"]["1"] == ["Alice", "Bob", "Carol"]
    assert data["stint"]["1"][0][5] == 0
    assert data["lap"]["1"][0][5] == 2


def test_a_blank_name_as_the_car_leaves_takes_the_last_name_shown():
    frames = [row(laps=0, driver="Alice"), row(state="PIT", laps=0, driver="Alice"),
              row(state="PIT", laps=0, driver="Bob"), row(state="PIT", laps=0, driver=""),
              row(state="OUT", laps=0, driver=""), row(laps=1, last=A, driver="")]
    data = analyse(states([[cells] for cells in frames]))
    assert data["driver"]["1"] == ["Alice", "Bob"]   # blank names are not listed
    assert data["lap"]["1"][0][5] == 1


def test_a_car_first_seen_on_track_without_a_name_has_an_unknown_driver():
    frames = [row(laps=0, driver=""), row(laps=1, last=A, driver="Alice")]
    data = analyse(states([[cells] for cells in frames]))
    assert data["driver"]["1"] == ["Alice"]
    assert data["lap"]["1"][0][5] == -1


# ------------------------------------------------- end to end: the command


def all_patterns_as_one_race() -> List[dict]:
    """Every pattern at once, one car per pattern (numbered from 10), the
    shorter ones holding their last row; a pit stop for car 9 on top."""
    patterns = list(PATTERNS.values())
    length = max(len(frames) for frames, _, _ in patterns)
    pit = [row("9", laps=0, driver="Alice"), row("9", laps=1, last=A),
           row("9", state="PIT", laps=1, last=A), row("9", state="PIT", laps=2, last=C),
           row("9", state="PIT", laps=2, last=C, driver="Bob"),
           row("9", state="OUT", laps=2, last=C, driver=""), row("9", laps=3, last=B, driver="")]
    length = max(length, len(pit))
    frames = []
    for index in range(length):
        cars = [_renumbered(frames_[min(index, len(frames_) - 1)], str(10 + number))
                for number, (frames_, _, _) in enumerate(patterns)]
        cars.append(pit[min(index, len(pit) - 1)])
        frames.append(cars)
    return states(frames)


def _renumbered(cells: list, num: str) -> list:
    return [num] + [list(cell) if isinstance(cell, list) else cell for cell in cells[1:]]


def test_livetiming_analysis_on_a_recording_of_the_glitches(tmp_path):
    from livetiming.recording import RecordingWriter

    frames = all_patterns_as_one_race()
    writer = RecordingWriter(tmp_path / "work", dict(MANIFEST, startTime=T0))
    for second, state in enumerate(frames):
        writer.write_frame(T0 + second, state)
    recording = writer.finalise(tmp_path / "glitches.zip")
    writer.close()

    result = subprocess.run([command("livetiming-analysis"), str(recording), "-q"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    output = json.loads(recording.with_suffix(".json").read_text())

    for number, (_, expected_times, expected_lap) in enumerate(PATTERNS.values()):
        num = str(10 + number)
        assert times_of(output, num) == expected_times, num
        assert current_lap(output, num) == expected_lap, num
    [stint] = output["stint"]["9"]
    assert [t for t, _ in stint[9]] == [A, C] and stint[5] == 0
    current = output["lap"]["9"][0]
    assert current[5] == 1 and [t for t, _ in current[9]] == [B]   # Bob, shown before the blank
    assert output["driver"]["9"] == ["Alice", "Bob"]

    # The command and the analyser fed the same states in process agree on everything.
    live = analyse(frames)
    for section in ("static", "driver", "lap", "stint", "session"):
        assert output[section] == live[section], section
