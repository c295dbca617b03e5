"""The browser replay player's own JavaScript under node: its ZIP reader and
dictdiffer-format patch (src/livetiming/web/static/js/zipreader.js,
dictpatch.js, recording.js) give, for every frame of the reference race,
exactly the state the Python reader gives — moving frame by frame, seeking
to each frame (keyframe + intra-frames), and seeking by HTTP Range; the
patch applies the Python writer's diffs of random data; the ZIP reader
reads stored, deflated, ZIP64 and commented archives byte for byte."""
from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest

from livetiming.cli.rectool import TimeArgumentError, parse_time
from livetiming.recording import RecordingReader, diff, patch

HERE = Path(__file__).parent / "js_web"
FIXTURE = Path(__file__).parent / "fixtures" / "reference_race.zip"
NODE_TIMEOUT = 180


@pytest.fixture(scope="module")
def node() -> str:
    executable = shutil.which("node")
    if executable is None:
        pytest.fail("node is not installed: the web app's JavaScript tests need Node.js (v18+)")
    return executable


def run_node(node: str, *args: str) -> dict:
    try:
        result = subprocess.run([node, str(HERE / "replay_check.mjs"), *args], capture_output=True, text=True,
                                timeout=NODE_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"replay_check.mjs {args[0]} did not finish within {NODE_TIMEOUT} s")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    lines = [line for line in result.stdout.split("\n") if line.startswith("{")]
    assert lines, f"no result: {result.stdout[-2000:]} {result.stderr[-2000:]}"
    return json.loads(lines[-1])


def test_every_frame_of_the_fixture_equals_the_python_reader(node, tmp_path):
    out = tmp_path / "states.jsonl"
    result = run_node(node, "states", str(FIXTURE), str(out))
    with RecordingReader(FIXTURE) as reader:
        expected = list(reader.iter_states())
        manifest = reader.manifest
        keyframes = reader.keyframe_count
        duration = reader.duration
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(got) == len(expected) == result["frames"] == 2875
    mismatched = [i for i, ((t, state), (second, want)) in enumerate(zip(got, expected))
                  if t != second or state != want]
    assert mismatched == []
    assert result["keyframes"] == keyframes == 288
    assert result["manifest"] == manifest and result["duration"] == duration
    assert result["seekMismatches"] == [] and result["httpMismatches"] == [] and result["aheadMismatches"] == []
    assert result["missing"] == "http://fixture/missing.zip: HTTP 404"
    # sixty seeks by Range read far less than the file (the keyframe and the frames after it)
    assert result["httpBytes"] < result["size"] / 2


def random_value(rng: random.Random, depth: int = 0):
    kind = rng.random()
    if depth > 3 or kind < 0.35:
        return rng.choice([0, 1, 2.5, -3, "a", "b.c", "", None, True, False, "x" * rng.randint(0, 5)])
    if kind < 0.7:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    keys = ["a", "b", "c.d", "1", "e", "__proto__", "constructor", "f g"]
    return {key: random_value(rng, depth + 1) for key in rng.sample(keys, rng.randint(0, 5))}


def mutate(rng: random.Random, value):
    if isinstance(value, list):
        out = [mutate(rng, item) if rng.random() < 0.4 else item for item in value]
        if rng.random() < 0.3:
            out.insert(rng.randint(0, len(out)), random_value(rng, 2))
        if out and rng.random() < 0.3:
            del out[rng.randrange(len(out))]
        return out
    if isinstance(value, dict):
        out = {key: mutate(rng, item) if rng.random() < 0.4 else item for key, item in value.items()}
        if rng.random() < 0.3:
            out[rng.choice(["a", "new", "c.d", "2", "__proto__"])] = random_value(rng, 2)
        if out and rng.random() < 0.3:
            del out[rng.choice(sorted(out))]
        return out
    return random_value(rng, 3) if rng.random() < 0.5 else value


def test_patch_applies_the_writers_diffs(node, tmp_path):
    rng = random.Random(13)
    cases = tmp_path / "cases.jsonl"
    count = 0
    with cases.open("w") as out:
        for _ in range(3000):
            before = rng.choice([{}, []]) if rng.random() < 0.05 else random_value(rng)
            if not isinstance(before, (dict, list)):
                before = {"v": before}
            after = mutate(rng, before)
            operations = diff(before, after)
            # what Python's patch makes of it (equal to `after` up to 1 == 1.0 == True)
            out.write(json.dumps([before, operations, patch(operations, before)]) + "\n")
            count += 1
        # real consecutive states' cars and sessions
        with RecordingReader(FIXTURE) as reader:
            previous = None
            for _, state in reader.iter_states():
                if previous is not None:
                    for key in ("cars", "session"):
                        out.write(json.dumps([previous[key], diff(previous[key], state[key]), state[key]]) + "\n")
                        count += 1
                previous = state
    result = run_node(node, "patch", str(cases))
    assert result["mismatches"] == []
    assert result["cases"] == count == 3000 + 2 * 2874


def test_patch_refuses_what_does_not_apply(node, tmp_path):
    cases = tmp_path / "bad.jsonl"
    cases.write_text("\n".join(json.dumps(case) for case in [
        [{"a": 1}, [["change", "b.c", [1, 2]]], None],        # no such key on the path
        [[1, 2], [["change", [5], [1, 2]]], None],              # index past the end
        [{"a": 1}, [["remove", "", [["z", 1]]]], None],         # removing a missing key
        [{"a": 1}, [["frobnicate", "a", [1, 2]]], None],        # unknown action
        [{"a": 1}, [["change", "a.b", [1, 2]]], None],          # a value where a container is needed
    ]) + "\n")
    result = run_node(node, "patch", str(cases))
    assert result["cases"] == 5
    assert sorted(i for i, why in result["mismatches"] if why.startswith("threw")) == [0, 1, 2, 3, 4]


def test_zip_reader_reads_every_member_byte_for_byte(node, tmp_path):
    rng = random.Random(5)
    archive = tmp_path / "mixed.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("stored.txt", b"plain bytes", compress_type=zipfile.ZIP_STORED)
        out.writestr("deflated.json", json.dumps(random_value(rng)) * 50, compress_type=zipfile.ZIP_DEFLATED)
        out.writestr("empty", b"", compress_type=zipfile.ZIP_DEFLATED)
        out.writestr("random.bin", bytes(rng.randrange(256) for _ in range(70_000)), compress_type=zipfile.ZIP_DEFLATED)
        with out.open("zip64.txt", "w", force_zip64=True) as member:   # ZIP64 extra in the local header
            member.write(b"forced zip64 " * 1000)
        out.writestr("dir/", b"")
        out.comment = b"a comment at the end" * 10
    big = tmp_path / "many.zip"   # more than 65,535 members: ZIP64 end of central directory
    with zipfile.ZipFile(big, "w", zipfile.ZIP_STORED) as out:
        for n in range(66_000):
            out.writestr(f"{n:011d}.json", str(n))
    for path in (archive, big, FIXTURE):
        with zipfile.ZipFile(path) as reference:
            want = {info.filename: hashlib.sha256(reference.read(info)).hexdigest()
                    for info in reference.infolist() if not info.is_dir()}
        assert run_node(node, "zip", str(path)) == want, path.name


def test_jump_box_reads_offsets_as_rectool_does(node):
    texts = ["+0", "+59", "+1:00", "+0:07:13", "+12:00:00", "+1:02:03.5", "+90", "+1:60", "+1:00:60", "+", "+1::2",
             "+-1", "+a", "+1:2:3:4", "+24:00:00", "+0:00:00.25"]
    result = run_node(node, "offsets", json.dumps(texts))
    for text in texts:
        try:
            want = parse_time(text, 0.0)
        except TimeArgumentError:
            want = None
        assert result["parsed"][text] == want, text
    assert result["formatted"] == {"0": "+0:00:00", "59": "+0:00:59", "60": "+0:01:00", "3599": "+0:59:59",
                                   "3600": "+1:00:00", "86399": "+23:59:59", "86460.7": "+24:01:00",
                                   "-5": "+0:00:00"}


def test_zip_reader_reports_broken_members(node, tmp_path):
    path = tmp_path / "broken.zip"
    text = json.dumps({"cars": [[str(n), "RUN"] for n in range(200)]}).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("good.json", text)
        out.writestr("garbled.json", text)
        out.writestr("flipped.json", text)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    for name, damage in (("garbled.json", b"\xff" * 16), ("flipped.json", None)):
        info = infos[name]
        start = info.header_offset + 30 + len(name) + len(info.extra)
        if damage:   # not deflate any more
            data[start:start + len(damage)] = damage
        else:        # still inflates, to other bytes (a literal changed): the CRC catches it
            whole = zlib_raw(text.replace(b'"199"', b'"198"'))
            assert len(whole) == info.compress_size
            data[start:start + len(whole)] = whole
    path.write_bytes(bytes(data))
    outcome = run_node(node, "corrupt", str(path))
    assert outcome["good.json"] == "ok"
    assert outcome["garbled.json"].startswith("ZipError: garbled.json: ")
    assert outcome["flipped.json"] == "ZipError: flipped.json: CRC mismatch"


def zlib_raw(data: bytes) -> bytes:
    """Raw deflate as zipfile writes it (zlib's default level)."""
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()
