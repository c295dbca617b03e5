"""Finding and loading timing-service plugins in the namespace package
`livetiming.service.plugins` (installed normally or editable).

Plugins are found in the package's directories (see `livetiming.service`,
whose path spans every installed `livetiming/service` directory) and, for
editable installs that setuptools maps with an import hook instead of a
directory on `sys.path`, in those hooks' mappings: such a plugin imports
through the hook, but no directory lists it."""
import importlib
import os
import pkgutil
import sys
from typing import Iterable, List, Set

PLUGIN_PACKAGE = "livetiming.service.plugins"


class PluginError(Exception):
    """A plugin could not be used; the message is meant for the user."""


class UnknownPluginError(PluginError):
    def __init__(self, name: str, available: List[str]):
        hint = f" Installed plugins: {', '.join(available)}." if available else " No plugins are installed."
        super().__init__(f"Unknown plugin '{name}'.{hint}")
        self.name = name


class PluginLoadError(PluginError):
    """The plugin exists but failed to import or has no Service class."""


def available_plugins() -> List[str]:
    """Names of the installed plugins, sorted (imports nothing but the namespace)."""
    from . import refresh_plugin_path

    refresh_plugin_path()  # plugins installed since this process started count too
    package = importlib.import_module(PLUGIN_PACKAGE)
    names = _module_names(package.__path__) | _import_hook_plugins()
    return sorted(name for name in names if name.isidentifier() and not name.startswith("_"))


def _module_names(directories: Iterable[str]) -> Set[str]:
    return {module.name for module in pkgutil.iter_modules(list(directories))}


def _import_hook_plugins() -> Set[str]:
    """Plugins of editable installs made with setuptools' import hook: a
    meta-path finder whose module maps package names to directories
    (`MAPPING`) and namespace packages to theirs (`NAMESPACES`)."""
    prefix = PLUGIN_PACKAGE + "."
    names: Set[str] = set()
    for finder in sys.meta_path:
        module = sys.modules.get(getattr(finder, "__module__", None) or "")
        mapping = getattr(module, "MAPPING", None)
        namespaces = getattr(module, "NAMESPACES", None)
        if isinstance(mapping, dict):
            for package, location in mapping.items():
                if not isinstance(package, str) or not isinstance(location, str):
                    continue
                if package.startswith(prefix):
                    names.add(package[len(prefix):].split(".")[0])
                elif prefix.startswith(package + "."):  # an ancestor of the plugins package is mapped
                    below = PLUGIN_PACKAGE[len(package) + 1:].split(".")
                    names |= _module_names([os.path.join(location, *below)])
        if isinstance(namespaces, dict):
            locations = namespaces.get(PLUGIN_PACKAGE)
            if isinstance(locations, list):
                names |= _module_names(path for path in locations if isinstance(path, str))
    return names


def load_plugin(name: str) -> type:
    """The `Service` class of the plugin called `name`."""
    if not name or not name.isidentifier():
        raise UnknownPluginError(name, available_plugins())
    module_name = f"{PLUGIN_PACKAGE}.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name in (module_name, PLUGIN_PACKAGE):
            raise UnknownPluginError(name, available_plugins()) from None
        raise PluginLoadError(f"Plugin '{name}' could not be imported: {error}") from error
    except Exception as error:  # a plugin's own import-time failure
        raise PluginLoadError(f"Plugin '{name}' failed to import: {type(error).__name__}: {error}") from error
    service_class = getattr(module, "Service", None)
    if not isinstance(service_class, type):
        raise PluginLoadError(f"Plugin '{name}' ({module.__file__}) does not export a class named Service")
    return service_class


def describe_plugin(name: str) -> dict:
    """A plugin's listing entry: name, module, file and the first docstring line."""
    entry = {"name": name, "module": f"{PLUGIN_PACKAGE}.{name}"}
    try:
        service_class = load_plugin(name)
    except PluginError as error:
        entry["error"] = str(error)
        return entry
    module = importlib.import_module(entry["module"])
    entry["file"] = getattr(module, "__file__", None)
    doc = (service_class.__doc__ or module.__doc__ or "").strip()
    entry["description"] = doc.splitlines()[0] if doc else ""
    return entry
