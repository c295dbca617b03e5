"""Run `livetiming-service` with a plugin defined in a single file, without
installing it: tests write throw-away plugins (bad hooks, slow polls) and run
them as real processes.

    python plugin_runner.py PLUGIN_FILE [livetiming-service options]

The file's stem is the plugin name; it must define `Service`."""
import importlib.util
import sys
import textwrap
from pathlib import Path

PLUGIN = textwrap.dedent('''
    from livetiming.protocol import Stat
    from livetiming.service.base import BaseService


    class Service(BaseService):
        def getName(self):
            return "Test plugin"

        def getColumnSpec(self):
            return [Stat.NUM, Stat.STATE]

        def getPollInterval(self):
            return 1

        def getRaceState(self):
            return {"cars": [["1", "RUN"]], "session": {"flagState": "green"}}
''')
"""A working plugin; tests append methods to the class to break it."""


def plugin_file(directory: Path, name: str, extra: str = "") -> Path:
    """Write PLUGIN plus `extra` (indented class body lines) as `name`.py."""
    path = Path(directory) / f"{name}.py"
    path.write_text(PLUGIN + textwrap.indent(textwrap.dedent(extra), "    "))
    return path


def command(path: Path, *args: str) -> list:
    """The command line that runs the plugin at `path` with service options `args`."""
    return [sys.executable, __file__, str(path), *args]


def main() -> int:
    path = Path(sys.argv[1])
    module_name = f"livetiming.service.plugins.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    from livetiming.cli.service import main as service_main
    return service_main([path.stem, *sys.argv[2:]])


if __name__ == "__main__":
    sys.exit(main())
