"""Finding and loading timing-service plugins in the namespace package
`livetiming.service.plugins` (installed normally or editable)."""
import importlib
import pkgutil
from typing import List

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
    package = importlib.import_module(PLUGIN_PACKAGE)
    return sorted({m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")})


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
