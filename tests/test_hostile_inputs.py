"""Hostile files fed to every tool as a real process: deep nesting (200,000
levels) in frames, manifests, `-s` state files and analysis state files, ZIP
bombs (a 400 MB member from a 400 KB file, honest or lying about its size),
a 400 MB manifest name, forged member names, a missing manifest.

Every run is measured: exactly one line of error on stderr and no
traceback, the exit code, the child's own peak memory (os.wait4 reaps it:
ru_maxrss, KiB on Linux), and that nothing is written outside the target
(the test's whole tree is listed before and after). The corpus is built
here, in the test's temporary directories; the bombs are streamed, never
held in memory."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List

import pytest

from livetiming.recording import RecordingWriter
from processes import Process, command

PEAK_KIB = 200 * 1024
TIMEOUT = 120
START = 1_700_000_000
UUID = "0123456789abcdef0123456789abcdef"
DEEP = 200_000
HUGE = 400 * 1024 * 1024
MANIFEST = {"uuid": UUID, "name": "Hostile", "description": "hostile inputs", "serviceClass": "test",
            "colSpec": [["Num", "text"], ["State", "text"]], "pollInterval": 1, "hasAnalysis": False,
            "hidden": False, "startTime": float(START), "version": 1}
STATE = {"cars": [["1", "RUN"]], "session": {"flagState": "green"}, "messages": [], "highlight": []}
DEEP_JSON = b"[" * DEEP + b"]" * DEEP


# ------------------------------------------------------------------ running


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    peak_kib: int

    def describe(self) -> str:
        return (f"exit {self.code}, peak {self.peak_kib // 1024} MiB\nstdout: {self.stdout[-1500:]}\n"
                f"stderr: {self.stderr[-1500:]}")


def reap(process: subprocess.Popen, timeout: float) -> int:
    """Wait for exactly this child with os.wait4 (bounded: killed after
    `timeout`); its peak RSS in KiB. Sets returncode, as Popen.wait would."""
    timer = threading.Timer(timeout, process.kill)   # kill() polls first: never signals a reaped pid
    timer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode != -signal.SIGKILL, f"{process.args} timed out after {timeout} s"
    return usage.ru_maxrss


LAUNCHER = """
import json, os, subprocess, sys, threading
report, out, err, timeout, *args = sys.argv[1:]
with open(out, "wb") as stdout, open(err, "wb") as stderr:
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
    timer = threading.Timer(float(timeout), process.kill)
    timer.start()
    _, status, usage = os.wait4(process.pid, 0)
    timer.cancel()
with open(report, "w") as handle:
    json.dump({"code": os.waitstatus_to_exitcode(status), "peak_kib": usage.ru_maxrss}, handle)
"""
"""Runs a tool and reaps it with os.wait4. Why a launcher: Linux counts in a
child's ru_maxrss the resident size of the process it was forked from (the
memory map it replaced at exec), so a tool started straight from pytest,
grown big by other tests, would look as big. The launcher is small."""


def run_tool(args: List[str], world: "World", timeout: float = TIMEOUT) -> Run:
    with tempfile.TemporaryDirectory() as scratch:
        report, out, err = (os.path.join(scratch, name) for name in ("report", "out", "err"))
        subprocess.run([sys.executable, "-c", LAUNCHER, report, out, err, str(timeout), *map(str, args)],
                       cwd=world.cwd, env=world.env, timeout=timeout + 30, check=True)
        with open(report) as handle:
            result = json.load(handle)
        assert result["code"] != -signal.SIGKILL, f"{args} timed out after {timeout} s"
        return Run(result["code"], Path(out).read_text("utf-8", "replace"), Path(err).read_text("utf-8", "replace"),
                   result["peak_kib"])


def hwm_kib(pid: int) -> int:
    """A live process's peak RSS since its exec (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def assert_one_error_line(run: Run, prog: str, *fragments: str, code: int = 2) -> None:
    assert "Traceback" not in run.stdout + run.stderr, run.describe()
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: "), run.describe()
    assert len(lines[0]) < 1000, run.describe()
    for fragment in fragments:
        assert fragment in lines[0], run.describe()
    assert run.code == code, run.describe()
    assert run.peak_kib < PEAK_KIB, run.describe()


def tree(root: Path) -> Dict[str, tuple]:
    """Every file and directory under root: (size, mtime_ns, is_dir)."""
    found = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(directory) / name
            stat = path.lstat()
            found[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns, path.is_dir())
    return found


def changes(before: Dict[str, tuple], after: Dict[str, tuple]) -> List[str]:
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))


class World:
    """A private home, working directory and LIVETIMING_* directories, so
    that any file a tool writes shows up in `tree(root)`."""

    def __init__(self, root: Path):
        self.root = root
        self.cwd = root / "cwd"
        dirs = {"HOME": "home", "XDG_DATA_HOME": "home/.local/share", "TMPDIR": "tmp",
                "LIVETIMING_STATE_DIR": "state", "LIVETIMING_LOG_DIR": "logs",
                "LIVETIMING_ANALYSIS_DIR": "analysis", "LIVETIMING_RECORDINGS_DIR": "recordings",
                "LIVETIMING_RECORDINGS_TEMP_DIR": "in-progress"}
        for relative in [*dirs.values(), "cwd"]:
            (root / relative).mkdir(parents=True, exist_ok=True)
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("LIVETIMING_") and key not in ("GENERATE_ANALYSIS", "SENTRY_DSN")}
        env.update({key: str(root / relative) for key, relative in dirs.items()})
        env.update(LIVETIMING_ROUTER="", SENTRY_DSN="", PYTHONUNBUFFERED="1")
        self.env = env

    def snapshot(self) -> Dict[str, tuple]:
        return tree(self.root)


@pytest.fixture
def world(tmp_path):
    return World(tmp_path / "world")


# ------------------------------------------------------------------- corpus


def write_zip(path: Path, members: Dict[str, object]) -> Path:
    """members: name -> bytes, or a function writing the member's stream."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            if callable(content):
                with archive.open(name, "w", force_zip64=True) as stream:
                    content(stream)
            else:
                archive.writestr(name, content)
    return path


def streamed(head: bytes, filler: bytes, size: int, tail: bytes) -> Callable:
    """A member of `head`, `size` bytes of `filler` (streamed 1 MiB at a time), `tail`."""
    def write(stream) -> None:
        stream.write(head)
        chunk = filler * (1024 * 1024 // len(filler))
        for _ in range(size // len(chunk)):
            stream.write(chunk)
        stream.write(tail)
    return write


def recording(**extra) -> Dict[str, object]:
    """The members of a small valid recording, plus or replaced by `extra`
    (a value of None drops a member)."""
    frame = json.dumps(STATE).encode()
    members = {"manifest.json": json.dumps(MANIFEST).encode(), "01700000000.json": frame,
               "01700000001i.json": b'{"cars": [], "session": [], "messages": [], "highlight": []}'}
    members.update(extra)
    return {name: content for name, content in members.items() if content is not None}


def manifest_with(**fields) -> bytes:
    return json.dumps({**MANIFEST, **fields}).encode()


def lying_bomb(path: Path) -> Path:
    """A frame that inflates to 400 MB while both its headers declare 100 bytes."""
    name = b"01700000002.json"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, content in recording().items():
            archive.writestr(member, content)
        with archive.open(name.decode(), "w") as stream:   # 32-bit sizes: under 4 GiB
            streamed(b'{"cars": [', b" ", HUGE, b"]}")(stream)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo(name.decode()).header_offset
    data[local + 22:local + 26] = (100).to_bytes(4, "little")          # local header: uncompressed size
    central = data.find(b"PK\x01\x02", int.from_bytes(data[data.rfind(b"PK\x05\x06") + 16:][:4], "little"))
    while data[central + 46:central + 46 + len(name)] != name:
        central = data.find(b"PK\x01\x02", central + 4)
    data[central + 24:central + 28] = (100).to_bytes(4, "little")      # central directory: the same
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo(name.decode()).file_size == 100
    return path


def with_nul_in_a_name(path: Path) -> Path:
    write_zip(path, recording(**{"01700000000.jsonXevil": b"{}"}))
    path.write_bytes(path.read_bytes().replace(b"01700000000.jsonXevil", b"01700000000.json\x00evil"))
    return path


ZIPS: Dict[str, Callable[[Path], Path]] = {
    "deep-frame": lambda p: write_zip(p, recording(**{"01700000000.json": b'{"cars": ' + DEEP_JSON + b"}"})),
    "deep-intraframe": lambda p: write_zip(p, recording(**{"01700000001i.json": b'{"cars": ' + DEEP_JSON + b"}"})),
    "deep-manifest": lambda p: write_zip(p, recording(**{"manifest.json": manifest_with()[:-1] + b', "x": '
                                                         + DEEP_JSON + b"}"})),
    "bomb": lambda p: write_zip(p, recording(**{"01700000002.json": streamed(b'{"cars": [', b" ", HUGE, b"]}")})),
    "lying-bomb": lying_bomb,
    "name-400MB": lambda p: write_zip(p, recording(**{"manifest.json": streamed(
        manifest_with(name="")[:-1] + b', "name": "', b"a", HUGE, b'"}')})),
    "manifest-2MiB": lambda p: write_zip(p, recording(**{"manifest.json": manifest_with(x="b" * 2 * 1024 * 1024)})),
    "name-5000": lambda p: write_zip(p, recording(**{"manifest.json": manifest_with(name="c" * 5000)})),
    "colspec-huge": lambda p: write_zip(p, recording(**{"manifest.json": manifest_with(colSpec=[["x"]] * 5000)})),
    "bad-uuid": lambda p: write_zip(p, recording(**{"manifest.json": manifest_with(uuid="../../etc")})),
    "frame-99999999999": lambda p: write_zip(p, recording(**{"99999999999.json": json.dumps(STATE).encode()})),
    "frame-10-digits": lambda p: write_zip(p, recording(**{"1700000002.json": json.dumps(STATE).encode()})),
    "traversal": lambda p: write_zip(p, recording(**{"../x.json": b"{}"})),
    "traversal-deep": lambda p: write_zip(p, recording(**{"../../../../tmp/01700000002.json": b"{}"})),
    "absolute": lambda p: write_zip(p, recording(**{"/abs.json": b"{}"})),
    "folder": lambda p: write_zip(p, recording(**{"sub/01700000002.json": b"{}"})),
    "abc-json": lambda p: write_zip(p, recording(**{"abc.json": b"{}"})),
    "newline-name": lambda p: write_zip(p, recording(**{"a\nb.json": b"{}"})),
    "nul-name": with_nul_in_a_name,
    "no-manifest": lambda p: write_zip(p, recording(**{"manifest.json": None})),
}

# What each file is refused for (a fragment of the one error line).
REASON = {
    "deep-frame": "nested too deeply (limit 64, LIVETIMING_MAX_JSON_DEPTH)",
    "deep-intraframe": "nested too deeply",
    "deep-manifest": "nested too deeply",
    "bomb": "'01700000002.json': 400.0 MiB uncompressed (limit 16 MiB, LIVETIMING_MAX_MEMBER_BYTES)",
    "lying-bomb": "01700000002.json is damaged (size or CRC mismatch)",
    "name-400MB": "'manifest.json': 400.0 MiB uncompressed (limit 16 MiB, LIVETIMING_MAX_MEMBER_BYTES)",
    "manifest-2MiB": "(limit 1 MiB, LIVETIMING_MAX_MANIFEST_BYTES)",
    "name-5000": "name: 5,000 characters (limit 1000, LIVETIMING_MAX_MANIFEST_TEXT)",
    "colspec-huge": "colSpec: 5,000 items (limit 1000, LIVETIMING_MAX_MANIFEST_LIST)",
    "bad-uuid": "'../../etc' is not a uuid",
    "frame-99999999999": "frame time 99999999999 is after 2100-01-01",
    "frame-10-digits": "'1700000002.json' is not a frame name",
    "traversal": "a path leaving the archive",
    "traversal-deep": "a path leaving the archive",
    "absolute": "an absolute path",
    "folder": "a path into a folder",
    "abc-json": "'abc.json' is neither manifest.json nor a frame",
    "newline-name": "control characters in the name",
    "nul-name": "control characters in the name",
    "no-manifest": "no manifest.json",
}

# Hostility that only reading the frames finds: `inspect` and the index
# read the manifest and the member list, so for them these are fine files.
IN_FRAMES = {"deep-frame", "deep-intraframe", "lying-bomb"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Dict[str, Path]:
    directory = tmp_path_factory.mktemp("corpus")
    files = {name: build(directory / f"{name}.zip") for name, build in ZIPS.items()}
    assert (directory / "bomb.zip").stat().st_size < 1024 * 1024   # a small file ...
    with zipfile.ZipFile(directory / "bomb.zip") as archive:       # ... that inflates to 400 MB
        assert archive.getinfo("01700000002.json").file_size >= HUGE
    return files


def test_the_corpus_is_complete():
    assert set(ZIPS) == set(REASON) and IN_FRAMES <= set(ZIPS)


def good_recording(directory: Path, name: str = "good.zip", uuid: str = "good-uuid") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return write_zip(directory / name, recording(**{"manifest.json": manifest_with(uuid=uuid, name="Good")}))


# -------------------------------------------------------------------- rectool


RECTOOL = "livetiming-rectool"


@pytest.mark.parametrize("name", sorted(ZIPS))
@pytest.mark.parametrize("subcommand", ["inspect", "validate", "state-at"])
def test_rectool_refuses_hostile_recordings(corpus, world, subcommand, name):
    target = world.root / "target" / f"{name}.zip"
    target.parent.mkdir()
    shutil.copy(corpus[name], target)
    before = world.snapshot()
    extra = ["+2"] if subcommand == "state-at" else []
    run = run_tool([command(RECTOOL), subcommand, target, *extra], world)
    assert changes(before, world.snapshot()) == []
    if subcommand == "inspect" and name in IN_FRAMES:
        assert run.code == 0 and run.stderr == "" and "Hostile" in run.stdout, run.describe()
        assert run.peak_kib < PEAK_KIB, run.describe()
    elif subcommand == "validate" and name == "lying-bomb":   # damage is reported, frame by frame
        assert run.code == 1 and run.stderr == "" and REASON[name] in run.stdout, run.describe()
        assert run.peak_kib < PEAK_KIB, run.describe()
    else:
        assert_one_error_line(run, RECTOOL, REASON[name])


def in_progress_directory(world: World, tamper: Callable[[Path], None]) -> Path:
    """A real in-progress recording (RecordingWriter), then tampered with."""
    directory = world.root / "target" / "in-progress"
    writer = RecordingWriter(directory, {key: value for key, value in MANIFEST.items()
                                         if key not in ("startTime", "version")})
    for second in range(12):
        writer.write_frame(START + second, dict(STATE, cars=[[str(second), "RUN"]]))
    writer.close()
    tamper(directory)
    return directory


def sparse(path: Path, head: bytes, size: int) -> None:
    """A file of `size` bytes that costs no disk: `head`, then a hole."""
    with open(path, "wb") as handle:
        handle.write(head)
        handle.truncate(size)


DIRECTORIES: Dict[str, Callable[[Path], None]] = {
    "deep-keyframe": lambda d: (d / "01700000000.json").write_bytes(b'{"cars": ' + DEEP_JSON + b"}"),
    "deep-manifest": lambda d: (d / "manifest.json").write_bytes(b'{"x": ' + DEEP_JSON + b"}"),
    "huge-frame": lambda d: sparse(d / "01700000005i.json", b'{"cars": [', HUGE),
    "huge-manifest": lambda d: sparse(d / "manifest.json", b'{"name": "', HUGE),
    "frame-99999999999": lambda d: (d / "99999999999.json").write_text(json.dumps(STATE)),
    "frame-10-digits": lambda d: (d / "1700000020.json").write_text(json.dumps(STATE)),
    "no-manifest": lambda d: (d / "manifest.json").unlink(),
}
DIRECTORY_REASON = {
    "deep-keyframe": "nested too deeply", "deep-manifest": "nested too deeply",
    "huge-frame": "(limit 16 MiB, LIVETIMING_MAX_MEMBER_BYTES)",
    "huge-manifest": "LIVETIMING_MAX_M",   # finalise: the manifest's own limit; validate: any member's
    "frame-99999999999": "after 2100-01-01", "frame-10-digits": "is not a frame name",
    "no-manifest": "no manifest.json",
}


@pytest.mark.parametrize("name", sorted(DIRECTORIES))
def test_rectool_finalise_refuses_hostile_directories(world, name):
    directory = in_progress_directory(world, DIRECTORIES[name])
    target = world.root / "target" / "out.zip"
    before = world.snapshot()
    run = run_tool([command(RECTOOL), "finalise", directory, target], world)
    assert_one_error_line(run, RECTOOL, DIRECTORY_REASON[name])
    # no file appears or changes (the target's folder saw a temporary file come and go)
    after = world.snapshot()
    assert set(after) == set(before) and changes(before, after) in ([], ["target"]) and not target.exists()
    # the other commands read in-progress directories the same way
    run = run_tool([command(RECTOOL), "validate", directory], world)
    assert_one_error_line(run, RECTOOL, DIRECTORY_REASON[name])


def test_rectool_options_and_environment_set_the_limits(corpus, world, tmp_path):
    good = good_recording(tmp_path)
    run = run_tool([command(RECTOOL), "validate", "--max-member-bytes", "32", good], world)
    assert_one_error_line(run, RECTOOL, "(limit 32 bytes, LIVETIMING_MAX_MEMBER_BYTES)")
    run = run_tool([command(RECTOOL), "state-at", "--max-json-depth", "2", good, "+0"], world)
    assert_one_error_line(run, RECTOOL, "nested too deeply (limit 2, LIVETIMING_MAX_JSON_DEPTH)")
    run = run_tool([command(RECTOOL), "inspect", "--max-recording-bytes", "1KiB", corpus["manifest-2MiB"]], world)
    assert_one_error_line(run, RECTOOL, "uncompressed in all (limit 1 KiB, LIVETIMING_MAX_RECORDING_BYTES)")
    world.env["LIVETIMING_MAX_JSON_DEPTH"] = "300000"
    run = run_tool([command(RECTOOL), "inspect", good], world)
    assert_one_error_line(run, RECTOOL, "LIVETIMING_MAX_JSON_DEPTH can be at most 1024")
    world.env["LIVETIMING_MAX_JSON_DEPTH"] = "1024"       # orjson's own limit still holds
    run = run_tool([command(RECTOOL), "state-at", corpus["deep-frame"], "+0"], world)
    assert_one_error_line(run, RECTOOL, "nested too deeply (limit 1024")
    world.env["LIVETIMING_MAX_MEMBER_BYTES"] = "lots"
    run = run_tool([command(RECTOOL), "inspect", good], world)
    assert_one_error_line(run, RECTOOL, "LIVETIMING_MAX_MEMBER_BYTES='lots' is not a size")
    del world.env["LIVETIMING_MAX_MEMBER_BYTES"]
    world.env["LIVETIMING_MAX_JSON_DEPTH"] = "64"
    run = run_tool([command(RECTOOL), "validate", good], world)
    assert run.code == 0 and "valid" in run.stdout, run.describe()


# ------------------------------------------------------------ livetiming-analysis


ANALYSIS = "livetiming-analysis"


@pytest.mark.parametrize("name", sorted(ZIPS))
def test_analysis_refuses_hostile_recordings(corpus, world, name):
    target = world.root / "target" / f"{name}.zip"
    target.parent.mkdir()
    shutil.copy(corpus[name], target)
    before = world.snapshot()
    run = run_tool([command(ANALYSIS), target, "-q", "-o", world.root / "target" / "out.json"], world)
    assert_one_error_line(run, ANALYSIS, REASON[name])
    assert changes(before, world.snapshot()) == []


def test_analysis_options_set_the_limits(world, tmp_path):
    good = good_recording(tmp_path)
    run = run_tool([command(ANALYSIS), good, "-q", "-o", tmp_path / "out.json", "--max-json-depth", "2"], world)
    assert_one_error_line(run, ANALYSIS, "nested too deeply (limit 2, LIVETIMING_MAX_JSON_DEPTH)")
    run = run_tool([command(ANALYSIS), good, "-q", "-o", tmp_path / "out.json", "--max-member-bytes", "10"], world)
    assert_one_error_line(run, ANALYSIS, "(limit 10 bytes, LIVETIMING_MAX_MEMBER_BYTES)")
    assert not (tmp_path / "out.json").exists()


def test_analysis_options_do_not_outlive_the_command(tmp_path, monkeypatch):
    from livetiming.cli import analysis
    monkeypatch.delenv("LIVETIMING_MAX_JSON_DEPTH", raising=False)
    monkeypatch.setenv("LIVETIMING_MAX_MEMBER_BYTES", "8MiB")
    assert analysis.main([str(good_recording(tmp_path)), "-q", "-o", str(tmp_path / "o.json"),
                          "--max-json-depth", "50", "--max-member-bytes", "1MiB"]) == 0
    assert "LIVETIMING_MAX_JSON_DEPTH" not in os.environ and os.environ["LIVETIMING_MAX_MEMBER_BYTES"] == "8MiB"


def test_analysis_refuses_a_bad_limit_setting(world, tmp_path):
    world.env["LIVETIMING_MAX_RECORDING_BYTES"] = "0"
    run = run_tool([command(ANALYSIS), good_recording(tmp_path), "-q", "-o", tmp_path / "out.json"], world)
    assert_one_error_line(run, ANALYSIS, "LIVETIMING_MAX_RECORDING_BYTES must be a positive whole number")
    assert not (tmp_path / "out.json").exists()


# ------------------------------------------------------------ the recordings index


INDEX = "livetiming-recordings-index"


@pytest.mark.parametrize("name", sorted(ZIPS))
def test_index_skips_a_hostile_recording_and_indexes_the_good_one(corpus, world, name):
    directory = world.root / "recordings"
    good_recording(directory)
    shutil.copy(corpus[name], directory / "hostile.zip")
    before = world.snapshot()
    run = run_tool([command(INDEX), "-d", directory, "--generate-analysis", "-q"], world)
    assert "Traceback" not in run.stdout + run.stderr, run.describe()
    assert run.code == 0 and run.stdout == "", run.describe()
    assert run.peak_kib < PEAK_KIB, run.describe()
    warning, = run.stderr.splitlines()
    assert warning.startswith(f"{INDEX}: warning: ") and "hostile.zip" in warning and len(warning) < 1000
    index = json.loads((directory / "index.json").read_text())
    assert index["good-uuid"]["name"] == "Good" and index["good-uuid"]["hasAnalysis"] is True
    if name in IN_FRAMES:   # its manifest is fine: indexed, but it cannot be analysed
        assert "no analysis file for hostile.zip" in warning and REASON[name] in warning
        assert set(index) == {"good-uuid", UUID} and index[UUID]["hasAnalysis"] is False
    else:
        assert warning.endswith("(skipped)") and REASON[name] in warning
        assert set(index) == {"good-uuid"}
    for written in ("index.json", ".index-cache.json"):
        assert (directory / written).stat().st_size < 10_000
    assert changes(before, world.snapshot()) == sorted(
        ["recordings/index.json", "recordings/.index-cache.json", "recordings/good.json", "recordings"])
    # a second run reads nothing again and warns again, from the cache
    run = run_tool([command(INDEX), "-d", directory, "-q"], world)
    assert run.code == 0 and run.stderr.count("warning") == (0 if name in IN_FRAMES else 1), run.describe()


def test_index_with_every_hostile_file_at_once(corpus, world):
    directory = world.root / "recordings"
    good_recording(directory)
    for name, path in corpus.items():
        shutil.copy(path, directory / f"{name}.zip")
    run = run_tool([command(INDEX), "-d", directory], world)
    assert run.code == 0 and "Traceback" not in run.stderr and run.peak_kib < PEAK_KIB, run.describe()
    # one warning per file: skipped, or (the files hostile only in their frames, which share a uuid)
    # a duplicate of the first of them
    warnings = run.stderr.splitlines()
    assert len(warnings) == len(ZIPS) - 1 and all(line.startswith(f"{INDEX}: warning: ") for line in warnings)
    assert sum("same uuid" in line for line in warnings) == len(IN_FRAMES) - 1
    index = json.loads((directory / "index.json").read_text())
    assert set(index) == {"good-uuid", UUID} and len(json.dumps(index)) < 10_000


# ------------------------------------------------------------ livetiming-service


SERVICE = "livetiming-service"

STATE_FILES: Dict[str, Callable[[Path], None]] = {
    "deep": lambda p: p.write_bytes(b'{"cars": ' + DEEP_JSON + b"}"),
    "deep-object": lambda p: p.write_bytes(b'{"a": ' * DEEP + b"1" + b"}" * DEEP),
    "huge": lambda p: sparse(p, b'{"cars": [', HUGE),
    "not-json": lambda p: p.write_bytes(b'{"cars": [oops'),
    "not-a-state": lambda p: p.write_bytes(b'[1, 2, 3]'),
}
STATE_REASON = {"deep": "nested too deeply (limit 64, LIVETIMING_MAX_JSON_DEPTH)", "deep-object": "nested too deeply",
                "huge": "more than 64 MiB (limit 64 MiB, LIVETIMING_MAX_JSON_BYTES)",
                "not-json": "is not valid JSON", "not-a-state": "does not hold a timing state"}


@pytest.mark.parametrize("name", sorted(STATE_FILES))
def test_service_refuses_a_hostile_state_file(world, name):
    path = world.root / "target" / f"{UUID}.json"
    path.parent.mkdir()
    STATE_FILES[name](path)
    before = world.snapshot()
    run = run_tool([command(SERVICE), "demo", "-s", path, "--standalone", "--no-write-state"], world)
    assert_one_error_line(run, SERVICE, STATE_REASON[name], str(path))
    # only the service's log file may appear
    assert all(change == "logs" or change.startswith("logs/") for change in changes(before, world.snapshot()))


def test_a_hostile_analysis_state_file_is_moved_aside_and_the_analyser_starts_empty(world):
    analysis = Path(world.env["LIVETIMING_ANALYSIS_DIR"])
    hostile = b'{"version": 1, "x": ' + DEEP_JSON + b"}"
    (analysis / f"{UUID}.json").write_bytes(hostile)
    service = Process([command(SERVICE), "demo", "--uuid", UUID, "--standalone", "-v", "--speed", "10"],
                      env=world.env, cwd=world.cwd)
    try:
        service.wait_for(r"Analysis state .* is unusable .*nested too deeply.*moved aside to "
                         rf"{UUID}\.json\.corrupt-\d{{8}}T\d{{6}}Z", timeout=60)
        if not any("Standalone server for uuid:" in line for line in service.output):   # printed in any order
            service.wait_for(r"Standalone server for uuid:", timeout=60)
        peak = hwm_kib(service.proc.pid)   # the hostile file was read at start
        service.proc.send_signal(signal.SIGTERM)
        reap(service.proc, 60)
    finally:
        service.stop()
    assert service.proc.returncode == 0, "\n".join(service.output[-30:])
    assert peak < PEAK_KIB
    assert "Traceback" not in "\n".join(service.output)
    aside, = analysis.glob(f"{UUID}.json.corrupt-*")
    assert aside.read_bytes() == hostile                  # kept, never overwritten
    saved = json.loads((analysis / f"{UUID}.json").read_text())   # the fresh analysis, saved at stop
    assert isinstance(saved, dict) and saved.get("version") is not None and "x" not in saved


def test_the_child_peak_memory_is_measured(world):
    """The measurement itself can fail: a child that holds 300 MB is seen."""
    run = run_tool([sys.executable, "-c", "b = b'x' * (300 * 1024 * 1024)"], world)
    assert run.code == 0 and run.peak_kib > PEAK_KIB


def test_a_hung_child_is_killed_within_the_timeout(world):
    with pytest.raises(AssertionError, match="timed out"):
        run_tool([sys.executable, "-c", "import time; time.sleep(60)"], world, timeout=1)
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with pytest.raises(AssertionError, match="timed out"):
        reap(process, 1)


def test_the_peak_of_a_small_child_is_small_even_from_a_big_parent(world):
    ballast = b"x" * (300 * 1024 * 1024)   # this test process is big now ...
    run = run_tool([sys.executable, "-c", "pass"], world)
    assert run.code == 0 and run.peak_kib < 50 * 1024   # ... the tool is not
    assert len(ballast) and hwm_kib(os.getpid()) > PEAK_KIB


def test_writes_outside_the_target_are_seen(world):
    before = world.snapshot()
    run_tool([sys.executable, "-c", "import os; open(os.path.join(os.environ['HOME'], 'x'), 'w').close()"], world)
    assert changes(before, world.snapshot()) == ["home", "home/x"]


def test_a_clean_run_of_every_tool_passes_the_same_checks(world, tmp_path):
    """The hostile tests' checks pass for a good file, so their failures mean something."""
    good = good_recording(world.root / "target")
    before = world.snapshot()
    for args in (["inspect", good], ["validate", good], ["state-at", good, "+1"]):
        run = run_tool([command(RECTOOL), *args], world)
        assert run.code == 0 and run.stderr == "" and run.peak_kib < PEAK_KIB, run.describe()
    assert changes(before, world.snapshot()) == []
    run = run_tool([command(ANALYSIS), good, "-q", "-o", tmp_path / "good.json"], world)
    assert run.code == 0 and run.stderr == "" and json.loads((tmp_path / "good.json").read_text())["service"]

