"""One state update, as a pure function: the plugin's raw state plus the
previous state become the next published state (messages, highlight) and its
JSON text. The text is produced once and reused for saving, recording and
compressing; the stored state is a detached copy of it."""
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

import json
from decimal import Decimal

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
    except (TypeError, ValueError) as error:
        path = _find_unserialisable(state)
        where = f" at {path}" if path else ""
        raise InvalidStateError(f"state is not JSON-serialisable{where}: {error}") from None


_PLAIN = (str, int, float, bool, type(None))


def _find_unserialisable(value, path="state") -> Optional[str]:
    """Path of the first value JSON cannot carry, for a useful error message."""
    if isinstance(value, float):
        return path if value != value or value in (float("inf"), float("-inf")) else None
    if isinstance(value, _PLAIN):
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                return f"{path} (key {key!r})"
            found = _find_unserialisable(item, f"{path}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _find_unserialisable(item, f"{path}[{index}]")
            if found:
                return found
        return None
    try:
        json.dumps(value, default=_number)
        return None
    except (TypeError, ValueError):
        return f"{path} ({type(value).__name__})"
