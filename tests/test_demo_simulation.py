"""The demo plugin's simulated race: contract, determinism, and that its data
looks like real timing data (the conventions of the reference race fixture)."""
import copy
import json
import re

import pytest

from livetiming.protocol import FlagStatus, Stat
from livetiming.service.plugins.demo.simulation import RaceSimulation

START = 1_700_000_000.0
GRID = 30.0
DURATION = 1800.0
COLUMNS = [
    Stat.NUM, Stat.STATE, Stat.CLASS, Stat.POS_IN_CLASS, Stat.TEAM, Stat.DRIVER, Stat.CAR,
    Stat.TYRE, Stat.LAPS, Stat.GAP, Stat.INT, Stat.CLASS_GAP, Stat.S1, Stat.S2, Stat.S3,
    Stat.LAST_LAP, Stat.BEST_LAP, Stat.SPEED, Stat.BEST_SPEED, Stat.PITS,
]
(NUM, STATE, CLASS, PIC, TEAM, DRIVER, CAR, TYRE, LAPS, GAP, INT, CLASS_GAP,
 S1, S2, S3, LAST, BEST, SPEED, BEST_SPEED, PITS) = range(20)
GAP_FORMAT = re.compile(r"^(|\d+\.\d{3}|1 lap|([2-9]|\d\d+) laps)$")


def new_sim(seed=71, cars=30, duration=DURATION):
    return RaceSimulation(seed=seed, car_count=cars, duration=duration,
                          start_time=START, grid_time=GRID)


@pytest.fixture(scope="module")
def race():
    """A 30-minute, 30-car race run to the end in 1-second steps."""
    sim = new_sim()
    frames = [(sim.now, sim.state(), [])]
    t = sim.now
    while not sim.finished:
        t += 1
        sim.advance(t)
        frames.append((t, sim.state(), sim.pop_race_control()))
        assert t < START + DURATION + 3600, "race never finished"
    for _ in range(30):     # a little after the end
        t += 1
        sim.advance(t)
        frames.append((t, sim.state(), sim.pop_race_control()))
    return sim, frames


def per_car(frames):
    """{car number: [(time, row), ...]} in time order."""
    history = {}
    for t, state, _ in frames:
        for row in state["cars"]:
            history.setdefault(row[NUM], []).append((t, row))
    return history


def flag_sequence(frames):
    flags = []
    for _, state, _ in frames:
        flag = state["session"]["flagState"]
        if not flags or flags[-1] != flag:
            flags.append(flag)
    return flags


# ------------------------------------------------------------------ contract

def test_metadata():
    sim = new_sim()
    assert sim.column_spec == COLUMNS
    assert len(sim.track_data_spec) == 4
    assert sim.name and "30 minutes of" in sim.description
    assert sim.now == START - GRID
    assert not sim.finished


@pytest.mark.parametrize("count", [19, 61, 0, -5])
def test_car_count_bounds(count):
    with pytest.raises(ValueError):
        RaceSimulation(car_count=count)


@pytest.mark.parametrize("count", [20, 60])
def test_car_count_limits_accepted(count):
    sim = RaceSimulation(car_count=count)
    assert len(sim.state()["cars"]) == count


def test_determinism():
    def run(seed):
        sim = new_sim(seed=seed)
        states = []
        t = sim.now
        for _ in range(700):
            t += 1
            sim.advance(t)
            states.append(sim.state())
        return states, sim.pop_race_control()

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_big_steps_same_as_small_steps():
    small, big, mixed = new_sim(seed=3), new_sim(seed=3), new_sim(seed=3)
    end = START + DURATION + 600
    texts = {"small": [], "big": [], "mixed": []}
    t = small.now
    while t < end:
        t += 1
        small.advance(t)
        small.state()       # reading the state must not change anything
        texts["small"] += small.pop_race_control()
    t = big.now
    while t < end:
        t = min(end, t + 97)
        big.advance(t)
        texts["big"] += big.pop_race_control()
    t = mixed.now
    step = 0.1
    while t < end:
        t = min(end, t + step)
        step = 0.1 if step > 30 else step * 1.7
        mixed.advance(t)
        texts["mixed"] += mixed.pop_race_control()
    for sim in (big, mixed):
        sim.advance(end)     # land exactly on the same time
    assert small.state() == big.state() == mixed.state()
    assert texts["small"] == texts["big"] == texts["mixed"]


def test_advance_backwards_is_a_no_op():
    sim = new_sim()
    sim.advance(START + 300)
    before = sim.state()
    sim.advance(START + 100)
    assert sim.now == START + 300
    assert sim.state() == before


def test_state_is_fresh_plain_json(race):
    sim, _ = race
    state = sim.state()
    json.dumps(state)
    kept = copy.deepcopy(state)
    state["cars"][0][S1][0] = "mangled"
    state["cars"][0][NUM] = "mangled"
    state["cars"].pop()
    state["session"]["trackData"].append("x")
    state["session"]["flagState"] = "red"
    assert sim.state() == kept


def test_values_are_plain_types(race):
    _, frames = race

    def check(value):
        if isinstance(value, list):
            for item in value:
                check(item)
        elif isinstance(value, dict):
            for key, item in value.items():
                assert type(key) is str
                check(item)
        else:
            assert type(value) in (str, int, float), repr(value)

    for _, state, _ in frames[::50]:
        check(state)


# --------------------------------------------------------------- the rows

def test_rows_have_twenty_cells_and_typed_values(race):
    _, frames = race
    for _, state, _ in frames:
        assert len(state["cars"]) == 30
        for row in state["cars"]:
            assert len(row) == 20
            assert type(row[NUM]) is str and row[NUM].isdigit()
            assert type(row[PIC]) is int and type(row[LAPS]) is int and type(row[PITS]) is int
            assert row[TYRE] in ("S", "M", "H", "W")
            for cell in (row[S1], row[S2], row[S3], row[LAST], row[BEST]):
                assert len(cell) == 2
                assert cell == ["", ""] or (type(cell[0]) is float and cell[0] > 0)
            for speed in (row[SPEED], row[BEST_SPEED]):
                assert speed == "" or (type(speed) is float and 60 < speed < 260)


def test_cars_and_drivers_look_real():
    sim = new_sim(cars=60)
    rows = sim.state()["cars"]
    assert len({row[NUM] for row in rows}) == 60
    assert len({row[CLASS] for row in rows}) >= 3
    names = " ".join(row[DRIVER] for row in rows)
    assert re.search(r"[^\x00-\x7f]", names), "no non-ASCII driver names"


def test_sectors_add_up_to_the_lap(race):
    _, frames = race
    checked = 0
    for _, state, _ in frames:
        for row in state["cars"]:
            if row[LAST][0] == "" or "old" in (row[S2][1], row[S3][1]):
                continue
            s1, s2, s3 = row[S1][0], row[S2][0], row[S3][0]
            millis = round(s1 * 1000) + round(s2 * 1000) + round(s3 * 1000)
            assert millis == round(row[LAST][0] * 1000)
            assert round(s1 + s2 + s3, 3) == row[LAST][0]
            for value in (s1, s2, s3, row[LAST][0], row[BEST][0]):
                assert value == round(value, 3)
            checked += 1
    assert checked > 1000


def test_timing_flags(race):
    _, frames = race
    sector_flags, last_flags, best_flags = set(), set(), set()
    for _, state, _ in frames:
        holders = 0
        for row in state["cars"]:
            sector_flags.update(row[k][1] for k in (S1, S2, S3))
            last_flags.add(row[LAST][1])
            best_flags.add(row[BEST][1])
            holders += row[BEST][1] == "sb"
            if row[LAST][1] == "sb-new":
                assert row[BEST] == [row[LAST][0], "sb"]
            if row[S1][1] == "old":
                raise AssertionError("S1 is the current lap's sector")
        assert holders <= 1
        # One holder of each overall best sector.
        for k in (S1, S2, S3):
            assert sum(row[k][1] == "sb" for row in state["cars"]) <= 1
    assert {"pb", "sb", "old", ""} <= sector_flags
    assert {"pb", "sb-new", ""} <= last_flags
    assert best_flags == {"sb", ""}


def test_old_sectors_follow_the_next_s1(race):
    _, frames = race
    new_laps = 0
    for history in per_car(frames).values():
        for (_, before), (_, after) in zip(history, history[1:]):
            if after[S1][0] != before[S1][0] and before[S3][0] != "":
                new_laps += 1
                assert after[S2] == [before[S2][0], "old"]
                assert after[S3] == [before[S3][0], "old"]
                assert after[S1][1] != "old"
            elif after[S3][0] != before[S3][0]:     # the lap is complete: nothing is old
                assert "old" not in (after[S1][1], after[S2][1], after[S3][1])
    assert new_laps > 100


def test_car_states(race):
    _, frames = race
    seen = {row[STATE] for _, state, _ in frames for row in state["cars"]}
    assert {"RUN", "PIT", "OUT", "FUEL", "STOP", "RET", "FIN"} <= seen


def test_pit_stops(race):
    _, frames = race
    driver_changes = fuel_stops = 0
    for number, history in per_car(frames).items():
        for (_, before), (_, after) in zip(history, history[1:]):
            assert after[PITS] >= before[PITS]
            if after[PITS] > before[PITS]:
                assert after[PITS] == before[PITS] + 1
                assert after[STATE] in ("PIT", "FUEL") and before[STATE] not in ("PIT", "FUEL")
            if after[DRIVER] != before[DRIVER]:
                assert before[STATE] == after[STATE] == "PIT"
                driver_changes += 1
            if before[STATE] in ("PIT", "FUEL") and after[STATE] not in ("PIT", "FUEL", "FIN", "RET"):
                assert after[STATE] == "OUT"
            if before[STATE] == "OUT" and after[STATE] != "OUT":
                assert after[STATE] in ("RUN", "FIN")
            if before[STATE] == "FUEL":
                assert after[DRIVER] == before[DRIVER]
        # Time spent in each stop, and in OUT afterwards.
        runs = []
        for t, row in history:
            if runs and runs[-1][0] == row[STATE]:
                runs[-1][2] = t
            else:
                runs.append([row[STATE], t, t])
        for (state, first, last), following in zip(runs, runs[1:] + [None]):
            if following is None:
                continue
            if state == "PIT" and following[0] == "OUT" and first != history[0][0]:
                # (not the pit-lane start)
                assert 40 <= last - first + 1 <= 90, (number, state, first, last)
            if state == "FUEL" and following[0] == "OUT":
                fuel_stops += 1
                assert 25 <= last - first + 1 <= 90
            if state == "OUT" and following[0] == "RUN":
                assert 2 <= last - first + 1 <= 12
    assert driver_changes >= 10
    assert fuel_stops >= 1


def test_gaps(race):
    _, frames = race
    kinds = set()
    for _, state, _ in frames:
        rows = state["cars"]
        assert rows[0][GAP] == "" and rows[0][INT] == ""
        class_leaders = set()
        for row in rows:
            for key in (GAP, INT, CLASS_GAP):
                assert GAP_FORMAT.match(row[key]), row[key]
                kinds.add("time" if "." in row[key] else re.sub(r"^\d+ laps$", "N laps", row[key]))
            if row[LAPS] == 0:
                assert row[GAP] == row[INT] == row[CLASS_GAP] == ""
            if row[CLASS] not in class_leaders:
                class_leaders.add(row[CLASS])
                assert row[CLASS_GAP] == "" and row[PIC] == 1
            elif row[LAPS]:
                assert row[CLASS_GAP] != ""
    assert kinds == {"", "time", "1 lap", "N laps"}


def test_gap_to_a_car_on_the_same_lap_is_the_time_between_line_crossings(race):
    _, frames = race
    crossed = {}     # (car, lap) -> frame time of the crossing
    checked = 0
    for t, state, _ in frames:
        for row in state["cars"]:
            crossed.setdefault((row[NUM], row[LAPS]), t)
        rows = state["cars"]
        for ahead, row in zip(rows, rows[1:]):
            if row[LAPS] and row[LAPS] == ahead[LAPS]:
                # Frames are a second apart: the gap is known to within a second.
                seen = crossed[(row[NUM], row[LAPS])] - crossed[(ahead[NUM], ahead[LAPS])]
                assert abs(float(row[INT]) - seen) <= 1.0
                checked += 1
    assert checked > 1000


def test_classification_order(race):
    _, frames = race
    for _, state, _ in frames:
        rows = state["cars"]
        laps = [row[LAPS] for row in rows]
        assert laps == sorted(laps, reverse=True)
        positions = {}
        for row in rows:
            positions[row[CLASS]] = positions.get(row[CLASS], 0) + 1
            assert row[PIC] == positions[row[CLASS]]


def test_session(race):
    sim, frames = race
    remain_zero = False
    elapsed_before = 0
    track_data = set()
    for t, state, _ in frames:
        session = state["session"]
        assert set(session) == {"flagState", "timeElapsed", "timeRemain", "trackData"}
        FlagStatus.from_string(session["flagState"])
        elapsed, remain = session["timeElapsed"], session["timeRemain"]
        assert type(elapsed) is int and type(remain) is int
        assert elapsed >= elapsed_before
        elapsed_before = elapsed
        if t <= START:
            assert elapsed == 0 and remain == DURATION
        if remain_zero:
            assert remain == 0
        remain_zero = remain == 0
        if remain:
            assert elapsed + remain == DURATION
        assert len(session["trackData"]) == len(sim.track_data_spec)
        track_data.add(tuple(session["trackData"]))
    assert remain_zero
    air, track, humidity, wind = frames[-1][1]["session"]["trackData"]
    assert re.match(r"^-?\d+\.\d°C$", air) and re.match(r"^-?\d+\.\d°C$", track)
    assert re.match(r"^\d+%$", humidity) and re.match(r"^\d+\.\d m/s$", wind)
    # About once a minute.
    assert DURATION / 60 * 0.5 < len(track_data) <= len(frames) / 60 + 2


def test_flag_periods(race):
    _, frames = race
    flags = flag_sequence(frames)
    assert flags[:2] == ["none", "green"]
    assert flags[-1] == "chequered" and flags.count("chequered") == 1
    for flag in ("yellow", "fcy", "sc"):
        assert flag in flags
    for before, after in zip(flags, flags[1:]):
        if before in ("yellow", "fcy", "sc"):
            assert after in ("green", "chequered")
    # The green flag falls at start_time, and not before.
    for t, state, _ in frames:
        assert (state["session"]["flagState"] == "none") == (t < START)


def test_chequered_flag_and_finish(race):
    sim, frames = race
    assert sim.finished
    first_chequered = next(i for i, (_, s, _) in enumerate(frames)
                           if s["session"]["flagState"] == "chequered")
    t, state, _ = frames[first_chequered]
    assert t >= START + DURATION
    assert state["cars"][0][STATE] == "FIN"
    _, before, _ = frames[first_chequered - 1]
    assert all(row[STATE] != "FIN" for row in before["cars"])
    final = frames[-1][1]["cars"]
    assert {row[STATE] for row in final} <= {"FIN", "RET"}
    assert any(row[STATE] == "RET" for row in final)


def test_laps_behind_the_safety_car_are_slow(race):
    _, frames = race
    slow_laps = 0
    history = per_car(frames)
    flags = {t: state["session"]["flagState"] for t, state, _ in frames}
    for rows in history.values():
        lap_start = None
        for (_, before), (t, after) in zip(rows, rows[1:]):
            if after[LAPS] == before[LAPS] + 1:
                lap_ok = (lap_start is not None and after[STATE] == "RUN"
                          and all(flags[x] == "sc" for x in range(int(lap_start), int(t) + 1)))
                if lap_ok:
                    assert after[LAST][0] > 1.1 * after[BEST][0]
                    slow_laps += 1
                lap_start = t if after[STATE] == "RUN" else None
            elif after[STATE] != "RUN":
                lap_start = None
    assert slow_laps >= 1


def test_safety_car_bunches_the_field():
    """By the end of the safety car period the cars cross the line in queues."""
    sim = new_sim(duration=7200)
    laps, crossings, prev, t = {}, [], None, sim.now
    while True:
        t += 1
        sim.advance(t)
        state = sim.state()
        for row in state["cars"]:
            if laps.get(row[NUM]) != row[LAPS]:
                laps[row[NUM]] = row[LAPS]
                if row[STATE] == "RUN":
                    crossings.append(t)
        flag = state["session"]["flagState"]
        if flag == "sc" and prev != "sc":
            deployed = t
        if prev == "sc" and flag != "sc":
            break
        prev = flag

    def queued(end):
        """Largest share of the line crossings of the lap before `end` within one minute."""
        times = [x for x in crossings if end - 170 < x <= end]
        return max(sum(x <= y < x + 60 for y in times) for x in times) / len(times)

    # Many cars stop in the pits under the safety car, which spreads them
    # again: look at the most bunched lap of the second half of the period,
    # and at the same for the green running before it.
    half = int((t - deployed) / 2)
    under_sc = max(queued(deployed + half + x) for x in range(half))
    green = max(queued(deployed - 1 - x) for x in range(half))
    assert under_sc >= 0.8
    assert under_sc > green + 0.1


def test_race_control(race):
    _, frames = race
    texts = [text for _, _, batch in frames for text in batch]
    assert all(type(text) is str and text for text in texts)
    assert any(text.startswith("Safety car deployed") for text in texts)
    assert any(text.startswith("Full course yellow") for text in texts)
    assert any(text.startswith("Yellow flag") for text in texts)
    assert any(text == "Safety car in this lap" for text in texts)
    assert any(re.search(r"\bcar \d+\b", text, re.IGNORECASE) for text in texts)
    assert any(text.startswith("Race ends at") for text in texts)


def test_pop_race_control_empties():
    sim = new_sim()
    sim.advance(START + DURATION)
    assert sim.pop_race_control()
    assert sim.pop_race_control() == []


@pytest.mark.parametrize("seed", range(6))
def test_every_hour_race_has_a_retirement_and_the_flags(seed):
    sim = RaceSimulation(seed=seed, car_count=20, duration=3600, start_time=START)
    flags, states = set(), set()
    t = sim.now
    while not sim.finished:
        t += 5
        sim.advance(t)
        state = sim.state()
        flags.add(state["session"]["flagState"])
        states.update(row[STATE] for row in state["cars"])
        assert t < START + 7200
    assert "RET" in states
    assert {"green", "yellow", "fcy", "sc", "chequered"} <= flags


def test_twenty_minute_race_gets_its_flag_periods():
    sim = RaceSimulation(seed=11, car_count=20, duration=1200, start_time=START)
    flags = []
    t = sim.now
    while not sim.finished:
        t += 1
        sim.advance(t)
        flag = sim.state()["session"]["flagState"]
        if not flags or flags[-1] != flag:
            flags.append(flag)
    assert flags == ["none", "green", "yellow", "green", "fcy", "green", "sc", "green", "chequered"]


def test_the_demo_service_logs_each_race_message_once_using_public_attributes_only(service_env):
    """The demo shows its messages as they happen from the published state
    (`self.state`), not by overriding the service's internal update steps."""
    from twisted.internet.task import Clock
    from twisted.logger import Logger

    from livetiming.service.base import BaseService
    from livetiming.service.options import default_args
    from livetiming.service.plugins.demo import Service

    overridden = {name for name in vars(Service) if name.startswith("_") and not name.startswith("__")}
    assert not overridden & set(vars(BaseService)), "the demo overrides BaseService internals"

    clock, logged = Clock(), []
    args = default_args("demo", ["--no-write-state", "-N", "--disable-analysis"],
                        cars=20, seed=71, speed=120.0, hours=1.0, grid=0.0)
    service = Service(args, [], reactor=clock)
    service.log = Logger(namespace="demo", observer=logged.append)
    for _ in range(120):
        service._updateAndPublishRaceState()
        clock.advance(1)
    service._updateAndPublishRaceState()  # shows the last update's messages
    shown = [(event["category"], event["text"]) for event in logged if "category" in event]
    published = [(message[1], message[2]) for message in reversed(service.state["messages"])]
    assert len(shown) > len(published) > 5  # more were made than the state keeps (MAX_MESSAGES)
    assert shown[-len(published):] == published  # in order, each once
