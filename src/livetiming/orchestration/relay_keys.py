"""Relay keys: what lets a relay be listed by the master.

The operator lists keys in LIVETIMING_RELAY_KEY_FILE (one per line; blank
lines and `#` comments ignored) and gives each relay one
(LIVETIMING_RELAY_KEY). A relay reports through a WAMP-CRA session whose
auth id is derived from its key and whose secret is the key itself, so the
key never crosses the network, and the master's authenticator needs no
other list. A relay without a valid key still relays; it is never listed."""
import hashlib
from pathlib import Path
from typing import Dict, Iterable

AUTHID_PREFIX = "relay-"
MIN_KEY_LENGTH = 16
MAX_KEY_FILE = 1024 * 1024


class RelayKeyError(ValueError):
    """A relay key or the key file is unusable; the message says why."""


def check_key(key: str) -> str:
    if not isinstance(key, str) or len(key) < MIN_KEY_LENGTH or any(c.isspace() for c in key):
        raise RelayKeyError(f"a relay key is at least {MIN_KEY_LENGTH} characters without white space")
    return key


def relay_authid(key: str) -> str:
    """The auth id a relay holding `key` reports as (names the key without revealing it)."""
    return AUTHID_PREFIX + hashlib.sha256(check_key(key).encode("utf-8")).hexdigest()[:24]


def is_relay_authid(authid) -> bool:
    return isinstance(authid, str) and authid.startswith(AUTHID_PREFIX)


def parse_keys(lines: Iterable[str]) -> Dict[str, str]:
    """{auth id: key} of the usable keys among `lines` (short ones are skipped)."""
    keys = {}
    for line in lines:
        key = line.strip()
        if not key or key.startswith("#"):
            continue
        try:
            keys[relay_authid(key)] = key
        except RelayKeyError:
            continue
    return keys


def load_keys(path) -> Dict[str, str]:
    """The key file, read again at each relay login so that operators add
    and revoke keys without restarting the master."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_KEY_FILE:
            raise RelayKeyError(f"LIVETIMING_RELAY_KEY_FILE {file} is larger than {MAX_KEY_FILE} bytes")
        return parse_keys(file.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError) as error:
        raise RelayKeyError(f"LIVETIMING_RELAY_KEY_FILE {file} cannot be read: {error}") from None
