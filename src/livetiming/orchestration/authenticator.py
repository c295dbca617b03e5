"""The dynamic WAMP-CRA authenticator (runs inside the router with role
`authenticator`). Auth id `services` maps to role `services` with
LIVETIMING_SHARED_SECRET; more ids may come from LIVETIMING_AUTH_FILE."""
import json
import os
from pathlib import Path
from typing import Dict, Optional

from autobahn.twisted.wamp import ApplicationSession
from autobahn.wamp.exception import ApplicationError
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

AUTHENTICATE = "livetiming.authenticate"
NO_SUCH_ID = "livetiming.auth.no_such_id"
SERVICES = "services"
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
    except (OSError, ValueError) as error:
        raise AuthConfigurationError(f"LIVETIMING_AUTH_FILE {path} cannot be read: {error}") from None
    if not isinstance(entries, dict):
        raise AuthConfigurationError(f"LIVETIMING_AUTH_FILE {path} must hold a JSON object of auth ids")
    principals = {}
    for authid, entry in entries.items():
        if not isinstance(entry, dict) or not entry.get("secret") or not entry.get("role"):
            raise AuthConfigurationError(f"LIVETIMING_AUTH_FILE {path}: entry {authid!r} needs a secret and a role")
        principals[authid] = {key: entry[key] for key in CRA_KEYS if key in entry}
    return principals


def authenticate(principals: Dict[str, dict], realm: str, authid: str, details: Optional[dict] = None) -> dict:
    """What Crossbar's dynamic WAMP-CRA needs to challenge `authid`."""
    try:
        return dict(principals[authid])
    except (KeyError, TypeError):
        raise ApplicationError(NO_SUCH_ID, f"no principal with authid '{authid}'") from None


class AuthenticatorSession(ApplicationSession):
    """Registers `livetiming.authenticate` inside the router."""

    log = Logger()

    @inlineCallbacks
    def onJoin(self, details):
        try:
            principals = load_principals(os.environ.get("LIVETIMING_SHARED_SECRET"),
                                         os.environ.get("LIVETIMING_AUTH_FILE"))
        except AuthConfigurationError as error:
            self.log.critical("{error}", error=error)
            raise
        yield self.register(lambda realm, authid, details=None: authenticate(principals, realm, authid, details),
                            AUTHENTICATE)
        self.log.info("Authenticator ready ({count} auth ids)", count=len(principals))
