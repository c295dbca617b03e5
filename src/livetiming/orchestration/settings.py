"""Settings of router components: from the component's `extra` (Crossbar
config or a standalone runner), else the environment, else a default."""
from typing import Any, Optional

from .. import config


def component_setting(extra: Optional[dict], key: str, env: str, default: Any) -> Any:
    value = (extra or {}).get(key)
    if value is None:
        value = config.get(env)
    return default if value is None or value == "" else value


def session_extra(session) -> dict:
    """A session's `extra`, always a dict."""
    extra = session.config.extra
    return extra if isinstance(extra, dict) else {}
