"""The timing-service runtime, and the historical import path of the plugin API.

Plugins written for the original livetiming-core do
``from livetiming.service import BaseService, DuePublisher, JSONFetcher, ...``,
so this is a regular package that exports those names (lazily, so that
importing a submodule such as ``livetiming.service.messages`` does not load
Twisted's web client or Autobahn). Each name is today's implementation, not a
copy: see the module each one comes from.

Plugins live in the namespace package ``livetiming.service.plugins``, which
every plugin distribution extends with a ``livetiming/service/plugins/<name>``
directory and no ``__init__.py`` above it. A regular package stops Python from
merging the ``livetiming/service`` directories of several distributions, so
``__path__`` below is extended with every ``service`` directory of the
``livetiming`` namespace (whose own path Python computes over ``sys.path`` and
the import hooks of editable installs); ``livetiming.service.plugins``, still a
namespace package, then gathers the ``plugins`` directory of each of them.
This directory stays first, so the runtime's own modules are always the ones
imported."""
import importlib
import os
import sys
from typing import Any, Dict, List, Tuple

_EXPORTS: Dict[str, Tuple[str, str]] = {
    "AbstractService": (".base", "AbstractService"),
    "BaseService": (".base", "BaseService"),
    "DuePublisher": (".due_publisher", "DuePublisher"),
    "Fetcher": (".fetcher", "Fetcher"),
    "JSONFetcher": (".fetcher", "JSONFetcher"),
    "MultiLineFetcher": (".fetcher", "MultiLineFetcher"),
    "Watchdog": (".watchdog", "Watchdog"),
    "ReconnectingWebSocketClientFactory": (".upstream", "ReconnectingWebSocketClientFactory"),
}
"""Historical name → (module, attribute) it is served from."""

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import an exported name on first use (PEP 562)."""
    try:
        module_name, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module_name, __name__), attribute)
    globals()[name] = value
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_EXPORTS))


def service_directories() -> List[str]:
    """Every ``livetiming/service`` directory on the import path: those of the
    ``livetiming`` namespace package (normal installs, ``.pth`` editable
    installs and the locations setuptools' editable import hooks report),
    de-duplicated, this package's own directory first."""
    own = os.path.dirname(os.path.abspath(__file__))
    found = [own]
    seen = {os.path.realpath(own)}
    parent = sys.modules.get("livetiming")
    roots = list(getattr(parent, "__path__", None) or [])
    roots += [os.path.join(entry, "livetiming") for entry in sys.path if isinstance(entry, str)]
    for root in roots:
        if not isinstance(root, str):
            continue
        candidate = os.path.join(root, "service")
        real = os.path.realpath(candidate)
        if real not in seen and os.path.isdir(candidate):
            seen.add(real)
            found.append(candidate)
    return found


def refresh_plugin_path() -> List[str]:
    """Recompute ``__path__`` in place (e.g. after a plugin was installed
    while this process runs); returns it. ``livetiming.service.plugins``
    follows, since a namespace package re-reads its parent's path."""
    __path__[:] = service_directories()
    importlib.invalidate_caches()
    return list(__path__)


refresh_plugin_path()
