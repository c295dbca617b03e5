"""Reading the cells of a car row (protocol.md §5): one home for the rules
that the message generators and the analysis both rely on.

* A cell is a primitive or a `[value, flag]` pair (a list or a tuple); its
  value is the pair's first element (None for an empty pair), its flag the
  second (`""` when there is none).
* A column is found through the colspec: by Stat for predefined columns and
  by heading for every column; the first column wins when a heading repeats.
* Absent columns and short rows read as None.
"""
from typing import Any, Dict, Optional, Sequence, Union

from .stats import Stat

__all__ = ["PAIR", "Colspec", "column_index", "cell", "cell_value", "cell_flag", "text"]

PAIR = (list, tuple)
"""The types of a `[value, flag]` cell (for `isinstance`)."""

Colspec = Sequence[Union[Stat, Sequence]]


def column_index(colspec: Optional[Colspec]) -> Dict[Any, int]:
    """Map each column to its index, keyed by Stat (for predefined columns)
    and by heading (for every column, so custom columns are reachable too).
    The first column wins when a heading repeats."""
    index: Dict[Any, int] = {}
    for i, column in enumerate(Stat.parse_colspec(colspec or [])):
        if isinstance(column, Stat):
            keys = (column, column.title)
        else:
            keys = (column[0],) if column else ()
        for key in keys:
            index.setdefault(key, i)
    return index


def cell_value(value: Any) -> Any:
    """A cell's value: the first element of a `[value, flag]` pair, else the cell."""
    if isinstance(value, PAIR):
        return value[0] if value else None
    return value


def cell_flag(value: Any) -> str:
    """A cell's flag (`pb`, `sb-new`, …), `""` when it has none."""
    if isinstance(value, PAIR) and len(value) > 1 and value[1] is not None:
        return str(value[1])
    return ""


def cell(row: Sequence, index: Optional[int]) -> Any:
    """The value of the cell at `index` (pairs unwrapped); None if absent."""
    if index is None or index >= len(row):
        return None
    value = row[index]
    if isinstance(value, PAIR):
        return value[0] if value else None
    return value


def text(value: Any) -> str:
    """Display text of a value: None becomes "", the rest is stripped str()."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return str(value).strip()
