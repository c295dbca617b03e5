"""Flag states. Integer values are ordered by severity: analysis compares them
(e.g. a lap's "worst flag") and files store them as integers."""
from enum import IntEnum


class UnknownFlagError(ValueError, KeyError):
    """A flag name that is not a FlagStatus. Both a ValueError (today's
    contract) and a KeyError (what plugins written against the historical
    ``FlagStatus.fromString``, an Enum lookup by name, may catch)."""

    def __str__(self) -> str:  # not KeyError's repr-quoted message
        return str(self.args[0]) if self.args else ""


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
            raise UnknownFlagError(f"unknown flag state {name!r}") from None

    @classmethod
    def fromString(cls, name: str) -> "FlagStatus":
        """The historical spelling of `from_string` (plugins call it)."""
        return cls.from_string(name)

    @classmethod
    def parse(cls, name, default: "FlagStatus" = None) -> "FlagStatus":
        """Lenient parse for real-world data: unknown names give `default` (NONE)."""
        try:
            return cls.from_string(name)
        except ValueError:
            return cls.NONE if default is None else default

    def to_string(self) -> str:
        return self.name.lower()
