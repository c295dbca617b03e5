"""Session analysis: flag periods and the leader lap (publish key `session`)."""
from __future__ import annotations

from typing import Any, List, Optional

from .errors import AnalysisStateError

__all__ = ["SessionModule"]


class SessionModule:
    """Flag periods `[flag, start_lap, start_time, end_lap, end_time]`; the
    first opens at the first update, each flag change closes the open one at
    the current leader lap and time and opens the next (ending `null, null`)."""

    def __init__(self) -> None:
        self.flag_stats: List[list] = []
        self.leader_lap = 0

    def update(self, timestamp: Any, flag: int, leader_lap: int) -> bool:
        """Feed the flag and leader lap after an update; True if the payload
        changed (a flag change or a new leader lap)."""
        changed = False
        if leader_lap != self.leader_lap:
            self.leader_lap = leader_lap
            changed = True
        stats = self.flag_stats
        if not stats or stats[-1][0] != flag:
            if stats:
                stats[-1][3] = leader_lap
                stats[-1][4] = timestamp
            stats.append([flag, leader_lap, timestamp, None, None])
            changed = True
        return changed

    @property
    def flag(self) -> Optional[int]:
        return self.flag_stats[-1][0] if self.flag_stats else None

    def payload(self, current_timestamp: Any) -> dict:
        return {"currentTimestamp": current_timestamp,
                "flagStats": [list(period) for period in self.flag_stats],
                "leaderLap": self.leader_lap}

    def dump(self) -> dict:
        return {"flag_stats": [list(p) for p in self.flag_stats], "leader_lap": self.leader_lap}

    @classmethod
    def load(cls, data: Any) -> "SessionModule":
        module = cls()
        try:
            periods = data["flag_stats"]
            module.leader_lap = data["leader_lap"]
            if not isinstance(module.leader_lap, int) or isinstance(module.leader_lap, bool):
                raise TypeError(f"bad leader lap {module.leader_lap!r}")
            for period in periods:
                if not isinstance(period, list) or len(period) != 5 \
                        or not isinstance(period[0], int):
                    raise ValueError(f"bad flag period {period!r}")
                module.flag_stats.append(list(period))
        except (KeyError, TypeError, ValueError) as error:
            raise AnalysisStateError(f"session: {error}") from None
        return module
