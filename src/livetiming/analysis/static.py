"""Static data per car: `[class, team, car]`, taken when the car is first
seen (publish key `static`)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from .errors import AnalysisStateError

__all__ = ["StaticModule"]


def _value(value: Any) -> Optional[str]:
    """Static fields are strings or null (the web client's model types)."""
    if value is None:
        return None
    return value.strip() if isinstance(value, str) else str(value)


class StaticModule:
    """`{race_num: [class, team, car]}` in the order cars were first seen.

    The entry is taken at first sight; a field that was missing or empty then
    is filled in once the feed provides it (feeds often send names late), but
    a known value is never overwritten."""

    def __init__(self) -> None:
        self.entries: Dict[str, List[Optional[str]]] = {}
        self._incomplete: set = set()

    def update(self, num: str, klass: Any, team: Any, car: Any) -> bool:
        """Record what is known about `num`; True if the payload changed."""
        entry = self.entries.get(num)
        values = (_value(klass), _value(team), _value(car))
        if entry is None:
            self.entries[num] = list(values)
            if not all(values):
                self._incomplete.add(num)
            return True
        changed = False
        for index, value in enumerate(values):
            if value and not entry[index]:
                entry[index] = value
                changed = True
        if all(entry):
            self._incomplete.discard(num)
        return changed

    def needs_update(self, num: str) -> bool:
        """Whether a row for `num` can still change the payload (cheap test)."""
        return num not in self.entries or num in self._incomplete

    def payload(self) -> Dict[str, list]:
        return {num: list(entry) for num, entry in self.entries.items()}

    def dump(self) -> dict:
        return self.payload()

    @classmethod
    def load(cls, data: Any) -> "StaticModule":
        if not isinstance(data, dict):
            raise AnalysisStateError("static: expected an object")
        module = cls()
        for num, entry in data.items():
            if not isinstance(entry, list) or len(entry) != 3 or not all(
                    value is None or isinstance(value, str) for value in entry):
                raise AnalysisStateError(f"static[{num!r}]: expected [class, team, car]")
            module.entries[num] = list(entry)
            if not all(entry):
                module._incomplete.add(num)
        return module
