"""Drivers per car, in the order first seen (publish key `driver`); stints
refer to them by index."""
from __future__ import annotations

from typing import Any, Dict, List

from .errors import AnalysisStateError

__all__ = ["DriverModule", "UNKNOWN_DRIVER"]

UNKNOWN_DRIVER = -1


class DriverModule:
    """`{race_num: [names...]}` plus each car's current driver index.

    An empty driver cell (or no Driver column) leaves the current driver as
    it was: feeds blank the name briefly during driver changes."""

    def __init__(self) -> None:
        self.drivers: Dict[str, List[str]] = {}
        self.current: Dict[str, int] = {}
        self._current_name: Dict[str, str] = {}

    def update(self, num: str, name: str) -> bool:
        """Note that `name` drives `num` now; True if a new name was added."""
        names = self.drivers.get(num)
        if names is None:
            names = self.drivers[num] = []
            self.current[num] = UNKNOWN_DRIVER
            added = True
        else:
            added = False
        if not name or self._current_name.get(num) == name:
            return added
        self._current_name[num] = name
        try:
            self.current[num] = names.index(name)
        except ValueError:
            names.append(name)
            self.current[num] = len(names) - 1
            added = True
        return added

    def current_index(self, num: str) -> int:
        return self.current.get(num, UNKNOWN_DRIVER)

    def payload(self) -> Dict[str, List[str]]:
        return {num: list(names) for num, names in self.drivers.items()}

    def dump(self) -> dict:
        return {"drivers": self.payload(), "current": dict(self.current)}

    @classmethod
    def load(cls, data: Any) -> "DriverModule":
        if not isinstance(data, dict) or not isinstance(data.get("drivers"), dict) \
                or not isinstance(data.get("current"), dict):
            raise AnalysisStateError("driver: expected {drivers, current}")
        module = cls()
        for num, names in data["drivers"].items():
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise AnalysisStateError(f"driver[{num!r}]: expected a list of names")
            module.drivers[num] = list(names)
        for num, index in data["current"].items():
            names = module.drivers.get(num)
            if names is None or not isinstance(index, int) or isinstance(index, bool) \
                    or not UNKNOWN_DRIVER <= index < len(names):
                raise AnalysisStateError(f"driver current[{num!r}]: bad index {index!r}")
            module.current[num] = index
            if index >= 0:
                module._current_name[num] = names[index]
        return module
