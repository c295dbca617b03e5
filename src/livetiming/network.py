"""Historical import path of the wire vocabulary: ``from livetiming.network
import Realm, Channel, RPC, MessageClass, Message``. The constants are today's
(`livetiming.protocol.constants`); `Message` is today's wrapper with the
historical constructor and camelCase attribute."""
from typing import Any, Optional

from .protocol.constants import RPC, Channel, MessageClass, Realm
from .protocol.wrapper import Message as _Message

__all__ = ["RPC", "Channel", "Message", "MessageClass", "Realm"]


class Message(_Message):
    """`Message(msgClass, payload=None, retain=False, date=None)`;
    `serialise()` gives the wrapper dict, `Message.parse(dict)` reads one
    (raising `livetiming.protocol.MalformedMessageError`)."""

    def __init__(self, msgClass: MessageClass, payload: Any = None, retain: bool = False,
                 date: Optional[int] = None):
        super().__init__(msgClass, payload, date, retain)

    @property
    def msgClass(self) -> MessageClass:
        return self.msg_class

    @classmethod
    def parse(cls, wrapper: Any) -> "Message":
        parsed = _Message.parse(wrapper)
        return cls(parsed.msg_class, parsed.payload, retain=parsed.retain, date=parsed.date)
