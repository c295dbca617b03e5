"""A race message (protocol.md §5 `messages`) with its kind carried as data.

On the wire a message is the list `[unix_seconds, category, text, style]`,
plus the car number (a string) for messages about one car. `RaceMessage` is
that list (a `list` subclass, so it serialises, compares and indexes exactly
as the wire form does and every reader of messages keeps working) with named
fields and a `kind` that our own generators set when they make it.

Consumers that treat messages differently by kind (the analysis leaves
driver changes out of the `messages` key and pit-lane messages out of
`car_messages`, protocol.md §6) ask `kind_of(message)`: a `RaceMessage`
answers with its kind; a plain wire list (from a recording, another service,
a plugin generator) is classified by `wire_kind`, the one home of the rules
that read a message's text and style.
"""
from enum import Flag
from typing import Any, Optional, Sequence

__all__ = ["MessageKind", "RaceMessage", "kind_of", "wire_kind", "DRIVER_CHANGE_TEXT",
           "PIT_LANE_STYLES"]

DRIVER_CHANGE_TEXT = "Driver change ("
"""A wire message whose text contains this is a driver change (protocol.md §6)."""

PIT_LANE_STYLES = frozenset({"pit", "out"})
"""Styles of wire messages about entering or leaving the pit lane (protocol.md §6)."""


class MessageKind(Flag):
    """What a message is about. A flag so that a wire message matching more
    than one text/style rule (say a `pit`-styled "Driver change (" text) has
    both kinds, as the rules read separately would give it."""

    OTHER = 0
    FLAG = 1            # the track's flag changed
    PIT_LANE = 2        # entered or left the pits, fuelling (styles pit, out)
    CAR_STATE = 4       # retired, slow or stopped, resumed
    DRIVER_CHANGE = 8
    FAST_LAP = 16       # personal or overall best
    RACE_CONTROL = 32


class RaceMessage(list):
    """`[timestamp, category, text, style(, car_number)]` that knows its kind.

    The car number is present (as a fifth element) only when it is not None.
    `to_wire()` gives the plain list; `from_wire()` builds one from a wire
    list, its kind worked out by `wire_kind`."""

    __slots__ = ("kind",)

    def __init__(self, timestamp: Any, category: Any, text: Any, style: Any,
                 car_number: Optional[str] = None, kind: MessageKind = MessageKind.OTHER):
        if car_number is None:
            super().__init__((timestamp, category, text, style))
        else:
            super().__init__((timestamp, category, text, style, car_number))
        self.kind = kind

    @property
    def timestamp(self) -> Any:
        return self[0]

    @property
    def category(self) -> Any:
        return self[1]

    @property
    def text(self) -> Any:
        return self[2]

    @property
    def style(self) -> Any:
        return self[3]

    @property
    def car_number(self) -> Optional[str]:
        return self[4] if len(self) > 4 else None

    def to_wire(self) -> list:
        """The plain list sent to clients."""
        return list(self)

    @classmethod
    def from_wire(cls, message: Sequence) -> "RaceMessage":
        """A message read from the wire (at least four items; a fifth is the
        car number, further items are dropped), its kind from `wire_kind`."""
        if isinstance(message, RaceMessage):
            return cls(*message[:5], kind=message.kind)
        if not isinstance(message, (list, tuple)) or len(message) < 4:
            raise ValueError(f"not a message: {message!r}")
        return cls(*message[:5], kind=wire_kind(message))

    def __repr__(self) -> str:
        return f"RaceMessage({list.__repr__(self)}, kind={self.kind})"

    def __reduce__(self):
        return (_rebuild, (list(self), self.kind))


def _rebuild(items: list, kind: MessageKind) -> RaceMessage:
    return RaceMessage(*items, kind=kind)


def wire_kind(message: Sequence) -> MessageKind:
    """The kind of a wire message, read from its text and style: the fallback
    for messages not made by our generators. A text containing "Driver change ("
    is a driver change; a `pit` or `out` style is the pit lane."""
    kind = MessageKind.OTHER
    if len(message) > 2 and DRIVER_CHANGE_TEXT in str(message[2]):
        kind |= MessageKind.DRIVER_CHANGE
    if len(message) > 3:
        style = message[3]
        if isinstance(style, str) and style in PIT_LANE_STYLES:
            kind |= MessageKind.PIT_LANE
    return kind


def kind_of(message: Sequence) -> MessageKind:
    """A message's kind: carried by a `RaceMessage`, else `wire_kind`."""
    if isinstance(message, RaceMessage):
        return message.kind
    return wire_kind(message)
