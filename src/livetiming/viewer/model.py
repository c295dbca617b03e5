"""The timing screen as data: the table (columns from the manifest's
colSpec, rows of (text, style) cells), the header and the latest messages.
Pure functions of the state, the manifest and the time they are given."""
import datetime
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional, Sequence, Tuple

from rich.cells import cell_len

from ..protocol.rows import PAIR, cell_flag, cell_value
from . import styles
from .format import format_age, format_delta, format_duration, format_numeric, format_time, is_number, text

COLUMN_GAP = 1
"""Spaces between two columns."""

IMPORTANCE = ("Num", "State", "Class", "Driver", "Laps", "Gap", "Last", "Best", "Int", "PIC", "Pits",
              "S1", "S2", "S3", "S4", "S5", "C.Gap", "C.Int", "T", "TS", "TA", "Spd", "PTP")
"""Columns in the order they are kept when the terminal is narrow; the
others (Team, Car, best sectors, speeds, custom columns...) go first."""

RIGHT_ALIGNED = ("time", "delta", "numeric")

RUNNING_FLAGS = frozenset({"green", "yellow", "fcy", "code_60", "vsc", "sc", "caution", "slow_zone",
                           "code_60_zone", "white"})
"""Flags under which the session clock runs between two updates."""


class ColumnError(ValueError):
    """`--columns` names a column the service does not have."""


@dataclass(frozen=True)
class Cell:
    text: str
    style: str = ""


@dataclass(frozen=True)
class Column:
    index: int
    """Position in the manifest's colSpec (and in each car row)."""
    heading: str
    kind: str
    """`text`, `class`, `time`, `delta`, `numeric` (or another type, shown as text)."""

    @property
    def justify(self) -> str:
        return "right" if self.kind in RIGHT_ALIGNED else "left"


@dataclass(frozen=True)
class Row:
    number: str
    cells: Tuple[Cell, ...]
    style: str = ""


@dataclass(frozen=True)
class Table:
    columns: Tuple[Column, ...]
    rows: Tuple[Row, ...]

    def widths(self) -> List[int]:
        """Each column's natural width (heading or widest cell, in terminal cells)."""
        return [max([cell_len(column.heading)] + [cell_len(row.cells[i].text) for row in self.rows])
                for i, column in enumerate(self.columns)]

    def only(self, keep: Sequence[int]) -> "Table":
        """The table with the columns at positions `keep` (positions in this table)."""
        return Table(tuple(self.columns[i] for i in keep),
                     tuple(Row(row.number, tuple(row.cells[i] for i in keep), row.style) for row in self.rows))


@dataclass(frozen=True)
class Header:
    title: str
    description: str
    flag_label: str
    flag_style: str
    clock: str
    """`Elapsed 0:23:42  Remaining 0:21:18` (or `12 laps`)."""
    age: str
    track: str
    source: str = ""
    extra: Tuple[str, ...] = field(default_factory=tuple)


# ----------------------------------------------------------------- columns


def columns_of(manifest: Mapping) -> List[Column]:
    columns = []
    for index, spec in enumerate(manifest.get("colSpec") or []):
        heading = text(spec[0]) if isinstance(spec, PAIR) and spec else text(spec)
        kind = text(spec[1]) if isinstance(spec, PAIR) and len(spec) > 1 else "text"
        columns.append(Column(index, heading, kind))
    return columns


def select_columns(columns: Sequence[Column], wanted: Optional[Sequence[str]]) -> List[Column]:
    """The columns named in `wanted` (headings, any case), in that order;
    all of them when `wanted` is None. ColumnError names the unknown ones."""
    if not wanted:
        return list(columns)
    by_heading = {}
    for column in columns:
        by_heading.setdefault(column.heading.lower(), column)
    unknown = [name for name in wanted if name.lower() not in by_heading]
    if unknown:
        raise ColumnError(f"no column {', '.join(unknown)}; this service has: "
                          f"{', '.join(column.heading for column in columns)}")
    return [by_heading[name.lower()] for name in wanted]


# ------------------------------------------------------------------- cells


def cell_of(value: Any, kind: str) -> Cell:
    """A car row's cell as shown: text by the column's type, style by the
    time flag (`time`) or the class colour (`class`)."""
    raw = cell_value(value)
    if kind == "time":
        return Cell(format_time(raw), styles.TIME_FLAGS.get(cell_flag(value), ""))
    if kind == "class":
        shown = text(raw)
        return Cell(shown, styles.class_style(shown))
    if kind == "delta":
        return Cell(format_delta(raw))
    if kind == "numeric":
        return Cell(format_numeric(raw))
    return Cell(text(raw))


def table_model(state: Mapping, manifest: Mapping, wanted: Optional[Sequence[str]] = None) -> Table:
    """The timing table of a state: one row per car, in the state's order."""
    all_columns = columns_of(manifest)
    columns = select_columns(all_columns, wanted)
    by_heading = {column.heading: column.index for column in reversed(all_columns)}
    number_at, state_at = by_heading.get("Num"), by_heading.get("State")
    highlight = {text(number) for number in state.get("highlight") or [] if not isinstance(number, PAIR)}
    rows = []
    for car in state.get("cars") or []:
        if not isinstance(car, PAIR):
            continue
        number = text(cell_value(car[number_at])) if number_at is not None and number_at < len(car) else ""
        car_state = text(cell_value(car[state_at])).upper() if state_at is not None and state_at < len(car) else ""
        cells = []
        for column in columns:
            cell = cell_of(car[column.index] if column.index < len(car) else None, column.kind)
            if column.index == state_at:
                cell = Cell(cell.text, styles.CAR_STATE_CELLS.get(car_state, ""))
            elif column.index == number_at and number in highlight:
                cell = Cell(cell.text, styles.HIGHLIGHT)
            cells.append(cell)
        rows.append(Row(number, tuple(cells), styles.CAR_STATE_ROWS.get(car_state, "")))
    return Table(tuple(columns), tuple(rows))


def fit(table: Table, width: int) -> Table:
    """The table without its least important columns until it fits `width`
    terminal cells (at least one column is kept; rich truncates that)."""
    keep = list(range(len(table.columns)))
    widths = table.widths()

    def rank(position: int) -> tuple:
        heading = table.columns[position].heading
        return (IMPORTANCE.index(heading) if heading in IMPORTANCE else len(IMPORTANCE), position)

    while len(keep) > 1 and sum(widths[i] for i in keep) + COLUMN_GAP * (len(keep) - 1) > width:
        keep.remove(max(keep, key=rank))
    return table.only(keep)


# ------------------------------------------------------------------ header


def header_model(manifest: Mapping, state: Optional[Mapping], now: float, updated_at: Optional[float]) -> Header:
    """The header for a state received with wrapper date `updated_at`
    (seconds since the epoch), seen at `now`. While the session runs the
    clock moves on from the state's times by the age of the update."""
    session = (state or {}).get("session") or {}
    flag = text(session.get("flagState")).lower() or "none"
    label, style = styles.flag_band(flag)
    age = None if updated_at is None else max(0.0, now - updated_at)
    ticking = age if flag in RUNNING_FLAGS and age is not None else 0.0
    parts = []
    elapsed = session.get("timeElapsed")
    if is_number(elapsed):
        parts.append(f"Elapsed {format_duration(elapsed + ticking)}")
    laps, remain = session.get("lapsRemain"), session.get("timeRemain")
    if is_number(laps):
        parts.append(f"Remaining {format_numeric(laps)} lap{'' if laps == 1 else 's'}")
    elif is_number(remain):
        parts.append(f"Remaining {format_duration(max(0.0, remain - ticking))}")
    track_names = manifest.get("trackDataSpec") or []
    track_values = session.get("trackData") or []
    track = "  ".join(f"{text(name)} {text(value)}" for name, value in zip(track_names, track_values)
                      if isinstance(track_values, list))
    source = manifest.get("source")
    source_text = text(source[0]) if isinstance(source, PAIR) and source else ""
    return Header(
        title=text(manifest.get("name")),
        description=text(manifest.get("description")),
        flag_label=label,
        flag_style=style,
        clock="  ".join(parts),
        age=f"Updated {format_age(age)} ago" if age is not None else "Waiting for data",
        track=track,
        source=source_text.replace("&copy;", "©"),
    )


# ---------------------------------------------------------------- messages


def message_lines(state: Optional[Mapping], count: int, tz: Optional[datetime.tzinfo] = None) -> List[Cell]:
    """The newest `count` messages (newest first) as `HH:MM:SS Category Text`,
    styled by message style; times in `tz` (None: local time)."""
    lines = []
    for message in ((state or {}).get("messages") or [])[:max(0, count)]:
        if not isinstance(message, PAIR) or len(message) < 3:
            continue
        stamp = ""
        if is_number(message[0]):
            try:
                stamp = datetime.datetime.fromtimestamp(message[0], tz).strftime("%H:%M:%S")
            except (OverflowError, OSError, ValueError):
                stamp = ""
        style = message[3] if len(message) > 3 and isinstance(message[3], str) else ""
        lines.append(Cell(f"{stamp} {text(message[1])}: {text(message[2])}".strip(), styles.MESSAGES.get(style, "")))
    return lines
