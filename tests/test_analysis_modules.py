"""The analysis modules on hand-built state sequences: laps, stints, flags,
drivers, messages, the session, changed keys, messy real-world rows, and
saving/restoring the analyser."""
from __future__ import annotations

import json
import os
from typing import List, Optional

import pytest

from livetiming.analysis import Analyser, AnalysisFileError, AnalysisStateError, UnknownAnalysisKeyError, persistence
from livetiming.analysis.rows import parse_lap_time, parse_laps
from livetiming.protocol import FlagStatus, Stat, colspec_to_json
from livetiming.protocol.message_list import new_messages

COLUMNS = [Stat.NUM, Stat.STATE, Stat.CLASS, Stat.TEAM, Stat.DRIVER, Stat.CAR, Stat.LAPS,
           Stat.LAST_LAP]
MANIFEST = {"uuid": "u", "name": "Test", "colSpec": colspec_to_json(COLUMNS)}
T0 = 1_700_000_000

GREEN, YELLOW, FCY, SC = (int(FlagStatus[f]) for f in ("GREEN", "YELLOW", "FCY", "SC"))
CHEQUERED, NONE = int(FlagStatus.CHEQUERED), int(FlagStatus.NONE)


def row(num="1", state="RUN", laps=0, last="", driver="Alice", klass="GT3", team="Team",
        car="Car"):
    return [num, state, klass, team, driver, car, laps, [last, ""]]


class Race:
    """Feeds an analyser states one second apart (or `at` a given time)."""

    def __init__(self, manifest: Optional[dict] = MANIFEST):
        self.analyser = Analyser(manifest)
        self.t = T0 - 1
        self.messages: List[list] = []

    def step(self, cars, flag="green", messages=(), at=None, new_messages=None):
        """One update; `messages` are new ones (newest first), added to the
        state's list as the service does; returns the changed keys."""
        self.t = at if at is not None else self.t + 1
        self.messages = (list(messages) + self.messages)[:100]
        state = {"cars": cars, "session": {"flagState": flag}, "messages": list(self.messages)}
        return self.analyser.update(self.t, state, new_messages)

    def data(self):
        return self.analyser.data()


def lap_times(stint):
    return [lap_time for lap_time, _ in stint[9]]


# ---------------------------------------------------------------- laps & stints


def test_pit_cycle_in_lap_out_lap_and_averages():
    race = Race()
    race.step([row(laps=0)])
    start = race.t
    for lap, time in enumerate([110.0, 100.0, 101.0, 102.0], start=1):
        race.step([row(laps=lap, last=time)])
    race.step([row(state="PIT", laps=4, last=102.0)])
    pit_in = race.t
    race.step([row(state="PIT", laps=5, last=130.0)])                   # in-lap, in the pit lane
    race.step([row(state="PIT", laps=5, last=130.0, driver="Bob")])     # driver change
    race.step([row(state="OUT", laps=5, last=130.0, driver="Bob")])
    pit_out = race.t
    race.step([row(state="RUN", laps=5, last=130.0, driver="Bob")])
    race.step([row(laps=6, last=140.0, driver="Bob")])                  # out-lap
    race.step([row(laps=7, last=99.0, driver="Bob")])
    race.step([row(laps=8, last=98.0, driver="Bob")])

    data = race.data()
    [first] = data["stint"]["1"]
    assert first[:6] == [1, start, 5, pit_in, False, 0]
    assert lap_times(first) == [110.0, 100.0, 101.0, 102.0, 130.0]
    assert first[6] == 100.0                                  # best of all laps
    assert first[8] == pytest.approx((100.0 + 101.0 + 102.0) / 3)  # no out-lap, no in-lap
    current, last_pass = data["lap"]["1"]
    assert last_pass == race.t
    assert current[:6] == [6, pit_out, 8, race.t, True, 1]   # end = current lap, latest time
    assert lap_times(current) == [140.0, 99.0, 98.0]
    assert current[8] == pytest.approx((99.0 + 98.0) / 2)    # in progress: only the out-lap dropped
    assert data["driver"]["1"] == ["Alice", "Bob"]


def test_in_lap_completed_as_the_car_enters_belongs_to_the_stint():
    race = Race()
    race.step([row(laps=0)])
    race.step([row(laps=1, last=100.0)])
    race.step([row(state="PIT", laps=2, last=101.0)])   # lap and pit entry in one frame
    race.step([row(state="PIT", laps=3, last=150.0)])   # then the pit-lane crossing
    race.step([row(state="PIT", laps=4, last=160.0)])   # anything later belongs to no stint
    [stint] = race.data()["stint"]["1"]
    assert lap_times(stint) == [100.0, 101.0, 150.0]
    assert stint[2] == 3
    assert race.data()["lap"]["1"] == [None, race.t]


@pytest.mark.parametrize("pit_state", ["PIT", "FUEL", "N/S", "FIN"])
def test_pit_states_end_a_stint_and_leaving_them_starts_one(pit_state):
    race = Race()
    race.step([row(laps=0)])
    race.step([row(laps=1, last=100.0)])
    race.step([row(state=pit_state, laps=1, last=100.0)])
    assert race.data()["lap"]["1"][0] is None
    assert len(race.data()["stint"]["1"]) == 1
    race.step([row(state="OUT", laps=1, last=100.0)])
    current = race.data()["lap"]["1"][0]
    assert current[:2] == [2, race.t] and current[4] is True


def test_fuel_stop_splits_one_drivers_time_into_two_stints():
    race = Race()
    race.step([row(laps=0)])
    race.step([row(laps=1, last=100.0)])
    race.step([row(state="FUEL", laps=1, last=100.0)])
    race.step([row(state="FUEL", laps=2, last=120.0)])
    race.step([row(state="OUT", laps=2, last=120.0)])
    race.step([row(laps=3, last=130.0)])
    data = race.data()
    assert [s[5] for s in data["stint"]["1"]] == [0]
    assert data["lap"]["1"][0][5] == 0
    assert data["lap"]["1"][0][0] == 3


def test_car_first_seen_in_the_pits_starts_its_stint_when_it_leaves():
    race = Race()
    changed = race.step([row("88", state="PIT"), row("7")])
    assert race.data()["lap"]["88"] == [None, None]
    assert race.data()["lap"]["7"][0][:2] == [1, race.t]     # on track: a stint at once
    assert {"lap/88", "lap/7", "stint/88", "stint/7"} <= changed
    race.step([row("88", state="PIT"), row("7")])
    race.step([row("88", state="OUT"), row("7")])
    assert race.data()["lap"]["88"][0][:2] == [1, race.t]


def test_stop_does_not_end_a_stint_but_retirement_does():
    race = Race()
    race.step([row(laps=0)])
    race.step([row(laps=1, last=100.0)])
    race.step([row(state="STOP", laps=1, last=100.0)])
    race.step([row(state="RUN", laps=1, last=100.0)])
    race.step([row(laps=2, last=150.0)])
    assert race.data()["stint"]["1"] == []
    changed = race.step([row(state="RET", laps=2, last=150.0)])
    retired = race.t
    assert {"lap/1", "stint/1"} <= changed
    race.step([row(state="RET", laps=2, last=150.0)])
    data = race.data()
    [stint] = data["stint"]["1"]
    assert stint[2:5] == [2, retired, False]      # quirk 3: ended at retirement
    assert data["lap"]["1"][0] is None


def test_lap_counting_rules():
    race = Race()
    race.step([row(laps=0, last="")])
    race.step([row(laps=1, last=100.0)])
    race.step([row(laps=2, last=100.0)])          # same time, more laps: a lap
    race.step([row(laps=2, last=100.0)])          # nothing changed: no lap
    race.step([row(laps=2, last="")])             # time blanked: no lap
    race.step([row(laps=2, last=100.0)])          # ...and back: a lap (it changed)
    race.step([row(laps=3, last=None)])           # count moves without a time: no lap
    race.step([row(laps=3, last=101.0)])          # time arrives: a lap
    current, _ = race.data()["lap"]["1"]
    assert lap_times(current) == [100.0, 100.0, 100.0, 101.0]
    assert current[2] == 3
    # More glitch patterns (flickers, corrections...): test_analysis_laps.py.


def test_worst_flag_of_a_lap_and_yellow_laps():
    race = Race()
    race.step([row(laps=0)], flag="none")
    race.step([row(laps=0)], flag="green")
    race.step([row(laps=1, last=100.0)], flag="green")       # none→green: GREEN
    race.step([row(laps=1, last=100.0)], flag="yellow")
    race.step([row(laps=1, last=100.0)], flag="green")
    race.step([row(laps=2, last=101.0)], flag="green")       # a yellow during it
    race.step([row(laps=3, last=102.0)], flag="fcy")         # completed as FCY comes out: GREEN
    race.step([row(laps=3, last=102.0)], flag="sc")
    race.step([row(laps=4, last=103.0)], flag="fcy")         # FCY and SC: SC
    race.step([row(laps=5, last=104.0)], flag="green")       # began under FCY: FCY
    race.step([row(laps=6, last=105.0)], flag="chequered")
    race.step([row(laps=7, last=106.0)], flag="chequered")   # chequered is not yellow
    current, _ = race.data()["lap"]["1"]
    assert [flag for _, flag in current[9]] == [GREEN, YELLOW, GREEN, SC, FCY, GREEN, CHEQUERED]
    assert current[7] == 3


def test_average_is_null_when_too_few_laps():
    race = Race()
    race.step([row(laps=0)])
    race.step([row(laps=1, last=100.0)])
    assert race.data()["lap"]["1"][0][8] is None               # only the out-lap
    race.step([row(laps=2, last=101.0)])
    assert race.data()["lap"]["1"][0][8] == 101.0
    race.step([row(state="PIT", laps=2, last=101.0)])
    assert race.data()["stint"]["1"][0][8] is None             # out-lap and in-lap only
    race.step([row(state="OUT", laps=2, last=101.0)])
    assert race.data()["lap"]["1"][0][6:9] == [None, 0, None]  # no laps yet


def test_driver_change_mid_stint_keeps_the_stint_driver():
    race = Race()
    race.step([row(laps=0, driver="Alice")])
    race.step([row(laps=1, last=100.0, driver="Bob")])
    race.step([row(laps=2, last=100.5, driver="")])           # blank name: still Bob
    race.step([row(laps=3, last=101.0, driver="Alice")])
    race.step([row(state="PIT", laps=3, last=101.0, driver="Alice")])
    race.step([row(state="OUT", laps=3, last=101.0, driver="Bob")])
    data = race.data()
    assert data["driver"]["1"] == ["Alice", "Bob"]
    assert data["stint"]["1"][0][5] == 0
    assert data["lap"]["1"][0][5] == 1


def test_lap_number_is_counted_without_a_laps_column():
    manifest = {"colSpec": colspec_to_json([Stat.NUM, Stat.STATE, Stat.LAST_LAP])}
    race = Race(manifest)
    race.step([["1", "RUN", ""]])
    race.step([["1", "RUN", 100.0]])
    race.step([["1", "RUN", [101.0, "pb"]]])
    race.step([["1", "PIT", [101.0, "pb"]]])
    race.step([["1", "OUT", [101.0, "pb"]]])
    data = race.data()
    assert data["stint"]["1"][0][0:3:2] == [1, 2]
    assert data["lap"]["1"][0][0] == 3
    assert data["session"]["leaderLap"] == 2


# ------------------------------------------------------------------- session


def test_flag_periods_across_leader_laps():
    race = Race()
    changed = race.step([], flag="none")
    assert changed == {"session"}
    start = race.t
    assert race.step([], flag="none") == set()
    race.step([row("1", laps=0), row("2", laps=0)], flag="green")
    green = race.t
    race.step([row("1", laps=1, last=100.0), row("2", laps=0)])
    race.step([row("1", laps=2, last=100.0), row("2", laps=1, last=110.0)])
    changed = race.step([row("1", laps=2, last=100.0), row("2", laps=1, last=110.0)],
                        flag="yellow")
    yellow = race.t
    assert "session" in changed
    race.step([row("2", laps=3, last=99.0)], flag="yellow")   # #1 gone, #2 leads on lap 3
    race.step([row("2", laps=3, last=99.0)], flag="bogus")    # unknown names count as NONE
    bogus = race.t
    session = race.data()["session"]
    assert session["flagStats"] == [
        [NONE, 0, start, 0, green],
        [GREEN, 0, green, 2, yellow],
        [YELLOW, 2, yellow, 3, bogus],
        [NONE, 3, bogus, None, None],
    ]
    assert session["leaderLap"] == 3
    assert session["currentTimestamp"] == race.t


def test_session_changes_only_with_flag_or_leader_lap():
    race = Race()
    race.step([row("1", laps=0), row("2", laps=0)])
    assert "session" in race.step([row("1", laps=1, last=100.0), row("2", laps=0)])
    assert "session" not in race.step([row("1", laps=1, last=100.0), row("2", laps=1, last=101.0)])
    assert "session" not in race.step([row("1", laps=1, last=100.0), row("2", laps=1, last=101.0)])


# ------------------------------------------------------------------ messages


def msg(t, text, style=None, car=None, category="Cat"):
    message = [t, category, text, style]
    if car is not None:
        message.append(car)
    return message


def test_messages_are_routed_to_cars_or_the_session():
    race = Race()
    t = T0
    flag = msg(t, "Green flag - track clear", "green", category="Track")
    control = msg(t, "DRIVERS ARE REMINDED", "raceControl", category="Race Control")
    race.step([row("1"), row("2")], messages=[flag, control])
    pit = msg(t + 1, "#1 has entered the pits", "pit", "1")
    change = msg(t + 1, "#1 Driver change (Alice to Bob)", None, "1")
    fast = msg(t + 1, "#2 set a new personal best", "pb", "2")
    orphan = msg(t + 1, "#9 Driver change (X to Y)", None)        # no number: dropped
    other = msg(t + 1, "CAR 5 WARNED", "raceControl", "5")        # a car not in the field
    race.step([row("1"), row("2")], messages=[pit, change, fast, orphan, other])
    out = msg(t + 2, "#1 has left the pits", "out", "1")
    resumed = msg(t + 2, "#1 has resumed", "", "1")
    race.step([row("1"), row("2")], messages=[out, resumed])

    data = race.data()
    assert data["messages"] == {"messages": [flag, control]}
    assert data["car_messages"]["1"] == [change, resumed]   # no pit/out styles, oldest first
    assert data["car_messages"]["2"] == [fast]
    assert data["car_messages"]["5"] == [other]


def test_messages_within_one_update_keep_the_state_order():
    race = Race()
    first = msg(T0, "Safety car deployed", "yellow", category="Track")
    second = msg(T0, "SAFETY CAR DEPLOYED - DEBRIS", "raceControl")
    race.step([], messages=[first, second])
    later = msg(T0 + 5, "Green flag - track clear", "green")
    race.step([], messages=[later])
    assert race.data()["messages"]["messages"] == [later, first, second]


def test_new_messages_are_told_apart_by_content_not_timestamp():
    race = Race()
    a = msg(T0, "first", car="1")
    race.step([row("1")], messages=[a])             # a first frame's messages count (quirk 5)
    b = msg(T0, "second, same second", car="1")
    race.step([row("1")], messages=[b])             # quirk 4: not lost
    race.step([row("1")], messages=[list(a)])       # the same message again is new again
    assert race.data()["car_messages"]["1"] == [a, b, a]


def test_given_new_messages_are_used_as_they_are():
    race = Race()
    a = msg(T0, "said by the service", car="1")
    race.step([row("1")], messages=[a], new_messages=[])    # the service says: nothing new
    race.step([row("1")], new_messages=[a])
    assert race.data()["car_messages"]["1"] == [a]


def test_new_messages_handles_the_cap_and_rewrites():
    old = [msg(T0 + i, f"m{i}") for i in range(100, 0, -1)]        # newest first, full
    new = [msg(T0 + 102, "m102"), msg(T0 + 101, "m101")]
    assert new_messages(old, (new + old)[:100]) == new
    assert new_messages(old, old) == []
    assert new_messages([], new) == new
    assert new_messages(old, old[50:]) == []                # trimmed, nothing new
    shuffled = [old[1], new[0], old[0]]
    assert new_messages(old, shuffled) == [new[0]]
    odd = [T0, "Cat", ["unhashable"], None]
    assert new_messages([old[0]], [odd, old[0]]) == [odd]
    assert new_messages([odd, old[0]], [old[0], odd]) == []


def test_tuple_cells_and_messages_are_read_like_lists():
    race = Race()
    race.step([("1", ("RUN", ""), "GT3", "Team", ("Alice", ""), "Car", (0, ""), ("", ""))])
    race.step([("1", ("RUN", ""), "GT3", "Team", ("Alice", ""), "Car", (1, ""), (100.0, ""))],
              messages=[(T0, "Cat", "tuple message", "pb", "1")])
    data = race.data()
    assert data["driver"]["1"] == ["Alice"]
    assert data["lap"]["1"][0][2] == 1 and lap_times(data["lap"]["1"][0]) == [100.0]
    assert data["car_messages"]["1"] == [[T0, "Cat", "tuple message", "pb", "1"]]


# --------------------------------------------------------------- changed keys


def test_changed_keys():
    race = Race()
    assert race.step([row("1"), row("2")]) == {
        "static", "driver", "session", "lap/1", "lap/2", "stint/1", "stint/2",
        "car_messages/1", "car_messages/2"}
    assert race.step([row("1"), row("2")]) == set()
    assert race.step([row("1", laps=1, last=100.0), row("2")]) == {"lap/1", "session"}
    assert race.step([row("1", laps=1, last=100.0), row("2", laps=1, last=101.0)]) == {"lap/2"}
    assert race.step([row("1", state="PIT", laps=1, last=100.0), row("2", laps=1, last=101.0)]) \
        == {"lap/1", "stint/1"}
    assert race.step([row("1", state="PIT", laps=2, last=130.0), row("2", laps=1, last=101.0)]) \
        == {"lap/1", "stint/1", "session"}
    assert race.step([row("1", state="PIT", laps=2, last=130.0, driver="Bob"),
                      row("2", laps=1, last=101.0)],
                     messages=[msg(T0, "#1 Driver change (Alice to Bob)", None, "1")]) \
        == {"driver", "car_messages/1"}
    assert race.step([row("1", state="PIT", laps=2, last=130.0, driver="Bob"),
                      row("2", laps=1, last=101.0)], flag="yellow",
                     messages=[msg(T0, "Yellow", "yellow")]) == {"messages", "session"}


def test_payloads_match_data_and_unknown_keys_raise():
    race = Race()
    race.step([row("1"), row("2", state="PIT")], messages=[msg(T0, "x", "pb", "1")])
    race.step([row("1", laps=1, last=100.0), row("2", state="PIT")])
    data = race.data()
    analyser = race.analyser
    for key in analyser.keys():
        section, _, num = key.partition("/")
        expected = {num: data[section][num]} if num else data[section]
        assert analyser.payload(key) == expected, key
    assert analyser.payload("lap/1") == {"1": data["lap"]["1"]}
    for bad in ("lap/99", "stint/", "nonsense", "car_messages/99", "lap"):
        with pytest.raises(UnknownAnalysisKeyError):
            analyser.payload(bad)


def test_payloads_are_copies():
    race = Race()
    race.step([row("1", laps=0)], messages=[msg(T0, "x", "pb", "1")])
    race.step([row("1", laps=1, last=100.0)])
    analyser = race.analyser
    before = json.dumps(analyser.data())
    payload = analyser.payload("lap/1")
    payload["1"][0][9][0][0] = -1
    analyser.payload("car_messages/1")["1"][0][2] = "changed"
    analyser.payload("static")["1"][0] = "changed"
    analyser.payload("driver")["1"].append("changed")
    assert json.dumps(analyser.data()) == before


# ----------------------------------------------------------------- robustness


def test_missing_columns():
    manifest = {"colSpec": colspec_to_json([Stat.NUM, Stat.LAST_LAP])}
    race = Race(manifest)
    race.step([["1", ""]])
    race.step([["1", 100.0]])
    race.step([["1", 101.0]])
    data = race.data()
    assert data["static"] == {"1": [None, None, None]}
    assert data["driver"] == {"1": []}
    current = data["lap"]["1"][0]
    assert current[0] == 1 and current[2] == 2 and current[5] == -1   # unknown driver
    assert data["stint"] == {"1": []}


def test_without_a_number_column_or_manifest_no_cars_are_analysed():
    race = Race(manifest=None)
    race.step([["1", "RUN"]])
    assert race.data()["static"] == {}
    race.analyser.set_manifest({"colSpec": colspec_to_json([Stat.NUM, Stat.STATE])})
    race.step([["1", "RUN"]])
    assert race.data()["static"] == {"1": [None, None, None]}


def plain(cells, last):
    """A row whose Last cell is a plain value instead of a `[value, flag]` pair."""
    cells[7] = last
    return cells


def test_messy_cells():
    race = Race()
    race.step([row(1, laps="0", klass=None, team="", driver=None)])
    race.step([plain(row(1, laps="1", klass=None, team="Late Team"), "1:40.500")])
    race.step([row(1, laps=2.0, last=99.5, klass=None)])
    race.step([plain(row(1, laps="x", klass=None), 0)])   # unparseable count, zero time
    race.step([plain(row(1, laps=None, klass=None), -3)])
    race.step([plain(row(1, laps="3", klass=None), 98)])  # an int time is a time
    race.step([row(1, laps=4, last=float("nan"), klass=None)])
    race.step([plain(row(1, laps=4, klass=None), None)])
    race.step([row(1, laps=4, last="n/a", klass=None)])
    data = race.data()
    assert data["static"]["1"] == [None, "Late Team", "Car"]  # filled once known
    current = data["lap"]["1"][0]
    assert lap_times(current) == [100.5, 99.5, 98]
    assert current[2] == 4
    assert data["driver"]["1"] == ["Alice"]
    json.dumps(race.analyser.to_file(MANIFEST, {}), allow_nan=False)


def test_rows_reused_and_mutated_in_place_are_still_read():
    race = Race()
    cars = [row("1", laps=0)]
    race.step(cars)
    cars[0][6] = 1
    cars[0][7][0] = 100.0
    race.step(cars)
    cars[0][6] = 2
    cars[0][7][0] = 99.0
    race.step(cars)
    assert lap_times(race.data()["lap"]["1"][0]) == [100.0, 99.0]


def test_static_is_filled_in_even_when_nothing_else_changes():
    race = Race()
    race.step([row(team="")])
    assert race.step([row(team="")]) == set()
    assert race.step([row(team="Late")]) == {"static"}
    assert race.data()["static"]["1"] == ["GT3", "Late", "Car"]


def test_a_new_column_spec_is_read_at_once():
    race = Race()
    race.step([row("1", laps=0)])
    race.step([row("1", laps=1, last=100.0)])
    swapped = [Stat.NUM, Stat.STATE, Stat.CLASS, Stat.TEAM, Stat.DRIVER, Stat.CAR,
               Stat.LAST_LAP, Stat.LAPS]
    race.analyser.set_manifest({"colSpec": colspec_to_json(swapped)})
    race.step([["1", "RUN", "GT3", "Team", "Alice", "Car", [100.0, ""], 1]])
    race.step([["1", "RUN", "GT3", "Team", "Alice", "Car", [101.0, ""], 2]])
    assert lap_times(race.data()["lap"]["1"][0]) == [100.0, 101.0]


class NeverCached(dict):
    def get(self, key, default=None):
        return None


def test_skipping_unchanged_rows_changes_nothing_on_the_demo_race():
    """The per-car shortcut (rows whose relevant cells did not change are not
    processed again) gives the same analysis and changed keys as processing
    every row, over a demo race with pit stops, flags and messages."""
    from livetiming.service import cycle
    from livetiming.service.messages import default_generators
    from livetiming.service.plugins.demo.simulation import RaceSimulation

    simulation = RaceSimulation(seed=7, car_count=20, duration=1800, start_time=T0)
    manifest = {"colSpec": colspec_to_json(simulation.column_spec)}
    fast, slow = Analyser(manifest), Analyser(manifest)
    slow._row_values = NeverCached()
    generators, previous, now = default_generators(), cycle.initial_state(), int(simulation.now)
    while not simulation.finished and now < T0 + 2400:
        now += 1
        simulation.advance(now)
        update = cycle.next_state(previous, simulation.state(), generators,
                                  simulation.column_spec, now)
        previous = update.state
        assert fast.update(now, update.state) == slow.update(now, update.state)
    data = fast.data()
    assert data == slow.data()
    assert sum(len(stints) for stints in data["stint"].values()) > 0
    assert len(data["session"]["flagStats"]) > 2


def test_static_is_taken_when_first_seen():
    race = Race()
    race.step([row(klass="GT3", team="A")])
    assert race.step([row(klass="GTE", team="B")]) == set()
    assert race.data()["static"]["1"] == ["GT3", "A", "Car"]


def test_duplicate_numbers_the_first_row_wins():
    race = Race()
    race.step([row("1", laps=0), row("1", laps=0, driver="Ghost")])
    race.step([row("1", laps=1, last=100.0), row("1", laps=7, last=50.0, driver="Ghost")])
    race.step([row("1", laps=2, last=101.0), row("1", laps=7, last=50.0, driver="Ghost")])
    data = race.data()
    assert data["driver"]["1"] == ["Alice"]
    assert lap_times(data["lap"]["1"][0]) == [100.0, 101.0]


def test_cars_disappearing_and_reappearing():
    race = Race()
    race.step([row("1", laps=0), row("2", laps=0)])
    race.step([row("1", laps=1, last=100.0), row("2", laps=1, last=100.0)])
    race.step([row("1", laps=2, last=101.0)])
    race.step([row("1", laps=3, last=102.0)])
    race.step([row("1", laps=4, last=103.0), row("2", laps=3, last=105.0)])
    data = race.data()
    assert lap_times(data["lap"]["2"][0]) == [100.0, 105.0]
    assert data["lap"]["2"][0][2] == 3
    assert list(data["static"]) == ["1", "2"]


def test_odd_states_do_not_break_the_analysis():
    race = Race()
    race.step([])
    race.analyser.update(T0 + 10, {})
    race.analyser.update(T0 + 11, {"cars": "nope", "session": "x", "messages": [1, [2], None]})
    race.analyser.update(T0 + 12, {"cars": [None, 5, [], [""], row("1")], "session": {}})
    with pytest.raises(TypeError):
        race.analyser.update(T0 + 13, None)
    data = race.data()
    assert list(data["static"]) == ["1"]
    assert data["session"]["flagStats"][-1][0] == NONE


@pytest.mark.parametrize("value, expected", [
    (100.5, 100.5), (98, 98), ("101.25", 101.25), ("1:41.250", 101.25), ("1:01:01.5", 3661.5),
    ([99.1, "pb"], 99.1), ("", None), (None, None), ("-", None), (0, None), (-1.0, None),
    (True, None), ("1:xx", None), (float("inf"), None), ([], None),
])
def test_parse_lap_time(value, expected):
    assert parse_lap_time(value) == expected


@pytest.mark.parametrize("value, expected", [
    (12, 12), ("12", 12), (" 7 ", 7), (3.0, 3), ("4.0", 4), (3.5, None), ("", None),
    (None, None), (-1, None), (False, None), ("12 laps", None),
])
def test_parse_laps(value, expected):
    assert parse_laps(value) == expected


# -------------------------------------------------------------- to_file


def test_to_file_adds_service_and_state():
    race = Race()
    race.step([row("1")], at=T0 + 0.5)
    race.step([row("1")], at=T0 + 100.5)
    manifest = dict(MANIFEST, startTime=1.0)
    state = {"cars": [row("1")], "session": {"flagState": "green"}, "messages": []}
    result = race.analyser.to_file(manifest, state)
    assert result["service"]["startTime"] == T0 + 0.5
    assert result["service"]["duration"] == 100.0
    assert result["service"]["name"] == "Test"
    assert manifest["startTime"] == 1.0 and "duration" not in manifest
    assert result["state"] is state
    assert set(result) == {"static", "driver", "messages", "session", "lap", "stint",
                           "car_messages", "service", "state"}


# -------------------------------------------------------------- dump / load


def scripted_race():
    """(cars, flag, messages) per step: stints, a pit stop, flags and messages."""
    steps = []
    for i in range(40):
        laps1 = i // 3
        state1 = "PIT" if 18 <= i < 22 else ("OUT" if i == 22 else "RUN")
        cars = [row("1", state=state1, laps=laps1, last=100.0 + laps1 if laps1 else "",
                    driver="Bob" if i >= 20 else "Alice"),
                row("2", laps=i // 4, last=110.0 + i // 4 if i >= 4 else "")]
        flag = "yellow" if 10 <= i < 14 else "green"
        messages = [msg(T0 + i, f"message {i}", "pb", "2")] if i % 5 == 0 else []
        if i == 10:
            messages.append(msg(T0 + i, "Yellow flags shown", "yellow"))
        steps.append((cars, flag, messages))
    return steps


def test_dump_load_round_trip_continues_identically():
    steps = scripted_race()
    straight, halted = Race(), Race()
    for cars, flag, messages in steps[:19]:
        straight.step(cars, flag, messages)
        halted.step(cars, flag, messages)
    snapshot = json.loads(json.dumps(halted.analyser.dump(), allow_nan=False))
    assert snapshot["version"] == 1
    halted.analyser = Analyser.load(snapshot)
    assert halted.analyser.data() == straight.analyser.data()
    for cars, flag, messages in steps[19:]:
        assert halted.step(cars, flag, messages) == straight.step(cars, flag, messages)
    assert halted.analyser.data() == straight.analyser.data()
    assert halted.analyser.dump() == straight.analyser.dump()


def test_a_fresh_analyser_dumps_and_loads():
    analyser = Analyser.load(json.loads(json.dumps(Analyser(MANIFEST).dump())))
    analyser.update(T0, {"cars": [row("1")], "session": {"flagState": "green"}, "messages": []})
    assert analyser.data()["static"] == {"1": ["GT3", "Team", "Car"]}


def _corrupt(path, value):
    def apply(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return data
    return apply


@pytest.mark.parametrize("corrupt", [
    _corrupt(["version"], 2),
    _corrupt(["version"], "1"),
    _corrupt(["version"], KeyError),
    _corrupt(["car"], KeyError),
    _corrupt(["car", "cars", "1", "lap"], "3"),
    _corrupt(["car", "cars", "1", "stints"], [{"start_lap": 1}]),
    _corrupt(["car", "cars", "1", "current", "laps"], [[100.0]]),
    _corrupt(["car", "cars", "1", "current", "laps"], [["fast", 1]]),
    _corrupt(["car", "cars", "1", "awaiting_in_lap"], "yes"),
    _corrupt(["static"], []),
    _corrupt(["static", "1"], ["a", "b"]),
    _corrupt(["driver", "current", "1"], 5),
    _corrupt(["driver", "drivers"], {"1": [1, 2]}),
    _corrupt(["session", "flag_stats"], [[1, 2, 3]]),
    _corrupt(["session"], None),
    _corrupt(["messages"], [["bad"]]),
    _corrupt(["previous_messages"], "x"),
    _corrupt(["first_timestamp"], "yesterday"),
    _corrupt(["colSpec"], {"a": 1}),
    _corrupt(["static"], {}),          # car sections disagree
])
def test_load_rejects_bad_snapshots(corrupt):
    race = Race()
    for cars, flag, messages in scripted_race()[:10]:
        race.step(cars, flag, messages)
    data = corrupt(json.loads(json.dumps(race.analyser.dump())))
    with pytest.raises(AnalysisStateError):
        Analyser.load(data)


@pytest.mark.parametrize("data", [None, [], "version 1", {"version": 1}])
def test_load_rejects_non_snapshots(data):
    with pytest.raises(AnalysisStateError):
        Analyser.load(data)


# ------------------------------------------------------------- persistence


def test_persistence_round_trip(tmp_path):
    race = Race()
    for cars, flag, messages in scripted_race():
        race.step(cars, flag, messages)
    path = persistence.state_path(tmp_path, "abc")
    assert path == tmp_path / "abc.json"
    persistence.save(path, race.analyser)
    persistence.save(path, race.analyser)          # overwriting is fine
    assert os.listdir(tmp_path) == ["abc.json"]    # no temporary files left behind
    loaded = persistence.load(path)
    assert loaded.data() == race.analyser.data()
    assert json.loads(path.read_text(encoding="utf-8"))["version"] == 1


def test_failed_save_keeps_the_previous_file(tmp_path):
    race = Race()
    race.step([row("1")])
    path = tmp_path / "a.json"
    persistence.save(path, race.analyser)
    before = path.read_bytes()
    race.analyser.latest_timestamp = float("nan")  # not JSON: saving must fail cleanly
    with pytest.raises(ValueError):
        persistence.save(path, race.analyser)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["a.json"]


@pytest.mark.parametrize("content", [
    b"", b"{", b"not json", b"\xff\xfe\x00garbage", b"[]", b"null", b'{"version": 99}',
    b'{"version": 1}',
])
def test_corrupt_persistence_file_gives_a_clear_error(tmp_path, content):
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    with pytest.raises(AnalysisFileError) as error:
        persistence.load(path)
    assert str(path) in str(error.value)
    assert isinstance(error.value, AnalysisStateError)


def test_truncated_persistence_file_gives_a_clear_error(tmp_path):
    race = Race()
    for cars, flag, messages in scripted_race():
        race.step(cars, flag, messages)
    path = tmp_path / "a.json"
    persistence.save(path, race.analyser)
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(AnalysisFileError):
        persistence.load(path)


def test_missing_persistence_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        persistence.load(tmp_path / "nothing.json")


def test_the_recording_and_the_analyser_tell_new_messages_alike():
    """One rule: an intra-frame carries what the analyser counts as new,
    also when a plugin reorders or replaces its list."""
    from livetiming.recording.format import make_intraframe
    old = [msg(T0 + i, f"m{i}") for i in range(5, 0, -1)]
    new = [msg(T0 + 7, "m7"), msg(T0 + 6, "m6")]
    cases = [(old, new + old), (old, [old[1], new[0], old[0]]), (old, new), ([], new), (old, old[2:])]

    def state(messages):
        return {"cars": [], "session": {}, "messages": messages, "highlight": []}

    for previous, current in cases:
        assert make_intraframe(state(previous), state(current))["messages"] == new_messages(previous, current)
    assert make_intraframe(state(old), state([old[1], new[0], old[0]]))["messages"] == [new[0]]
