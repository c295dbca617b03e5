"""`livetiming-rectool`: inspect, query, finalise and validate recordings.

    livetiming-rectool inspect FILE [--json]
    livetiming-rectool state-at FILE TIME [--indent N]
        (TIME: Unix seconds, or +H:MM:SS / +M:SS / +S from the start)
    livetiming-rectool finalise DIR ZIP [--force]
    livetiming-rectool validate FILE

FILE is a recording ZIP or an in-progress directory. Exit codes: 0 success,
1 `validate` found problems, 2 usage errors and files that are not readable
recordings or break a limit of safe reading (one line on stderr, never a
traceback). The limits (`--max-member-bytes`, `--max-recording-bytes`,
`--max-json-depth`; default the LIVETIMING_MAX_* variables) are those of
`livetiming.untrusted`.
"""
import argparse
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import List, Optional

from ..recording import RecordingError, RecordingReader, finalise_directory, validate
from ..untrusted import Limits, LimitSettingError, add_limit_arguments, limits_from_arguments, one_line
from .errors import FAILURE, USAGE_ERROR, fail

PROG = "livetiming-rectool"


class TimeArgumentError(ValueError):
    """TIME is neither Unix seconds nor a +H:MM:SS offset."""


def parse_time(text: str, start: float) -> float:
    """Unix seconds (`1713099600`, `1713099600.5`) or an offset from the
    recording's start: `+SS`, `+M:SS` or `+H:MM:SS` (seconds may have a fraction)."""
    text = text.strip()
    if text.startswith("+"):
        parts = text[1:].split(":")
        if not 1 <= len(parts) <= 3 or not all(parts):
            raise TimeArgumentError(f"invalid time offset {text!r} (use +H:MM:SS, +M:SS or +S)")
        try:
            numbers = [float(part) for part in parts]
        except ValueError:
            raise TimeArgumentError(f"invalid time offset {text!r} (use +H:MM:SS, +M:SS or +S)") \
                from None
        if any(number < 0 for number in numbers) or any(n >= 60 for n in numbers[1:]):
            raise TimeArgumentError(f"invalid time offset {text!r}")
        seconds = 0.0
        for number in numbers:
            seconds = seconds * 60 + number
        return start + seconds
    try:
        value = float(text)
    except ValueError:
        raise TimeArgumentError(f"invalid time {text!r} "
                                f"(Unix seconds or +H:MM:SS from the start)") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise TimeArgumentError(f"invalid time {text!r}")
    return value


def _iso(seconds: float) -> str:
    try:
        return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, ValueError, OSError):
        return "(not a date)"


def _number(value: float):
    return int(value) if float(value).is_integer() else value


def _clock(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def summary(recording: RecordingReader) -> dict:
    manifest = recording.manifest
    return {
        "path": str(recording.path),
        "inProgress": recording.in_progress,
        "uuid": manifest.get("uuid"),
        "name": manifest.get("name"),
        "description": manifest.get("description"),
        "serviceClass": manifest.get("serviceClass"),
        "version": manifest.get("version"),
        "startTime": recording.start_time,
        "firstFrame": recording.first_frame,
        "lastFrame": recording.last_frame,
        "duration": recording.duration,
        "frames": recording.frame_count,
        "keyframes": recording.keyframe_count,
        "intraframes": recording.intraframe_count,
        "size": recording.size,
        "manifest": manifest,
    }


def cmd_inspect(args: argparse.Namespace, limits: Limits) -> int:
    with RecordingReader(args.file, limits) as recording:
        info = summary(recording)
    if args.json:
        json.dump(info, sys.stdout, indent=2)
        print()
        return 0
    columns = info["manifest"].get("colSpec")
    columns = columns if isinstance(columns, list) else []
    lines = [
        ("file", f"{info['path']}" + (" (in progress)" if info["inProgress"] else "")),
        ("name", info["name"]),
        ("description", info["description"]),
        ("service", f"{info['serviceClass']} (uuid {info['uuid']})"),
        ("start", f"{_iso(info['startTime'])} ({_number(info['startTime'])})"),
        ("last frame", f"{_iso(info['lastFrame'])} ({info['lastFrame']})"),
        ("duration", f"{_clock(info['duration'])} ({info['duration']} s)"),
        ("frames", f"{info['frames']:,} ({info['keyframes']:,} keyframes, "
                   f"{info['intraframes']:,} intra-frames)"),
        ("columns", ", ".join(str(column[0]) for column in columns
                              if isinstance(column, list) and column) or "-"),
        ("size", f"{info['size']:,} bytes"),
    ]
    for label, value in lines:
        print(f"{label + ':':<13}{value if value is not None else '-'}")
    return 0


def cmd_state_at(args: argparse.Namespace, limits: Limits) -> int:
    with RecordingReader(args.file, limits) as recording:
        try:
            t = parse_time(args.time, recording.start_time)
        except TimeArgumentError as error:
            return fail(PROG, str(error))
        state = recording.state_at(t)
    json.dump(state, sys.stdout, indent=args.indent)
    print()
    return 0


def cmd_finalise(args: argparse.Namespace, limits: Limits) -> int:
    directory, target = Path(args.directory), Path(args.zip)
    if not directory.is_dir():
        return fail(PROG, f"{directory} is not a directory (an in-progress recording)")
    if target.exists() and not args.force:
        return fail(PROG, f"{target} exists (use --force to replace it)")
    if target.is_dir():
        return fail(PROG, f"{target} is a directory")
    finalise_directory(directory, target, limits)
    with RecordingReader(target, limits) as recording:
        print(f"{target}: {recording.frame_count:,} frames, duration {_clock(recording.duration)}")
    return 0


def cmd_validate(args: argparse.Namespace, limits: Limits) -> int:
    report = validate(args.file, limits)
    counts = (f"{report.frames:,} frames ({report.keyframes:,} keyframes, "
              f"{report.intraframes:,} intra-frames), duration {_clock(report.duration)}")
    if report.valid:
        print(f"{args.file}: valid: {counts}")
        return 0
    print(f"{args.file}: INVALID: {len(report.problems)} problem(s) in {counts}")
    for problem in report.problems:
        print(f"  - {one_line(problem)}")
    if report.unchecked:
        print(f"  ({report.unchecked:,} intra-frame(s) after broken frames could not be checked)")
    return FAILURE


class _Parser(argparse.ArgumentParser):
    """argparse, but errors use the one-line format of the other tools."""

    def error(self, message: str) -> None:
        self.print_usage(sys.stderr)
        sys.exit(fail(self.prog, message))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Inspect, query, finalise and validate "
                                            "live-timing recordings (ZIPs or in-progress "
                                            "directories).")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    limits = argparse.ArgumentParser(add_help=False)
    add_limit_arguments(limits)

    inspect = commands.add_parser("inspect", parents=[limits],
                                  help="manifest summary, duration, frame counts, size")
    inspect.add_argument("file", metavar="FILE")
    inspect.add_argument("--json", action="store_true", help="machine-readable output")
    inspect.set_defaults(handler=cmd_inspect)

    state_at = commands.add_parser("state-at", parents=[limits], help="the state at a time, as JSON")
    state_at.add_argument("file", metavar="FILE")
    state_at.add_argument("time", metavar="TIME",
                          help="Unix seconds, or +H:MM:SS / +M:SS / +S from the start")
    state_at.add_argument("--indent", type=int, default=None, help="pretty-print with N spaces")
    state_at.set_defaults(handler=cmd_state_at)

    finalise = commands.add_parser("finalise", aliases=["finalize"], parents=[limits],
                                   help="turn an in-progress directory into a recording ZIP")
    finalise.add_argument("directory", metavar="DIR")
    finalise.add_argument("zip", metavar="ZIP")
    finalise.add_argument("--force", action="store_true", help="replace ZIP if it exists")
    finalise.set_defaults(handler=cmd_finalise)

    check = commands.add_parser("validate", parents=[limits],
                                help="check every frame; exit 1 if any is broken")
    check.add_argument("file", metavar="FILE")
    check.set_defaults(handler=cmd_validate)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        limits = limits_from_arguments(args)
    except LimitSettingError as error:
        return fail(PROG, str(error), USAGE_ERROR)
    try:
        return args.handler(args, limits)
    except RecordingError as error:
        return fail(PROG, one_line(str(error)), USAGE_ERROR)
    except BrokenPipeError:  # output piped into e.g. head: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:
        return fail(PROG, f"{getattr(error, 'filename', None) or args.command}: "
                          f"{error.strerror or error}", USAGE_ERROR)


if __name__ == "__main__":
    sys.exit(main())
