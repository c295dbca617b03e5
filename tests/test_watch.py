"""The terminal viewer's pure parts, checked on the reference race's
states cell by cell: texts and styles of every time cell, car-state rows,
class colours, flag bands, the header clock, fitting a width, the rendered
frame's text and styles, the delay buffer, the choice of service and the
command line's classification of URLs."""
import argparse
import datetime
import sys

import pytest
from rich.console import Console

from livetiming.cli.watch import UsageError, build_parser, classify
from livetiming.viewer import styles
from livetiming.viewer.choose import choose_service, describe
from livetiming.viewer.delay import DelayBuffer
from livetiming.viewer.format import format_age, format_delta, format_duration, format_time
from livetiming.viewer.model import (
    Cell,
    ColumnError,
    columns_of,
    fit,
    header_model,
    message_lines,
    select_columns,
    table_model,
)
from livetiming.viewer.render import View, render
from reference_race import iter_frames, load_manifest

UTC = datetime.timezone.utc


@pytest.fixture(scope="module")
def manifest():
    return load_manifest()


@pytest.fixture(scope="module")
def frames():
    return dict(iter_frames())


def row_of(table, number):
    return next(row for row in table.rows if row.number == number)


def cell(table, number, heading):
    index = [column.heading for column in table.columns].index(heading)
    return row_of(table, number).cells[index]


# ------------------------------------------------------------------ format


@pytest.mark.parametrize("value, shown", [(100.966, "1:40.966"), (30.953, "30.953"), (45.0, "45.000"),
                                          (59.9996, "1:00.000"), (3723.5, "62:03.500"), ("", ""), (None, ""),
                                          ("DNF", "DNF"), (0, "0.000")])
def test_format_time(value, shown):
    assert format_time(value) == shown


def test_format_delta_duration_age():
    assert format_delta(1.5) == "1.500" and format_delta("1 lap") == "1 lap" and format_delta(None) == ""
    assert format_duration(3723.9) == "1:02:03" and format_duration(65) == "1:05" and format_duration("x") == ""
    assert format_age(0.4) == "0s" and format_age(184) == "3m 04s" and format_age(3720) == "1h 02m"


# ------------------------------------------------------------------- cells


def test_every_time_cell_of_the_race_has_its_text_and_flag_style(manifest, frames):
    """All 2,875 states: each time cell's text is its m:ss.sss value and
    its style the one of its flag (pb green, sb magenta, sb-new on
    magenta, old grey, none plain)."""
    times = [column for column in columns_of(manifest) if column.kind == "time"]
    assert [column.heading for column in times] == ["S1", "S2", "S3", "Last", "Best"]
    seen = set()
    for state in frames.values():
        table = table_model(state, manifest)
        assert len(table.rows) == len(state["cars"])
        for car, row in zip(state["cars"], table.rows):
            for column in times:
                value, flag = car[column.index]
                assert row.cells[column.index] == Cell(format_time(value), styles.TIME_FLAGS.get(flag, ""))
                seen.add(flag)
    assert seen == {"", "pb", "sb", "sb-new", "old"}


def test_first_overall_best_lap(manifest, frames):
    table = table_model(frames[1713099704], manifest)
    assert cell(table, "31", "Last") == Cell("1:43.479", "bold white on magenta")
    assert cell(table, "31", "Num") == Cell("31")
    assert cell(table, "31", "Class") == Cell("LMP2", "bold blue")
    assert cell(table, "31", "Team") == Cell("Vale Autosport")
    assert cell(table, "31", "Laps") == Cell("1")
    assert cell(table, "31", "Pits") == Cell("0")


def test_sector_styles_in_one_state(manifest, frames):
    state = frames[1713100211]
    table = table_model(state, manifest)
    for car in state["cars"]:
        for heading, position in (("S1", 10), ("S2", 11), ("S3", 12), ("Best", 14)):
            value, flag = car[position]
            expected = {"pb": "bold green", "sb": "bold magenta", "old": "bright_black"}.get(flag, "")
            assert cell(table, car[0], heading).style == expected
    assert cell(table, "7", "Last") == Cell("1:40.371", "bold green")  # pb


@pytest.mark.parametrize("timestamp, number, car_state, row_style, state_style", [
    (1713099637, "88", "OUT", "on dark_green", "bold green"),
    (1713100211, "7", "STOP", "on yellow4", "bold yellow"),
    (1713100743, "22", "PIT", "on dark_red", "bold red"),
    (1713100743, "44", "RET", "bright_black", "bright_black"),
    (1713101779, "63", "FUEL", "on dark_orange3", "bold orange1"),
    (1713102343, "31", "FIN", "on grey23", "bold white"),
    (1713102343, "22", "RUN", "", ""),
])
def test_car_state_rows(manifest, frames, timestamp, number, car_state, row_style, state_style):
    table = table_model(frames[timestamp], manifest)
    assert cell(table, number, "State") == Cell(car_state, state_style)
    assert row_of(table, number).style == row_style


def test_highlighted_cars_number_cell(manifest, frames):
    table = table_model(frames[1713101779], manifest)
    assert cell(table, "63", "Num") == Cell("63", "reverse")
    assert cell(table, "31", "Num") == Cell("31", "")


def test_class_colours_are_stable_for_unknown_classes():
    assert styles.class_style("GTE") == "bold green" and styles.class_style("GT3") == "bold orange1"
    assert styles.class_style("Cup") == styles.class_style("Cup") and styles.class_style("Cup").startswith("bold ")
    assert styles.class_style("") == ""


def test_columns_chosen_by_heading(manifest, frames):
    table = table_model(frames[1713099704], manifest, ["num", "Driver", "LAST"])
    assert [column.heading for column in table.columns] == ["Num", "Driver", "Last"]
    assert row_of(table, "31").cells == (Cell("31"), Cell("Lars Eriksen"), Cell("1:43.479", "bold white on magenta"))
    with pytest.raises(ColumnError, match="no column Tyre; this service has: Num, State"):
        select_columns(columns_of(manifest), ["Num", "Tyre"])


def test_short_rows_and_odd_cells_do_not_break_the_table(manifest):
    state = {"cars": [["5"], "junk", ["6", "PIT", "LMP2", None, {"a": 1}]], "highlight": [["x"]]}
    table = table_model(state, manifest)
    assert [row.number for row in table.rows] == ["5", "6"]
    assert row_of(table, "5").cells[13] == Cell("", "")
    assert row_of(table, "6").style == "on dark_red"


# ------------------------------------------------------------------ header


@pytest.mark.parametrize("timestamp, label, style", [
    (1713099585, "NO FLAG", "white on grey30"),
    (1713099704, "GREEN FLAG", "bold black on green"),
    (1713100212, "YELLOW", "bold black on yellow"),
    (1713100664, "FULL COURSE YELLOW", "bold black on yellow"),
    (1713101100, "SAFETY CAR", "bold black on yellow"),
    (1713102343, "CHEQUERED FLAG", "bold black on bright_white"),
])
def test_flag_bands(manifest, frames, timestamp, label, style):
    header = header_model(manifest, frames[timestamp], now=timestamp, updated_at=timestamp)
    assert (header.flag_label, header.flag_style) == (label, style)


@pytest.mark.parametrize("flag, label", [("red", "RED FLAG"), ("vsc", "VIRTUAL SAFETY CAR"), ("code_60", "CODE 60"),
                                         ("slow_zone", "SLOW ZONE"), ("mystery_flag", "MYSTERY FLAG")])
def test_other_flag_bands(manifest, flag, label):
    assert header_model(manifest, {"session": {"flagState": flag}}, 0, 0).flag_label == label


def test_header_clock_age_and_track(manifest, frames):
    state = frames[1713101100]
    header = header_model(manifest, state, now=1713101100, updated_at=1713101100)
    assert header.title == "Timing71 reference race"
    assert header.description == "45 minutes, 12 cars, 3 classes (synthetic)"
    assert header.clock == "Elapsed 25:00  Remaining 20:00"
    assert header.age == "Updated 0s ago"
    assert header.track == "Air temp 21.7°C  Track temp 33.7°C"
    assert header.source == "Timing71 reference race (synthetic)"
    # between updates the clock runs on under a running flag...
    later = header_model(manifest, state, now=1713101107.5, updated_at=1713101100)
    assert later.clock == "Elapsed 25:07  Remaining 19:52" and later.age == "Updated 7s ago"
    # ...and stands still when there is no racing
    finished = header_model(manifest, frames[1713102459], now=1713102459 + 30, updated_at=1713102459)
    assert finished.clock == "Elapsed 47:39  Remaining 0:00"
    laps = header_model(manifest, {"session": {"flagState": "green", "lapsRemain": 12, "timeRemain": 50}}, 0, 0)
    assert laps.clock == "Remaining 12 laps"
    assert header_model(manifest, None, 0, None).age == "Waiting for data"


def test_messages_newest_first_styled(frames):
    lines = message_lines(frames[1713102459], 3, UTC)
    assert lines == [Cell("13:45:43 Track: Chequered flag", "bold"),
                     Cell("13:43:52 GTE: #51 (Julien Faure) set a new personal best: 1:50.726", "green"),
                     Cell("13:42:31 GTE: #63 (Jordan Pike) set a new personal best: 1:51.086", "green")]
    assert message_lines({"messages": [["x", "A", "B"], "junk", [1, 2]]}, 5, UTC) == [Cell("A: B")]


# --------------------------------------------------------------- rendering


def rendered(view, width, height=None):
    console = Console(width=width, height=height or 200, record=True, force_terminal=True,
                      color_system="truecolor", legacy_windows=False)
    lines = console.render_lines(render(view, width, height), console.options, pad=False)
    return lines


def line_text(line) -> str:
    return "".join(segment.text for segment in line)


def styled(lines, text):
    """The style of the segment holding `text`."""
    for line in lines:
        for segment in line:
            if text in segment.text:
                return str(segment.style)
    raise AssertionError(f"{text!r} not rendered")


@pytest.mark.parametrize("width", [200, 120, 100, 80, 40])
def test_render_fits_the_width(manifest, frames, width):
    view = View(manifest, frames[1713101779], 1713101780, 1713101779, tz=UTC, status="connected to ws://x/ws")
    lines = rendered(view, width)
    assert all(sum(len(segment.text) for segment in line) <= width for line in lines)
    texts = [line_text(line) for line in lines]
    assert texts[0].startswith("Timing71 reference race - 45 minutes"[:width - 1])
    assert texts[1].strip() == "GREEN FLAG"
    assert texts[2].startswith("Elapsed 36:20  Remaining 8:40   Updated 1s ago"[:width - 1])  # then … if cut
    headings = texts[3].split()
    assert headings[0] == "Num"
    if width == 200:
        assert headings == [column.heading for column in columns_of(manifest)]
    if width == 100:
        assert "Team" not in headings and "Car" not in headings
        assert {"Num", "State", "Class", "Driver", "Laps", "Gap", "Last", "Best"} <= set(headings)
    assert texts[-1].startswith("connected to ws://x/ws")
    if width >= 120:
        assert texts[0] == ("Timing71 reference race - 45 minutes, 12 cars, 3 classes (synthetic)"
                            "  Timing71 reference race (synthetic)")


def test_render_styles_cells_rows_and_band(manifest, frames):
    view = View(manifest, frames[1713101779], 1713101780, 1713101779, tz=UTC)
    lines = rendered(view, 120)
    assert styled(lines, "GREEN FLAG") == "bold black on green"
    assert styled(lines, "1:39.966") == "bold white on magenta"  # #31's new overall best (Last)
    assert "on dark_orange3" in styled(lines, "FUEL") and "bold" in styled(lines, "FUEL")
    assert styled(lines, "RET") == "bright_black"
    row = next(line for line in lines if line_text(line).startswith("63 "))
    assert all("on dark_orange3" in str(segment.style) for segment in row if segment.text.strip())


def test_render_keeps_to_the_height(manifest, frames):
    view = View(manifest, frames[1713101779], 1713101780, 1713101779, tz=UTC, status="s")
    lines = rendered(view, 120, height=14)
    assert len(lines) <= 14
    texts = [line_text(line) for line in lines]
    assert texts[3].startswith("Num") and texts[-1].startswith("s")


def test_render_before_any_state(manifest):
    texts = [line_text(line) for line in rendered(View(manifest, None, 0.0), 80)]
    assert texts[1].strip() == "NO FLAG" and texts[2].startswith("Waiting for data")


def test_fit_drops_the_least_important_columns_first(manifest, frames):
    table = table_model(frames[1713101779], manifest)
    assert [c.heading for c in fit(table, 60).columns] == ["Num", "State", "Class", "Driver", "Laps", "Gap",
                                                          "Last", "Best"][:len(fit(table, 60).columns)]
    assert [c.heading for c in fit(table, 1).columns] == ["Num"]


# ------------------------------------------------------------------- delay


def test_delay_buffer_holds_states_back():
    buffer = DelayBuffer(10)
    buffer.push(100.0, "a")
    buffer.push(101.0, "b")
    assert buffer.due(109.9) is None
    assert buffer.due(110.0) == "a"
    assert buffer.due(110.5) is None
    assert buffer.due(200.0) == "b" and len(buffer) == 0
    immediate = DelayBuffer(0)
    immediate.push(5.0, "x")
    immediate.push(5.0, "y")
    assert immediate.due(5.0) == "y"
    bounded = DelayBuffer(10, max_held=2)
    for i in range(5):
        bounded.push(float(i), i)
    assert len(bounded) == 2
    with pytest.raises(ValueError):
        DelayBuffer(-1)


# ---------------------------------------------------------------- services

LISTING = [{"uuid": "aaaa1111", "name": "Demo race", "description": "Le Mans"},
           {"uuid": "bbbb2222", "name": "Demo race 2"},
           {"uuid": "cccc3333", "name": "Sprint Cup"}]


@pytest.mark.parametrize("wanted, uuid", [("bbbb2222", "bbbb2222"), ("cccc", "cccc3333"), ("demo RACE", "aaaa1111"),
                                          ("sprint", "cccc3333")])
def test_choose_service(wanted, uuid):
    assert choose_service(LISTING, wanted).manifest["uuid"] == uuid


def test_a_hidden_service_is_chosen_only_by_its_whole_uuid():
    listing = LISTING + [{"uuid": "dddd4444", "name": "Secret test", "hidden": True}]
    assert choose_service(listing, "dddd4444").manifest["name"] == "Secret test"
    assert choose_service(listing, "dddd").manifest is None
    assert choose_service(listing, "secret").manifest is None
    assert "dddd4444" not in [m["uuid"] for m in choose_service(listing, None).candidates]
    assert choose_service(listing[2:], None).manifest["uuid"] == "cccc3333"


def test_choose_service_lists_the_candidates():
    assert choose_service(LISTING[:1], None).manifest["uuid"] == "aaaa1111"
    assert choose_service(LISTING, None).candidates == LISTING
    assert [m["uuid"] for m in choose_service(LISTING, "demo").candidates] == ["aaaa1111", "bbbb2222"]
    assert choose_service(LISTING, "nothing").manifest is None
    assert describe(LISTING[:1]) == ["aaaa1111  Demo race - Le Mans"]


# ------------------------------------------------------------ command line


@pytest.mark.parametrize("argv, expected", [
    ([], ("router", "ws://127.0.0.1:5080/ws")),
    (["--url", "ws://h:1/ws"], ("router", "ws://h:1/ws")),
    (["--url", "http://h:1"], ("master", "http://h:1")),
    (["--url", "ws://h:1"], ("standalone", "ws://h:1")),
    (["--master", "https://h"], ("master", "https://h")),
    (["--standalone", "5090"], ("standalone", "ws://127.0.0.1:5090")),
])
def test_classify(argv, expected):
    assert classify(build_parser().parse_args(argv)) == expected


@pytest.mark.parametrize("argv", [["--url", "ftp://h"], ["--master", "ws://h:1/ws"], ["--standalone", "h:x"]])
def test_classify_refuses(argv):
    with pytest.raises(UsageError):
        classify(build_parser().parse_args(argv))


@pytest.mark.parametrize("argv, message", [
    (["--delay", "-1"], "--delay: must be from 0 to 3600 seconds"),
    (["--delay", "soon"], "not a number of seconds"),
    (["--columns", ","], "name at least one column"),
    (["--url", "ws://a/ws", "--standalone", "1"], "not allowed with"),
])
def test_bad_options_are_one_line_exit_2(capsys, argv, message):
    from livetiming.cli.watch import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith("livetiming-watch: error:")


def test_parser_help_mentions_every_option():
    text = build_parser().format_help()
    for option in ("--url", "--master", "--standalone", "--service", "--delay", "--columns"):
        assert option in text
    assert isinstance(build_parser().parse_args(["--columns", "Num, Driver"]), argparse.Namespace)
    assert build_parser().parse_args(["--columns", "Num, Driver"]).columns == ["Num", "Driver"]
    assert sys.modules["livetiming.cli.watch"]
