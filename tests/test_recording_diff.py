"""The recording diff is dictdiffer's, exactly; the patch applies it as
dictdiffer.patch does, without touching its target."""
import copy
import json
import math

import dictdiffer
import pytest

from livetiming.recording import PatchError, diff, patch
from test_recording_support import demo_states, reference_states


def dictdiffer_json(first, second):
    """What the writer must store: dictdiffer's output made JSON-able."""
    return json.loads(json.dumps(list(dictdiffer.diff(first, second))))


def consecutive_pairs():
    """Every third pair of consecutive demo-race states (30 cars) and every
    second pair of the reference race: about 2,400 pairs."""
    demo = [state for _, state in demo_states()]
    race = [state for _, state in reference_states()]
    return list(zip(demo, demo[1:]))[::3] + list(zip(race, race[1:]))[::2]


def test_equal_to_dictdiffer_on_real_state_pairs():
    pairs = consecutive_pairs()
    assert len(pairs) > 2400
    operations = 0
    for previous, current in pairs:
        for key in ("cars", "session"):
            mine = diff(previous[key], current[key])
            assert mine == dictdiffer_json(previous[key], current[key])
            operations += len(mine)
    assert operations > 10000   # the pairs really differ


def test_equal_to_dictdiffer_on_distant_state_pairs():
    """Far-apart states: reordered fields, cars entering, many changes at once."""
    states = [state for _, state in demo_states()]
    race = [state for _, state in reference_states()]
    pairs = [(states[i], states[i + 97]) for i in range(0, len(states) - 97, 211)]
    pairs += [(race[0], race[5]), (race[5], race[0]), (race[100], race[2000]),
              (race[2000], race[100]), (states[0], race[-1]), (race[-1], states[-1])]
    for previous, current in pairs:
        for key in ("cars", "session"):
            assert diff(previous[key], current[key]) == dictdiffer_json(previous[key], current[key])


EDGE_CASES = [
    ({}, {}),
    ([], [[1, 2], [3, 4]]),                       # rows added at the root ""
    ([[1, 2], [3, 4], [5, 6]], [[1, 2]]),         # rows removed, highest index first
    ({"a": 1}, {"a": 1, "b": [1], "c": {"d": 2}}),
    ({"a": 1, "b": 2, "c": 3}, {"c": 3}),
    ({"a": {"b": {"c": 1}}}, {"a": {"b": {"c": 2}}}),       # dotted path a.b.c
    ({"a.b": 1}, {"a.b": 2}),                               # key with a dot: list path
    ({"a": {"x.y": 1}}, {"a": {"x.y": 2}}),
    ({"t": [1, 2]}, {"t": [1, 3]}),                          # ["t", 1]
    ({"": 1}, {"": 2}),                                      # empty key
    ([1, "a", None, True], [1.0, "b", None, 1]),             # 1 == 1.0 == True: no change
    ([0.1 + 0.2], [0.3]),                                    # within dictdiffer's epsilon
    ([1e-300], [2e-300]),
    ([float("nan")], [float("nan")]),
    ([float("nan")], [1.0]),
    ([{"a": 1}], [[1]]),                                     # type change: one change
    ([[1, 2]], ["1,2"]),
    ({"a": [1, {"b": [1, 2, 3]}]}, {"a": [1, {"b": [1, 5]}], "z": None}),
    ([["1", "RUN", [12.3, "pb"]]], [["1", "PIT", [12.3, "sb"]], ["2", "RUN", ["", ""]]]),
    ({"x": 1, "y": 2}, {"y": 2, "x": 1}),                    # key order alone: no diff
    ({"b": 1, "a": 2}, {"c": 3, "a": 1, "d": 4}),
]


@pytest.mark.parametrize("first, second", EDGE_CASES)
def test_edge_cases_equal_dictdiffer(first, second):
    mine = diff(first, second)
    assert json.dumps(mine) == json.dumps(dictdiffer_json(first, second))   # NaN-proof
    # and both patches agree (NaN aside, which never equals itself)
    expected = dictdiffer.patch(dictdiffer_json(first, second), copy.deepcopy(first))
    result = patch(mine, first)
    assert json.dumps(result) == json.dumps(expected)


def test_diff_values_are_copies():
    row = ["1", "RUN", [1.0, ""]]
    result = diff([], [row])
    row[2][0] = 99.0
    assert result == [["add", "", [[0, ["1", "RUN", [1.0, ""]]]]]]


def test_patch_leaves_target_untouched_and_shares_unchanged_parts():
    previous = [["1", "RUN", [1.0, ""]], ["2", "RUN", [2.0, ""]]]
    snapshot = copy.deepcopy(previous)
    result = patch([["change", [0, 2, 0], [1.0, 1.5]], ["change", [0, 1], ["RUN", "PIT"]]],
                   previous)
    assert previous == snapshot
    assert result == [["1", "PIT", [1.5, ""]], ["2", "RUN", [2.0, ""]]]
    assert result[1] is previous[1]            # unchanged row shared
    assert result[0] is not previous[0]


def test_patch_matches_dictdiffer_patch_on_real_pairs():
    for previous, current in consecutive_pairs()[::5]:
        for key in ("cars", "session"):
            operations = diff(previous[key], current[key])
            assert patch(operations, previous[key]) == current[key]
            assert patch(operations, previous[key], strict=True) == current[key]
            assert dictdiffer.patch(operations, previous[key]) == current[key]


def test_patch_string_paths_and_root():
    session = {"flagState": "green", "trackData": ["20", "30"], "a": {"b": 1}}
    result = patch([["change", "flagState", ["green", "sc"]],
                    ["change", ["trackData", 1], ["30", "31"]],
                    ["change", "a.b", [1, 2]],
                    ["add", "", [["lapsRemain", 5]]],
                    ["remove", "a", [["b", 2]]]], session)
    assert result == {"flagState": "sc", "trackData": ["20", "31"], "a": {}, "lapsRemain": 5}
    assert session == {"flagState": "green", "trackData": ["20", "30"], "a": {"b": 1}}


@pytest.mark.parametrize("operations, target", [
    ([["change", [5, 1], ["x", "y"]]], [["a", "b"]]),         # no row 5
    ([["change", "nokey.deeper", [1, 2]]], {"a": 1}),
    ([["remove", "", [[3, "x"]]]], ["a"]),
    ([["remove", "", [["b", 1]]]], {"a": 1}),
    ([["change", [0, "x"], [1, 2]]], [[1]]),                 # index not a number
    ([["frobnicate", "", []]], {}),
    ([["change", "a"]], {"a": 1}),                           # malformed operation
    ([["change", 5, [1, 2]]], {"a": 1}),                     # path neither str nor list
    ([["add", "a", [["b", 1]]]], {"a": 1}),                  # add into a number
    ("not a list", {}),
])
def test_patch_errors(operations, target):
    with pytest.raises(PatchError):
        patch(operations, target)


@pytest.mark.parametrize("operations, target", [
    ([["change", "a", [1, 2]]], {"a": 5}),                   # old value differs
    ([["change", "b", [1, 2]]], {"a": 1}),                   # dictdiffer would add b
    ([["add", "", [["a", 2]]]], {"a": 1}),                   # add overwrites
    ([["add", "", [[3, "x"]]]], ["a"]),                      # add skips ahead
    ([["remove", "", [[0, "b"]]]], ["a"]),                   # removes something else
])
def test_strict_patch_rejects_what_dictdiffer_tolerates(operations, target):
    patch(operations, target)   # lenient, like dictdiffer.patch
    with pytest.raises(PatchError):
        patch(operations, target, strict=True)


def test_strict_patch_accepts_epsilon_differences():
    assert patch([["change", [0], [0.3, 1.0]]], [0.1 + 0.2], strict=True) == [1.0]
    assert math.isnan(patch([["change", [0], [1, float("nan")]]], [1], strict=True)[0])
