"""`livetiming-analysis recording.zip [-o out.json]`: the v1 analysis file of a recording.

The recording is read under the `livetiming.untrusted` limits (options, else
LIVETIMING_MAX_*): one that breaks them is refused with one line."""
import argparse
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

from ..analysis.replay import analyse_recording
from ..atomic import write_atomically
from ..recording import RecordingError
from ..untrusted import Limits, LimitSettingError, add_limit_arguments, environment_of, limits_from_arguments, one_line
from .errors import fail

PROG = "livetiming-analysis"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Analyse a recording: write its v1 analysis file.")
    parser.add_argument("recording", help="a recording (.zip, or an in-progress recording directory)")
    parser.add_argument("-o", "--output", help="output file (default: the recording's name with .json)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_limit_arguments(parser)
    return parser


def output_path(recording: Path, output: Optional[str]) -> Path:
    if output:
        return Path(output)
    if recording.suffix == ".zip":
        return recording.with_suffix(".json")
    return recording.parent / (recording.name + ".json")


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:   # bad settings are refused here, in one line
        limits = limits_from_arguments(args)
    except LimitSettingError as error:
        return fail(PROG, str(error))
    recording = Path(args.recording)
    if not recording.exists():
        return fail(PROG, f"{recording} does not exist")
    target = output_path(recording, args.output)
    if target.resolve() == recording.resolve() or (args.output is None and target.name == "index.json"):
        return fail(PROG, f"the output would overwrite {target}; choose another with -o")
    show_progress = not args.quiet and sys.stderr.isatty()
    try:
        with _limits_in_environment(limits):
            if show_progress:
                analysis = _with_progress_bar(recording)
            else:
                analysis = analyse_recording(recording)
    except RecordingError as error:
        return fail(PROG, one_line(str(error)))
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        # the recording reads, but its content is not timing data the analyser understands
        return fail(PROG, one_line(f"{recording} cannot be analysed: {type(error).__name__}: {error}"))
    except KeyboardInterrupt:
        return fail(PROG, "interrupted; nothing written", 130)
    try:
        write_atomically(target, json.dumps(analysis))
    except OSError as error:
        return fail(PROG, f"cannot write {target}: {error.strerror}", 1)
    if not args.quiet:
        print(f"{target}", file=sys.stderr if show_progress else sys.stdout)
    return 0


@contextmanager
def _limits_in_environment(limits: Limits) -> Iterator[None]:
    """analyse_recording opens its reader with the environment's limits: the
    options reach it that way, for the time of the analysis."""
    changes = environment_of(limits)
    saved = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _with_progress_bar(recording: Path) -> dict:
    """A rich progress bar with rate and ETA, on stderr."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("[bold]analysing"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task("analysing", total=None, rate="")
        state = {"last": 0}

        def on_frame(done: int, total: int) -> None:
            if done - state["last"] >= 500 or done == total:
                state["last"] = done
                speed = progress.tasks[0].speed
                progress.update(task, completed=done, total=total,
                                rate=f"{speed:,.0f} frames/s" if speed else "")

        return analyse_recording(recording, on_frame)


if __name__ == "__main__":
    sys.exit(main())
