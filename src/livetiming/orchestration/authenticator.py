"""The WAMP-CRA authenticator. It runs inside the router worker as a Crossbar
`function` authenticator: a plain function the router calls in-process, so
there is no procedure anyone could call to read a principal, no session that
could be killed, and a secret never leaves the router process.

Auth id `services` maps to role `services` with LIVETIMING_SHARED_SECRET;
more auth ids (roles `services`, `components` or `admin`) may come from the
JSON file named by LIVETIMING_AUTH_FILE. A `services` session must announce
its uuid and is bound to it (see `identity`). Auth ids `relay-…` are relays
reporting to the master, with a key from LIVETIMING_RELAY_KEY_FILE (see
`relay_keys`; role `relays`)."""
import json
import os
from pathlib import Path
from typing import Callable, Dict, Optional

from autobahn.wamp.exception import ApplicationError

from .identity import IdentityError, announced_uuid, bind
from .permissions import CREDENTIAL_ROLES, RELAYS, SERVICES
from .relay_keys import RelayKeyError, is_relay_authid, load_keys

NO_SUCH_ID = "livetiming.auth.no_such_id"
NO_UUID = "livetiming.auth.no_uuid"
CRA_KEYS = ("secret", "role", "salt", "iterations", "keylen")


class AuthConfigurationError(Exception):
    """The router cannot authenticate anyone: missing secret or bad auth file."""


def load_principals(shared_secret: Optional[str], auth_file: Optional[str] = None) -> Dict[str, dict]:
    """Auth id → WAMP-CRA principal (`secret`, `role`, optional salt parameters)."""
    if not shared_secret:
        raise AuthConfigurationError(
            "LIVETIMING_SHARED_SECRET is not set: refusing to run an authenticator without a secret")
    principals = {SERVICES: {"secret": shared_secret, "role": SERVICES}}
    if auth_file:
        principals.update(_read_auth_file(Path(auth_file)))
    return principals


def _read_auth_file(path: Path) -> Dict[str, dict]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        raise AuthConfigurationError(f"LIVETIMING_AUTH_FILE {path} cannot be read: {error}") from None
    if not isinstance(entries, dict):
        raise AuthConfigurationError(f"LIVETIMING_AUTH_FILE {path} must hold a JSON object of auth ids")
    principals = {}
    for authid, entry in entries.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("secret"), str) or not entry["secret"]:
            raise AuthConfigurationError(f"LIVETIMING_AUTH_FILE {path}: entry {authid!r} needs a secret and a role")
        if entry.get("role") not in CREDENTIAL_ROLES:
            raise AuthConfigurationError(f"LIVETIMING_AUTH_FILE {path}: entry {authid!r} has role "
                                         f"{entry.get('role')!r}; use one of {', '.join(CREDENTIAL_ROLES)}")
        principals[authid] = {key: entry[key] for key in CRA_KEYS if key in entry}
    return principals


def relay_principal(authid: str, key_file: Optional[str]) -> dict:
    """The principal of a reporting relay whose key is listed in `key_file`."""
    try:
        key = load_keys(key_file)[authid] if key_file else None
    except RelayKeyError as error:
        raise ApplicationError(NO_SUCH_ID, str(error)) from None
    except KeyError:
        key = None
    if key is None:
        raise ApplicationError(NO_SUCH_ID, "this relay's key is not listed by the master (LIVETIMING_RELAY_KEY_FILE)")
    return {"secret": key, "role": RELAYS}


def authenticate(principals: Dict[str, dict], realm: str, authid: str, details: Optional[dict] = None,
                 relay_key_file: Optional[str] = None) -> dict:
    """What Crossbar's WAMP-CRA needs to challenge `authid`; a `services`
    principal comes back bound to the uuid the session announced."""
    if is_relay_authid(authid):
        return relay_principal(authid, relay_key_file)
    try:
        principal = dict(principals[authid])
    except (KeyError, TypeError):
        raise ApplicationError(NO_SUCH_ID, f"no principal with authid '{authid}'") from None
    if principal["role"] == SERVICES:
        try:
            uuid = announced_uuid((details or {}).get("authextra"))
        except IdentityError as error:
            raise ApplicationError(NO_UUID, str(error)) from None
        principal["authid"] = bind(authid, uuid)
        principal["extra"] = {"uuid": uuid}
    return principal


def create_authenticator(config: dict, controller=None) -> Callable:
    """Crossbar's factory for a `function` authenticator (called once per
    router worker). Principals are read from the environment here, so a
    misconfigured router fails every login with the reason in its log."""
    principals = load_principals(os.environ.get("LIVETIMING_SHARED_SECRET"), os.environ.get("LIVETIMING_AUTH_FILE"))
    relay_key_file = os.environ.get("LIVETIMING_RELAY_KEY_FILE")

    def authenticator(realm: str, authid: str, details: Optional[dict] = None) -> dict:
        return authenticate(principals, realm, authid, details, relay_key_file)

    return authenticator
