"""Settings of router components: from the component's `extra` (Crossbar
config or a standalone runner), else the environment, else a default — and
the one check every interval setting goes through."""
import math
from typing import Any, Optional

from .. import config

MIN_INTERVAL = 0.1
"""Shorter loops would only burn a core (tests use 0.5–1 s)."""


class SettingError(ValueError):
    """A component setting is unusable; the message names it."""


def component_setting(extra: Optional[dict], key: str, env: str, default: Any) -> Any:
    value = (extra or {}).get(key)
    if value is None:
        value = config.get(env)
    return default if value is None or value == "" else value


def positive_seconds(value: Any, name: str) -> float:
    """An interval in seconds: a finite number of at least MIN_INTERVAL."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise SettingError(f"{name} is not a number of seconds: {str(value)[:40]!r}") from None
    if not math.isfinite(seconds) or seconds < MIN_INTERVAL:
        raise SettingError(f"{name} must be a number of seconds of at least {MIN_INTERVAL}, not {value!r}")
    return seconds


def session_extra(session) -> dict:
    """A session's `extra`, always a dict."""
    extra = session.config.extra
    return extra if isinstance(extra, dict) else {}
