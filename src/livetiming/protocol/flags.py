"""Flag states. Integer values are ordered by severity: analysis compares them
(e.g. a lap's "worst flag") and files store them as integers."""
from enum import IntEnum


class FlagStatus(IntEnum):
    NONE = 0
    GREEN = 1
    WHITE = 2
    CHEQUERED = 3
    YELLOW = 4
    FCY = 5
    CODE_60 = 6
    VSC = 7
    SC = 8
    CAUTION = 9
    RED = 10
    SLOW_ZONE = 11
    CODE_60_ZONE = 12

    @classmethod
    def from_string(cls, name: str) -> "FlagStatus":
        """Parse a state's `flagState` (case-insensitive); raises ValueError."""
        try:
            return cls[str(name).upper()]
        except KeyError:
            raise ValueError(f"unknown flag state {name!r}") from None

    @classmethod
    def parse(cls, name, default: "FlagStatus" = None) -> "FlagStatus":
        """Lenient parse for real-world data: unknown names give `default` (NONE)."""
        try:
            return cls.from_string(name)
        except ValueError:
            return cls.NONE if default is None else default

    def to_string(self) -> str:
        return self.name.lower()
