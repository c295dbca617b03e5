"""Who a WAMP session speaks for.

Every timing service holds the same shared secret, so the secret alone
cannot tell one service from another. A service therefore announces its uuid
when it joins (WAMP-CRA `authextra: {"uuid": ...}`), and the authenticator
binds the session to it by giving it the auth id `<authid>@<uuid>`. From then
on the uuid travels with everything the session does: the authorizer reads it
to let the session publish and register only under its own uuid, and the
directory and the DVR read it (publisher disclosure) to accept a manifest or
a deregistration only from the service it names. This module is the one home
of that binding; everyone else imports it."""
import re
from typing import Optional

SEPARATOR = "@"
SERVICE_UUID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""A live service's uuid: 32 hex digits normally, any `--uuid`/`-s` name of
this shape. No `.` (a URI separator), `@` (ours) or `:` (recording suffixes)."""


class IdentityError(ValueError):
    """A session announced no usable uuid."""


def check_uuid(uuid) -> str:
    if not isinstance(uuid, str) or not SERVICE_UUID.match(uuid):
        raise IdentityError(f"a service uuid is 1-64 letters, digits, '-' or '_', not {str(uuid)[:80]!r}")
    return uuid


def bind(authid: str, uuid: str) -> str:
    """The auth id of a session bound to service `uuid`."""
    return f"{authid}{SEPARATOR}{check_uuid(uuid)}"


def bound_uuid(authid) -> Optional[str]:
    """The service uuid a session's auth id is bound to, or None."""
    if not isinstance(authid, str) or SEPARATOR not in authid:
        return None
    uuid = authid.rsplit(SEPARATOR, 1)[1]
    return uuid if SERVICE_UUID.match(uuid) else None


def announced_uuid(authextra) -> str:
    """The uuid a joining service announced in its authextra."""
    uuid = authextra.get("uuid") if isinstance(authextra, dict) else None
    if uuid is None:
        raise IdentityError("a service must announce its uuid when it joins (WAMP-CRA authextra {\"uuid\": ...})")
    return check_uuid(uuid)


def publisher_authid(details) -> Optional[str]:
    """The auth id of the session that actually published an event. A
    publisher may claim to forward for someone else (`forward_for`), which the
    router passes on unchecked; the router appends the real publisher last."""
    forward_for = getattr(details, "forward_for", None)
    if forward_for:
        last = forward_for[-1]
        return last.get("authid") if isinstance(last, dict) else None
    return getattr(details, "publisher_authid", None)


def speaks_for(details, uuid) -> bool:
    """True when the event's publisher is the session bound to `uuid`."""
    return isinstance(uuid, str) and bound_uuid(publisher_authid(details)) == uuid
