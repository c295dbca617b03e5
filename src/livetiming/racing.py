"""Historical import path of the racing vocabulary: plugins written for the
original livetiming-core do ``from livetiming.racing import Stat, FlagStatus``.
Both are today's `livetiming.protocol` classes (with `FlagStatus.fromString`
and `Stat.description`), not copies."""
from .protocol.flags import FlagStatus
from .protocol.stats import Stat

__all__ = ["FlagStatus", "Stat"]
