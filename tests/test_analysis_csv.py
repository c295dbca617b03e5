"""CSV export for analysts (`livetiming-analysis --csv DIR`), checked against
the reference race's golden analysis file."""
import csv
import io
import json
import subprocess
from pathlib import Path

import pytest

from livetiming.analysis.export import LAP_COLUMNS, STINT_COLUMNS, ExportError, LapClock, csv_files, flag_name
from livetiming.recording import RecordingReader
from processes import command

FIXTURES = Path(__file__).parent / "fixtures"
RECORDING = FIXTURES / "reference_race.zip"
GOLDEN = json.loads((FIXTURES / "reference_race.analysis.json").read_text())

pytestmark = pytest.mark.timeout(120)


def read_csv(text):
    """Header and rows as a spreadsheet or pandas would see them."""
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], [dict(zip(rows[0], row)) for row in rows[1:]]


def number(cell):
    return None if cell == "" else float(cell)


def golden_stints(car):
    """The golden file's stints of a car: completed, then the current one."""
    stints = list(GOLDEN["stint"].get(car, []))
    current = GOLDEN["lap"].get(car, [None])[0]
    return stints + ([current] if current is not None else [])


@pytest.fixture(scope="module")
def lap_times():
    with RecordingReader(RECORDING) as reader:
        clock = LapClock(reader.manifest["colSpec"])
        for second, state in reader.iter_states():
            clock.observe(second, state)
    return clock.lap_times


def test_every_lap_of_every_car_appears_once_with_its_time_and_flag():
    header, rows = read_csv(csv_files(GOLDEN)["laps.csv"])
    assert tuple(header) == LAP_COLUMNS
    expected = {}
    for car in GOLDEN["driver"]:
        for number_, stint in enumerate(golden_stints(car), start=1):
            for index, (lap_time, flag) in enumerate(stint[9]):
                expected[(car, stint[0] + index)] = (number_, lap_time, flag, GOLDEN["driver"][car][stint[5]])
    seen = {}
    for row in rows:
        key = (row["car"], int(row["lap"]))
        assert key not in seen, f"lap {key} twice"
        seen[key] = (int(row["stint"]), number(row["lap_time"]), row["flag"], row["driver"])
        assert row["timestamp"] == ""   # the analysis file keeps no time per lap
    assert seen == {key: (stint, time, flag_name(flag), driver)
                    for key, (stint, time, flag, driver) in expected.items()}
    assert len(rows) == sum(len(stint[9]) for car in GOLDEN["driver"] for stint in golden_stints(car)) == 268


def test_stints_match_the_analysis():
    header, rows = read_csv(csv_files(GOLDEN)["stints.csv"])
    assert tuple(header) == STINT_COLUMNS
    by_car = {}
    for row in rows:
        by_car.setdefault(row["car"], []).append(row)
    assert set(by_car) == set(GOLDEN["driver"])
    for car, car_rows in by_car.items():
        stints = golden_stints(car)
        assert [int(row["stint"]) for row in car_rows] == list(range(1, len(stints) + 1))
        for index, (row, stint) in enumerate(zip(car_rows, stints)):
            assert int(row["laps"]) == len(stint[9])
            assert (int(row["start_lap"]), int(row["end_lap"])) == (stint[0], stint[2])
            assert (number(row["start_time"]), number(row["end_time"])) == (stint[1], stint[3])
            assert row["in_progress"] == str(stint[4])
            assert row["driver"] == GOLDEN["driver"][car][stint[5]]
            assert number(row["best"]) == stint[6] and int(row["yellow_laps"]) == stint[7]
            assert number(row["average"]) == stint[8]
            if index + 1 < len(stints):
                assert number(row["pit_time"]) == stints[index + 1][1] - stint[3]
            else:
                assert row["pit_time"] == ""
    assert by_car["44"][0]["in_progress"] == "True" and len(rows) == 25


def test_lap_timestamps_from_the_recording(lap_times):
    """A lap's time is the first frame where the car's count reached it: each
    car's laps are completed in order, and its last lap at its last pass."""
    _, rows = read_csv(csv_files(GOLDEN, lap_times)["laps.csv"])
    by_car = {}
    for row in rows:
        assert row["timestamp"] != "", row
        by_car.setdefault(row["car"], []).append((int(row["lap"]), int(row["timestamp"]), number(row["lap_time"])))
    for car, laps in by_car.items():
        times = [time for _, time, _ in sorted(laps)]
        assert times == sorted(set(times)), car
        if GOLDEN["lap"][car][0] is None:   # finished: its last lap was its last pass of the line
            assert times[-1] == GOLDEN["lap"][car][1], car
    # on a green-flag lap its time is the gap between two completions, to the frame's second
    (_, first, _), (_, second, lap_2_time) = sorted(by_car["22"])[:2]
    assert abs((second - first) - lap_2_time) <= 1


def test_not_an_analysis_is_refused():
    for value in ([], {"lap": {}}, {"lap": [], "stint": {}}):
        with pytest.raises(ExportError):
            csv_files(value)


# --- the command ------------------------------------------------------------------


def run(*args):
    return subprocess.run([command("livetiming-analysis"), *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def test_from_an_analysis_file(tmp_path):
    result = run(FIXTURES / "reference_race.analysis.json", "--csv", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(tmp_path / "out" / "laps.csv"), str(tmp_path / "out" / "stints.csv")]
    for name, text in csv_files(GOLDEN).items():
        assert (tmp_path / "out" / name).read_bytes() == text.encode()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["laps.csv", "stints.csv"]   # no temporaries


def test_from_a_recording_with_lap_times_and_the_analysis_on_request(tmp_path, lap_times):
    result = run(RECORDING, "--csv", tmp_path, "-o", tmp_path / "analysis.json", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    ours = json.loads((tmp_path / "analysis.json").read_text())
    for name, text in csv_files(ours, lap_times).items():
        assert (tmp_path / name).read_bytes() == text.encode()
    # the same rows as the golden file's, but #44 (quirk 3, see test_analysis_cli) and with timestamps
    _, rows = read_csv((tmp_path / "laps.csv").read_text())
    _, golden_rows = read_csv(csv_files(GOLDEN)["laps.csv"])
    strip = [{k: v for k, v in row.items() if k != "timestamp"} for row in rows if row["car"] != "44"]
    assert strip == [{k: v for k, v in row.items() if k != "timestamp"} for row in golden_rows if row["car"] != "44"]
    assert all(row["timestamp"] for row in rows)


def test_csv_only_writes_no_analysis_file_unless_asked(tmp_path):
    recording = tmp_path / "race.zip"
    recording.write_bytes(RECORDING.read_bytes())
    assert run(recording, "--csv", tmp_path / "csv", "-q").returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["csv", "race.zip"]


@pytest.mark.parametrize("content, args, message", [
    ('{"lap": {}}', ["--csv", "{dir}"], "not a v1 analysis: no 'stint' object"),
    ("[1, 2", ["--csv", "{dir}"], "not valid JSON"),
    ('{"lap": {}, "stint": {}}', [], "is an analysis file: give --csv DIR"),
])
def test_bad_analysis_files_are_one_line_and_exit_code_2(tmp_path, content, args, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = run(path, *[arg.format(dir=tmp_path / "out") for arg in args])
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("livetiming-analysis: error: ") and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
