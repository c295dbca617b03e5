"""Messages without a car number (publish key `messages`). Which of a state's
messages are new, when the caller does not say (offline replay), is
`livetiming.protocol.message_list.new_messages`.

A message is `[unix_seconds, category, text, style, car_number?]`; what it
is about is `livetiming.protocol.race_message.kind_of` (known as data for the
messages our generators make, read from the text for the others).
"""
from __future__ import annotations

from typing import Any, Iterable, List

from livetiming.protocol.race_message import DRIVER_CHANGE_TEXT, MessageKind, RaceMessage, kind_of

from .car import message_car
from .errors import AnalysisStateError

__all__ = ["MessagesModule", "clean_messages", "DRIVER_CHANGE"]

DRIVER_CHANGE = DRIVER_CHANGE_TEXT  # the wire rule, kept for importers: see `kind_of`


def clean_messages(messages: Any) -> List[list]:
    """Only well-formed messages (lists of at least four items), as lists;
    lists are not copied (this runs every update), so callers copy what they
    keep. A `RaceMessage` stays one, so that its kind is not lost."""
    if not isinstance(messages, (list, tuple)):
        return []
    return [m if type(m) is list or type(m) is RaceMessage else list(m)  # noqa: E721 - exact type, cheaply
            for m in messages if isinstance(m, (list, tuple)) and len(m) >= 4]


class MessagesModule:
    """Messages without a car number, newest first, leaving out driver changes
    (they belong to cars even when a feed forgets the number)."""

    def __init__(self) -> None:
        self._oldest_first: List[list] = []

    def add(self, messages: Iterable[list]) -> bool:
        """Add new messages (oldest first); True if any was kept."""
        added = False
        for message in messages:
            if message_car(message) is None and MessageKind.DRIVER_CHANGE not in kind_of(message):
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
