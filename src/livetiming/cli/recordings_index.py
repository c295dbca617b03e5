"""`livetiming-recordings-index`: (re)build `index.json` in the recordings
directory; with GENERATE_ANALYSIS set (or `--generate-analysis`) also create
missing analysis files. Invalid files are warned about (one line each) and
skipped; the index is written for the others. Recordings are read under
the limits of `livetiming.untrusted` (options, else LIVETIMING_MAX_*)."""
import argparse
import sys
from pathlib import Path
from typing import List, Optional

from .. import config
from ..orchestration.catalogue import update_index
from ..untrusted import LimitSettingError, add_limit_arguments, limits_from_arguments, one_line
from .errors import FAILURE, fail

PROG = "livetiming-recordings-index"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Index the finished recordings in LIVETIMING_RECORDINGS_DIR (writes index.json).")
    parser.add_argument("-d", "--directory", help="the recordings directory (default: LIVETIMING_RECORDINGS_DIR)")
    parser.add_argument("--generate-analysis", action="store_true",
                        help="create missing analysis files (also: GENERATE_ANALYSIS set in the environment)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary (warnings are still shown)")
    add_limit_arguments(parser)
    return parser


def recordings_directory(option: Optional[str]) -> Path:
    """The directory to index; unlike config.directory() this never creates
    it: a missing directory is a mistake to report."""
    value = option or config.get("LIVETIMING_RECORDINGS_DIR")
    if value:
        return Path(value).expanduser()
    return config.data_home() / config.DEFAULT_DIRECTORIES["LIVETIMING_RECORDINGS_DIR"]


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    config.load_env_file()
    directory = recordings_directory(args.directory)
    if not directory.is_dir():
        return fail(PROG, f"the recordings directory {directory} does not exist (set LIVETIMING_RECORDINGS_DIR)")
    generate = args.generate_analysis or bool(config.get("GENERATE_ANALYSIS"))
    try:
        limits = limits_from_arguments(args)
    except LimitSettingError as error:
        return fail(PROG, str(error))
    try:
        report = update_index(directory, generate_analysis=generate, limits=limits)
    except OSError as error:
        return fail(PROG, f"cannot index {directory}: {error.strerror or error}", FAILURE)
    for _, reason in sorted(report.invalid.items()):
        print(f"{PROG}: warning: {one_line(reason)} (skipped)", file=sys.stderr)
    for filename, reason in sorted(report.analysis_failed.items()):
        print(f"{PROG}: warning: no analysis file for {one_line(filename)}: {one_line(reason)}", file=sys.stderr)
    if not args.quiet:
        print(f"{directory / 'index.json'}: {report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
