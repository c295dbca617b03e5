"""What a plugin's hooks must return: one checker per hook, and
`check_plugin()`, which asks every hook the plugin can answer at start-up.

A wrong type used to fail far from its cause and for ever: a string from
getPollInterval() made the poller and the manifest raise, so the service
never polled and retried its manifest every few seconds with a traceback.
Checked at start-up, it is one line naming the hook and what it returned."""
import math
from numbers import Real
from typing import Any, Callable, List, Sequence, Tuple

from ..protocol import Stat


class PluginHookError(ValueError):
    """A plugin hook returned something the service cannot use."""


class MissingHookError(PluginHookError):
    """A plugin lacks a hook every service needs."""


REQUIRED_HOOKS = ("getName", "getColumnSpec", "getRaceState")
"""Hooks without a default: a plugin that lacks one cannot run."""


def required(method: Callable) -> Callable:
    """Mark `AbstractService`'s placeholder for a required hook, so that a
    plugin which does not override it is found before it runs (the
    placeholder only raises NotImplementedError, and the manifest would be
    retried for ever)."""
    method.required_hook = True
    return method


def missing_hooks(service_class: type) -> List[str]:
    """The required hooks `service_class` does not implement, in REQUIRED_HOOKS order."""
    missing = []
    for hook in REQUIRED_HOOKS:
        method = getattr(service_class, hook, None)
        if not callable(method) or getattr(method, "required_hook", False):
            missing.append(hook)
    return missing


def check_implemented(service_class: type) -> None:
    """Raise MissingHookError naming the first required hook the plugin lacks.
    Checked on the class, before the plugin is built and starts fetching."""
    missing = missing_hooks(service_class)
    if missing:
        others = f" (nor {', '.join(name + '()' for name in missing[1:])})" if len(missing) > 1 else ""
        raise MissingHookError(f"{service_class.__name__} does not implement {missing[0]}(){others}, "
                               "which every service must provide")


def _wrong(hook: str, value: Any, expected: str) -> PluginHookError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return PluginHookError(f"{hook}() returned {shown} ({type(value).__name__}); it must return {expected}")


def text(hook: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _wrong(hook, value, "a string")
    return value


def poll_interval(value: Any, hook: str = "getPollInterval") -> Any:
    """Seconds between polls: a finite number above zero (True is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value <= 0:
        raise _wrong(hook, value, "a positive number of seconds")
    return value


def column_spec(hook: str, value: Any) -> Sequence:
    """A list of `Stat`s or `[heading, type]` / `[heading, type, description]` lists."""
    if not isinstance(value, (list, tuple)):
        raise _wrong(hook, value, "a list of Stat or [heading, type, description]")
    for index, column in enumerate(value):
        if isinstance(column, Stat):
            continue
        if not (isinstance(column, (list, tuple)) and 2 <= len(column) <= 3
                and all(isinstance(part, str) for part in column)):
            raise PluginHookError(f"{hook}() item {index} is {column!r:.60}; each column must be a Stat or "
                                  "[heading, type] / [heading, type, description] strings")
    return value


def track_data_spec(hook: str, value: Any) -> Sequence[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(name, str) for name in value):
        raise _wrong(hook, value, "a list of strings")
    return value


def message_generators(value: Any, hook: str = "getExtraMessageGenerators") -> List:
    """The plugin's extra generators as a list (None: none); each needs a process() method."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise _wrong(hook, value, "a list of MessageGenerator instances")
    for generator in value:
        if not callable(getattr(generator, "process", None)):
            raise PluginHookError(f"{hook}() holds {generator!r:.60}, which has no process() method "
                                  "(use a MessageGenerator instance)")
    return list(value)


def attribution(value: Any) -> Any:
    """The `attribution` class attribute: None, or [name, url_or_None]."""
    if value is None:
        return value
    if (not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 2 or not isinstance(value[0], str)
            or (len(value) == 2 and value[1] is not None and not isinstance(value[1], str))):
        raise PluginHookError(f"attribution is {value!r:.60}; it must be [name, url_or_None]")
    return value


HOOKS: Tuple[Tuple[str, Callable[[str, Any], Any]], ...] = (
    ("getName", text),
    ("getDefaultDescription", text),
    ("getColumnSpec", column_spec),
    ("getTrackDataSpec", track_data_spec),
    ("getPollInterval", lambda hook, value: poll_interval(value, hook)),
    ("getVersion", text),
)


def check_plugin(service) -> None:
    """Ask every hook the plugin can answer before it runs and raise
    PluginHookError for the first wrong answer. A hook that raises is not an
    error here: plugins may need upstream data first (the manifest is retried
    until they can answer)."""
    attribution(getattr(service, "attribution", None))
    for hook, check in HOOKS:
        try:
            value = getattr(service, hook)()
        except Exception:  # noqa: BLE001 - the plugin cannot answer yet; checked when it can
            continue
        check(hook, value)
    try:
        _ = service.generators  # builds (once) and checks getExtraMessageGenerators()
    except PluginHookError:
        raise
    except Exception:  # noqa: BLE001 - as above
        pass
