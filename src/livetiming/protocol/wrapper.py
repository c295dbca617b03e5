"""The message wrapper every publish carries: `{msgClass, date, payload, retain?}`."""
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from .constants import MessageClass


class MalformedMessageError(ValueError):
    """A received wrapper does not have the shape of protocol.md §2."""


@dataclass
class Message:
    msg_class: MessageClass
    payload: Any = None
    date: Optional[int] = field(default=None)
    retain: bool = False

    def __post_init__(self):
        if self.date is None:
            self.date = int(time.time() * 1000)

    def serialise(self) -> dict:
        wrapper = {"msgClass": int(self.msg_class), "date": self.date, "payload": self.payload}
        if self.retain:
            wrapper["retain"] = True
        return wrapper

    @classmethod
    def parse(cls, wrapper: Any) -> "Message":
        """Validate and read a received wrapper; raises MalformedMessageError."""
        if not isinstance(wrapper, dict):
            raise MalformedMessageError(f"wrapper is not an object: {type(wrapper).__name__}")
        try:
            msg_class = MessageClass(wrapper["msgClass"])
        except KeyError:
            raise MalformedMessageError("wrapper has no msgClass") from None
        except (ValueError, TypeError):
            raise MalformedMessageError(f"unknown msgClass {wrapper.get('msgClass')!r}") from None
        date = wrapper.get("date")
        if date is not None and (isinstance(date, bool) or not isinstance(date, (int, float))):
            raise MalformedMessageError(f"date is not a number: {date!r}")
        return cls(
            msg_class=msg_class,
            payload=wrapper.get("payload"),
            date=int(date) if date is not None else None,
            retain=wrapper.get("retain") is True,
        )
