"""The recordings catalogue's core (index, paging, names, manifests,
updateManifest) and `livetiming-recordings-index`, without a router."""
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from livetiming.analysis.replay import analyse_recording
from livetiming.cli import recordings_index
from livetiming.orchestration import catalogue
from livetiming.orchestration.catalogue import (
    CACHE_NAME,
    INDEX_NAME,
    Catalogue,
    InvalidArgumentError,
    InvalidRecordingError,
    NoSuchRecordingError,
    NotAuthorisedError,
)
from livetiming.recording import RecordingReader, RecordingWriter
from processes import command
from test_recording_support import REFERENCE_RACE

ENTRY_KEYS = {"description", "duration", "filename", "name", "startTime", "uuid", "hasAnalysis"}
CODE = "let-me-in"
STATE = {"cars": [], "session": {"flagState": "green"}, "messages": [], "highlight": []}


def make_recording(directory: Path, filename: str, uuid: str, start: int, name: str = "Test Series",
                   frames: int = 3, **manifest) -> Path:
    """A small finished recording written by the real RecordingWriter."""
    directory.mkdir(parents=True, exist_ok=True)
    work = directory.parent / "work" / f"{filename}-{uuid}"
    writer = RecordingWriter(work, {"uuid": uuid, "name": name, "description": f"{name} {uuid}",
                                    "serviceClass": "test", "colSpec": [["Num", "text"]], **manifest})
    for second in range(frames):
        state = dict(STATE, cars=[[str(second), "RUN"]],
                     messages=[[start + second, "Race", f"message {second}", "", None]])
        writer.write_frame(start + second, state)
    path = writer.finalise(directory / filename)
    writer.discard()
    return path


def write_zip(path: Path, members: dict) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A recordings directory in the environment; no stray livetiming.env."""
    directory = tmp_path / "recordings"
    directory.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LIVETIMING_RECORDINGS_DIR", str(directory))
    monkeypatch.delenv("GENERATE_ANALYSIS", raising=False)
    return directory


@pytest.fixture
def folder(env):
    """Three valid recordings (one hidden, one with an analysis file) and
    three invalid files."""
    make_recording(env, "alpha.zip", "uuid-alpha", 1_700_000_000, name="Alpha")
    make_recording(env, "beta.zip", "uuid-beta", 1_700_100_000, name="Beta", hidden=True)
    make_recording(env, "gamma.zip", "uuid-gamma", 1_700_200_000, name="Alpha", frames=12)
    (env / "alpha.json").write_text(json.dumps({"service": {"name": "Alpha"}}))
    (env / "not-a-zip.zip").write_text("this is not a zip")
    write_zip(env / "no-manifest.zip", {"01700000000.json": json.dumps(STATE)})
    write_zip(env / "version-2.zip", {"manifest.json": json.dumps({"uuid": "v2", "version": 2}),
                                      "01700000000.json": json.dumps(STATE)})
    (env / "notes.txt").write_text("not a recording, not a zip name: ignored")
    return env


def count_reads(monkeypatch) -> list:
    """Every path the catalogue opens as a recording."""
    opened = []
    real = catalogue.RecordingReader

    def counting(path, *args, **kwargs):
        opened.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(catalogue, "RecordingReader", counting)
    return opened


def run_index(capsys, *argv):
    code = recordings_index.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------- indexing


def test_index_of_valid_invalid_and_deleted_files(folder, capsys, monkeypatch):
    code, out, err = run_index(capsys)
    assert code == 0, err
    assert "3 recordings (3 added, 0 removed, 3 invalid)" in out
    warnings = err.strip().splitlines()
    assert len(warnings) == 3 and all(line.startswith("livetiming-recordings-index: warning:") for line in warnings)
    assert "not-a-zip.zip" in err and "no-manifest.zip" in err and "version 2" in err
    index = json.loads((folder / INDEX_NAME).read_text())
    assert set(index) == {"uuid-alpha", "uuid-beta", "uuid-gamma"}
    assert index["uuid-alpha"] == {"description": "Alpha uuid-alpha", "duration": 2, "filename": "alpha.zip",
                                   "name": "Alpha", "startTime": 1_700_000_000.0, "uuid": "uuid-alpha",
                                   "hasAnalysis": True}
    assert index["uuid-beta"]["hidden"] is True and index["uuid-beta"]["hasAnalysis"] is False
    assert set(index["uuid-beta"]) == ENTRY_KEYS | {"hidden"}
    assert set(index["uuid-gamma"]) == ENTRY_KEYS and index["uuid-gamma"]["duration"] == 11
    assert (folder / INDEX_NAME).stat().st_mode & 0o777 == 0o644

    # Second run: the deleted file drops out, nothing unchanged is opened again.
    (folder / "gamma.zip").unlink()
    opened = count_reads(monkeypatch)
    code, out, err = run_index(capsys)
    assert code == 0
    assert "2 recordings (0 added, 1 removed, 3 invalid)" in out
    assert opened == []
    index = json.loads((folder / INDEX_NAME).read_text())
    assert set(index) == {"uuid-alpha", "uuid-beta"}

    # A changed file is read again (and only that one); an analysis file
    # appearing is noticed without reading the recording.
    make_recording(folder, "beta2.zip", "uuid-beta", 1_700_100_000, name="Beta", frames=5)
    os.replace(folder / "beta2.zip", folder / "beta.zip")
    (folder / "beta.json").write_text("{}")
    code, out, err = run_index(capsys)
    assert opened == ["beta.zip"]
    index = json.loads((folder / INDEX_NAME).read_text())
    assert index["uuid-beta"]["duration"] == 4 and index["uuid-beta"]["hasAnalysis"] is True
    assert "hidden" not in index["uuid-beta"]


def test_a_missing_or_damaged_cache_only_costs_a_full_read(folder, capsys, monkeypatch):
    run_index(capsys)
    first = json.loads((folder / INDEX_NAME).read_text())
    (folder / CACHE_NAME).write_text("{not json")
    opened = count_reads(monkeypatch)
    assert run_index(capsys)[0] == 0
    assert sorted(opened) == ["alpha.zip", "beta.zip", "gamma.zip", "no-manifest.zip", "not-a-zip.zip",
                              "version-2.zip"]
    assert json.loads((folder / INDEX_NAME).read_text()) == first


def test_duplicate_uuids_index_the_first_file_only(env, capsys):
    make_recording(env, "a.zip", "same", 1_700_000_000)
    shutil.copy(env / "a.zip", env / "b.zip")
    code, out, err = run_index(capsys)
    assert code == 0 and "1 recordings (1 added, 0 removed, 1 invalid)" in out
    assert "same uuid same as a.zip" in err
    assert json.loads((env / INDEX_NAME).read_text())["same"]["filename"] == "a.zip"


def test_generate_analysis_creates_missing_analysis_files(folder, capsys, monkeypatch):
    monkeypatch.setenv("GENERATE_ANALYSIS", "1")
    existing = (folder / "alpha.json").read_text()
    code, out, err = run_index(capsys)
    assert code == 0
    assert "2 analysis files created, 0 failed" in out
    assert (folder / "alpha.json").read_text() == existing            # left alone
    assert json.loads((folder / "gamma.json").read_text()) == analyse_recording(folder / "gamma.zip")
    assert json.loads((folder / "beta.json").read_text())["service"]["uuid"] == "uuid-beta"
    assert not (folder / "not-a-zip.json").exists()
    index = json.loads((folder / INDEX_NAME).read_text())
    assert all(entry["hasAnalysis"] for entry in index.values())
    # Nothing left to do the second time.
    code, out, err = run_index(capsys)
    assert "analysis files created" not in out


def test_generate_analysis_failure_is_reported_not_fatal(env, capsys, monkeypatch):
    make_recording(env, "good.zip", "good", 1_700_000_000)
    # Indexable (manifest and frame names are fine) but its frame is not JSON.
    write_zip(env / "broken.zip", {"manifest.json": json.dumps({"uuid": "broken", "version": 1, "name": "B",
                                                                "startTime": 1_700_000_500}),
                                   "01700000500.json": "{broken"})
    code, out, err = run_index(capsys, "--generate-analysis")
    assert code == 0
    assert "2 recordings (2 added, 0 removed, 0 invalid); 1 analysis files created, 1 failed" in out
    assert "no analysis file for broken.zip" in err
    index = json.loads((env / INDEX_NAME).read_text())
    assert index["good"]["hasAnalysis"] and not index["broken"]["hasAnalysis"]


def test_missing_recordings_directory_is_a_usage_error(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LIVETIMING_RECORDINGS_DIR", str(tmp_path / "nowhere"))
    code, out, err = run_index(capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "nowhere does not exist" in err
    assert not (tmp_path / "nowhere").exists()


def test_console_script(folder):
    env = {**os.environ, "LIVETIMING_RECORDINGS_DIR": str(folder), "GENERATE_ANALYSIS": ""}
    result = subprocess.run([command("livetiming-recordings-index")], capture_output=True, text=True, env=env,
                            timeout=60, cwd=folder)
    assert result.returncode == 0, result.stderr
    assert "3 recordings (3 added, 0 removed, 3 invalid)" in result.stdout and "Traceback" not in result.stderr
    env["LIVETIMING_RECORDINGS_DIR"] = str(folder / "missing")
    result = subprocess.run([command("livetiming-recordings-index")], capture_output=True, text=True, env=env,
                            timeout=60, cwd=folder)
    assert result.returncode == 2 and result.stderr.startswith("livetiming-recordings-index: error:")


# ----------------------------------------------------------------- queries


def synthetic_index(count: int) -> dict:
    index = {}
    for i in range(count):
        uuid = f"u{i:03d}"
        index[uuid] = {"description": "", "duration": 60, "filename": f"{uuid}.zip",
                       "name": ["Series A", "Series B", "series c"][i % 3], "startTime": 1_700_000_000 + i * 3600,
                       "uuid": uuid, "hasAnalysis": False}
        if i % 10 == 0:
            index[uuid]["hidden"] = True
    return index


def test_pages_of_fifty_newest_first():
    index = {uuid: entry for uuid, entry in synthetic_index(132).items() if "hidden" not in entry}
    assert len(index) == 118
    pages = [catalogue.page(index, n) for n in (1, 2, 3)]
    assert [len(p["recordings"]) for p in pages] == [50, 50, 18]
    assert all(p["pages"] == 3 and p["total"] == 118 for p in pages)
    starts = [r["startTime"] for p in pages for r in p["recordings"]]
    assert starts == sorted(starts, reverse=True) and len(set(starts)) == 118
    assert pages[0]["recordings"][0]["uuid"] == "u131"
    for out_of_range in (0, -1, 4, 100):
        assert catalogue.page(index, out_of_range) == {"recordings": [], "pages": 3, "total": 118}
    assert catalogue.page(index, "2") == pages[1] and catalogue.page(index, None) == pages[0]
    assert catalogue.page({}, 1) == {"recordings": [], "pages": 0, "total": 0}
    assert catalogue.page(index, " 3 ") == pages[2] and catalogue.page(index, "-1")["recordings"] == []
    for bad in ("two", True, [1], 1.5, "--1", "1e3", "٣"):
        with pytest.raises(InvalidArgumentError):
            catalogue.page(index, bad)


def test_filter_names_and_hidden():
    index = synthetic_index(132)
    visible = catalogue.page(index, 1, None, False)
    everything = catalogue.page(index, 1, None, True)
    assert visible["total"] == 118 and everything["total"] == 132
    assert not any(r.get("hidden") for r in visible["recordings"])
    only_b = catalogue.page(index, 1, "Series B", True)
    assert only_b["total"] == 44 and {r["name"] for r in only_b["recordings"]} == {"Series B"}
    assert catalogue.page(index, 1, "Series", True)["total"] == 0        # exact match, not substring
    assert catalogue.page(index, 1, "", False)["total"] == 118          # empty: no filter
    with pytest.raises(InvalidArgumentError):
        catalogue.page(index, 1, 42)
    assert catalogue.names(index) == ["Series A", "Series B", "series c"]
    hidden_only = {"h": {"name": "Secret", "hidden": True, "filename": "h.zip"}, "n": {"name": None,
                                                                                        "filename": "n.zip"}}
    assert catalogue.names(hidden_only) == [] and catalogue.names(hidden_only, True) == ["Secret"]


def test_manifest_lookup(folder):
    book = Catalogue(folder)
    book.refresh()
    manifest = book.manifest("uuid-gamma")
    assert manifest["uuid"] == "uuid-gamma" and manifest["version"] == 1
    assert manifest["colSpec"] == [["Num", "text"]] and manifest["startTime"] == 1_700_200_000.0
    with pytest.raises(NoSuchRecordingError):
        book.manifest("nope")
    with pytest.raises(InvalidArgumentError):
        book.manifest(["not", "a", "uuid"])
    (folder / "gamma.zip").unlink()
    with pytest.raises(NoSuchRecordingError):
        book.manifest("uuid-gamma")
    (folder / "alpha.zip").write_text("garbage now")
    with pytest.raises(InvalidRecordingError):
        book.manifest("uuid-alpha")


# --------------------------------------------------------- updateManifest


def snapshot(directory: Path) -> dict:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir()) if path.is_file()}


@pytest.mark.parametrize("given, configured", [
    ("wrong", CODE), ("", CODE), (None, CODE), (CODE, None), (CODE, ""), ("", ""), (None, None), (42, CODE),
])
def test_update_manifest_needs_the_configured_code(folder, given, configured):
    book = Catalogue(folder)
    book.refresh()
    before, index = snapshot(folder), book.index
    with pytest.raises(NotAuthorisedError):
        book.update_manifest({"uuid": "uuid-alpha", "name": "Hacked"}, given, configured)
    assert snapshot(folder) == before and book.index is index


def test_update_manifest_changes_zip_analysis_and_index(folder, monkeypatch):
    book = Catalogue(folder)
    book.refresh()
    with RecordingReader(folder / "alpha.zip") as recording:
        states = list(recording.iter_states(copy=True))
        original = recording.manifest
    # A client sends back the whole manifest with its edits.
    result = book.update_manifest({**original, "name": "Renamed", "description": "New words", "hidden": True},
                                  CODE, CODE)
    assert result.changes == {"name": "Renamed", "description": "New words", "hidden": True}
    assert result.manifest == {**original, "name": "Renamed", "description": "New words", "hidden": True}
    with RecordingReader(folder / "alpha.zip") as recording:
        assert recording.manifest == result.manifest
        assert list(recording.iter_states(copy=True)) == states
    assert json.loads((folder / "alpha.json").read_text())["service"] == {"name": "Renamed",
                                                                          "description": "New words",
                                                                          "hidden": True}
    entry = json.loads((folder / INDEX_NAME).read_text())["uuid-alpha"]
    assert entry == {**book.index["uuid-alpha"]} and entry["name"] == "Renamed" and entry["hidden"] is True
    assert entry["startTime"] == 1_700_000_000.0 and entry["hasAnalysis"] is True
    assert book.manifest("uuid-alpha")["name"] == "Renamed"
    assert "Renamed" in book.names(show_hidden=True) and "Renamed" not in book.names()
    assert not [p for p in folder.iterdir() if p.name.startswith(".alpha")]   # no temporary files left
    # The next refresh need not open it again, and keeps the change.
    opened = count_reads(monkeypatch)
    report = book.refresh()
    assert opened == [] and report.index["uuid-alpha"]["name"] == "Renamed"
    # Unhiding; a partial manifest (only uuid + the edit) is enough.
    book.update_manifest({"uuid": "uuid-alpha", "hidden": False}, CODE, CODE)
    assert "hidden" not in book.index["uuid-alpha"]
    assert "hidden" not in json.loads((folder / INDEX_NAME).read_text())["uuid-alpha"]


def test_update_manifest_without_an_analysis_file(folder):
    book = Catalogue(folder)
    book.refresh()
    result = book.update_manifest({"uuid": "uuid-gamma", "description": "d"}, CODE, CODE)
    assert not result.analysis_updated and not (folder / "gamma.json").exists()
    assert book.manifest("uuid-gamma")["description"] == "d"


@pytest.mark.parametrize("update", [
    {"uuid": "uuid-alpha", "startTime": 1},
    {"uuid": "uuid-alpha", "version": 2},
    {"uuid": "uuid-alpha", "serviceClass": "other"},
    {"uuid": "uuid-alpha", "name": "Fine", "brandNew": True},
    {"uuid": "uuid-alpha", "name": ""},
    {"uuid": "uuid-alpha", "name": 7},
    {"uuid": "uuid-alpha", "description": None},
    {"uuid": "uuid-alpha", "hidden": "yes"},
    {"name": "no uuid"},
    "not a manifest",
])
def test_update_manifest_refuses_other_changes(folder, update):
    book = Catalogue(folder)
    book.refresh()
    before = snapshot(folder)
    with pytest.raises((InvalidArgumentError, NoSuchRecordingError)):
        book.update_manifest(update, CODE, CODE)
    assert snapshot(folder) == before


def test_update_manifest_of_unknown_recording(folder):
    book = Catalogue(folder)
    book.refresh()
    with pytest.raises(NoSuchRecordingError):
        book.update_manifest({"uuid": "nope", "name": "x"}, CODE, CODE)


def test_update_manifest_keeps_every_frame_of_a_real_race(tmp_path):
    shutil.copy(REFERENCE_RACE, tmp_path / "race.zip")
    book = Catalogue(tmp_path)
    report = book.refresh()
    (uuid,) = report.index
    with zipfile.ZipFile(tmp_path / "race.zip") as archive:
        before = {info.filename: archive.read(info) for info in archive.infolist()}
    book.update_manifest({"uuid": uuid, "name": "Renamed race"}, CODE, CODE)
    with zipfile.ZipFile(tmp_path / "race.zip") as archive:
        after = {info.filename: archive.read(info) for info in archive.infolist()}
        assert archive.infolist()[0].filename == "manifest.json"
    assert list(after) == list(before) and len(after) == 2876
    assert {k: v for k, v in after.items() if k != "manifest.json"} == \
           {k: v for k, v in before.items() if k != "manifest.json"}
    assert json.loads(after["manifest.json"]) == {**json.loads(before["manifest.json"]), "name": "Renamed race"}
