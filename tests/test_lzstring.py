"""Tests for livetiming.protocol.lzstring.

Web clients decompress SERVICE_DATA_COMPRESSED payloads with the JavaScript
lz-string package, so besides round trips both backends are checked against
the real package, run by tests/js/lzstring_oracle.js under node (install it
with ``npm ci --prefix tests/js``).
"""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional

import pytest

from livetiming.protocol import lzstring
from livetiming.protocol.lzstring import LZStringError

JS_DIR = Path(__file__).parent / "js"
ORACLE = JS_DIR / "lzstring_oracle.js"
NODE_TIMEOUT = 120


class Backend(NamedTuple):
    name: str
    compress: Callable[[str], str]
    decompress: Callable[[str], str]


def c_backend() -> Backend:
    """The C backend; skipped if it was not built, but fails under CI."""
    compress = lzstring._c_compress_to_utf16
    decompress = lzstring._c_decompress_from_utf16
    if compress is None or decompress is None:
        message = (
            "C extension livetiming.protocol._lzstring is not built; run "
            "`python setup.py build_ext --inplace` or `pip install -e .`"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return Backend("c", compress, decompress)


PY_BACKEND = Backend(
    "python",
    lzstring._py_compress_to_utf16,
    lzstring._py_decompress_from_utf16,
)


@pytest.fixture(params=["c", "python"])
def backend(request: pytest.FixtureRequest) -> Backend:
    return c_backend() if request.param == "c" else PY_BACKEND


# ---------------------------------------------------------------------------
# Inputs


def code_units(s: str) -> List[int]:
    """UTF-16 code units of s, as JavaScript sees the string."""
    data = s.encode("utf-16-le", "surrogatepass")
    return [
        int.from_bytes(data[i:i + 2], "little")
        for i in range(0, len(data), 2)
    ]


def from_code_units(units: List[int]) -> str:
    """The str for UTF-16 code units (surrogate pairs joined, lone kept)."""
    data = b"".join(u.to_bytes(2, "little") for u in units)
    return data.decode("utf-16-le", "surrogatepass")


def js_equivalent(s: str) -> str:
    """s after a trip through a JavaScript string (adjacent surrogate code
    points become one astral character)."""
    return from_code_units(code_units(s))


DRIVERS = [
    "Sébastien Marchal", "João Barbosa", "Nicolás Müller",
    "Øyvind Kjærgaard", "Frédéric Lefèvre", "Zoë O'Brien",
    "Sergio Pérez Mendoza", "Kamui Kobayashi", "佐藤 琢磨", "Jüri Vips",
    "Łukasz Wiśniewski", "Ayrton Ströbel",
]
TEAMS = [
    "Équipe Alpine Elf", "Rebellion Racing", "Porsche Penske Motorsport",
    "Hertz Team JOTA", "AF Corse", "United Autosports",
]
CARS = [
    "Toyota GR010 Hybrid", "Ferrari 499P", "Porsche 963", "Oreca 07 Gibson",
    "Aston Martin Vantage AMR", "Chevrolet Corvette Z06 GT3.R",
]
CLASSES = ["HYPERCAR", "LMP2", "LMGT3"]
TYRES = ["Michelin Soft", "Michelin Medium", "Michelin Hard", "Goodyear Wet"]


def lap_time(rng: random.Random, low: float, high: float) -> list:
    """A time and its flag: personal best, session best or none."""
    return [round(rng.uniform(low, high), 3), rng.choice(["pb", "sb", "", ""])]


def timing_state(rng: random.Random, cars: int = 60) -> str:
    """JSON of a race-end timing state, as serialised for the compressed
    state payload: `cars` rows of 20 columns, ≈24 KB for 60 cars."""
    rows = []
    for position in range(1, cars + 1):
        rows.append([
            str(rng.randrange(1, 999)),
            "PIT" if rng.random() < 0.1 else "RUN",
            rng.choice(CLASSES),
            position,
            " / ".join(rng.sample(DRIVERS, 3)),
            rng.choice(TEAMS),
            rng.choice(CARS),
            rng.randrange(300, 390),
            "" if position == 1 else f"{rng.uniform(0, 200):.3f}",
            "" if position == 1 else f"{rng.uniform(0, 20):.3f}",
            lap_time(rng, 30, 36),
            lap_time(rng, 33, 40),
            lap_time(rng, 33, 38),
            lap_time(rng, 100, 110),
            lap_time(rng, 98, 104),
            rng.randrange(0, 30),
            rng.choice(TYRES),
            f"0{rng.randrange(2)}:{rng.randrange(60):02d}:"
            f"{rng.randrange(60):02d}",
            f"{rng.uniform(280, 340):.1f}",
            f"{rng.uniform(15, 30):.1f}°C",
        ])
    return json.dumps({
        "cars": rows,
        "session": {
            "flagState": "chequered",
            "timeElapsed": 86400,
            "timeRemain": 0,
            "trackTemp": f"{rng.uniform(20, 45):.1f}°C",
            "airTemp": f"{rng.uniform(15, 30):.1f}°C",
            "humidity": "64%",
        },
        "messages": [
            [
                86400 - i * 60,
                "Race Control",
                f"Car {rng.randrange(1, 99)} – track limits at T{i % 17}",
                "track",
            ]
            for i in range(110)
        ],
    }, ensure_ascii=False)


def random_text(rng: random.Random, length: int) -> str:
    """Random characters from ASCII, Latin-1, the BMP, astral planes and
    lone surrogates, with frequent repeats so that phrases build up."""
    pools = [
        lambda: chr(rng.randrange(32, 127)),
        lambda: chr(rng.randrange(128, 256)),
        lambda: chr(rng.randrange(256, 0xD800)),
        lambda: chr(rng.randrange(0xE000, 0x10000)),
        lambda: chr(rng.randrange(0x10000, 0x110000)),
        lambda: chr(rng.randrange(0xD800, 0xE000)),
    ]
    weights = [60, 10, 10, 5, 5, 2]
    alphabet = [
        rng.choices(pools, weights)[0]() for _ in range(rng.randrange(2, 200))
    ]
    return "".join(rng.choice(alphabet) for _ in range(length))


def build_corpus() -> Dict[str, str]:
    rng = random.Random(20240615)
    corpus = {
        "empty": "",
        "single_ascii": "a",
        "single_latin1": "é",
        "single_bmp": "漢",
        "single_astral": "🏁",
        "ascii": "The quick brown fox jumps over the lazy dog. " * 3,
        "non_ascii": "21.4°C Sébastien João Müller Øvergaard 佐藤琢磨 ±0.5 €",
        "emoji": "🏁🏎️ Lap 1 😀👍🏽 chequered 🏁🏁🏁 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \U0010FFFF",
        "lone_high_surrogate": "\ud800",
        "lone_low_surrogate": "a\udfffb",
        "reversed_pair": "\udc00\ud800\udc00x\ud83d",
        "controls": "\x00\x01\x1f\x7f\x80\xff\ufffe\uffff\x00",
        # Exercises the JavaScript dictionary's "__proto__" quirk.
        "proto": (
            "__proto__" * 50 + "x__proto__y" * 40 + "_" * 30 + "proto__" * 20
        ),
        "repetitive": "abc" * 10000,
        "one_char_run": "a" * 100000,
        "timing_state": timing_state(rng),
        "large_timing_state": json.dumps(
            [json.loads(timing_state(rng)) for _ in range(8)],
            ensure_ascii=False,
        ),
    }
    for i, length in enumerate([1, 2, 3, 10, 100, 1000, 5000, 20000]):
        corpus[f"random_{i}_{length}"] = random_text(rng, length)
    return corpus


CORPUS = build_corpus()


def test_corpus_sizes() -> None:
    # The payload sizes that matter: a 60-car race ≈24 KB, a large one 200.
    assert 20_000 < len(CORPUS["timing_state"].encode()) < 30_000
    assert len(CORPUS["large_timing_state"].encode()) > 190_000


# ---------------------------------------------------------------------------
# Round trips and backends


@pytest.mark.parametrize("name", list(CORPUS))
def test_round_trip(backend: Backend, name: str) -> None:
    s = CORPUS[name]
    compressed = backend.compress(s)
    assert all(32 <= ord(c) < 32 + 2**15 for c in compressed)
    assert compressed.endswith(" ")
    assert backend.decompress(compressed) == js_equivalent(s)


@pytest.mark.parametrize("name", list(CORPUS))
def test_backends_identical(name: str) -> None:
    c = c_backend()
    s = CORPUS[name]
    compressed = c.compress(s)
    assert compressed == PY_BACKEND.compress(s)
    assert c.decompress(compressed) == PY_BACKEND.decompress(compressed)


def test_surrogate_code_points_become_one_character(backend: Backend) -> None:
    # A JavaScript string cannot tell these two code points from U+1F600.
    assert backend.compress("\ud83d\ude00") == backend.compress("😀")
    assert backend.decompress(backend.compress("\ud83d\ude00")) == "😀"


def test_c_backend_concurrent_calls() -> None:
    # The C backend runs without the GIL.
    c = c_backend()
    inputs = [CORPUS[name] for name in ("timing_state", "large_timing_state")]
    expected = [c.compress(s) for s in inputs]

    def check(i: int) -> bool:
        s, compressed = inputs[i % 2], expected[i % 2]
        return c.compress(s) == compressed and c.decompress(compressed) == s

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(check, range(40)))


# Reference outputs of lz-string 1.5.0's compressToUTF16.
KNOWN = {
    "": "\u2020 ",
    "a": "\u10e8 ",
    "Hello, world!": "\u0262\u4c2d\u4c3e\u6054@\u3bc4\u0293F\u0231  ",
    "21.4°C": "\u09a2\u183dx\u00f0\u6140 ",
    "🏁": "\u47a3\u3927\u7b60 ",
    "\ud800": "\u4023\u3420 ",
    "a" * 20: "\u10e6\u6004  ",
}


@pytest.mark.parametrize("s, expected", list(KNOWN.items()))
def test_known_vectors(backend: Backend, s: str, expected: str) -> None:
    assert backend.compress(s) == expected
    assert backend.decompress(expected) == s


def test_public_api() -> None:
    assert lzstring.BACKEND in ("c", "python")
    if lzstring.BACKEND == "c":
        assert lzstring.compress_to_utf16 is lzstring._c_compress_to_utf16
    else:
        assert lzstring.compress_to_utf16 is lzstring._py_compress_to_utf16
    assert lzstring.compressToUTF16 is lzstring.compress_to_utf16
    assert lzstring.decompressFromUTF16 is lzstring.decompress_from_utf16
    s = CORPUS["timing_state"]
    assert lzstring.decompressFromUTF16(lzstring.compressToUTF16(s)) == s
    assert issubclass(LZStringError, ValueError)


def test_c_backend_in_use_under_ci() -> None:
    if os.environ.get("CI"):
        assert lzstring.BACKEND == "c"


@pytest.mark.parametrize("value", [None, b"abc", 42, ["a"]])
def test_rejects_non_str(backend: Backend, value: object) -> None:
    with pytest.raises(TypeError):
        backend.compress(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        backend.decompress(value)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Invalid input


VALID = lzstring._py_compress_to_utf16(CORPUS["timing_state"])
INVALID = {
    "empty": "",  # JS: null
    # JS: "", text containing "undefined", or a TypeError
    "first_code_3": "\u6020 ",
    "truncated": VALID[: len(VALID) // 2],  # JS: ""
    "end_marker_cut": VALID.rstrip(" ")[:-1],  # JS: ""
    "code_too_large": "\u10fc ",  # "a", then code 7 > 4 entries; JS: null
}


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_data_raises(backend: Backend, name: str) -> None:
    with pytest.raises(LZStringError, match="invalid LZ-String data"):
        backend.decompress(INVALID[name])


def test_trailing_space_is_only_padding(backend: Backend) -> None:
    assert backend.decompress(VALID[:-1]) == CORPUS["timing_state"]


def garbage(rng: random.Random) -> str:
    """Random strings and valid data with a few characters changed."""
    if rng.random() < 0.5:
        return random_text(rng, rng.randrange(0, 300))
    text = random_text(rng, rng.randrange(1, 2000))
    chars = list(lzstring._py_compress_to_utf16(text))
    for _ in range(rng.randrange(1, 4)):
        chars[rng.randrange(len(chars))] = chr(rng.randrange(0, 0x10000))
    return "".join(chars)


GARBAGE = [garbage(random.Random(seed)) for seed in range(400)]


def decompress_or_error(
    decompress: Callable[[str], str], s: str
) -> Optional[str]:
    try:
        return decompress(s)
    except LZStringError:
        return None


def test_garbage_backends_agree() -> None:
    c = c_backend()
    for s in GARBAGE:
        expected = decompress_or_error(PY_BACKEND.decompress, s)
        assert decompress_or_error(c.decompress, s) == expected, ascii(s)


# ---------------------------------------------------------------------------
# The JavaScript package itself


def run_oracle(inputs: List[str]) -> List[dict]:
    """JS compressToUTF16 and decompressFromUTF16 of each input."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required for the lz-string compatibility tests")
    if not (JS_DIR / "node_modules" / "lz-string").is_dir():
        pytest.fail(
            "the JavaScript lz-string oracle is not installed: "
            "run `npm ci --prefix tests/js`"
        )
    proc = subprocess.run(
        [node, str(ORACLE)],
        input=json.dumps([code_units(s) for s in inputs]),
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        cwd=JS_DIR,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert len(results) == len(inputs)
    return results


class JSResults(NamedTuple):
    compressed: Dict[str, List[int]]  # JS compression of CORPUS
    # JS decompression of each backend's compression of CORPUS
    decompressed: Dict[str, Dict[str, Optional[List[int]]]]
    garbage: List[dict]  # JS results for GARBAGE


@pytest.fixture(scope="module")
def js() -> JSResults:
    """Everything the oracle is asked, in a single run of node."""
    backends = [PY_BACKEND]
    if lzstring._c_compress_to_utf16 is not None:
        backends.append(c_backend())
    names = list(CORPUS)
    inputs = [CORPUS[name] for name in names]
    for b in backends:
        inputs += [b.compress(CORPUS[name]) for name in names]
    results = run_oracle(inputs + GARBAGE)

    def batch(i: int) -> List[dict]:
        return results[i * len(names):(i + 1) * len(names)]

    return JSResults(
        compressed={n: r["compressed"] for n, r in zip(names, batch(0))},
        decompressed={
            b.name: {n: r["decompressed"] for n, r in zip(names, batch(i + 1))}
            for i, b in enumerate(backends)
        },
        garbage=results[len(inputs):],
    )


@pytest.mark.parametrize("name", list(CORPUS))
def test_compress_matches_js(
    backend: Backend, js: JSResults, name: str
) -> None:
    assert code_units(backend.compress(CORPUS[name])) == js.compressed[name]


@pytest.mark.parametrize("name", list(CORPUS))
def test_js_decompresses_ours(
    backend: Backend, js: JSResults, name: str
) -> None:
    assert js.decompressed[backend.name][name] == code_units(CORPUS[name])


@pytest.mark.parametrize("name", list(CORPUS))
def test_decompress_js_output(
    backend: Backend, js: JSResults, name: str
) -> None:
    compressed = from_code_units(js.compressed[name])
    assert backend.decompress(compressed) == js_equivalent(CORPUS[name])


def test_garbage_matches_js(backend: Backend, js: JSResults) -> None:
    """Where JS decompresses garbage to text, so do we, identically; where
    it gives null or "" or throws, or reads a first code of 3, we raise."""
    for s, expected in zip(GARBAGE, js.garbage):
        ours = decompress_or_error(backend.decompress, s)
        if ours is not None:
            assert code_units(ours) == expected["decompressed"], ascii(s)
        else:
            first_code = bool(s) and (code_units(s)[0] - 32) >> 13 & 3
            assert (
                expected["decompressed"] in (None, [])
                or expected["threw"]
                or first_code == 3
            ), ascii(s)
