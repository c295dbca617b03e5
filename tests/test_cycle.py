"""The state update cycle as a pure function."""
from decimal import Decimal

import pytest

from livetiming.protocol import Stat
from livetiming.service import cycle
from livetiming.service.messages import MessageGenerator, default_generators

COLSPEC = [Stat.NUM, Stat.STATE, Stat.CLASS, Stat.DRIVER, Stat.LAST_LAP]


def raw(cars, flag="green"):
    return {"cars": cars, "session": {"flagState": flag}}


def test_new_messages_are_prepended_and_highlighted():
    previous = cycle.initial_state()
    first = cycle.next_state(previous, raw([["7", "RUN", "GT3", "Ann", ""]]), default_generators(), COLSPEC, 100.9)
    second = cycle.next_state(first.state, raw([["7", "PIT", "GT3", "Ann", ""]], "sc"), default_generators(),
                              COLSPEC, 101.2)
    assert second.new_messages == [
        [101, "Track", "Safety car deployed", "yellow"],
        [101, "GT3", "#7 (Ann) has entered the pits", "pit", "7"],
    ]
    assert second.state["messages"][:2] == second.new_messages
    assert second.state["highlight"] == ["7"]
    assert second.state["cars"] == [["7", "PIT", "GT3", "Ann", ""]]


def test_messages_are_capped_at_100_newest_first():
    previous = cycle.initial_state()
    previous["messages"] = [[i, "Old", f"m{i}", None] for i in range(100, 0, -1)]
    update = cycle.next_state(previous, raw([], "red"), default_generators(), COLSPEC, 1000)
    assert len(update.state["messages"]) == 100
    assert update.state["messages"][0][2] == "Red flag"
    assert update.state["messages"][-1][2] == "m2"


def test_state_is_detached_from_the_plugin_objects():
    cars = [["7", "RUN", "GT3", "Ann", [100.0, ""]]]
    update = cycle.next_state(cycle.initial_state(), raw(cars), [], COLSPEC, 1)
    cars[0][1] = "PIT"
    cars[0][4][0] = 1.0
    assert update.state["cars"] == [["7", "RUN", "GT3", "Ann", [100.0, ""]]]


def test_text_is_the_json_of_the_state():
    import json
    update = cycle.next_state(cycle.initial_state(), raw([["1", "RUN", "A", "é", ""]]), [], COLSPEC, 1)
    assert json.loads(update.text) == update.state
    assert set(update.state) == {"cars", "session", "messages", "highlight"}


def test_extra_plugin_keys_are_kept_but_messages_are_ours():
    state = {"cars": [], "session": {"flagState": "green"}, "extra": 1, "messages": ["junk"], "highlight": ["x"]}
    update = cycle.next_state(cycle.initial_state(), state, [], COLSPEC, 1)
    assert update.state["extra"] == 1
    assert update.state["messages"] == [] and update.state["highlight"] == []


def test_decimals_serialise_as_numbers():
    update = cycle.next_state(cycle.initial_state(), raw([["1", "RUN", "A", "x", [Decimal("100.125"), ""]]]), [],
                              COLSPEC, 1)
    assert '[100.125,""]' in update.text


@pytest.mark.parametrize("bad, where", [
    ({"cars": [["1", object()]], "session": {}}, "state['cars'][0][1]"),
    ({"cars": [], "session": {"timeRemain": float("nan")}}, "state['session']['timeRemain']"),
    ({"cars": [], "session": {"t": {1, 2}}}, "state['session']['t']"),
])
def test_unserialisable_state_is_reported_with_its_path(bad, where):
    with pytest.raises(cycle.InvalidStateError) as error:
        cycle.next_state(cycle.initial_state(), bad, [], COLSPEC, 1)
    assert where in str(error.value)


@pytest.mark.parametrize("bad", [None, [], "state", {"cars": "x"}, {"cars": [], "session": []}])
def test_wrong_shapes_are_invalid(bad):
    with pytest.raises(cycle.InvalidStateError):
        cycle.next_state(cycle.initial_state(), bad, [], COLSPEC, 1)


def test_missing_keys_default_to_empty():
    update = cycle.next_state(cycle.initial_state(), {}, default_generators(), COLSPEC, 1)
    assert update.state["cars"] == [] and update.state["session"] == {}


def test_a_failing_generator_is_reported_and_the_others_run():
    class Broken(MessageGenerator):
        def process(self, old_state, new_state, colspec, timestamp):
            raise RuntimeError("boom")

    failures = []
    update = cycle.next_state(cycle.initial_state(), raw([], "red"), [Broken()] + default_generators(), COLSPEC, 5,
                              on_error=lambda generator, error: failures.append(str(error)))
    assert failures == ["boom"]
    assert update.new_messages == [[5, "Track", "Red flag", "red"]]


def test_a_state_that_contains_itself_is_one_clear_error():
    state = raw([["1", "RUN", "A", "x", ""]])
    state["session"]["state"] = state
    with pytest.raises(cycle.InvalidStateError) as error:
        cycle.next_state(cycle.initial_state(), state, default_generators(), COLSPEC, 1)
    message = str(error.value)
    # the service copies the top level, so the cycle closes one step later, at the session
    assert message == ("state is not JSON-serialisable: state['session']['state']['session'] "
                       "is the enclosing dict itself (the state contains itself)")
    assert len(message) < 300 and "\n" not in message


def test_a_list_that_contains_itself_is_found_by_its_path():
    cars = [["1", "RUN"]]
    cars[0].append(cars)
    assert cycle.find_problem({"cars": cars}) == \
        "state['cars'][0][2] is the enclosing list itself (the state contains itself)"


def test_nesting_too_deep_for_the_encoder_is_reported_without_recursing():
    deep = []
    for _ in range(5_000):  # deeper than the interpreter's recursion limit (1,000) lets the encoder go
        deep = [deep]
    with pytest.raises(cycle.InvalidStateError) as error:
        cycle.next_state(cycle.initial_state(), {"cars": [], "session": {"x": deep}}, [], COLSPEC, 1)
    message = str(error.value)
    assert f"nested more than {cycle.MAX_DEPTH} levels deep" in message
    assert message.startswith("state is not JSON-serialisable: state['session']['x'][0][0]")
    assert len(message) < 300


def test_a_value_shared_by_two_keys_is_not_a_cycle():
    shared = ["lap", 1.5]
    assert cycle.find_problem({"a": shared, "b": shared, "c": {"t": float("inf")}}) == \
        "state['c']['t'] is inf, which JSON cannot carry"


def test_bad_dict_keys_are_named():
    assert cycle.find_problem({"session": {("a", 1): 2}}) == "state['session'] has a key of type tuple (('a', 1))"
