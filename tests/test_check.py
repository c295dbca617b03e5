"""`livetiming.testing` (validate_state, run_plugin) and `livetiming-service
PLUGIN --check`: a plugin checked without any network."""
import subprocess
from pathlib import Path

import pytest

from livetiming.protocol import Stat
from livetiming.service.base import BaseService
from livetiming.testing import ERROR, WARNING, first_of_each_kind, run_plugin, validate_state
from plugin_runner import command as plugin_command
from plugin_runner import plugin_file
from test_cli import assert_usage_error, run

COLSPEC = [Stat.NUM, Stat.STATE, Stat.DRIVER, Stat.LAST_LAP]
GOOD_ROW = ["7", "RUN", "Buemi", [101.2, "pb"]]


def state(*rows, flag="green", messages=()):
    return {"cars": list(rows), "session": {"flagState": flag}, "messages": list(messages)}


def kinds(problems):
    return [(problem.kind, problem.severity, problem.row, problem.column) for problem in problems]


def test_a_valid_state_has_no_problems():
    manifest = {"colSpec": [list(stat.value) for stat in COLSPEC]}
    valid = state(GOOD_ROW, ["8", "PIT", "Hartley", ["", ""]],
                  messages=[[1700000000, "Pits", "#8 has entered the pits", "pit", "8"],
                            [1700000000, "Track", "Green flag", "green"]])
    assert validate_state(valid, manifest) == []
    assert validate_state(valid, COLSPEC) == []


@pytest.mark.parametrize("row, expected", [
    (["7", "RUN", "Buemi"], ("row-length", ERROR, 0, None)),
    (["7", "RUN", "Buemi", 101.2], ("time-cell", ERROR, 0, "Last")),
    (["7", "RUN", "Buemi", [101.2]], ("time-cell", ERROR, 0, "Last")),
    (["7", "CRASHED", "Buemi", ["", ""]], ("car-state", WARNING, 0, "State")),
    ("7 RUN", ("row-type", ERROR, 0, None)),
])
def test_a_bad_row_is_reported_with_its_row_and_column(row, expected):
    problems = validate_state(state(row), COLSPEC)
    assert kinds(problems) == [expected]
    assert problems[0].car in ("7", None)


def test_a_bad_flag_messages_and_unserialisable_values_are_reported():
    bad = state(["7", "RUN", "Buemi", [object(), ""]], flag="purple",
                messages=[[1, "Pits", "text"], ["now", "Pits", "text", "pit"]])
    found = {problem.kind for problem in validate_state(bad, COLSPEC)}
    assert found == {"not-json", "flag-state", "message-shape"}
    assert kinds(validate_state({"cars": {}, "session": []}, COLSPEC)) == [
        ("cars-type", ERROR, None, None), ("session-type", ERROR, None, None)]
    assert kinds(validate_state([], COLSPEC)) == [("state-type", ERROR, None, None)]


class GoodService(BaseService):
    def getName(self):
        return "Good"

    def getColumnSpec(self):
        return COLSPEC

    def getPollInterval(self):
        return 5

    def getRaceState(self):
        return state(GOOD_ROW, ["8", "PIT" if self.reactor.seconds() % 10 else "RUN", "Hartley", ["", ""]])


class BrokenService(GoodService):
    def getRaceState(self):
        return state(["7", "RUN", "Buemi", 101.2], ["8", "RUN", "Hartley", 99.0], ["9", "RUN"], flag="purple")


def test_run_plugin_collects_states_and_messages_on_a_simulated_clock():
    run = run_plugin(GoodService, updates=4, start_time=1000)
    assert len(run.states) == 4 and run.problems == []
    assert all(len(published["cars"]) == 2 for published in run.states)
    assert any("pits" in message[2] for message in run.messages)
    assert run.service.reactor.seconds() == 1015  # polled every 5 s


def test_run_plugin_reports_every_problem_of_every_update():
    run = run_plugin(BrokenService, updates=3)
    assert len(run.raw_states) == 3
    first = first_of_each_kind(run.errors)
    assert [(problem.kind, problem.update, problem.row, problem.column) for problem in first] == [
        ("time-cell", 0, 0, "Last"), ("row-length", 0, 2, None), ("flag-state", 0, None, None)]
    assert len([problem for problem in run.problems if problem.kind == "time-cell"]) == 6


def test_check_of_the_demo_prints_the_table_and_exits_0(service_env):
    result = run("demo", "--check", "--updates", "2", "--grid", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Num" in result.stdout and "State" in result.stdout and "RUN" in result.stdout
    assert "demo: 2 updates checked, 0 kind(s) of problem" in result.stdout


def test_check_of_a_push_driven_plugin_validates_what_it_publishes(service_env):
    """`replay` publishes on its own schedule (auto_poll False), never through
    a polled getRaceState(): its published states are what is checked."""
    fixture = str(Path(__file__).parent / "fixtures" / "reference_race.zip")
    result = run("replay", fixture, "--check", "--updates", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "replay: 3 updates checked, 0 kind(s) of problem" in result.stdout


BROKEN = '''
def getColumnSpec(self):
    return [Stat.NUM, Stat.STATE, Stat.LAST_LAP]

def getRaceState(self):
    return {"cars": [["1", "RUN", 90.5], ["2", "WAITING", ["", ""]], ["3", "RUN", 91.0], ["4", "RUN"]],
            "session": {"flagState": "blue"}}
'''


def test_check_of_a_broken_plugin_reports_each_problem_once_with_its_location_and_exits_1(service_env, tmp_path):
    plugin = plugin_file(tmp_path, "brokenplugin", BROKEN)
    result = subprocess.run(plugin_command(plugin, "--check", "--updates", "3"), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()

    def line(kind):
        found = [text for text in lines if f": {kind}: " in text]
        assert len(found) == 1, result.stdout
        return found[0]

    assert line("time-cell").startswith("error: time-cell: update 0, row 0 (car 1), column 'Last'")
    assert "(5 more like it)" in line("time-cell")
    assert line("row-length").startswith("error: row-length: update 0, row 3 (car 4): the row has 2 cells")
    assert line("car-state").startswith("warning: car-state: update 0, row 1 (car 2), column 'State'")
    assert "unknown flagState 'blue'" in line("flag-state")
    assert "Traceback" not in result.stdout + result.stderr


def test_check_of_a_plugin_whose_state_raises_exits_1(service_env, tmp_path):
    plugin = plugin_file(tmp_path, "raising", "def getRaceState(self):\n    raise KeyError('lap')\n")
    result = subprocess.run(plugin_command(plugin, "--check"), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "error: getRaceState-raised: update 0: KeyError: 'lap' (4 more like it)" in result.stdout


@pytest.mark.parametrize("args, text", [
    (["--updates", "3"], "--updates is an option of --check"),
    (["--check", "--updates", "0"], "must be at least 1, not 0"),
    (["--check", "--updates", "x"], "not a whole number"),
])
def test_check_usage_errors_exit_2(service_env, args, text):
    assert_usage_error(run("demo", *args), text)
