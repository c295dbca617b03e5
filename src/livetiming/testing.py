"""Checking a plugin without a network: for plugin authors' own tests and
for `livetiming-service PLUGIN --check`.

    from livetiming.testing import run_plugin, validate_state

    def test_my_plugin():
        run = run_plugin(Service, updates=5)
        assert run.errors == []

`validate_state(state, manifest)` is a pure function returning every
`Problem` of one state (what getRaceState() returned) against the manifest
(or the column spec). `run_plugin()` builds a plugin's `Service` on a
simulated clock (twisted.internet.task.Clock), starts it, lets its poll
interval pass `updates` times and validates every state it produced: the
plugin's own network fetches (if any) never complete there, so a plugin that
needs upstream data returns whatever it has before it arrives."""
import inspect
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, List, Optional, Sequence

from .protocol.flags import FlagStatus
from .protocol.stats import Stat
from .service import cycle

CAR_STATES = ("RUN", "PIT", "OUT", "STOP", "FIN", "FUEL", "RET", "N/S")
"""Car states clients know; other states are shown but only warned about."""

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a state. `kind` names the class of problem (one
    report per kind is enough: see `first_of_each_kind`); `row` is the index
    of the car's row in `cars` and `column` the column heading, where they
    apply; `update` the number of the update (from 0) in a run."""

    kind: str
    message: str
    severity: str = ERROR
    row: Optional[int] = None
    car: Optional[str] = None
    column: Optional[str] = None
    update: Optional[int] = None

    @property
    def location(self) -> str:
        parts = []
        if self.update is not None:
            parts.append(f"update {self.update}")
        if self.row is not None:
            parts.append(f"row {self.row}" + (f" (car {self.car})" if self.car not in (None, "") else ""))
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts) or "state"

    def __str__(self) -> str:
        return f"{self.severity}: {self.kind}: {self.location}: {self.message}"


def _columns(manifest_or_colspec: Any) -> List[list]:
    """[heading, type] pairs from a manifest (its `colSpec`) or a column
    spec (Stat members or lists)."""
    if isinstance(manifest_or_colspec, dict):
        colspec = manifest_or_colspec.get("colSpec", [])
    else:
        colspec = manifest_or_colspec or []
    columns = []
    for column in colspec:
        if isinstance(column, Stat):
            column = column.value
        column = list(column) if isinstance(column, (list, tuple)) else [str(column), "text"]
        columns.append([str(column[0]) if column else "?", column[1] if len(column) > 1 else "text"])
    return columns


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate_state(state: Any, manifest: Any) -> List[Problem]:
    """Every problem of `state` (as getRaceState() returns it, or as
    published) against `manifest` (a manifest dict or a column spec)."""
    problems: List[Problem] = []
    if not isinstance(state, dict):
        return [Problem("state-type", f"the state is a {type(state).__name__}, expected a dict")]
    json_problem = cycle.find_problem(state)
    if json_problem:
        problems.append(Problem("not-json", f"{json_problem}"))
    columns = _columns(manifest)
    headings = [heading for heading, _ in columns]
    num_index = headings.index(Stat.NUM.value[0]) if Stat.NUM.value[0] in headings else None
    state_index = headings.index(Stat.STATE.value[0]) if Stat.STATE.value[0] in headings else None

    cars = state.get("cars", [])
    if not isinstance(cars, (list, tuple)):
        problems.append(Problem("cars-type", f"'cars' is a {type(cars).__name__}, expected a list"))
        cars = []
    for row_number, row in enumerate(cars):
        if not isinstance(row, (list, tuple)):
            problems.append(Problem("row-type", f"the row is a {type(row).__name__}, expected a list",
                                    row=row_number))
            continue
        car = None
        if num_index is not None and num_index < len(row):
            car = str(_value(row[num_index]))
        if len(row) != len(columns):
            problems.append(Problem("row-length", f"the row has {len(row)} cells, the column spec "
                                                  f"{len(columns)} columns", row=row_number, car=car))
        for index, (heading, kind) in enumerate(columns[:len(row)]):
            cell = row[index]
            if kind == "time" and not _is_time_cell(cell):
                problems.append(Problem(
                    "time-cell", f"a 'time' column's cell must be [value, flag] (e.g. [101.2, \"pb\"] or "
                                 f"[\"\", \"\"]), not {cell!r:.60}", row=row_number, car=car, column=heading))
            if index == state_index:
                value = _value(cell)
                if value not in CAR_STATES:
                    problems.append(Problem(
                        "car-state", f"unknown car state {value!r:.40} (clients know {', '.join(CAR_STATES)})",
                        severity=WARNING, row=row_number, car=car, column=heading))

    session = state.get("session", {})
    if not isinstance(session, dict):
        problems.append(Problem("session-type", f"'session' is a {type(session).__name__}, expected a dict"))
    elif "flagState" in session:
        try:
            FlagStatus.from_string(session["flagState"])
        except ValueError:
            names = ", ".join(flag.to_string() for flag in FlagStatus)
            problems.append(Problem("flag-state", f"unknown flagState {session['flagState']!r:.40} "
                                                  f"(one of {names})"))
    else:
        problems.append(Problem("flag-state", "the session has no flagState", severity=WARNING))

    for number, message in enumerate(state.get("messages", []) or []):
        problem = message_problem(message)
        if problem:
            problems.append(Problem("message-shape", f"messages[{number}]: {problem}"))
    return problems


def message_problem(message: Any) -> Optional[str]:
    """Why `message` is not `[timestamp, category, text, style(, car)]`, or None."""
    if not isinstance(message, (list, tuple)) or len(message) not in (4, 5):
        return f"expected [timestamp, category, text, style(, car)], not {message!r:.80}"
    timestamp, category, text, style = message[:4]
    if not _is_number(timestamp) or not math.isfinite(timestamp):
        return f"the timestamp {timestamp!r:.40} is not a number"
    for name, value in (("category", category), ("text", text)):
        if not isinstance(value, str):
            return f"the {name} {value!r:.40} is not a string"
    if style is not None and not isinstance(style, str):
        return f"the style {style!r:.40} is not a string"
    return None


def _value(cell: Any) -> Any:
    return cell[0] if isinstance(cell, (list, tuple)) and cell else cell


def _is_time_cell(cell: Any) -> bool:
    return isinstance(cell, (list, tuple)) and len(cell) == 2 and isinstance(cell[1], str)


def first_of_each_kind(problems: Iterable[Problem]) -> List[Problem]:
    """One problem per kind (the first found), in the order found."""
    seen, first = set(), []
    for problem in problems:
        if problem.kind not in seen:
            seen.add(problem.kind)
            first.append(problem)
    return first


@dataclass
class Run:
    """What `run_plugin` saw: the published states, the new messages of
    each update, and every problem (`problems`; `errors` leaves out warnings)."""

    service: Any
    states: List[dict] = field(default_factory=list)
    raw_states: List[Any] = field(default_factory=list)
    messages: List[list] = field(default_factory=list)
    problems: List[Problem] = field(default_factory=list)

    @property
    def errors(self) -> List[Problem]:
        return [problem for problem in self.problems if problem.severity == ERROR]

    @property
    def manifest(self) -> dict:
        return self.service.manifest


def parse_args(service_class, argv: Sequence[str] = (), plugin: str = "plugin"):
    """`livetiming-service` options (and the plugin's own, from its
    `add_arguments`) parsed from `argv`: (args, extra arguments)."""
    from .service.options import build_parser

    parser = build_parser()
    add_arguments = getattr(service_class, "add_arguments", None)
    if callable(add_arguments):
        add_arguments(parser.add_argument_group("plugin options"))
        return parser.parse_args([plugin, *argv]), []
    return parser.parse_known_args([plugin, *argv])


def make_service(service_class, args=None, extra: Sequence[str] = (), reactor=None, plugin: str = "plugin"):
    """Build `service_class` as `livetiming-service` would, on `reactor` (a
    Clock by default), writing no state files and running no analysis.
    `args` is a parsed Namespace or a list of command-line arguments."""
    from twisted.internet.task import Clock

    from .service.throttle import LogThrottle

    reactor = reactor if reactor is not None else Clock()
    if args is None or isinstance(args, (list, tuple)):
        args, extra = parse_args(service_class, list(args or []), plugin)
    args.no_write_state = True
    args.disable_analysis = True
    try:
        accepts_reactor = "reactor" in inspect.signature(service_class.__init__).parameters
    except (TypeError, ValueError):
        accepts_reactor = False
    if accepts_reactor:
        service = service_class(args, list(extra), reactor=reactor)
    else:
        service = service_class(args, list(extra))
    if service.reactor is not reactor:  # a historical __init__ that does not pass the reactor on
        service.reactor = reactor
        service._throttle = LogThrottle(service.log, reactor.seconds)
    return service


def run_plugin(service_class=None, updates: int = 5, args=None, extra: Sequence[str] = (),
               service=None, start_time: Optional[float] = None) -> Run:
    """Run a plugin for `updates` updates on a simulated clock (or an
    already built `service` whose reactor is a Clock) and validate each.
    `args`: a Namespace or command-line arguments, e.g. `["--cars", "3"]`."""
    import time

    from twisted.internet.task import Clock

    from .service.hooks import poll_interval

    if service is None:
        clock = Clock()  # at the start time before the plugin is built: plugins note when they began
        clock.advance(time.time() if start_time is None else start_time)
        service = make_service(service_class, args, extra, reactor=clock)
    clock = service.reactor
    run = Run(service)
    manifest = None
    try:
        manifest = service.manifest
    except Exception as error:
        run.problems.append(Problem("manifest", f"the manifest cannot be built: {type(error).__name__}: {error}"))

    original_get = service.getRaceState
    original_after = service._after_update
    original_failed = service._generator_failed

    def get_race_state():
        number = len(run.raw_states)
        try:
            raw = original_get()
        except Exception as error:
            run.raw_states.append(None)
            run.problems.append(Problem("getRaceState-raised", f"{type(error).__name__}: {error}", update=number))
            raise
        run.raw_states.append(raw)
        spec = manifest if manifest is not None else service.getColumnSpec()
        for problem in validate_state(raw, spec):
            run.problems.append(_with_update(problem, number))
        return raw

    def after_update(update):
        if len(run.states) >= len(run.raw_states):
            # an update a push-driven plugin (auto_poll False, e.g. `replay`)
            # made without calling getRaceState(): validate what it published
            run.raw_states.append(update.state)
            spec = manifest if manifest is not None else service.getColumnSpec()
            for problem in validate_state(update.state, spec):
                run.problems.append(_with_update(problem, len(run.raw_states) - 1))
        run.states.append(update.state)
        run.messages.extend(update.new_messages)
        for number, message in enumerate(update.new_messages):
            problem = message_problem(message)
            if problem:
                run.problems.append(Problem("message-shape", f"new message {number}: {problem}",
                                            update=len(run.raw_states) - 1))
        return original_after(update)

    def generator_failed(generator, error):
        run.problems.append(Problem("generator-failed", f"{generator!r:.60} raised {type(error).__name__}: {error}",
                                    update=len(run.raw_states) - 1))
        return original_failed(generator, error)

    service.getRaceState = get_race_state
    service._after_update = after_update
    service._generator_failed = generator_failed
    try:
        interval = max(1, poll_interval(service.getPollInterval()))
    except Exception:
        interval = 10
    try:
        service.start()
    except Exception as error:
        run.problems.append(Problem("start-raised", f"start() raised {type(error).__name__}: {error}"))
        return run
    steps = 0
    while len(run.raw_states) < updates and steps < updates * 10:
        clock.advance(interval)
        steps += 1
    if not run.raw_states:
        run.problems.append(Problem("no-updates", f"getRaceState() was not called in {steps * interval:g}s "
                                                  "of simulated time"))
    try:
        service.stop()
    except Exception as error:
        run.problems.append(Problem("stop-raised", f"stop() raised {type(error).__name__}: {error}"))
    return run


def _with_update(problem: Problem, update: int) -> Problem:
    return Problem(problem.kind, problem.message, problem.severity, problem.row, problem.car, problem.column, update)
