"""The CTD wire protocol: constants, the message wrapper and LZ-String."""
from .constants import MAX_MESSAGES, RPC, AnalysisKey, Channel, MessageClass, Realm
from .flags import FlagStatus
from .stats import Stat, colspec_to_json
from .wrapper import MalformedMessageError, Message

__all__ = [
    "MAX_MESSAGES", "RPC", "AnalysisKey", "Channel", "MessageClass", "Realm", "FlagStatus",
    "Stat", "colspec_to_json", "MalformedMessageError", "Message",
]
