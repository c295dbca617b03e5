"""Message generators: the reference race as an oracle, plus one unit test
per row of the "Messages generated from state changes" table."""
import collections
import os

import pytest

from livetiming.protocol import Stat
from livetiming.service.messages import (
    CarPitMessage,
    CarView,
    DriverChangeMessage,
    FastLapMessage,
    FlagChangeMessage,
    MessageGenerator,
    PerCarMessageGenerator,
    RaceControlMessage,
    column_index,
    default_generators,
    format_lap_time,
    highlight_from,
    run_generators,
)

try:
    from reference_race import iter_frames, load_manifest
except ImportError:  # tests/ collected as a package
    from tests.reference_race import iter_frames, load_manifest

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "fixtures", "reference_race.zip")

GREEN_AT = 1713099600  # race time 0:00

# The race-control texts the reference plugin queued, with their race time
# (fixture README). We feed these original-case texts rather than the
# upper-cased texts of the recording: that also checks the upper-casing and
# car-number extraction from mixed case ("Car #51").
RACE_CONTROL = {
    "0:28": "Car 88 starts from the pit lane",
    "7:10": "Car 24 - track limits warning at turn 4",
    "10:40": "Incident involving car 7 at turn 6 - no further action",
    "13:40": "Car 97 - track limits warning at turn 4",
    "17:46": "Full course yellow - car 44 stopped at turn 11",
    "20:40": "Drivers are reminded of the pit lane speed limit",
    "25:00": "Safety car deployed - debris at turn 3",
    "31:30": "Safety car in this lap",
    "33:30": "Car 88 - unsafe release under investigation",
    "38:10": "Car #51 - track limits - black and white flag",
    "40:00": "Car 88 - unsafe release - no further action",
    "42:00": "Race ends at 13:45 UTC",
}


def _race_time(text: str) -> int:
    minutes, seconds = text.split(":")
    return GREEN_AT + int(minutes) * 60 + int(seconds)


RACE_CONTROL_AT = {_race_time(t): text for t, text in RACE_CONTROL.items()}


def _fail(generator, error):
    raise AssertionError(f"{generator!r} raised {error!r}")


# --------------------------------------------------------------------------
# Oracle: the reference race


@pytest.fixture(scope="module")
def replay():
    """Run our generators over the recording; return per-frame results."""
    colspec = load_manifest(FIXTURE)["colSpec"]
    queue = collections.deque()
    generators = default_generators() + [RaceControlMessage(queue)]
    previous = {"cars": [], "session": {"flagState": "green"}, "messages": []}
    ours = []
    frames = []
    for timestamp, state in iter_frames(FIXTURE):
        if timestamp in RACE_CONTROL_AT:
            queue.append(RACE_CONTROL_AT[timestamp])
        new = run_generators(generators, previous, state, colspec, timestamp,
                             on_error=_fail)
        ours = (new + ours)[:100]
        frames.append((timestamp, state, new, list(ours)))
        previous = state
    return frames


def test_reader_sees_whole_recording(replay):
    assert len(replay) == 2875
    assert replay[0][0] == 1713099585 and replay[-1][0] == 1713102459


def test_every_frame_matches_reference(replay):
    for timestamp, state, new, _ in replay:
        expected = [m for m in state["messages"] if m[0] == timestamp]
        assert new == expected, timestamp
        assert state["messages"][:len(expected)] == expected, timestamp
        assert set(highlight_from(new)) == set(state["highlight"]), timestamp


def test_message_list_matches_reference_including_cap(replay):
    for timestamp, state, _, ours in replay:
        assert ours == state["messages"], timestamp


def test_reference_message_counts(replay):
    messages = [m for _, _, new, _ in replay for m in new]
    assert len(messages) == 103
    styles = collections.Counter(m[3] for m in messages)
    assert styles == {
        "pb": 36, "sb": 4, "pit": 13, "out": 14, None: 12, "": 4,
        "green": 4, "yellow": 3, "track": 1, "raceControl": 12,
    }
    texts = [m[2] for m in messages]
    assert sum("has entered the pits" in t for t in texts) == 12
    assert sum("has entered the fuelling area" in t for t in texts) == 1
    assert sum("is running slowly or stopped" in t for t in texts) == 2
    assert sum("has resumed" in t for t in texts) == 1
    assert sum("has retired" in t for t in texts) == 1
    race_control = [m for m in messages if m[3] == "raceControl"]
    assert sum(len(m) == 5 for m in race_control) == 8
    assert all(m[1] == "Race Control" and m[2] == m[2].upper() for m in race_control)
    flags = [m for m in messages if m[1] == "Track"]
    assert len(flags) == 8


def test_first_lap_overall_best_gives_no_message(replay):
    # 1:44: #31's lap 1 is the first overall best (sb-new) but has no message.
    frame = next(f for f in replay if f[0] == 1713099704)
    row = next(r for r in frame[1]["cars"] if r[0] == "31")
    assert row[13] == [103.479, "sb-new"]
    assert frame[2] == []


# --------------------------------------------------------------------------
# Unit tests: helpers

COLSPEC = [Stat.NUM, Stat.STATE, Stat.CLASS, Stat.DRIVER, Stat.CAR, Stat.LAST_LAP]
T = 1713099600


def row(num="7", state="RUN", cls="LMP2", driver="Aiden O'Rourke",
        car="Ligier", last=("", "")):
    return [num, state, cls, driver, car, list(last) if isinstance(last, tuple) else last]


def st(*rows, flag="green"):
    return {"cars": list(rows), "session": {"flagState": flag}}


def run_one(generator, old, new, colspec=COLSPEC, timestamp=T):
    return generator.process(old, new, colspec, timestamp)


# --------------------------------------------------------------------------
# Flag changes


@pytest.mark.parametrize("flag, text, style", [
    ("green", "Green flag - track clear", "green"),
    ("sc", "Safety car deployed", "yellow"),
    ("fcy", "Full course yellow", "yellow"),
    ("yellow", "Yellow flags shown", "yellow"),
    ("red", "Red flag", "red"),
    ("chequered", "Chequered flag", "track"),
    ("code_60", "Code 60", "code60"),
    ("vsc", "Virtual safety car deployed", "yellow"),
    ("caution", "Full course caution", "yellow"),
    ("white", "White flag - final lap", "white"),
])
def test_flag_change(flag, text, style):
    old = st(flag="none" if flag == "green" else "green")
    assert run_one(FlagChangeMessage(), old, st(flag=flag)) == [[T, "Track", text, style]]


@pytest.mark.parametrize("old, new", [
    ("green", "green"), ("green", "none"), ("green", "code_60_zone"),
    ("green", "slow_zone"), ("green", "chequered-ish"), ("sc", None),
])
def test_flag_change_silent(old, new):
    assert run_one(FlagChangeMessage(), st(flag=old), st(flag=new)) == []


def test_flag_change_is_case_insensitive_and_tolerates_missing_session():
    assert run_one(FlagChangeMessage(), st(flag="GREEN"), st(flag="green")) == []
    assert run_one(FlagChangeMessage(), {}, st(flag="SC"))[0][2] == "Safety car deployed"
    assert run_one(FlagChangeMessage(), {"session": None}, {}) == []
    # Unknown names count as "none": the next real flag is announced.
    assert run_one(FlagChangeMessage(), st(flag="purple"), st(flag="green"))[0][3] == "green"


def test_slow_zone_is_opt_in():
    assert run_one(FlagChangeMessage(slow_zones=True), st(), st(flag="slow_zone")) == [
        [T, "Track", "Slow zone(s) in operation", "yellow"]]
    assert run_one(FlagChangeMessage(), st(), st(flag="slow_zone")) == []
    assert run_one(FlagChangeMessage(slow_zones=True), st(), st(flag="code_60_zone")) == []


# --------------------------------------------------------------------------
# Pit messages


@pytest.mark.parametrize("old, new, text, style", [
    ("PIT", "OUT", "has left the pits", "out"),
    ("FUEL", "OUT", "has left the pits", "out"),
    ("STOP", "OUT", "has left the pits", "out"),
    ("PIT", "RUN", "has left the pits", "out"),
    ("RUN", "PIT", "has entered the pits", "pit"),
    ("OUT", "PIT", "has entered the pits", "pit"),
    ("RUN", "FUEL", "has entered the fuelling area", "pit"),
    ("RUN", "RET", "has retired", ""),
    ("PIT", "RET", "has retired", ""),
    ("RUN", "STOP", "is running slowly or stopped", ""),
    ("STOP", "RUN", "has resumed", ""),
])
def test_pit_message(old, new, text, style):
    result = run_one(CarPitMessage(), st(row(state=old)), st(row(state=new)))
    assert result == [[T, "LMP2", f"#7 (Aiden O'Rourke) {text}", style, "7"]]


@pytest.mark.parametrize("old, new", [
    ("OUT", "RUN"), ("RUN", "FIN"), ("RUN", "OUT"), ("RUN", "RUN"),
    ("PIT", "PIT"), ("N/S", "RUN"), ("", "RUN"), (None, None),
])
def test_pit_silent(old, new):
    assert run_one(CarPitMessage(), st(row(state=old)), st(row(state=new))) == []


def test_pit_message_uses_new_driver_and_default_category():
    colspec = [Stat.NUM, Stat.STATE, Stat.DRIVER]
    old, new = st(["31", "PIT", "Lars"]), st(["31", "OUT", "Miguel"])
    assert run_one(CarPitMessage(), old, new, colspec) == [
        [T, "Pits", "#31 (Miguel) has left the pits", "out", "31"]]


def test_new_or_vanished_car_says_nothing():
    assert run_one(CarPitMessage(), st(), st(row(state="PIT"))) == []
    assert run_one(CarPitMessage(), st(row(state="RUN")), st()) == []
    assert run_one(CarPitMessage(), {}, st(row(state="PIT"))) == []


def test_cars_match_by_number_car_and_class():
    # Rows may be reordered; a car whose class changes is a different entry.
    old = st(row("1", "RUN"), row("7", "RUN"))
    new = st(row("7", "PIT"), row("1", "PIT", cls="GT3"))
    assert [m[4] for m in run_one(CarPitMessage(), old, new)] == ["7"]
    new = st(row("7", "PIT", car="Oreca"))
    assert run_one(CarPitMessage(), old, new) == []


def test_per_car_messages_follow_new_row_order():
    old = st(row("1"), row("2"), row("3"))
    new = st(row("3", "PIT"), row("1", "PIT"), row("2"))
    assert [m[4] for m in run_one(CarPitMessage(), old, new)] == ["3", "1"]


# --------------------------------------------------------------------------
# Driver changes


@pytest.mark.parametrize("old, new, change", [
    ("Lars Eriksen", "Miguel Negrão", "(Lars Eriksen to Miguel Negrão)"),
    ("", "Miguel Negrão", "(to Miguel Negrão)"),
    (None, "Miguel Negrão", "(to Miguel Negrão)"),
    ("Lars Eriksen", "", "(from Lars Eriksen to nobody)"),
])
def test_driver_change(old, new, change):
    result = run_one(DriverChangeMessage(), st(row("31", driver=old)),
                     st(row("31", driver=new)))
    assert result == [[T, "LMP2", f"#31 Driver change {change}", None, "31"]]


def test_driver_change_silent():
    assert run_one(DriverChangeMessage(), st(row()), st(row())) == []
    assert run_one(DriverChangeMessage(), st(row(driver="")), st(row(driver=None))) == []
    assert run_one(DriverChangeMessage(), st(), st(row())) == []


def test_driver_change_without_class_or_driver_column():
    colspec = [Stat.NUM, Stat.DRIVER]
    assert run_one(DriverChangeMessage(), st(["5", "A"]), st(["5", "B"]), colspec) == [
        [T, "Pits", "#5 Driver change (A to B)", None, "5"]]
    colspec = [Stat.NUM, Stat.STATE]
    assert run_one(DriverChangeMessage(), st(["5", "RUN"]), st(["5", "PIT"]), colspec) == []


# --------------------------------------------------------------------------
# Fast laps


def lap(old, new, **kwargs):
    return run_one(FastLapMessage(), st(row(last=old, **kwargs)), st(row(last=new, **kwargs)))


def test_personal_best():
    assert lap([102.0, ""], [100.127, "pb"]) == [
        [T, "LMP2", "#7 (Aiden O'Rourke) set a new personal best: 1:40.127", "pb", "7"]]


def test_overall_best():
    assert lap([102.0, "pb"], [99.547, "sb-new"]) == [
        [T, "LMP2", "#7 (Aiden O'Rourke) set a new overall best: 1:39.547", "sb", "7"]]


@pytest.mark.parametrize("old, new", [
    (["", ""], [103.479, "sb-new"]),      # first lap: no previous time
    (["", ""], [103.479, "pb"]),
    (None, [103.479, "pb"]),
    ([100.0, "sb-new"], [100.0, "pb"]),   # someone else went faster: flag only
    ([100.0, "pb"], [100.0, "pb"]),
    ([100.0, "sb-new"], [100.0, "sb-new"]),
    ([100.0, "pb"], [101.0, "pb"]),       # inconsistent feed: slower "pb"
    ([100.0, ""], [101.0, ""]),
    ([100.0, ""], [101.0, "old"]),
    ([100.0, ""], ["", ""]),
    ([100.0, ""], None),
    ([100.0, ""], [True, "pb"]),          # a bool is not a time
])
def test_fast_lap_silent(old, new):
    assert lap(old, new) == []


@pytest.mark.parametrize("old, new, style", [
    ([101.0, "pb"], [100.0, "pb"], "pb"),           # consecutive personal bests
    ([100.0, ""], [100.0, "pb"], "pb"),             # flag arrives after the time
    ([101.0, "sb-new"], [100.0, "sb-new"], "sb"),   # consecutive overall bests
    ([100.0, ""], [100.0, "sb-new"], "sb"),
    ([101, ""], [100, "pb"], "pb"),                 # quirk 7: ints are times
    (101.5, [100, "sb-new"], "sb"),                 # plain number before
])
def test_fast_lap_message(old, new, style):
    assert [m[3] for m in lap(old, new)] == [style]


@pytest.mark.parametrize("seconds, text", [
    (100.127, "1:40.127"), (99.805, "1:39.805"), (100, "1:40.000"),
    (45.0, "0:45.000"), (5.5, "0:05.500"), (725.5, "12:05.500"),
    (3725.25, "62:05.250"), (59.9996, "1:00.000"), (0, "0:00.000"),
])
def test_lap_time_format(seconds, text):
    assert format_lap_time(seconds) == text


def test_fast_lap_without_driver_or_class():
    colspec = [Stat.NUM, Stat.LAST_LAP]
    result = run_one(FastLapMessage(), st(["9", [101.0, ""]]), st(["9", [100.0, "pb"]]), colspec)
    assert result == [[T, "Timing", "#9 set a new personal best: 1:40.000", "pb", "9"]]
    assert run_one(FastLapMessage(), st(["9"]), st(["9"]), [Stat.NUM]) == []


# --------------------------------------------------------------------------
# CarView and robustness


def test_car_view_reads_through_colspec():
    colspec = [["Num", "text"], Stat.STATE, ["Custom", "text"], Stat.LAST_LAP]
    car = CarView([7, "pit ", "x", [100.5, "pb"]], column_index(colspec))
    assert (car.num, car.state, car.driver) == ("7", "PIT", "")
    assert car.get(Stat.LAST_LAP) == 100.5 and car.flag(Stat.LAST_LAP) == "pb"
    assert car.get("Custom") == "x" and car.get(Stat.CLASS) is None
    assert car.category("Pits") == "Pits" and car.display == "#7"
    short = CarView(["7"], column_index(colspec))
    assert short.get(Stat.LAST_LAP) is None and short.flag(Stat.LAST_LAP) == ""


def test_empty_class_and_driver_fall_back():
    result = run_one(CarPitMessage(), st(row(cls="", driver=None)),
                     st(row(state="PIT", cls="", driver=None)))
    assert result == [[T, "Pits", "#7 has entered the pits", "pit", "7"]]


def test_integer_car_number_becomes_string():
    result = run_one(CarPitMessage(), st(row(num=7)), st(row(num=7, state="PIT")))
    assert result[0][4] == "7" and result[0][2].startswith("#7 ")


@pytest.mark.parametrize("old, new", [
    ({}, {}),
    (None, {"cars": None, "session": None}),
    ({"cars": [None, [], ["7"]]}, {"cars": [None, [], ["7"], [None, None]]}),
    (st(row()), {"cars": [row(num=""), row(num=None)]}),
])
def test_defaults_survive_odd_states(old, new):
    assert run_generators(default_generators(), old, new, COLSPEC, T, on_error=_fail) == []


def test_colspec_as_manifest_lists():
    colspec = [s.to_list() for s in COLSPEC]
    assert run_one(CarPitMessage(), st(row()), st(row(state="PIT")), colspec)[0][2] == \
        "#7 (Aiden O'Rourke) has entered the pits"


# --------------------------------------------------------------------------
# Race control


def test_race_control_from_deque():
    queue = collections.deque(["Car 88 starts from the pit lane"])
    generator = RaceControlMessage(queue)
    assert run_one(generator, {}, {}) == [
        [T, "Race Control", "CAR 88 STARTS FROM THE PIT LANE", "raceControl", "88"]]
    assert not queue
    assert run_one(generator, {}, {}) == []


def test_race_control_keeps_supplied_order_from_list():
    texts = ["First text", "Second text about car 3", "", None]
    result = run_one(RaceControlMessage(texts), {}, {})
    assert result == [[T, "Race Control", "FIRST TEXT", "raceControl"],
                      [T, "Race Control", "SECOND TEXT ABOUT CAR 3", "raceControl", "3"]]
    assert texts == []


def test_race_control_from_callable():
    assert run_one(RaceControlMessage(lambda: "Red flag"), {}, {})[0][2] == "RED FLAG"
    assert run_one(RaceControlMessage(lambda: None), {}, {}) == []
    assert len(run_one(RaceControlMessage(lambda: iter(["a", "b"])), {}, {})) == 2


@pytest.mark.parametrize("text, number", [
    ("Car 7 - track limits", "7"),
    ("Car #51 - black and white flag", "51"),
    ("car#12 penalty", "12"),
    ("Incident involving CAR 7 and car 8", "7"),
    ("Safety car 2 deployed", None),
    ("Safety-car 2 deployed", None),
    ("Pace car 1 in - car 9 to the back", "9"),
    ("Cars 7 and 8 under investigation", None),
    ("Oscar 7 said hello", None),
    ("Safety car deployed - debris at turn 3", None),
    ("Race ends at 13:45 UTC", None),
])
def test_race_control_car_number(text, number):
    result = run_one(RaceControlMessage([text]), {}, {})[0]
    assert result[2] == text.upper()
    assert (result[4] if len(result) > 4 else None) == number


# --------------------------------------------------------------------------
# Running generators


class Boom(MessageGenerator):
    def process(self, old_state, new_state, colspec, timestamp):
        raise RuntimeError("boom")


class Static(MessageGenerator):
    def __init__(self, *messages):
        self.messages = list(messages)

    def process(self, old_state, new_state, colspec, timestamp):
        return list(self.messages)


def test_default_generators_order():
    assert [type(g) for g in default_generators()] == [
        FlagChangeMessage, CarPitMessage, DriverChangeMessage, FastLapMessage]


def test_run_generators_order_and_truncated_timestamp():
    old = st(row("1", last=[101.0, ""]), row("2", driver="A"), flag="green")
    new = st(row("1", last=[100.0, "pb"]), row("2", state="PIT", driver="B"), flag="sc")
    extra = Static([T, "Race Control", "X", "raceControl"])
    result = run_generators(default_generators() + [extra], old, new, COLSPEC, T + 0.9)
    assert [(m[0], m[3]) for m in result] == [
        (T, "yellow"), (T, "pit"), (T, None), (T, "pb"), (T, "raceControl")]
    assert highlight_from(result) == ["2", "1"]


def test_failing_generator_does_not_stop_others():
    errors = []
    boom = Boom()
    generators = [boom, Static([T, "A", "a", None]), MessageGenerator(),
                  Static(None), Static([T, "B", "b", None, "4"])]
    result = run_generators(generators, {}, {}, [], T,
                            on_error=lambda g, e: errors.append((g, e)))
    assert [m[1] for m in result] == ["A", "B"]
    assert errors[0][0] is boom and isinstance(errors[0][1], RuntimeError)
    assert isinstance(errors[1][1], NotImplementedError)
    assert len(errors) == 2


def test_failing_generator_without_handler_is_logged(log_events):
    result = run_generators([Boom(), Static([T, "A", "a", None])], {}, {}, [], T)
    assert [m[1] for m in result] == ["A"]
    failures = [e for e in log_events if e.get("log_namespace") == "livetiming.service.messages"
                and "log_failure" in e]
    assert len(failures) == 1 and "boom" in str(failures[0]["log_failure"].value)


def test_failing_error_handler_does_not_stop_others():
    def handler(generator, error):
        raise ValueError("handler broke")
    result = run_generators([Boom(), Static([T, "A", "a", None])], {}, {}, [], T,
                            on_error=handler)
    assert [m[1] for m in result] == ["A"]


def test_custom_per_car_generator():
    seen = []

    class Spy(PerCarMessageGenerator):
        def consider(self, old_car, new_car, timestamp):
            seen.append((old_car and old_car.num, new_car.num, timestamp))
            return None

    run_generators([Spy()], st(row("1")), st(row("1"), row("2")), COLSPEC, T + 0.5,
                   on_error=_fail)
    assert seen == [("1", "1", T), (None, "2", T)]


def test_highlight_from():
    messages = [
        [T, "Track", "Green", "green"],
        [T, "GT3", "x", "pb", "88"],
        [T, "GT3", "y", "pit", "7"],
        [T, "Race Control", "CAR 88", "raceControl", "88"],
        [T, "GT3", "z", "pit", ""],
        [T, "GT3", "z", "pit", None],
    ]
    assert highlight_from(messages) == ["88", "7"]
    assert highlight_from([]) == []


# --------------------------------------------------------------------------
# The car pairing belongs to a generator set (no module-level state)


def test_no_module_level_mutable_state():
    from livetiming.service import messages
    mutable = {name: value for name, value in vars(messages).items()
               if not name.startswith("__") and isinstance(value, (list, dict, set, tuple))
               and name != "__all__"}
    assert mutable == {}, mutable


def test_generator_sets_do_not_share_their_pairing():
    from livetiming.service.messages import share_pairing
    first, second = default_generators(), default_generators()
    pairing_a, pairing_b = share_pairing(first), share_pairing(second)
    assert pairing_a is not pairing_b
    per_car = [g for g in first if isinstance(g, PerCarMessageGenerator)]
    assert len(per_car) == 3 and all(g.pairing is pairing_a for g in per_car)
    assert all(g.pairing is pairing_b for g in second if isinstance(g, PerCarMessageGenerator))

    old_a, new_a = st(row()), st(row(state="PIT"))
    old_b, new_b = st(row(num="8")), st(row(num="8", state="PIT"))
    assert [m[2] for m in run_generators(first, old_a, new_a, COLSPEC, T)] == [
        "#7 (Aiden O'Rourke) has entered the pits"]
    assert [m[2] for m in run_generators(second, old_b, new_b, COLSPEC, T)] == [
        "#8 (Aiden O'Rourke) has entered the pits"]
    # Each set's cache holds its own update: the second set did not replace the first's.
    assert [car.num for _, car in pairing_a.pairs(old_a, new_a, COLSPEC)] == ["7"]
    assert pairing_a.pairs(old_a, new_a, COLSPEC) is pairing_a.pairs(old_a, new_a, COLSPEC)
    assert [car.num for _, car in pairing_b.pairs(old_b, new_b, COLSPEC)] == ["8"]


def test_a_generator_outside_a_set_pairs_cars_itself():
    alone, other = CarPitMessage(), CarPitMessage()
    assert alone.pairing is not other.pairing
    assert run_one(alone, st(row()), st(row(state="PIT")))[0][2].endswith("has entered the pits")


def test_share_pairing_reaches_historical_per_car_generators():
    from livetiming.messages import PerCarMessage
    from livetiming.service.messages import adapt_generator, share_pairing

    class Tyres(PerCarMessage):
        def _consider(self, oldCar, newCar):
            return None

    class TwoArguments(PerCarMessage):  # process(oldState, newState) only: wrapped by adapt_generator
        def process(self, oldState, newState):
            return []

    generators = [adapt_generator(Tyres(COLSPEC)), adapt_generator(TwoArguments(COLSPEC)),
                  DriverChangeMessage()]
    pairing = share_pairing(generators)
    assert generators[1].generator.pairing is pairing
    assert generators[0].pairing is pairing and generators[2].pairing is pairing


# --------------------------------------------------------------------------
# Kinds carried as data


def test_default_generators_say_what_kind_of_message_they_make():
    from livetiming.protocol.race_message import MessageKind, RaceMessage
    old = st(row(last=(101.0, "")), flag="yellow")
    new = st(row(state="PIT", driver="Ben", last=(100.0, "pb")), flag="green")
    messages = run_generators(default_generators(), old, new, COLSPEC, T)
    assert all(isinstance(m, RaceMessage) for m in messages)
    assert [m.kind for m in messages] == [MessageKind.FLAG, MessageKind.PIT_LANE,
                                          MessageKind.DRIVER_CHANGE, MessageKind.FAST_LAP]
    # the wire form is unchanged: plain lists, equal element by element
    assert [m.to_wire() for m in messages] == [
        [T, "Track", "Green flag - track clear", "green"],
        [T, "LMP2", "#7 (Ben) has entered the pits", "pit", "7"],
        [T, "LMP2", "#7 Driver change (Aiden O'Rourke to Ben)", None, "7"],
        [T, "LMP2", "#7 (Ben) set a new personal best: 1:40.000", "pb", "7"],
    ]
    assert all(type(m.to_wire()) is list for m in messages)


@pytest.mark.parametrize("old_state, new_state, kind_name", [
    ("RUN", "RET", "CAR_STATE"), ("RUN", "STOP", "CAR_STATE"), ("STOP", "RUN", "CAR_STATE"),
    ("RUN", "FUEL", "PIT_LANE"), ("PIT", "OUT", "PIT_LANE"),
])
def test_pit_message_kinds(old_state, new_state, kind_name):
    from livetiming.protocol.race_message import MessageKind, wire_kind
    [message] = run_one(CarPitMessage(), st(row(state=old_state)), st(row(state=new_state)))
    assert message.kind == MessageKind[kind_name]
    # the wire fallback (which knows only driver changes and the pit lane) agrees
    assert (MessageKind.PIT_LANE in wire_kind(message.to_wire())) == (MessageKind.PIT_LANE in message.kind)


def test_race_control_kind():
    from livetiming.protocol.race_message import MessageKind
    [message] = RaceControlMessage(["Car 7 under investigation"]).process({}, {}, COLSPEC, T)
    assert message.kind == MessageKind.RACE_CONTROL and message.car_number == "7"
    assert message == [T, "Race Control", "CAR 7 UNDER INVESTIGATION", "raceControl", "7"]
