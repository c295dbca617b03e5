"""One state update, as a pure function: the plugin's raw state plus the
previous state become the next published state (messages, highlight) and its
JSON text. The text is produced once and reused for saving, recording and
compressing; the stored state is a detached copy of it."""
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, List, Optional, Sequence

from ..protocol import MAX_MESSAGES
from .messages import highlight_from, run_generators

INITIAL_STATE = {"cars": [], "session": {"flagState": "green"}, "messages": [], "highlight": []}


class InvalidStateError(ValueError):
    """The plugin returned a state that cannot be published."""


@dataclass
class Update:
    state: dict
    text: str
    new_messages: List[list]


def initial_state() -> dict:
    return json.loads(json.dumps(INITIAL_STATE))


def next_state(previous: dict, raw: dict, generators: Sequence, colspec: Sequence,
               timestamp: float, on_error: Optional[Callable] = None) -> Update:
    """Run the generators over previous → raw and build the state to publish."""
    if not isinstance(raw, dict):
        raise InvalidStateError(f"getRaceState() returned {type(raw).__name__}, expected a dict")
    cars = raw.get("cars", [])
    session = raw.get("session", {})
    if not isinstance(cars, (list, tuple)):
        raise InvalidStateError(f"state 'cars' is {type(cars).__name__}, expected a list")
    if not isinstance(session, dict):
        raise InvalidStateError(f"state 'session' is {type(session).__name__}, expected a dict")

    state = {key: value for key, value in raw.items() if key not in ("messages", "highlight")}
    state["cars"] = cars
    state["session"] = session
    new_messages = run_generators(generators, previous, state, colspec, timestamp, on_error)
    state["messages"] = (new_messages + list(previous.get("messages", [])))[:MAX_MESSAGES]
    state["highlight"] = highlight_from(new_messages)

    text = to_json(state)
    return Update(state=json.loads(text), text=text, new_messages=new_messages)


def _number(value):
    """Plugins that parse times as Decimal get them published as numbers."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def to_json(state: dict) -> str:
    """Serialise a state as clients expect it (no NaN, Decimals as numbers);
    raises InvalidStateError naming the offending value's path. The stdlib
    encoder is used because it measured twice as fast as simplejson here."""
    try:
        return json.dumps(state, allow_nan=False, separators=(",", ":"), default=_number, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError) as error:
        # RecursionError: nesting deeper than the encoder can go; ValueError
        # also covers a state that contains itself ("Circular reference").
        problem = find_problem(state)
        raise InvalidStateError(f"state is not JSON-serialisable: {problem or error}") from None


MAX_DEPTH = 100
"""Nesting reported as the problem when a state cannot be serialised (a
timing state is about five levels deep)."""

_PLAIN = (str, int, float, bool, type(None))
_LEAVE = object()  # marks, on the walk's stack, the end of a container's children


def find_problem(state) -> Optional[str]:
    """Why JSON cannot carry `state`, with the path of the first offending
    value, for a useful one-line error: a value of the wrong type, a
    container that contains itself, or nesting deeper than MAX_DEPTH. Walks
    with its own stack, so that no state can make it recurse too deep."""
    on_path = set()  # ids of the containers enclosing the value being looked at
    stack = [(state, ())]
    while stack:
        value, path = stack.pop()
        if value is _LEAVE:
            on_path.discard(path)
            continue
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                return f"{format_path(path)} is {value!r}, which JSON cannot carry"
            continue
        if isinstance(value, _PLAIN):
            continue
        if isinstance(value, (dict, list, tuple)):
            if id(value) in on_path:
                return f"{format_path(path)} is the enclosing {type(value).__name__} itself (the state contains itself)"
            if len(path) >= MAX_DEPTH:
                return f"{format_path(path)} is nested more than {MAX_DEPTH} levels deep"
            if isinstance(value, dict):
                for key in value:
                    if not isinstance(key, (str, int, float, bool)) and key is not None:
                        return f"{format_path(path)} has a key of type {type(key).__name__} ({key!r:.40})"
                items = list(value.items())
            else:
                items = list(enumerate(value))
            on_path.add(id(value))
            stack.append((_LEAVE, id(value)))
            stack.extend((item, (*path, key)) for key, item in reversed(items))
            continue
        try:
            json.dumps(value, default=_number)
        except (TypeError, ValueError, RecursionError):
            return f"{format_path(path)} is of type {type(value).__name__}, which JSON cannot carry"
    return None


def format_path(path: Sequence, limit: int = 8) -> str:
    """`state['cars'][0][1]`; long paths keep their first and last steps."""
    steps = [f"[{key!r:.40}]" for key in path]
    if len(steps) > 2 * limit:
        steps = [*steps[:limit], f"...({len(steps) - 2 * limit} more)...", *steps[-limit:]]
    return "state" + "".join(steps)
