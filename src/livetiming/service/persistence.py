"""Saving and restoring a service's state (`LIVETIMING_STATE_DIR/<uuid>.json`).

A state file given with `-s` may come from anywhere, so it is read as
untrusted data (livetiming.untrusted: bounded size and nesting depth);
whatever is wrong with it is a StateFileError, which `livetiming-service`
reports in one line with exit code 2."""
from pathlib import Path
from typing import Optional

from ..untrusted import Limits, LimitSettingError, UntrustedDataError, load_json_file


class StateFileError(Exception):
    """A state file given with -s cannot be used."""


def load_state(path: Path, limits: Optional[Limits] = None) -> dict:
    """A saved state; its file name (without extension) is the service UUID.
    `limits` default to the environment's (LIVETIMING_MAX_JSON_BYTES, ..._DEPTH)."""
    path = Path(path)
    try:
        limits = limits if limits is not None else Limits.from_environment()
        state = load_json_file(path, f"state file {path}", limits)
    except FileNotFoundError:
        raise StateFileError(f"state file {path} does not exist") from None
    except OSError as error:
        raise StateFileError(f"state file {path} cannot be read: {error.strerror or error}") from None
    except (UntrustedDataError, LimitSettingError) as error:
        raise StateFileError(str(error)) from None
    if not isinstance(state, dict) or not isinstance(state.get("cars", []), list):
        raise StateFileError(f"state file {path} does not hold a timing state")
    state.setdefault("cars", [])
    state.setdefault("session", {"flagState": "green"})
    state.setdefault("messages", [])
    state.setdefault("highlight", [])
    return state


def uuid_from_state_file(path: Path) -> str:
    return Path(path).stem
