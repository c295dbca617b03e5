"""livetiming.untrusted, unit by unit: limits and their settings, JSON depth
without recursion (checked against a reference on random and adversarial
texts), capped reads, bounded decompression, names, uuids, manifests; and
the callers that must use it: the recording reader, the analysis and state
files, the catalogue's answers."""
import bz2
import io
import json
import lzma
import os
import random
import struct
import sys
import zipfile
import zlib
from datetime import datetime, timezone
from pathlib import Path

import pytest

from livetiming import untrusted
from livetiming.analysis import AnalysisFileError, AnalysisStateError
from livetiming.analysis import persistence as analysis_files
from livetiming.orchestration import catalogue
from livetiming.orchestration.catalogue import Catalogue, InvalidArgumentError, NoSuchRecordingError
from livetiming.recording import FrameError, RecordingError, RecordingReader, validate
from livetiming.recording.errors import UnsafeRecordingError
from livetiming.service.persistence import StateFileError, load_state
from livetiming.untrusted import (
    GiB,
    InvalidJSONError,
    KiB,
    Limits,
    LimitSettingError,
    MiB,
    UntrustedDataError,
    brief,
    check_archive,
    check_manifest,
    check_member_name,
    check_uuid,
    format_size,
    frame_name_parts,
    inflate,
    loads,
    nesting_depth,
    one_line,
    parse_size,
    read_capped,
)
from test_recording_support import REFERENCE_RACE

LIMITS = Limits()
DEEP = 200_000


def depth_of(value) -> int:
    """Reference depth of a parsed value (recursive: moderate depths only)."""
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


# ------------------------------------------------------------------ settings


@pytest.mark.parametrize("text, size", [("16777216", 16 * MiB), ("16MiB", 16 * MiB), ("16M", 16 * MiB),
                                        ("16mib", 16 * MiB), ("4GiB", 4 * GiB), ("4g", 4 * GiB), ("1KiB", KiB),
                                        (" 32 ", 32), ("32B", 32), ("2T", 2048 * GiB)])
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "-1", "1.5M", "16 MB MB", "0x10"])
def test_parse_size_refuses(text):
    with pytest.raises(ValueError):
        parse_size(text)


def test_format_size():
    assert [format_size(n) for n in (16 * MiB, 400 * MiB + 12, 1000, KiB, 4 * GiB)] == \
        ["16 MiB", "400.0 MiB", "1,000 bytes", "1 KiB", "4 GiB"]


def test_defaults_are_generous_for_a_day_long_race():
    assert (LIMITS.member_bytes, LIMITS.recording_bytes, LIMITS.json_bytes) == (16 * MiB, 4 * GiB, 64 * MiB)
    assert (LIMITS.manifest_bytes, LIMITS.json_depth) == (MiB, 64)


def test_limits_from_the_environment_and_overrides(monkeypatch):
    for _, variable, _ in untrusted.SETTINGS:
        monkeypatch.delenv(variable, raising=False)
    assert Limits.from_environment() == Limits()
    monkeypatch.setenv("LIVETIMING_MAX_MEMBER_BYTES", "1MiB")
    monkeypatch.setenv("LIVETIMING_MAX_JSON_DEPTH", "10")
    monkeypatch.setenv("LIVETIMING_MAX_RECORDING_BYTES", "")   # empty: unset
    limits = Limits.from_environment({"json_depth": 20, "recording_bytes": None})
    assert (limits.member_bytes, limits.json_depth, limits.recording_bytes) == (MiB, 20, 4 * GiB)


@pytest.mark.parametrize("variable, value, message", [
    ("LIVETIMING_MAX_MEMBER_BYTES", "lots", "LIVETIMING_MAX_MEMBER_BYTES='lots' is not a size"),
    ("LIVETIMING_MAX_MEMBER_BYTES", "0", "must be a positive whole number"),
    ("LIVETIMING_MAX_JSON_DEPTH", "1025", "can be at most 1024"),
    ("LIVETIMING_MAX_JSON_DEPTH", "1MiB", "is not a whole number"),
    ("LIVETIMING_MAX_MANIFEST_TEXT", "-5", "must be a positive whole number"),
])
def test_bad_settings_are_one_clear_error(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(LimitSettingError, match=message):
        Limits.from_environment()


@pytest.mark.parametrize("fields", [{"member_bytes": 0}, {"json_depth": 2000}, {"text_length": True},
                                    {"list_length": "10"}])
def test_limits_are_checked_when_made(fields):
    with pytest.raises(LimitSettingError):
        Limits(**fields)


def test_a_limit_error_names_the_limit_and_its_variable():
    error = LIMITS.exceeded("member_bytes", "x.zip: 'a.json'", "400.0 MiB uncompressed")
    assert str(error) == "x.zip: 'a.json': 400.0 MiB uncompressed (limit 16 MiB, LIVETIMING_MAX_MEMBER_BYTES)"


def test_brief_and_one_line_never_echo_much():
    assert brief("x" * 10**6).endswith("... (1,000,000 characters)") and len(brief("x" * 10**6)) < 80
    assert brief(2**64) == "an integer of 65 bits" and brief(-3) == "-3"
    assert brief([1] * 10**5) == "a list of 100,000 items" and brief(None) == "None"
    assert brief("a\nb") == "'a\\nb'"
    assert one_line("a\nb\x00c") == "a\\nb\\x00c"
    assert len(one_line("y" * 10**6)) < 2100


# ---------------------------------------------------------------------- JSON


def test_deep_nesting_is_refused_without_recursion():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)   # the checks must not need the stack, whatever the limit
    try:
        for text in (b"[" * DEEP + b"]" * DEEP, b'{"a":' * DEEP + b"1" + b"}" * DEEP, b"[" * DEEP,
                     b"[NaN, " + b"[" * DEEP + b"]" * DEEP + b"]", b"[" * 1000 + b"]" * 1000):
            with pytest.raises(UntrustedDataError, match=r"nested too deeply \(limit 64, LIVETIMING_MAX_JSON_DEPTH\)"):
                loads(text, "probe", LIMITS)
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("template", ["[{}]", '{{"k": {}}}', '["a[b", {}, "]]]]"]', '["\\\\", {}]',
                                      '["\\"", {}, "\\u005c"]', '["\\u00e4\\\\\\"", {}]'])
def test_depth_limit_is_exact(template):
    for limit in (3, 10, 64):
        def nested(levels):
            text = "0"
            for _ in range(levels):
                text = template.format(text)
            return text.encode()
        levels = next(n for n in range(1, 100) if depth_of(json.loads(nested(n))) >= limit)
        assert depth_of(json.loads(nested(levels))) == limit
        assert loads(nested(levels), "probe", Limits(json_depth=limit)) == json.loads(nested(levels))
        with pytest.raises(UntrustedDataError, match="nested too deeply"):
            loads(nested(levels + 1), "probe", Limits(json_depth=limit))


def random_json(rng: random.Random, depth: int):
    if depth == 0 or rng.random() < 0.2:
        return rng.choice([1, 2.5, None, True, "", "plain", "[", "]]", "{", "}", '"', "\\", '\\"', "[\"]",
                           "\\u005c", "a\\", "\u00e4", "\U0001F3C1", "]\\\"[", "x" * 50])
    if rng.random() < 0.5:
        return [random_json(rng, depth - 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["a", "[", "]", '"', "\\", "k\u00e9"]) + str(i): random_json(rng, depth - 1)
            for i in range(rng.randint(0, 4))}


def test_depth_check_agrees_with_a_reference_on_random_documents():
    rng = random.Random(71)
    for _ in range(3000):
        value = random_json(rng, rng.randint(1, 12))
        for ensure_ascii in (True, False):
            text = json.dumps(value, ensure_ascii=ensure_ascii, separators=(",", ":")).encode()
            depth = depth_of(value)
            assert nesting_depth(text) == depth
            for limit in (1, 2, 3, 5, 8, 11):
                if depth > limit:
                    with pytest.raises(UntrustedDataError, match="nested too deeply"):
                        loads(text, "random", Limits(json_depth=limit))
                else:
                    assert loads(text, "random", Limits(json_depth=limit)) == value


def hiding(opening: int, closing_in_string: int, inner: int, escape: str = "") -> str:
    """Depth opening + inner, but strings of brackets make all brackets
    together look only max(opening, opening - closing_in_string + inner) deep."""
    return ("[" * opening + '"' + escape + "]" * closing_in_string + escape + '",' + "[" * inner + "0"
            + "]" * inner + ',"' + escape + "[" * closing_in_string + escape + '"' + "]" * opening)


@pytest.mark.parametrize("escape", ["", '\\"', "\\\\", "\\u00e4", "\\n"])
def test_brackets_in_strings_cannot_hide_depth(escape):
    assert depth_of(json.loads(hiding(40, 40, 40, escape))) == 80
    with pytest.raises(UntrustedDataError, match="nested too deeply"):
        loads(hiding(40, 40, 40, escape), "probe", LIMITS)
    assert loads(hiding(30, 40, 30, escape), "probe", LIMITS)   # 60 deep: fine


def test_json_only_the_standard_library_reads_is_still_read():
    assert loads(b"[NaN, 1]", "probe", LIMITS)[1] == 1
    assert loads(b'"\\ud800"', "probe", LIMITS) == "\ud800"


@pytest.mark.parametrize("text, message", [(b"", "is not valid JSON"), (b"{oops", "is not valid JSON"),
                                           (b"\xff\xfe[]", "not UTF-8"), (b'"\\x"', "is not valid JSON"),
                                           (b"[" * 10 + b"1", "is not valid JSON")])
def test_not_json(text, message):
    with pytest.raises(InvalidJSONError, match=message):
        loads(text, "probe", LIMITS)


def test_json_size_limit():
    with pytest.raises(UntrustedDataError, match=r"65 bytes of JSON \(limit 64 bytes, LIVETIMING_MAX_JSON_BYTES\)"):
        loads(b"[" + b"1," * 31 + b"1]", "probe", Limits(json_bytes=64))
    assert len(loads(b"[" + b"1," * 30 + b"12]", "probe", Limits(json_bytes=64))) == 31


# ------------------------------------------------------------------- reading


class CountingStream(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.handed_out = 0

    def read(self, size=-1):
        data = super().read(size)
        self.handed_out += len(data)
        return data


@pytest.mark.parametrize("hint", [None, 0, 10, 100, 10**9])
def test_read_capped_reads_at_most_one_byte_past_the_limit(hint):
    limits = Limits(member_bytes=100)
    stream = CountingStream(b"x" * 10**6)
    with pytest.raises(UntrustedDataError, match=r"more than 100 bytes \(limit 100 bytes"):
        read_capped(stream, "big", limits, "member_bytes", hint)
    assert stream.handed_out == 101
    assert read_capped(io.BytesIO(b"y" * 100), "exact", limits, "member_bytes", hint) == b"y" * 100
    assert read_capped(io.BytesIO(b""), "empty", limits, "member_bytes", hint) == b""


def test_read_file_of_a_sparse_giant(tmp_path):
    path = tmp_path / "giant.json"
    with open(path, "wb") as handle:
        handle.truncate(10 * GiB)
    with pytest.raises(UntrustedDataError, match="LIVETIMING_MAX_JSON_BYTES"):
        untrusted.load_json_file(path, "giant", Limits(json_bytes=MiB))


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def zip_lzma(data: bytes, dictionary: int) -> bytes:
    """ZIP's LZMA member format with a chosen dictionary size in the header."""
    properties = bytes([3 + 9 * 0 + 45 * 2]) + struct.pack("<I", dictionary)
    raw = lzma.compress(data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, "dict_size": 1 << 20}])
    return struct.pack("<BBH", 9, 4, 5) + properties + raw


@pytest.mark.parametrize("method, compress", [
    (zipfile.ZIP_DEFLATED, raw_deflate), (zipfile.ZIP_STORED, lambda data: data),
    (zipfile.ZIP_BZIP2, bz2.compress), (zipfile.ZIP_LZMA, lambda data: zip_lzma(data, 1 << 20)),
])
def test_inflate_never_produces_more_than_the_declared_size_plus_one(method, compress):
    bomb = compress(b"\0" * (64 * MiB))
    assert inflate(bomb, method, 100) == b"\0" * 101
    assert inflate(compress(b"frame"), method, 5) == b"frame"


def test_inflate_lzma_ignores_a_gigantic_dictionary_size():
    data = b"0123456789" * 1000
    assert inflate(zip_lzma(data, 0xFFFFFFFF), zipfile.ZIP_LZMA, len(data)) == data


def test_inflate_refuses_unknown_methods():
    with pytest.raises(NotImplementedError):
        inflate(b"", 99, 0)


@pytest.mark.parametrize("members, message", [
    ([("a.json", 10, 17 * MiB)], r"'a.json': 17 MiB uncompressed \(limit 16 MiB, LIVETIMING_MAX_MEMBER_BYTES\)"),
    ([("a.json", 17 * MiB, 10)], "17 MiB compressed"),
    ([(f"{i:011d}.json", 1, 15 * MiB) for i in range(300)], r"4.4 GiB uncompressed in all \(limit 4 GiB"),
    ([("a.json", 1, 1), ("a.json", 1, 1)], "'a.json' appears twice"),
    ([("../a.json", 1, 1)], "leaving the archive"),
])
def test_check_archive(members, message):
    with pytest.raises(UntrustedDataError, match=message):
        check_archive(members, "x.zip", LIMITS)


@pytest.mark.parametrize("name", ["../x.json", "a/../../x.json", "..\\x.json", "/abs.json", "\\abs.json",
                                  "C:x.json", "c:\\x.json", "sub/01700000000.json", "a\nb.json", "a\x00b",
                                  "x" * 256, ""])
def test_unsafe_member_names(name):
    with pytest.raises(UntrustedDataError):
        check_member_name(name, "x.zip")


@pytest.mark.parametrize("name", ["manifest.json", "01700000000.json", "README.txt", "é.json", "..x.json"])
def test_safe_member_names(name):
    check_member_name(name, "x.zip")


@pytest.mark.parametrize("name, parts", [("01700000000.json", (1_700_000_000, True)),
                                         ("01700000001i.json", (1_700_000_001, False)),
                                         ("00000000100.json", (100, True)), ("04102444800.json", (4102444800, True)),
                                         ("manifest.json", None), ("abc.json", None), ("01700000000.txt", None),
                                         ("01700000000x.json", None)])
def test_frame_names(name, parts):
    assert frame_name_parts(name) == parts


@pytest.mark.parametrize("name, message", [("99999999999.json", "after 2100-01-01"),
                                           ("04102444801i.json", "after 2100-01-01"),
                                           ("1700000000.json", "not a frame name"),
                                           ("001700000000.json", "not a frame name"),
                                           ("1" * 5000 + ".json", "not a frame name")])
def test_forged_frame_names(name, message):
    with pytest.raises(UntrustedDataError, match=message) as error:
        frame_name_parts(name)
    assert len(str(error.value)) < 300


@pytest.mark.parametrize("value", ["0123456789abcdef0123456789abcdef", "uuid-alpha", "abc_1", "abc:1"])
def test_uuids(value):
    assert check_uuid(value) == value


@pytest.mark.parametrize("value", ["", "../x", "a b", "x" * 129, None, 5, ["a"], "a\n"])
def test_not_uuids(value):
    with pytest.raises(UntrustedDataError, match="is not a uuid"):
        check_uuid(value)


GOOD_MANIFEST = {"uuid": "0123456789abcdef0123456789abcdef", "name": "Series", "description": "Race",
                 "serviceClass": "demo", "colSpec": [["Num", "text", "Car number"], ["Gap", "delta"]],
                 "trackDataSpec": ["Air"], "pollInterval": 1, "hasAnalysis": True, "hidden": False,
                 "livetimingVersion": {"core": "1", "plugin": "2"}, "source": ["Provider", None],
                 "startTime": 1_700_000_000.0, "version": 1, "anything": {"else": [1, 2]}}


def test_a_good_manifest_passes():
    assert check_manifest(GOOD_MANIFEST, "m", LIMITS) is GOOD_MANIFEST
    assert check_manifest({}, "m", LIMITS) == {}
    assert check_manifest({"name": None, "description": None}, "m", LIMITS)


@pytest.mark.parametrize("change, message", [
    ({"name": "n" * 1001}, "name: 1,001 characters (limit 1000, LIVETIMING_MAX_MANIFEST_TEXT)"),
    ({"description": 5}, "description is 5, not a string"),
    ({"serviceClass": ["x"]}, "serviceClass is a list of 1 items, not a string"),
    ({"uuid": "x" * 10**6}, "is not a uuid"),
    ({"colSpec": 5}, "colSpec is 5, not a list"),
    ({"colSpec": [["x"]] * 1001}, "colSpec: 1,001 items (limit 1000, LIVETIMING_MAX_MANIFEST_LIST)"),
    ({"colSpec": ["Num"]}, "colSpec column is 'Num', not a list"),
    ({"colSpec": [["Num", ["nested"]]]}, "colSpec column holds a list"),
    ({"colSpec": [["x"] * 9]}, "colSpec column: 9 items"),
    ({"trackDataSpec": [7]}, "trackDataSpec heading is 7, not a string"),
    ({"source": ["s" * 2000, None]}, "source: 2,000 characters"),
    ({"hidden": "yes"}, "hidden is 'yes', not true or false"),
    ({"pollInterval": float("nan")}, "pollInterval is nan"),
    ({"startTime": True}, "startTime is True, not a number"),
    ({"startTime": 99999999999}, "after 2100-01-01"),
    ({"startTime": -1}, "startTime is -1"),
])
def test_manifest_fields_are_checked(change, message):
    with pytest.raises(UntrustedDataError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        check_manifest({**GOOD_MANIFEST, **change}, "x.zip: manifest.json", LIMITS)
    assert str(error.value).startswith("x.zip: manifest.json") and len(str(error.value)) < 300


def test_not_a_manifest():
    with pytest.raises(UntrustedDataError, match="holds a list of 0 items, not a JSON object"):
        check_manifest([], "m", LIMITS)


# ---------------------------------------------------------------- recordings


def copy_with(source: Path, target: Path, **members) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for name in old.namelist():
            new.writestr(name, members.pop(name, old.read(name)))
        for name, data in members.items():
            new.writestr(name, data)
    return target


def test_unsafe_recordings_are_recording_errors(tmp_path):
    deep = b'{"cars": ' + b"[" * DEEP + b"]" * DEEP + b"}"
    path = copy_with(REFERENCE_RACE, tmp_path / "r.zip", **{"01713099595.json": deep})
    with RecordingReader(path) as recording:   # opening reads no frame
        with pytest.raises(UnsafeRecordingError) as error:
            list(recording.iter_states())
    assert isinstance(error.value, RecordingError) and isinstance(error.value, UntrustedDataError)
    assert str(error.value).startswith(f"{path}: frame 01713099595.json: JSON nested too deeply")
    with pytest.raises(UnsafeRecordingError):   # validate does not read past it
        validate(path)


def test_damage_is_still_reported_frame_by_frame(tmp_path):
    path = copy_with(REFERENCE_RACE, tmp_path / "r.zip", **{"01713099595.json": b"{oops"})
    report = validate(path)
    assert not report.valid and "frame 01713099595.json is not valid JSON" in report.problems[0]
    with RecordingReader(path) as recording, pytest.raises(FrameError):
        list(recording.iter_states())


def test_the_reference_race_reads_under_tight_limits():
    limits = Limits(member_bytes=64 * KiB, recording_bytes=64 * MiB, json_depth=8)
    assert validate(REFERENCE_RACE, limits).valid


def test_the_writer_refuses_frames_after_2100(tmp_path):
    from livetiming.recording import InvalidStateError, RecordingWriter
    writer = RecordingWriter(tmp_path / "w", {"uuid": "u"})
    with pytest.raises(InvalidStateError, match="after 2100-01-01"):
        writer.write_frame(99_999_999_999, {"cars": []})
    writer.close()


# ----------------------------------------------------------- state files


def test_state_file_limits(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_bytes(b'{"cars": ' + b"[" * DEEP + b"]" * DEEP + b"}")
    with pytest.raises(StateFileError, match="deep.json: JSON nested too deeply"):
        load_state(deep)
    big = tmp_path / "big.json"
    big.write_bytes(b'{"cars": [' + b" " * 2000 + b"]}")
    with pytest.raises(StateFileError, match="LIVETIMING_MAX_JSON_BYTES"):
        load_state(big, Limits(json_bytes=1000))
    assert load_state(big)["cars"] == []


def test_a_bad_limit_setting_is_a_state_file_error(tmp_path, monkeypatch):
    monkeypatch.setenv("LIVETIMING_MAX_JSON_BYTES", "huge")
    (tmp_path / "s.json").write_text("{}")
    with pytest.raises(StateFileError, match="LIVETIMING_MAX_JSON_BYTES='huge'"):
        load_state(tmp_path / "s.json")


@pytest.mark.parametrize("content", [
    b'{"version": 1, "x": ' + b"[" * DEEP + b"]" * DEEP + b"}", b"{oops", b"[]",
    b'{"version": 1, "static": 5, "driver": "x"}',
])
def test_an_unusable_analysis_file_is_moved_aside_not_overwritten(tmp_path, content):
    path = tmp_path / "abc.json"
    path.write_bytes(content)
    with pytest.raises(AnalysisFileError) as error:
        analysis_files.load(path)
    assert isinstance(error.value, AnalysisStateError) and str(path) in str(error.value)
    aside, = tmp_path.glob("abc.json.corrupt-*")
    assert aside == error.value.moved_to and aside.read_bytes() == content and not path.exists()
    assert aside.name in str(error.value)


def test_setting_aside_never_replaces_an_earlier_copy(tmp_path):
    now = datetime(2026, 11, 30, 12, 0, 0, tzinfo=timezone.utc)
    names = []
    for content in (b"first", b"second", b"third"):
        (tmp_path / "u.json").write_bytes(content)
        names.append(analysis_files.set_aside(tmp_path / "u.json", now).name)
    assert names == ["u.json.corrupt-20261130T120000Z", "u.json.corrupt-20261130T120000Z-1",
                     "u.json.corrupt-20261130T120000Z-2"]
    assert (tmp_path / names[0]).read_bytes() == b"first"


def test_a_missing_analysis_file_is_not_an_error_to_set_aside(tmp_path):
    with pytest.raises(FileNotFoundError):
        analysis_files.load(tmp_path / "none.json")
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------ catalogue


def make_recording(directory: Path, filename: str, uuid: str, **manifest) -> Path:
    from test_catalogue import make_recording as make
    return make(directory, filename, uuid, 1_700_000_000, **manifest)


@pytest.mark.parametrize("number, shown", [(2**64, 0), (-(2**64), 0), (10**400, 0), (1e300, 0), (-1, 0), (0, 0),
                                           (99, 0), ("3", 0), (1.0, 3), (" 1 ", 3)])
def test_absurd_page_numbers_are_an_empty_page_at_once(number, shown):
    index = {f"u{i}": {"uuid": f"u{i}", "filename": f"{i}.zip", "name": "n", "startTime": i} for i in range(3)}
    result = catalogue.page(index, number)
    assert result["pages"] == 1 and result["total"] == 3 and len(result["recordings"]) == shown


@pytest.mark.parametrize("number", ["x", "9" * 10**6, float("inf"), float("nan"), 1.5, True, [1], {"a": 1}])
def test_wrong_page_numbers_are_refused_briefly(number):
    with pytest.raises(InvalidArgumentError, match="page_number must be an integer") as error:
        catalogue.page({}, number)
    assert len(str(error.value)) < 200


def test_none_is_the_first_page():
    assert catalogue.page({}, None) == {"recordings": [], "pages": 0, "total": 0}


@pytest.mark.parametrize("uuid", [None, 5, ["a"], "x" * 10**6, "../../etc/passwd", "a\nb", ""])
def test_bad_manifest_uuids_are_refused_briefly(tmp_path, uuid):
    with pytest.raises(InvalidArgumentError) as error:
        Catalogue(tmp_path).manifest(uuid)
    assert len(str(error.value)) < 200


def test_well_formed_unknown_uuids_are_no_such_recording(tmp_path):
    with pytest.raises(NoSuchRecordingError):
        Catalogue(tmp_path).manifest("no-such-uuid")


def test_huge_entries_in_an_old_index_or_cache_are_never_used(tmp_path):
    make_recording(tmp_path, "a.zip", "uuid-a", name="A")
    big = "z" * 100_000
    (tmp_path / "index.json").write_text(json.dumps({
        "uuid-a": {"uuid": "uuid-a", "filename": "a.zip", "name": big, "startTime": 1},
        "evil": {"uuid": "other", "filename": "a.zip", "name": "x"},
        "../x": {"uuid": "../x", "filename": "../x.zip", "name": "x"}}))
    assert catalogue.load_index(tmp_path) == {}
    stat = (tmp_path / "a.zip").stat()
    key = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    (tmp_path / ".index-cache.json").write_text(json.dumps({"version": catalogue.CACHE_VERSION, "files": {
        "a.zip": {**key, "entry": {"uuid": "uuid-a", "filename": "a.zip", "name": big}}}}))
    report = catalogue.update_index(tmp_path)
    assert report.read == ["a.zip"] and report.index["uuid-a"]["name"] == "A"
    assert big not in (tmp_path / "index.json").read_text() + (tmp_path / ".index-cache.json").read_text()


def test_a_deep_index_or_cache_is_rebuilt(tmp_path):
    make_recording(tmp_path, "a.zip", "uuid-a", name="A")
    for name in ("index.json", ".index-cache.json"):
        (tmp_path / name).write_bytes(b"[" * DEEP + b"]" * DEEP)
    assert Catalogue(tmp_path).index == {}
    assert set(catalogue.update_index(tmp_path).index) == {"uuid-a"}


def test_update_manifest_refuses_what_readers_would_refuse(tmp_path):
    make_recording(tmp_path, "a.zip", "uuid-a", name="A")
    book = Catalogue(tmp_path)
    book.refresh()
    before = (tmp_path / "a.zip").read_bytes()
    with pytest.raises(InvalidArgumentError, match="name: 5,000 characters"):
        book.update_manifest({"uuid": "uuid-a", "name": "n" * 5000}, "code", "code")
    assert (tmp_path / "a.zip").read_bytes() == before
    assert book.update_manifest({"uuid": "uuid-a", "name": "B"}, "code", "code").manifest["name"] == "B"


def test_refused_manifest_changes_are_described_briefly():
    with pytest.raises(InvalidArgumentError, match="and 99,995 more") as error:
        catalogue.manifest_changes({}, {f"key{i}": 1 for i in range(100_000)})
    assert len(str(error.value)) < 300
    with pytest.raises(InvalidArgumentError) as error:
        catalogue.manifest_changes({}, {"k" * 10**6: 1})
    assert len(str(error.value)) < 300


def test_the_catalogue_session_logs_uuids_briefly():
    from livetiming.orchestration.catalogue_session import _shown_uuid
    assert _shown_uuid("uuid000") == "uuid000"
    assert len(_shown_uuid("x" * 10**6)) < 80 and _shown_uuid(None) == "None"
