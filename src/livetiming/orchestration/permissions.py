"""What each role on the realm may do: the one home of the router's access
rules. The Crossbar config (static permissions) and the dynamic authorizer
(per-service rules) are both built from the data here.

Roles:

* `anonymous` (the public): subscribe to `livetiming.` topics and call the
  documented client procedures, nothing else — no publish, no register, no
  `wamp.*` meta procedures.
* `services` (timing services, with the shared secret): bound to the uuid
  they announced at join (see `identity`); they publish their state and
  analysis and register their procedures under that uuid only, publish on
  CONTROL (disclosed, so the directory can check who speaks), subscribe like
  the public and call what the public may call. Decided per action by
  `authorize_service` through the dynamic authorizer.
* `components` (directory, DVR, catalogue, relays' monitors): anything under
  `livetiming.` except the authorizer's procedure.
* `authorizer`: may only register the authorizer procedure.
* `admin` (only through LIVETIMING_AUTH_FILE): everything, Crossbar's meta
  procedures included — for operators.
* `relays` (relays reporting to the master, with WAMP-CRA under a key from
  LIVETIMING_RELAY_KEY_FILE, see `relay_keys`): may only call the report
  procedure. A relay's data flows through an anonymous session.

On a relay's own router (`relay_realm_roles`) there are two roles: the public
(`anonymous`, the same rules as on the master) and `relay`, the relay
component, joined over the relay node's private socket, which re-publishes
and answers the client procedures and may count the relay's sessions.

Crossbar caches an authorization by (realm, role, URI, action), not by
session, so a decision that depends on the session's uuid must never be
cached; the others are."""
from dataclasses import dataclass
from typing import List, Optional, Tuple

from ..protocol import RPC, Channel
from .identity import bound_uuid

ANONYMOUS = "anonymous"
SERVICES = "services"
COMPONENTS = "components"
AUTHORIZER = "authorizer"
ADMIN = "admin"
RELAYS = "relays"
RELAY = "relay"
CREDENTIAL_ROLES = (SERVICES, COMPONENTS, ADMIN)
"""Roles a WAMP-CRA principal may have (the others come from a transport)."""

AUTHORIZE = "livetiming.authorize"
"""The dynamic authorizer procedure; the router itself is its only caller."""
PUBLIC_PREFIX = "livetiming."
RELAY_LIST = "livetiming.relays.list"
"""The master's relays and their client counts (the WAMP twin of `GET /relays`)."""
RELAY_REPORT = "livetiming.relays.report"
"""A relay's report of its public URL and client count (role `relays` only)."""
SESSION_COUNT = "wamp.session.count"
"""Crossbar's meta procedure a relay counts its clients with."""

CLIENT_PROCEDURES: Tuple[Tuple[str, str], ...] = (
    (RPC.REQUEST_STATE.format(""), "prefix"),
    (RPC.REQUEST_ANALYSIS_DATA.format(""), "prefix"),
    (RPC.LIVENESS_CHECK.format(""), "prefix"),
    (RPC.REQUEST_ANALYSIS_MANIFEST.format(""), "prefix"),
    (RPC.REQUEST_ANALYSIS_CAR_LIST.format(""), "prefix"),
    (RPC.DIRECTORY_LISTING, "exact"),
    (RPC.GET_RECORDINGS_PAGE, "exact"),
    (RPC.GET_RECORDINGS_NAMES, "exact"),
    (RPC.GET_RECORDINGS_MANIFEST, "exact"),
    (RPC.UPDATE_RECORDING_MANIFEST, "exact"),
    (RELAY_LIST, "exact"),
)
"""(URI, match) of every procedure the public may call: the read-only ones of
every service, the directory's, the catalogue's and the relay list. Relays
forward exactly these to their upstream."""

SERVICE_PROCEDURES = (RPC.LIVENESS_CHECK, RPC.REQUEST_STATE, RPC.REQUEST_ANALYSIS_DATA,
                      RPC.REQUEST_ANALYSIS_MANIFEST, RPC.REQUEST_ANALYSIS_CAR_LIST)
"""Procedures a service registers, each under its own uuid."""

def is_client_procedure(uri: str) -> bool:
    return any(uri == pattern or (match == "prefix" and uri.startswith(pattern) and len(uri) > len(pattern))
               for pattern, match in CLIENT_PROCEDURES)


def is_public_topic(uri: str) -> bool:
    return uri.startswith(PUBLIC_PREFIX)


def service_uuid_of(uri: str, action: str) -> Optional[str]:
    """The uuid a per-service URI belongs to (state and analysis topics,
    service procedures), or None for any other URI."""
    if action == "publish":
        if uri.startswith(Channel.ANALYSIS_PREFIX):
            uuid, _, key = uri[len(Channel.ANALYSIS_PREFIX):].partition("/")
            return uuid if key else None
        if uri.startswith(Channel.STATE_PREFIX):
            rest = uri[len(Channel.STATE_PREFIX):]
            return rest if rest and "." not in rest else None
    if action == "register":
        for template in SERVICE_PROCEDURES:
            prefix = template.format("")
            if uri.startswith(prefix) and "." not in uri[len(prefix):]:
                return uri[len(prefix):] or None
    return None


@dataclass(frozen=True)
class Decision:
    allow: bool
    cache: bool
    disclose: bool = False

    def as_dict(self) -> dict:
        """The shape Crossbar expects from a dynamic authorizer."""
        return {"allow": self.allow, "cache": self.cache, "disclose": self.disclose}


def authorize_service(authid, uri, action) -> Decision:
    """May a `services` session with this (bound) auth id do `action` on `uri`?"""
    if not isinstance(uri, str):
        return Decision(False, cache=False)
    if action == "subscribe":
        return Decision(is_public_topic(uri), cache=True)
    if action == "call":
        return Decision(is_client_procedure(uri), cache=True)
    if action == "publish" and uri == Channel.CONTROL:
        return Decision(True, cache=True, disclose=True)
    owner = service_uuid_of(uri, action)
    if owner is None:
        return Decision(False, cache=True)
    return Decision(owner == bound_uuid(authid), cache=False)


def _permission(uri: str, match: str = "exact", call: bool = False, register: bool = False,
                publish: bool = False, subscribe: bool = False, disclose: bool = False) -> dict:
    return {
        "uri": uri,
        "match": match,
        "allow": {"call": call, "register": register, "publish": publish, "subscribe": subscribe},
        "disclose": {"caller": False, "publisher": disclose},
        "cache": True,
    }


def _public_permissions() -> List[dict]:
    public = [_permission(PUBLIC_PREFIX, "prefix", subscribe=True)]
    return public + [_permission(uri, match, call=True) for uri, match in CLIENT_PROCEDURES]


def realm_roles() -> List[dict]:
    """The master realm's roles in Crossbar's config format."""
    return [
        {"name": ANONYMOUS, "permissions": _public_permissions()},
        {"name": SERVICES, "authorizer": AUTHORIZE},
        {"name": COMPONENTS, "permissions": [
            _permission(PUBLIC_PREFIX, "prefix", call=True, register=True, publish=True, subscribe=True),
            _permission(AUTHORIZE),
        ]},
        {"name": AUTHORIZER, "permissions": [_permission(AUTHORIZE, register=True)]},
        {"name": ADMIN, "permissions": [
            _permission("", "prefix", call=True, register=True, publish=True, subscribe=True),
        ]},
        {"name": RELAYS, "permissions": [_permission(RELAY_REPORT, call=True)]},
    ]


def relay_realm_roles() -> List[dict]:
    """A relay node's roles: the same public, and the relay component."""
    return [
        {"name": ANONYMOUS, "permissions": _public_permissions()},
        {"name": RELAY, "permissions": [
            _permission(PUBLIC_PREFIX, "prefix", call=True, register=True, publish=True, subscribe=True),
            _permission(SESSION_COUNT, call=True),
        ]},
    ]
