"""Reading car-row cells: the one home shared by message generators and analysis."""
import pytest

from livetiming.analysis.rows import Columns
from livetiming.protocol import Stat
from livetiming.protocol.rows import cell, cell_flag, cell_value, column_index, text
from livetiming.service.messages import CarView


@pytest.mark.parametrize("raw, value, flag", [
    ("7", "7", ""), ([100.5, "pb"], 100.5, "pb"), ((100.5, "sb-new"), 100.5, "sb-new"),
    ([100.5], 100.5, ""), ([], None, ""), ([1, None], 1, ""), (None, None, ""), (3, 3, ""),
])
def test_cell_value_and_flag(raw, value, flag):
    assert cell_value(raw) == value and cell_flag(raw) == flag
    assert cell([raw], 0) == value


def test_absent_cells_read_as_none():
    assert cell(["7"], 3) is None and cell(["7"], None) is None


@pytest.mark.parametrize("raw, shown", [(None, ""), (" Ann ", "Ann"), (7, "7"), (1.5, "1.5")])
def test_text(raw, shown):
    assert text(raw) == shown


def test_column_index_by_stat_and_heading_first_wins():
    colspec = [["Custom", "text"], Stat.NUM, ["Num", "text"], Stat.DRIVER, Stat.DRIVER]
    index = column_index(colspec)
    assert index[Stat.NUM] == 1 and index["Num"] == 1
    assert index[Stat.DRIVER] == 3 and index["Custom"] == 0 and Stat.CLASS not in index
    assert column_index(None) == {}


def test_generators_and_analysis_read_a_row_alike():
    colspec = [Stat.NUM, ["Extra", "text"], Stat.STATE, Stat.DRIVER, Stat.DRIVER, Stat.LAPS, Stat.LAST_LAP]
    rows = [["7", "x", ["PIT", "hint"], "Ann", "Bob", [12, ""], [100.5, "pb"]],
            [[8, ""], "y", "RUN"]]  # short row
    columns, index = Columns(colspec), column_index(colspec)
    for row in rows:
        view = CarView(row, index)
        assert columns.read(row) == tuple(view.get(stat) for stat in (
            Stat.NUM, Stat.STATE, Stat.DRIVER, Stat.LAPS, Stat.LAST_LAP))
    assert columns.driver == index[Stat.DRIVER] == 3
