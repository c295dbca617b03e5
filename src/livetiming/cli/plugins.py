"""`livetiming-plugins`: list installed timing-service plugins.

`-H` here is `--human` (the plugin API: "JSON, or -H for people"), while
`livetiming-service -H` is `--hidden`: the two commands share no options, so
both keep their documented short forms and each help text says which is
meant. `-u` is an unambiguous alias for `--human`."""
import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

from ..service.discovery import available_plugins, describe_plugin
from .errors import fail


def new(argv: List[str]) -> int:
    """`livetiming-plugins new NAME [--dir DIR]`: scaffold a plugin distribution."""
    from .scaffold import ScaffoldError, write_plugin

    parser = argparse.ArgumentParser(prog="livetiming-plugins new",
                                     description="Write a ready plugin distribution (pip install -e it).")
    parser.add_argument("name", help="plugin name: a Python module name, e.g. my_series")
    parser.add_argument("--dir", help="directory to write (default: ./livetiming-plugin-NAME)")
    args = parser.parse_args(argv)
    directory = Path(args.dir or f"livetiming-plugin-{args.name.replace('_', '-')}")
    try:
        write_plugin(args.name, directory)
    except ScaffoldError as error:
        return fail("livetiming-plugins", str(error))
    print(f"Plugin '{args.name}' written to {directory}. Next:\n  cd {directory}\n  pip install -e .\n"
          f"  pytest\n  livetiming-service {args.name} --check")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["new"]:
        return new(argv[1:])
    parser = argparse.ArgumentParser(prog="livetiming-plugins", description="List installed timing-service plugins "
                                     "(`livetiming-plugins new NAME [--dir DIR]` writes a new one).")
    parser.add_argument("-H", "-u", "--human", action="store_true",
                        help="human-readable output instead of JSON (not --hidden: that is livetiming-service -H)")
    args = parser.parse_args(argv)
    plugins = [describe_plugin(name) for name in available_plugins()]
    if args.human:
        if not plugins:
            print("No plugins installed.")
        for plugin in plugins:
            detail = plugin.get("error") or plugin.get("description", "")
            print(f"{plugin['name']:<20} {detail}")
    else:
        json.dump(plugins, sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
