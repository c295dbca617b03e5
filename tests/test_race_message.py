"""RaceMessage: a message's kind carried as data; the wire form unchanged."""
import copy
import json
import pickle

import pytest

from livetiming.analysis import Analyser
from livetiming.analysis.car import CarModule
from livetiming.analysis.messages import MessagesModule
from livetiming.protocol.race_message import MessageKind, RaceMessage, kind_of, wire_kind

T = 1_700_000_000


def test_wire_form_and_fields():
    per_car = RaceMessage(T, "Pits", "#7 has entered the pits", "pit", "7", MessageKind.PIT_LANE)
    track = RaceMessage(T, "Track", "Red flag", "red", kind=MessageKind.FLAG)
    assert per_car.to_wire() == [T, "Pits", "#7 has entered the pits", "pit", "7"]
    assert track.to_wire() == [T, "Track", "Red flag", "red"] and track.car_number is None
    assert (per_car.timestamp, per_car.category, per_car.text, per_car.style, per_car.car_number) == (
        T, "Pits", "#7 has entered the pits", "pit", "7")
    assert json.dumps(per_car) == json.dumps(per_car.to_wire())
    assert per_car == per_car.to_wire() and per_car[4] == "7"


@pytest.mark.parametrize("wire, kind", [
    ([T, "Pits", "#7 Driver change (A to B)", None, "7"], MessageKind.DRIVER_CHANGE),
    ([T, "Pits", "#7 (A) has left the pits", "out", "7"], MessageKind.PIT_LANE),
    ([T, "Pits", "#7 Driver change (to B)", "pit"], MessageKind.DRIVER_CHANGE | MessageKind.PIT_LANE),
    ([T, "Track", "Red flag", "red"], MessageKind.OTHER),
    ([T, "Pits", "#7 driver change (lower case)", ["pit"], "7"], MessageKind.OTHER),
])
def test_from_wire_reads_the_kind_from_text_and_style(wire, kind):
    message = RaceMessage.from_wire(wire)
    assert message.kind == kind == wire_kind(wire) == kind_of(wire)
    assert message.to_wire() == wire


def test_from_wire_keeps_a_known_kind_and_rejects_non_messages():
    made = RaceMessage(T, "Timing", "#7 set a new personal best", "pb", "7", MessageKind.FAST_LAP)
    assert RaceMessage.from_wire(made).kind == MessageKind.FAST_LAP
    assert RaceMessage.from_wire([T, "x", "y", "z", "7", "extra"]).to_wire() == [T, "x", "y", "z", "7"]
    with pytest.raises(ValueError):
        RaceMessage.from_wire([T, "x"])


def test_copies_and_pickles_keep_the_kind():
    made = RaceMessage(T, "Pits", "#7 has retired", "", "7", MessageKind.CAR_STATE)
    for copied in (pickle.loads(pickle.dumps(made)), copy.deepcopy(made), copy.copy(made)):
        assert copied == made and copied.kind == MessageKind.CAR_STATE


def test_analysis_uses_the_kind_when_known():
    """Our generators' kinds decide; the English text is not read for them."""
    module = MessagesModule()
    module.add([RaceMessage(T, "Pits", "Fahrerwechsel (A zu B)", None, kind=MessageKind.DRIVER_CHANGE),
                RaceMessage(T, "Track", "Driver change (not really)", "x", kind=MessageKind.OTHER)])
    assert module.payload() == {"messages": [[T, "Track", "Driver change (not really)", "x"]]}

    cars, changed = CarModule(), set()
    cars.add_messages([RaceMessage(T, "Pits", "#7 in", "pit", "7", MessageKind.CAR_STATE),
                       RaceMessage(T, "Pits", "#7 out", "custom", "7", MessageKind.PIT_LANE)], changed)
    assert cars.messages_entry("7") == [[T, "Pits", "#7 in", "pit", "7"]]


def test_analysis_falls_back_to_the_wire_rules_for_other_messages():
    module = MessagesModule()
    module.add([[T, "Pits", "#7 Driver change (A to B)", None], [T, "Track", "Red flag", "red"]])
    assert module.payload() == {"messages": [[T, "Track", "Red flag", "red"]]}
    cars, changed = CarModule(), set()
    cars.add_messages([[T, "Pits", "#7 in", "pit", "7"], [T, "Pits", "#7 out", "out", "7"],
                       [T, "Pits", "#7 has retired", "", "7"]], changed)
    assert cars.messages_entry("7") == [[T, "Pits", "#7 has retired", "", "7"]]


def test_live_and_offline_analysis_agree_on_our_messages():
    """Live, the analyser gets RaceMessages (kinds as data); offline, the wire
    lists of the state (kinds read from text and style): same result."""
    from livetiming.protocol import Stat, colspec_to_json
    from livetiming.service import cycle
    from livetiming.service.messages import default_generators

    colspec = [Stat.NUM, Stat.STATE, Stat.DRIVER, Stat.LAPS, Stat.LAST_LAP]
    rows = [
        [["7", "RUN", "Ann", 1, [100.0, ""]], ["8", "RUN", "Cy", 1, [101.0, ""]]],
        [["7", "PIT", "Ann", 2, [99.0, "pb"]], ["8", "RUN", "Cy", 2, [98.0, "sb-new"]]],
        [["7", "OUT", "Bob", 2, [99.0, ""]], ["8", "STOP", "Cy", 2, [98.0, "sb"]]],
        [["7", "RUN", "", 3, [97.0, "sb-new"]], ["8", "RET", "Cy", 2, [98.0, "sb"]]],
    ]
    generators = default_generators()
    live, offline = Analyser(), Analyser()
    manifest = {"colSpec": colspec_to_json(colspec)}
    live.set_manifest(manifest)
    offline.set_manifest(manifest)
    state = cycle.initial_state()
    for i, cars in enumerate(rows):
        flag = "yellow" if i == 2 else "green"
        update = cycle.next_state(state, {"cars": cars, "session": {"flagState": flag}},
                                  generators, colspec, T + i)
        state = update.state
        assert any(isinstance(m, RaceMessage) for m in update.new_messages) or i == 0
        live.update(T + i, state, update.new_messages)
        offline.update(T + i, state)
    assert live.data() == offline.data()
    assert live.data()["car_messages"]["7"]
