"""`livetiming-service PLUGIN --check [--updates N]`: run a plugin without
any network on a simulated clock (livetiming.testing), validate every state
against the manifest and print the timing table it would publish."""
import time

from rich.console import Console
from rich.table import Table
from twisted.internet.task import Clock

from ..protocol.rows import cell_value, text
from ..service.options import CHECK_UPDATES
from ..testing import ERROR, first_of_each_kind, make_service, run_plugin
from .errors import FAILURE, fail

PROG = "livetiming-service"


def check(service_class, args, extra) -> int:
    updates = args.updates or CHECK_UPDATES
    clock = Clock()
    clock.advance(time.time())
    try:
        service = make_service(service_class, args, extra, reactor=clock, plugin=args.plugin)
    except Exception as error:
        return fail(PROG, f"plugin '{args.plugin}' failed to start: {type(error).__name__}: {error}", FAILURE)
    run = run_plugin(service=service, updates=updates)
    console = Console(highlight=False, soft_wrap=False, width=max(Console().width, 160))
    print_table(console, run)
    problems = first_of_each_kind(run.problems)
    counts = {}
    for problem in run.problems:
        counts[problem.kind] = counts.get(problem.kind, 0) + 1
    for problem in problems:
        more = counts[problem.kind] - 1
        suffix = f" ({more} more like it)" if more else ""
        print(f"{problem}{suffix}")  # one line each, never wrapped: people grep these
    errors = [problem for problem in problems if problem.severity == ERROR]
    warnings = len(problems) - len(errors)
    summary = (f"{args.plugin}: {len(run.raw_states)} updates checked, {len(errors)} kind(s) of problem, "
               f"{warnings} kind(s) of warning")
    print(summary)
    return FAILURE if errors else 0


def print_table(console, run) -> None:
    try:
        manifest = run.manifest
    except Exception:
        return
    state = next((raw for raw in reversed(run.raw_states) if isinstance(raw, dict)), None)
    title = f"{manifest.get('name', '')} — {manifest.get('description', '')}"
    table = Table(title=title)
    headings = [str(column[0]) if isinstance(column, list) and column else "?" for column in manifest["colSpec"]]
    for heading in headings:
        table.add_column(heading, overflow="fold")
    if state is not None:
        for row in state.get("cars", []) if isinstance(state.get("cars"), list) else []:
            if isinstance(row, (list, tuple)):
                table.add_row(*[cell_text(cell) for cell in list(row)[:len(headings)]])
        session = state.get("session")
        if isinstance(session, dict):
            table.caption = ", ".join(f"{key}: {value}" for key, value in session.items())
    console.print(table)
    for message in run.messages[:10]:
        console.print("  " + " | ".join(str(part) for part in message), markup=False)
    console.file.flush()


def cell_text(cell) -> str:
    try:
        return text(cell_value(cell))
    except Exception:
        return repr(cell)
