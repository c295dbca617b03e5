"""Messages without a car number (publish key `messages`), and telling which
of a state's messages are new when the caller does not say (offline replay).

A message is `[unix_seconds, category, text, style, car_number?]`.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, List

from livetiming.protocol import MAX_MESSAGES

from .car import message_car
from .errors import AnalysisStateError

__all__ = ["MessagesModule", "new_messages_between", "clean_messages", "DRIVER_CHANGE"]

DRIVER_CHANGE = "Driver change ("


def clean_messages(messages: Any) -> List[list]:
    """Only well-formed messages (lists of at least four items), as lists;
    lists are not copied (this runs every update), so callers copy what they keep."""
    if not isinstance(messages, (list, tuple)):
        return []
    return [m if type(m) is list else list(m)  # noqa: E721 - exact type, cheaply
            for m in messages if isinstance(m, (list, tuple)) and len(m) >= 4]


def _key(message: list) -> Any:
    """A hashable stand-in for a message (messages normally hold primitives)."""
    key = tuple(message)
    try:
        hash(key)
    except TypeError:
        return repr(message)
    return key


def new_messages_between(previous: List[list], current: List[list]) -> List[list]:
    """The messages of `current` (newest first) not in `previous`, newest first.

    Whole messages are compared, not timestamps (quirk 4), as a multiset
    difference. The usual case, `current = new + previous` cut to
    MAX_MESSAGES, is recognised cheaply first: a suffix of `current` equal to
    a prefix of `previous` that is either all of `previous` or reaches the
    cap (so the rest fell off the end)."""
    if not previous:
        return list(current)
    length = len(current)
    full = length >= MAX_MESSAGES
    for count in range(length):  # count = how many new messages at the front
        overlap = length - count
        if (full or overlap == len(previous)) and current[count:] == previous[:overlap]:
            return current[:count]
    remaining = Counter(_key(m) for m in previous)
    new = []
    for message in current:
        key = _key(message)
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            new.append(message)
    return new


class MessagesModule:
    """Messages without a car number, newest first, leaving out driver-change
    texts (they belong to cars even when a feed forgets the number)."""

    def __init__(self) -> None:
        self._oldest_first: List[list] = []

    def add(self, messages: Iterable[list]) -> bool:
        """Add new messages (oldest first); True if any was kept."""
        added = False
        for message in messages:
            if message_car(message) is None and DRIVER_CHANGE not in str(message[2]):
                self._oldest_first.append(list(message))
                added = True
        return added

    def payload(self) -> dict:
        return {"messages": [list(m) for m in reversed(self._oldest_first)]}

    def dump(self) -> List[list]:
        return [list(m) for m in self._oldest_first]

    @classmethod
    def load(cls, data: Any) -> "MessagesModule":
        if not isinstance(data, list):
            raise AnalysisStateError("messages: expected a list")
        module = cls()
        module._oldest_first = clean_messages(data)
        if len(module._oldest_first) != len(data):
            raise AnalysisStateError("messages: malformed message")
        return module
