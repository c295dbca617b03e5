"""`livetiming-plugins`: list installed timing-service plugins.

`-H` here is `--human` (the plugin API: "JSON, or -H for people"), while
`livetiming-service -H` is `--hidden`: the two commands share no options, so
both keep their documented short forms and each help text says which is
meant. `-u` is an unambiguous alias for `--human`."""
import argparse
import json
import sys
from typing import List, Optional

from ..service.discovery import available_plugins, describe_plugin


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="livetiming-plugins", description="List installed timing-service plugins.")
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
