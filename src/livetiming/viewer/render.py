"""The screen as a rich renderable, from the pure models: header (title,
flag band, clock, age, track data), the timing table fitted to the width,
the latest messages, a status line. Height is shared out so that the table
keeps as many cars as it can and a few messages stay visible."""
import datetime
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from rich.console import Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from .model import COLUMN_GAP, Table, fit, header_model, message_lines, table_model

MESSAGES = 5
"""Messages shown under the table when the terminal is tall enough."""
HEADER_LINES = 3
"""Title, flag band, clock line."""


@dataclass(frozen=True)
class View:
    """Everything a frame of the screen depends on."""

    manifest: Mapping
    state: Optional[Mapping]
    now: float
    """Seconds since the epoch (minus the delay, when states are held back)."""
    updated_at: Optional[float] = None
    """The shown state's wrapper date, in seconds since the epoch."""
    columns: Optional[Sequence[str]] = None
    status: str = ""
    tz: Optional[datetime.tzinfo] = None


def line(content: str, style: str = "", width: Optional[int] = None, centre: bool = False) -> Text:
    shown = Text(content, style=style, no_wrap=True, overflow="ellipsis", end="\n")
    if width is not None:
        if centre:
            shown.align("center", width)
        else:
            shown.truncate(width, overflow="ellipsis", pad=bool(style))
    return shown


def rich_table(table: Table) -> RichTable:
    result = RichTable(box=None, padding=(0, COLUMN_GAP, 0, 0), pad_edge=False, show_edge=False,
                       header_style="bold", collapse_padding=True)
    for column in table.columns:
        result.add_column(column.heading, justify=column.justify, no_wrap=True, overflow="ellipsis")
    for row in table.rows:
        result.add_row(*(Text(cell.text, style=cell.style) for cell in row.cells), style=row.style or None)
    return result


def render(view: View, width: int, height: Optional[int] = None) -> RenderableType:
    """One frame of the screen for a terminal of `width` x `height` cells."""
    header = header_model(view.manifest, view.state, view.now, view.updated_at)
    title = header.title + (f" - {header.description}" if header.description else "")
    clock = "   ".join(part for part in (header.clock, header.age, header.track) if part)
    heading = Text.assemble((title, "bold"), (f"  {header.source}" if header.source else "", "dim"),
                            no_wrap=True, overflow="ellipsis", end="\n")
    heading.truncate(width, overflow="ellipsis")
    parts: list = [heading, line(header.flag_label, header.flag_style, width, centre=True),
                   line(clock, "", width)]
    table = fit(table_model(view.state or {}, view.manifest, view.columns), width)
    rows = len(table.rows)
    messages = MESSAGES
    if height is not None:
        fixed = HEADER_LINES + 1 + 1 + (1 if view.status else 0)  # + table heading + messages rule
        spare = height - fixed
        messages = max(0, min(MESSAGES, spare - rows, spare // 4 if spare - rows < MESSAGES else MESSAGES))
        rows = max(0, min(rows, spare - messages))
        if rows < len(table.rows):
            table = Table(table.columns, table.rows[:rows])
    parts.append(rich_table(table))
    if messages:
        parts.append(line("Messages", "bold underline", width))
        parts.extend(line(cell.text, cell.style, width) for cell in message_lines(view.state, messages, view.tz))
    if view.status:
        parts.append(line(view.status, "dim", width))
    return Group(*parts)
