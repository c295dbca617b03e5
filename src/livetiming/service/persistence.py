"""Saving and restoring a service's state (`LIVETIMING_STATE_DIR/<uuid>.json`)."""
from pathlib import Path

import simplejson




class StateFileError(Exception):
    """A state file given with -s cannot be used."""


def load_state(path: Path) -> dict:
    """A saved state; its file name (without extension) is the service UUID."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            state = simplejson.load(handle)
    except FileNotFoundError:
        raise StateFileError(f"state file {path} does not exist") from None
    except (OSError, ValueError) as error:
        raise StateFileError(f"state file {path} cannot be read: {error}") from None
    if not isinstance(state, dict) or not isinstance(state.get("cars", []), list):
        raise StateFileError(f"state file {path} does not hold a timing state")
    state.setdefault("cars", [])
    state.setdefault("session", {"flagState": "green"})
    state.setdefault("messages", [])
    state.setdefault("highlight", [])
    return state


def uuid_from_state_file(path: Path) -> str:
    return Path(path).stem
