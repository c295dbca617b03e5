"""`livetiming-analysis recording.zip [-o out.json] [--csv DIR]`: the v1
analysis file of a recording, and its laps and stints as CSV for analysts.

The recording (or an analysis file given to --csv) is read under the
`livetiming.untrusted` limits (options, else LIVETIMING_MAX_*): one that
breaks them is refused with one line.

With `--csv DIR` the command writes `DIR/laps.csv` and `DIR/stints.csv`
(`livetiming.analysis.export`), and the analysis file only when `-o` asks for
it. From a recording, lap timestamps are those of the frames where each lap
was completed; from an analysis file (`<name>.json`), which keeps no time
per lap, that column is empty."""
import argparse
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

from ..analysis.export import ExportError, LapClock, check_analysis, csv_files
from ..analysis.replay import analyse_recording
from ..atomic import write_atomically
from ..recording import RecordingError
from ..untrusted import (
    Limits,
    LimitSettingError,
    UntrustedDataError,
    add_limit_arguments,
    environment_of,
    limits_from_arguments,
    load_json_file,
    one_line,
)
from .errors import fail

PROG = "livetiming-analysis"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Analyse a recording: write its v1 analysis file.")
    parser.add_argument("recording", help="a recording (.zip, or an in-progress recording directory); "
                                          "with --csv also an analysis file (.json)")
    parser.add_argument("-o", "--output", help="output file (default: the recording's name with .json; "
                                               "with --csv none unless given)")
    parser.add_argument("--csv", metavar="DIR", help="write DIR/laps.csv and DIR/stints.csv (DIR is created)")
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
    if recording.is_file() and recording.suffix.lower() == ".json":
        if not args.csv:
            return fail(PROG, f"{recording} is an analysis file: give --csv DIR to export it (analysis reads "
                              "recordings)")
        return export_analysis_file(recording, Path(args.csv), limits, args.quiet)
    if args.csv:
        return export_recording(recording, Path(args.csv), args.output, limits, args.quiet)
    target = output_path(recording, args.output)
    if target.resolve() == recording.resolve() or (args.output is None and target.name == "index.json"):
        return fail(PROG, f"the output would overwrite {target}; choose another with -o")
    show_progress = not args.quiet and sys.stderr.isatty()
    try:
        analysis = run_analysis(recording, limits, show_progress, analyse_recording)
        write_analysis(target, analysis)
    except AnalysisFailed as failed:
        return failed.code
    if not args.quiet:
        print(f"{target}", file=sys.stderr if show_progress else sys.stdout)
    return 0


class AnalysisFailed(Exception):
    """Said in one line already; `code` is the exit code."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def run_analysis(recording: Path, limits: Limits, show_progress: bool, analyse):
    """`analyse(recording, on_frame)` under the limits, with a progress bar
    when shown; AnalysisFailed once the reason it could not be done is said."""
    try:
        with _limits_in_environment(limits):
            return _with_progress_bar(recording, analyse) if show_progress else analyse(recording, None)
    except RecordingError as error:
        raise AnalysisFailed(fail(PROG, one_line(str(error)))) from None
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        # the recording reads, but its content is not timing data the analyser understands
        message = f"{recording} cannot be analysed: {type(error).__name__}: {error}"
        raise AnalysisFailed(fail(PROG, one_line(message))) from None
    except KeyboardInterrupt:
        raise AnalysisFailed(fail(PROG, "interrupted; nothing written", 130)) from None


def write_analysis(target: Path, analysis: dict) -> None:
    try:
        write_atomically(target, json.dumps(analysis))
    except OSError as error:
        raise AnalysisFailed(fail(PROG, f"cannot write {target}: {error.strerror}", 1)) from None


def export_analysis_file(path: Path, directory: Path, limits: Limits, quiet: bool) -> int:
    """--csv from an analysis file."""
    try:
        analysis = check_analysis(load_json_file(path, f"analysis file {path}", limits))
        files = csv_files(analysis)
    except (UntrustedDataError, ExportError) as error:
        return fail(PROG, one_line(f"{path}: {error}" if isinstance(error, ExportError) else str(error)))
    except OSError as error:
        return fail(PROG, f"cannot read {path}: {error.strerror or error}")
    return write_csv_files(directory, files, quiet)


def export_recording(recording: Path, directory: Path, output: Optional[str], limits: Limits, quiet: bool) -> int:
    """--csv from a recording: analyse it (noting when each lap was completed)
    and write the CSV files, and the analysis file when -o is given."""
    show_progress = not quiet and sys.stderr.isatty()

    def analyse(path: Path, on_frame) -> tuple:
        analysis, lap_times = analyse_with_lap_times(path, on_frame)
        return analysis, csv_files(analysis, lap_times)

    try:
        analysis, files = run_analysis(recording, limits, show_progress, analyse)
        if output:
            target = Path(output)
            if target.resolve() == recording.resolve():
                return fail(PROG, f"the output would overwrite {target}; choose another with -o")
            write_analysis(target, analysis)
            if not quiet:
                print(target)
    except AnalysisFailed as failed:
        return failed.code
    return write_csv_files(directory, files, quiet)


def analyse_with_lap_times(path: Path, on_frame=None) -> tuple:
    """`analyse_recording`, noting in the same pass, with a LapClock, when
    each car completed each lap: (analysis, lap times)."""
    clocks = []

    def observe(manifest: dict, second: int, state: dict) -> None:
        if not clocks:
            clocks.append(LapClock(manifest.get("colSpec")))
        clocks[0].observe(second, state)

    analysis = analyse_recording(path, on_frame, on_state=observe)
    return analysis, clocks[0].lap_times if clocks else {}


def write_csv_files(directory: Path, files: dict, quiet: bool) -> int:
    """Each file atomically (a spreadsheet open on the old one never sees a torn file)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            write_atomically(directory / name, text)
    except OSError as error:
        return fail(PROG, f"cannot write the CSV files in {directory}: {error.strerror or error}", 1)
    if not quiet:
        for name in files:
            print(directory / name)
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


def _with_progress_bar(recording: Path, analyse=analyse_recording):
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

        return analyse(recording, on_frame)


if __name__ == "__main__":
    sys.exit(main())
