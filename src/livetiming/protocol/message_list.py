"""A state's message list (newest first, at most MAX_MESSAGES): which of its
messages are new since the previous state. One rule, used wherever a state's
new messages are not known first-hand: the recording format (what an
intra-frame carries) and the analyser (offline replay)."""
from collections import Counter
from typing import Any, List

from .constants import MAX_MESSAGES

__all__ = ["new_messages"]


def _key(message: Any) -> Any:
    """A hashable stand-in for a message (messages normally hold primitives)."""
    key = tuple(message) if isinstance(message, (list, tuple)) else message
    try:
        hash(key)
    except TypeError:
        return repr(message)
    return key


def new_messages(previous: List[list], current: List[list]) -> List[list]:
    """The messages of `current` (newest first) not in `previous`, newest first.

    Whole messages are compared, not timestamps (reference quirk 4: two
    messages may share a second). The usual case, `current = new + previous`
    cut to MAX_MESSAGES, is recognised cheaply first: a suffix of `current`
    equal to a prefix of `previous` that is either all of `previous` or
    reaches the cap (so the rest fell off the end). Otherwise (a plugin
    replaced or reordered its list, or more than the cap arrived at once) the
    new ones are a multiset difference, in `current`'s order."""
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
