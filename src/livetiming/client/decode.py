"""Reading what a server publishes: wrappers (protocol.md §2) into states,
listings and manifests. Everything here came over the network, so it is
parsed bounded (`untrusted.loads`) and checked for shape; what does not fit
raises DecodeError for the caller to log and skip."""
from typing import Any, List

from ..protocol import MalformedMessageError, Message, MessageClass
from ..protocol.lzstring import LZStringError, decompressFromUTF16
from ..untrusted import Limits, UntrustedDataError, loads

LIMITS = Limits(json_bytes=16 * 1024 * 1024, json_depth=32)
"""A 60-car state is about 24 KB of JSON; 16 MiB leaves room for anything real."""


class DecodeError(ValueError):
    """A received message is not a readable state, listing or manifest."""


def parse(wrapper: Any) -> Message:
    try:
        return Message.parse(wrapper)
    except MalformedMessageError as error:
        raise DecodeError(str(error)) from None


def decode_state(message: Message) -> dict:
    """The state dict of a SERVICE_DATA or SERVICE_DATA_COMPRESSED message
    (the latter decompressed from LZ-String UTF-16, then parsed)."""
    if message.msg_class == MessageClass.SERVICE_DATA_COMPRESSED:
        if not isinstance(message.payload, str):
            raise DecodeError("a compressed state's payload is not a string")
        try:
            text = decompressFromUTF16(message.payload)
            state = loads(text, "a compressed state", LIMITS)
        except (LZStringError, UntrustedDataError) as error:
            raise DecodeError(f"a compressed state does not decompress: {error}") from None
    elif message.msg_class == MessageClass.SERVICE_DATA:
        state = message.payload
    else:
        raise DecodeError(f"message class {message.msg_class.name} is not a state")
    if not isinstance(state, dict):
        raise DecodeError("a state is not an object")
    return state


def decode_listing(message: Message) -> List[dict]:
    """The manifests of a DIRECTORY_LISTING (those without a uuid are left out)."""
    if message.msg_class != MessageClass.DIRECTORY_LISTING:
        raise DecodeError(f"message class {message.msg_class.name} is not a directory listing")
    return manifests(message.payload)


def manifests(value: Any) -> List[dict]:
    """The manifests in a listing payload or a `listServices` answer."""
    if not isinstance(value, list):
        raise DecodeError("a directory listing is not a list")
    return [manifest for manifest in value if is_manifest(manifest)]


def is_manifest(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("uuid"), str) and bool(value["uuid"])
