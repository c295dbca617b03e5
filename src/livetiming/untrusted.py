"""The one way to read data that came from outside: recordings (ZIP members
and in-progress directories), their manifests, state files given with `-s`,
analysis state files, the catalogue's index. Anything read from such a file
can be hostile or broken, so every read here is bounded:

* JSON: at most `json_bytes` per document, nested at most `json_depth`
  deep. The depth is checked without recursion: orjson (which stops at its
  own 1024 levels) parses, then a scan of the text's brackets (bytes
  operations only, no per-character Python loop) checks the lower limit.
  Deep nesting must be stopped here because the code that later walks the
  values (copying, comparing, encoding) recurses and would crash.
* ZIP members: the declared sizes are checked against `member_bytes` per
  member and `recording_bytes` in total, and decompression stops one byte
  after the declared size, so a member that lies about its size costs no
  more than an honest one (the header is a cap, never trusted as a fact).
* Names: frame names are exactly `%011d.json` / `%011di.json` (protocol
  §7) with a time before 2100; member names with folders, `..`, absolute
  paths or control characters are refused.
* Manifests: known fields have the right types and bounded sizes, so that
  no huge or odd value travels on into index.json, WAMP answers or logs.

Everything refused raises UntrustedDataError (InvalidJSONError when the
text is simply not JSON), with a one-line message naming what was read and
the limit with its environment variable. Callers wrap it in their own
exception types (the recording library's are RecordingErrors).

The limits are a frozen `Limits`; `Limits.from_environment()` reads the
`LIVETIMING_MAX_*` variables (see `SETTINGS`), CLIs may override them with
options (`add_limit_arguments`, `limits_from_arguments`).
"""
import argparse
import bz2
import dataclasses
import json
import lzma
import math
import operator
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from itertools import accumulate, count
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO, Iterable, Mapping, Optional, Tuple, Union

import orjson

from . import config

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

LATEST_FRAME_TIME = 4_102_444_800
"""2100-01-01T00:00:00Z: a frame named after a later second is not a recording
time (and would make durations of millennia)."""

PARSER_MAX_DEPTH = 1024
"""orjson's own nesting limit: no depth setting can go beyond it."""

MAX_MEMBER_NAME = 255
UUID_PATTERN = re.compile(r"[A-Za-z0-9_:-]{1,128}")
"""Service uuids (letters, digits, '-', '_'), and the DVR's `<uuid>:N` for a
second recording of one service."""


class UntrustedDataError(ValueError):
    """Data read from outside breaks a limit or a rule of safe reading; the
    message is one line naming what was read and the limit."""


class InvalidJSONError(UntrustedDataError):
    """The text is not JSON at all (damage rather than hostility: callers
    that report damage item by item, such as `rectool validate`, carry on)."""


class LimitSettingError(ValueError):
    """A limit given in the environment or as an option is not usable."""


# ------------------------------------------------------------------ limits


@dataclass(frozen=True)
class Limits:
    """How much untrusted data may cost. The defaults are generous for a
    24-hour, 60-car race at one frame a second (its largest frame is about
    21 KB, all frames together about 200 MB, its analysis file under 1 MB)."""

    member_bytes: int = 16 * MiB
    """One ZIP member (or in-progress frame file), decompressed."""
    recording_bytes: int = 4 * GiB
    """All members of one recording together, decompressed."""
    json_bytes: int = 64 * MiB
    """One JSON file read whole: `-s` state file, analysis file, index.json."""
    manifest_bytes: int = 1 * MiB
    """A recording's manifest.json."""
    json_depth: int = 64
    """Nesting of arrays and objects (real timing data nests about 6 deep)."""
    text_length: int = 1000
    """Manifest strings: name, description, serviceClass, column headings."""
    list_length: int = 1000
    """Manifest lists: colSpec, trackDataSpec."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            _check_setting(field.name, getattr(self, field.name))

    @classmethod
    def from_environment(cls, overrides: Optional[Mapping[str, Optional[int]]] = None) -> "Limits":
        """The defaults, replaced by the `LIVETIMING_MAX_*` variables that are
        set, replaced by `overrides` (field name -> value; None: not given).
        LimitSettingError for a value that is not a positive number."""
        values = {}
        for name, variable, is_size in SETTINGS:
            text = config.get(variable)
            if text is not None:
                values[name] = _parse_setting(text, variable, is_size)
        for name, value in (overrides or {}).items():
            if value is not None:
                values[name] = value
        return cls(**values)   # checked by __post_init__

    def exceeded(self, name: str, what: str, detail: str) -> UntrustedDataError:
        """The error for `what` breaking limit `name` (a field name)."""
        value = getattr(self, name)
        shown = format_size(value) if _is_size(name) else str(value)
        return UntrustedDataError(f"{what}: {detail} (limit {shown}, {variable_of(name)})")


SETTINGS: Tuple[Tuple[str, str, bool], ...] = (
    ("member_bytes", "LIVETIMING_MAX_MEMBER_BYTES", True),
    ("recording_bytes", "LIVETIMING_MAX_RECORDING_BYTES", True),
    ("json_bytes", "LIVETIMING_MAX_JSON_BYTES", True),
    ("manifest_bytes", "LIVETIMING_MAX_MANIFEST_BYTES", True),
    ("json_depth", "LIVETIMING_MAX_JSON_DEPTH", False),
    ("text_length", "LIVETIMING_MAX_MANIFEST_TEXT", False),
    ("list_length", "LIVETIMING_MAX_MANIFEST_LIST", False),
)
"""(Limits field, environment variable, is a byte size) for every limit."""


def variable_of(name: str) -> str:
    return next(variable for field, variable, _ in SETTINGS if field == name)


def _is_size(name: str) -> bool:
    return next(is_size for field, _, is_size in SETTINGS if field == name)


_SIZE = re.compile(r"\s*([0-9]+)\s*(?:([KMGT])(i?B)?|B)?\s*", re.IGNORECASE)
_UNITS = MappingProxyType({"": 1, "K": KiB, "M": MiB, "G": GiB, "T": 1024 * GiB})


def parse_size(text: str) -> int:
    """`16777216`, `16MiB`, `16M`, `4GiB`, `4g`: a number of bytes (the units
    are binary). ValueError for anything else."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a size: {brief(text)} (use e.g. 16MiB or 4GiB)")
    return int(match.group(1)) * _UNITS[(match.group(2) or "").upper()]


def format_size(size: int) -> str:
    """`16 MiB`, `400.0 MiB`, `1,000 bytes`: for messages."""
    for unit, factor in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if size >= factor:
            return f"{size // factor:,} {unit}" if size % factor == 0 else f"{size / factor:,.1f} {unit}"
    return f"{size:,} bytes"


def _parse_setting(text: str, variable: str, is_size: bool) -> int:
    try:
        return parse_size(text) if is_size else int(text.strip())
    except ValueError:
        raise LimitSettingError(f"{variable}={brief(text)} is not a "
                                f"{'size (e.g. 16MiB)' if is_size else 'whole number'}") from None


def _check_setting(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise LimitSettingError(f"{variable_of(name)} must be a positive whole number, not {brief(value)}")
    if name == "json_depth" and value > PARSER_MAX_DEPTH:
        raise LimitSettingError(f"{variable_of(name)} can be at most {PARSER_MAX_DEPTH} "
                                f"(the JSON parser's own limit), not {value}")


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """The limit options of the command-line tools (default: the environment)."""
    defaults = Limits()
    group = parser.add_argument_group("limits on untrusted input (default: LIVETIMING_MAX_* or built in)")
    group.add_argument("--max-member-bytes", type=_size_argument, metavar="SIZE",
                       help=f"largest decompressed ZIP member / frame file "
                            f"(default {format_size(defaults.member_bytes)})")
    group.add_argument("--max-recording-bytes", type=_size_argument, metavar="SIZE",
                       help=f"largest decompressed recording in total "
                            f"(default {format_size(defaults.recording_bytes)})")
    group.add_argument("--max-json-depth", type=int, metavar="N",
                       help=f"deepest JSON nesting (default {defaults.json_depth}, at most {PARSER_MAX_DEPTH})")


def limits_from_arguments(args: argparse.Namespace) -> Limits:
    """Limits from the environment and the options of `add_limit_arguments`."""
    return Limits.from_environment({
        "member_bytes": getattr(args, "max_member_bytes", None),
        "recording_bytes": getattr(args, "max_recording_bytes", None),
        "json_depth": getattr(args, "max_json_depth", None),
    })


def environment_of(limits: Limits) -> dict:
    """The LIVETIMING_MAX_* variables that make `Limits.from_environment()`
    give `limits` (for a tool that hands its options to code reading the
    environment in a child or a library call)."""
    return {variable: str(getattr(limits, name)) for name, variable, _ in SETTINGS}


def _size_argument(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


# ---------------------------------------------------------------- messages


def brief(value: Any, width: int = 40) -> str:
    """A short one-line description of an untrusted value for a message:
    never the whole of a huge string, never a line break."""
    if isinstance(value, str):
        if len(value) > width:
            return f"{value[:width]!r}... ({len(value):,} characters)"
        return repr(value)
    if isinstance(value, bytes):
        if len(value) > width:
            return f"{value[:width]!r}... ({len(value):,} bytes)"
        return repr(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value) if value.bit_length() < 64 else f"an integer of {value.bit_length()} bits"
    if isinstance(value, (list, tuple, dict)):
        return f"a {type(value).__name__} of {len(value):,} items"
    return f"a {type(value).__name__}"


def one_line(text: str, width: int = 2000) -> str:
    """`text` for a one-line message: bounded, control characters escaped."""
    shown = text[:width]
    if not shown.isprintable():
        shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in shown)
    return shown if len(text) <= width else f"{shown}... ({len(text):,} characters)"


# -------------------------------------------------------------------- JSON


# Brackets scan: braces become brackets (depth does not care which), and
# everything but brackets, quotes, backslashes and `u` is deleted.
_SQUARE = bytes.maketrans(b"{}", b"[]")
_KEEP_STRUCTURE = bytes(c for c in range(256) if c not in b'[]{}"\\u')
_KEEP_BRACKETS_AND_QUOTES = bytes(c for c in range(256) if c not in b'[]{}"')
_HEIGHT = bytes.maketrans(b"[]", b"\x02\x00")
_ESCAPED_QUOTE = re.compile(rb'\\"')
"""A backslash right before a quote in the projection: an escaped quote, or
(rarely) a harmless escape whose letters the projection dropped."""


def loads(data: Union[bytes, str], what: str, limits: Limits) -> Any:
    """The JSON value in `data` (UTF-8), parsed without deep recursion.

    UntrustedDataError when it is larger than `limits.json_bytes` or nested
    deeper than `limits.json_depth`; InvalidJSONError when it is not JSON.
    Texts only the standard library accepts (NaN, lone surrogates) are
    still read, after a depth scan that makes its recursion safe."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if len(data) > limits.json_bytes:
        raise limits.exceeded("json_bytes", what, f"{len(data):,} bytes of JSON")
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return _loads_with_the_standard_library(data, what, limits)
    if _deeper_than(data, limits.json_depth):
        raise limits.exceeded("json_depth", what, "JSON nested too deeply")
    return value


def _deeper_than(text: bytes, limit: int) -> bool:
    """Whether valid JSON `text` nests arrays/objects more than `limit` deep.

    Only bytes operations (no per-character Python loop), so that a frame
    costs microseconds. Small texts are settled by counting opening
    brackets. Otherwise the text is projected onto its brackets, quotes,
    backslashes and `u`s (the `u` keeps a \\uXXXX escape apart from a
    closing quote). With no backslash right before a quote, no quote is
    escaped (else escaped quotes and backslashes are removed from the text
    first); when the quotes then pair up as `""`, no string holds a
    bracket and the brackets left are the structure (else strings are cut
    out exactly, by splitting at the quotes). Every pass then removes the
    innermost `[]` pairs: a text empties in as many passes as it is deep."""
    size = len(text)
    if size <= 2 * limit:   # every level costs two bytes
        return False
    if size <= 16 * limit and size - len(text.translate(None, b"[{")) <= limit:   # opening brackets
        return False
    projection = text.translate(_SQUARE, _KEEP_STRUCTURE)
    if b"\\" in projection and _ESCAPED_QUOTE.search(projection) is not None:
        text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
        projection = text.translate(_SQUARE, _KEEP_STRUCTURE)
    projection = projection.translate(None, b"\\u")
    brackets = projection.translate(None, b'"')
    quotes = len(projection) - len(brackets)
    if quotes and projection.count(b'""') * 2 != quotes:
        # some string holds a bracket: keep what is outside strings
        brackets = b"".join(projection.split(b'"')[::2])
    if len(brackets) <= 2 * limit:
        return False
    for _ in range(limit):
        brackets = brackets.replace(b"[]", b"")
        if not brackets:
            return False
    return True


def nesting_depth(text: bytes) -> int:
    """The deepest nesting of brackets outside strings in `text`, which need
    not be valid JSON (for valid JSON: its depth). No recursion."""
    if b"\\" in text:
        text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    projection = text.translate(_SQUARE, _KEEP_BRACKETS_AND_QUOTES)
    if b'"' in projection:
        projection = b"".join(projection.split(b'"')[::2])
    if not projection:
        return 0
    heights = map(operator.sub, accumulate(projection.translate(_HEIGHT)), count(1))
    return max(0, max(heights))


def _loads_with_the_standard_library(data: bytes, what: str, limits: Limits) -> Any:
    """What orjson refused: too deep, not JSON, or JSON only the standard
    library reads. Its parser recurses, so the depth is checked first."""
    if nesting_depth(data) > limits.json_depth:
        raise limits.exceeded("json_depth", what, "JSON nested too deeply")
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidJSONError(f"{what} is not valid JSON: not UTF-8 ({error.reason} "
                               f"at byte {error.start})") from None
    except RecursionError:
        raise InvalidJSONError(f"{what} is not valid JSON: nested too deeply for the parser") from None
    except ValueError as error:
        raise InvalidJSONError(f"{what} is not valid JSON: {one_line(str(error), 200)}") from None


# ------------------------------------------------------------------- files


def read_capped(stream: BinaryIO, what: str, limits: Limits, limit: str,
                size_hint: Optional[int] = None) -> bytes:
    """All of `stream`, or UntrustedDataError as soon as it holds more than
    the limit named `limit` (a Limits field): never more than that plus one
    byte is read. `size_hint` (e.g. from fstat) only sizes the first read."""
    cap = getattr(limits, limit)
    want = min(cap, max(size_hint, 0)) + 1 if size_hint is not None else min(cap + 1, 64 * KiB)
    chunks = []
    total = 0
    while total <= cap:
        chunk = stream.read(min(want, cap + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        want = MiB
    if total > cap:
        raise limits.exceeded(limit, what, f"more than {format_size(cap)}")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_file(path: Union[str, Path], what: str, limits: Limits, limit: str = "json_bytes") -> bytes:
    """A whole file, bounded by `limit`; OSError (FileNotFoundError, ...) as open() raises it."""
    with open(path, "rb") as handle:
        return read_capped(handle, what, limits, limit, os.fstat(handle.fileno()).st_size)


def load_json_file(path: Union[str, Path], what: str, limits: Limits) -> Any:
    """The JSON value of a file, bounded by `json_bytes` and `json_depth`."""
    return loads(read_file(path, what, limits, "json_bytes"), what, limits)


# --------------------------------------------------------------------- ZIP


_PLAIN_NAME = re.compile(r"[0-9A-Za-z_-][0-9A-Za-z._-]{0,254}")
"""A name that cannot be unsafe: no separator, no control character, and
not starting with a dot (so neither `..` nor a drive like `C:`)."""


def check_member_name(name: str, what: str) -> None:
    """UntrustedDataError for a member name no recording has: in a folder,
    absolute, with `..`, a drive, control characters, or too long."""
    if _PLAIN_NAME.fullmatch(name):   # the common case, in one step: a recording has 86,400 names a day
        return
    problem = None
    if not name or len(name) > MAX_MEMBER_NAME:
        problem = f"a name of {len(name)} characters"
    elif not name.isprintable():
        problem = "control characters in the name"
    elif name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        problem = "an absolute path"
    elif ".." in re.split(r"[/\\]", name):
        problem = "a path leaving the archive (..)"
    elif "/" in name or "\\" in name:
        problem = "a path into a folder (recordings have none)"
    if problem is not None:
        raise UntrustedDataError(f"{what}: member {brief(name, 60)} has {problem}")


def check_archive(members: Iterable[Tuple[str, int, int]], what: str, limits: Limits) -> None:
    """Check a ZIP's central directory before reading anything from it:
    `(name, compressed size, declared size)` per member. Safe names, no name
    twice, each declared size within `member_bytes` (and the compressed size
    near it: deflate never grows data by more than a fraction of a percent),
    all together within `recording_bytes`. Reads then stop at the declared
    size (`inflate`), so these checks bound what reading costs."""
    seen = set()
    total = 0
    largest_compressed = limits.member_bytes + limits.member_bytes // 64 + 4 * KiB
    for name, compressed, size in members:
        check_member_name(name, what)
        if name in seen:
            raise UntrustedDataError(f"{what}: member {brief(name, 60)} appears twice")
        seen.add(name)
        if size > limits.member_bytes:
            raise limits.exceeded("member_bytes", f"{what}: {brief(name, 60)}",
                                  f"{format_size(size)} uncompressed")
        if compressed > largest_compressed:
            raise limits.exceeded("member_bytes", f"{what}: {brief(name, 60)}",
                                  f"{format_size(compressed)} compressed")
        total += size
    if total > limits.recording_bytes:
        raise limits.exceeded("recording_bytes", what, f"{format_size(total)} uncompressed in all")


def inflate(raw: bytes, method: int, size: int) -> bytes:
    """A ZIP member's data from its compressed bytes, producing at most
    `size` + 1 bytes whatever the data says (the caller compares the length
    with `size`: more means the header lied). Deflate, stored, bzip2, LZMA.
    zlib.error, OSError, EOFError, ValueError or NotImplementedError when
    the data cannot be decompressed."""
    if method == zipfile.ZIP_DEFLATED:
        return zlib.decompressobj(-15).decompress(raw, size + 1)
    if method == zipfile.ZIP_STORED:
        return bytes(raw[:size + 1])
    if method == zipfile.ZIP_BZIP2:
        return bz2.BZ2Decompressor().decompress(raw, size + 1)
    if method == zipfile.ZIP_LZMA:
        return _lzma_decompressor(raw, size).decompress(memoryview(raw)[4 + _lzma_header(raw)[0]:], size + 1)
    raise NotImplementedError(f"compression method {method}")


def _lzma_header(raw: bytes) -> Tuple[int, bytes]:
    """ZIP's LZMA header: version (2 bytes), properties size (2), properties."""
    if len(raw) < 4:
        raise EOFError("truncated LZMA header")
    (length,) = struct.unpack_from("<H", raw, 2)
    properties = raw[4:4 + length]
    if length != 5 or len(properties) != 5:
        raise ValueError("unsupported LZMA properties")
    return length, properties


def _lzma_decompressor(raw: bytes, size: int) -> "lzma.LZMADecompressor":
    """A raw LZMA1 decoder whose dictionary is never larger than the output
    may be (the header's own dictionary size could ask for gigabytes)."""
    _, properties = _lzma_header(raw)
    combined, dictionary = properties[0], struct.unpack_from("<I", properties, 1)[0]
    if combined >= 9 * 5 * 5:
        raise ValueError("bad LZMA properties")
    pb, rest = divmod(combined, 45)
    lp, lc = divmod(rest, 9)
    dictionary = max(4 * KiB, min(dictionary, size + 1))
    return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[
        {"id": lzma.FILTER_LZMA1, "dict_size": dictionary, "lc": lc, "lp": lp, "pb": pb}])


# ------------------------------------------------------------------- names


_FRAME_LIKE = re.compile(r"([0-9]+)(i?)\.json")


def frame_name_parts(name: str, what: str = "recording") -> Optional[Tuple[int, bool]]:
    """`(second, is_keyframe)` for a frame name (`01581687316.json`,
    `01581687317i.json`); None for a name that is no frame's. A name of
    digits that is not exactly a frame name (other than 11 digits, or a time
    after 2100) raises UntrustedDataError: it can only be a broken or
    forged frame, and skipping it would silently change the states."""
    match = _FRAME_LIKE.fullmatch(name)
    if match is None:
        return None
    digits = match.group(1)
    if len(digits) != 11:
        raise UntrustedDataError(f"{what}: {brief(name, 60)} is not a frame name (frames are "
                                 f"named by 11 digits: %011d.json or %011di.json)")
    second = int(digits)
    check_frame_time(second, f"{what}: {name}")
    return second, not match.group(2)


def check_frame_time(second: float, what: str) -> None:
    """UntrustedDataError for a frame time after 2100-01-01 (LATEST_FRAME_TIME)."""
    if second > LATEST_FRAME_TIME:
        raise UntrustedDataError(f"{what}: frame time {second} is after 2100-01-01 "
                                 f"(not a plausible recording time)")


def check_uuid(value: Any, what: str = "uuid") -> str:
    """A service/recording uuid: 1-128 letters, digits, '-', '_' or ':'."""
    if not isinstance(value, str) or UUID_PATTERN.fullmatch(value) is None:
        raise UntrustedDataError(f"{what} {brief(value)} is not a uuid (1-128 letters, digits, "
                                 f"'-', '_' or ':')")
    return value


# ---------------------------------------------------------------- manifests


_TEXT_FIELDS = ("name", "description", "serviceClass")
_FLAG_FIELDS = ("hasAnalysis", "hidden", "doNotRecord")


def check_manifest(manifest: Any, what: str, limits: Limits) -> dict:
    """`manifest` if its known fields (protocol §4, §7) have their types and
    bounded sizes: uuid, name, description, serviceClass, colSpec,
    trackDataSpec, source, pollInterval, the flags and startTime (the
    recording reader checks `version` itself).
    Absent or null fields pass; other keys are not looked at (their size is
    bounded by `manifest_bytes`). UntrustedDataError naming the field."""
    if not isinstance(manifest, dict):
        raise UntrustedDataError(f"{what} holds {brief(manifest)}, not a JSON object")

    def refuse(key: str, detail: str) -> UntrustedDataError:
        return UntrustedDataError(f"{what}: {key} {detail}")

    def check_text(key: str, value: Any) -> None:
        if not isinstance(value, str):
            raise refuse(key, f"is {brief(value)}, not a string")
        if len(value) > limits.text_length:
            raise limits.exceeded("text_length", f"{what}: {key}", f"{len(value):,} characters")

    def check_list(key: str, value: Any, longest: int) -> list:
        if not isinstance(value, list):
            raise refuse(key, f"is {brief(value)}, not a list")
        if len(value) > longest:
            raise limits.exceeded("list_length", f"{what}: {key}", f"{len(value):,} items")
        return value

    uuid = manifest.get("uuid")
    if uuid is not None:
        try:
            check_uuid(uuid, "uuid")
        except UntrustedDataError as error:
            raise UntrustedDataError(f"{what}: {error}") from None
    for key in _TEXT_FIELDS:
        if manifest.get(key) is not None:
            check_text(key, manifest[key])
    if manifest.get("colSpec") is not None:
        for column in check_list("colSpec", manifest["colSpec"], limits.list_length):
            for part in check_list("colSpec column", column, 8):
                if isinstance(part, (list, dict)):
                    raise refuse("colSpec column", f"holds {brief(part)}")
                if isinstance(part, str):
                    check_text("colSpec column", part)
    if manifest.get("trackDataSpec") is not None:
        for heading in check_list("trackDataSpec", manifest["trackDataSpec"], limits.list_length):
            check_text("trackDataSpec heading", heading)
    if manifest.get("source") is not None:
        for part in check_list("source", manifest["source"], 8):
            if part is not None:
                check_text("source", part)
    for key in _FLAG_FIELDS:
        if manifest.get(key) is not None and not isinstance(manifest[key], bool):
            raise refuse(key, f"is {brief(manifest[key])}, not true or false")
    for key in ("pollInterval", "startTime"):
        value = manifest.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not math.isfinite(value) or value < 0):
            raise refuse(key, f"is {brief(value)}, not a number of seconds")
    if manifest.get("startTime") is not None:
        check_frame_time(manifest["startTime"], f"{what}: startTime")
    return manifest
