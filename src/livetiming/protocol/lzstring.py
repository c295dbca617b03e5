"""LZ-String ``compressToUTF16`` / ``decompressFromUTF16``.

The service compresses its JSON-serialised state for SERVICE_DATA_COMPRESSED
payloads, and web clients decompress it with the JavaScript ``lz-string``
package (1.5.0), so the output here is identical, code unit for code unit, to
what that package produces.

JavaScript strings are sequences of UTF-16 code units, so both directions
work on code units: characters outside the BMP are compressed as surrogate
pairs, and lone surrogates round-trip.  (A consequence: a Python string
holding a high and a low surrogate as two separate code points is the same
JavaScript string as the astral character they encode, and decompresses to
that character.)

As in JavaScript, compressing ``""`` gives ``"\\u2020 "`` (an empty stream),
which decompresses to ``""``.  Invalid compressed data raises
:class:`LZStringError`: every input for which JavaScript returns ``null``
(``""`` among them) or silently returns ``""`` because the data stops before
its end-of-stream marker, and a corrupt first code (3), on which JavaScript
returns text containing ``"undefined"`` or throws a TypeError.  Any other
input decompresses exactly as in JavaScript.

Compressing the ≈24 KB state of a 60-car race is on the hot path of every
update, so the work is done by the C extension ``_lzstring`` when it could be
built; otherwise by the pure-Python implementation below.  ``BACKEND`` says
which one is in use; both stay callable as ``_c_*`` (``None`` when the
extension is missing) and ``_py_*`` so that they can be tested side by side.
"""
from __future__ import annotations

import functools
import sys
from array import array
from typing import Callable, Optional

__all__ = [
    "BACKEND",
    "LZStringError",
    "compressToUTF16",
    "compress_to_utf16",
    "decompressFromUTF16",
    "decompress_from_utf16",
]


class LZStringError(ValueError):
    """Raised when decompressing data that is not valid LZ-String UTF-16.

    The C extension raises this same class (it looks it up here).
    """


# Native-order UTF-16, so that code units line up with array("H") items.
_UTF16 = "utf-16-le" if sys.byteorder == "little" else "utf-16-be"

# Appended to the input of the compressor's main loop: an astral character
# never occurs among code units, so it flushes the last phrase the same way
# as any new character, without being written itself.
_END = "\U00010000"

# Each output character carries 15 bits, offset by 32 to stay printable.
_BITS_PER_CHAR = 15
_CHAR_OFFSET = 32

# Binary digits of the high 7 and the low 8 bits of a 15-bit group.
_HIGH_BITS = [f"{i:07b}" for i in range(1 << 7)]
_LOW_BITS = [f"{i:08b}" for i in range(1 << 8)]


def _utf16(s: str) -> bytes:
    """The UTF-16 code units of ``s`` (JavaScript's view of it)."""
    if not isinstance(s, str):
        raise TypeError(f"expected str, got {type(s).__name__}")
    return s.encode(_UTF16, "surrogatepass")


def _code_units(s: str) -> str:
    """Return ``s`` as one character per UTF-16 code unit."""
    encoded = _utf16(s)
    if len(encoded) == 2 * len(s):
        return s
    return "".join(map(chr, array("H", encoded)))


def _from_code_units(units: str) -> str:
    """Join surrogate pairs in a string of UTF-16 code units."""
    encoded = units.encode(_UTF16, "surrogatepass")
    return encoded.decode(_UTF16, "surrogatepass")


@functools.lru_cache(maxsize=None)
def _output_codes() -> array:
    """Map 15 bits, first stream bit lowest, to the output character code.

    Built on first use only: the C backend does not need it.
    """
    rev8 = [int(f"{i:08b}"[::-1], 2) for i in range(256)]
    return array(
        "H",
        [
            (rev8[i & 0xFF] << 7 | rev8[i >> 8] >> 1) + _CHAR_OFFSET
            for i in range(1 << _BITS_PER_CHAR)
        ],
    )


def _py_compress_to_utf16(s: str) -> str:
    """Pure-Python ``compressToUTF16``.

    Phrases are dictionary keys (strings of code units).  Codes are written
    least significant bit first, so they are OR-ed into an integer
    accumulator in stream order and cut into 15-bit groups, which a table
    turns into output characters.
    """
    dictionary: dict[str, int] = {}
    pending: set[str] = set()  # characters seen but not yet written literally
    groups: list[int] = []
    append = groups.append
    acc = nacc = 0
    size = 3
    num_bits = 2
    enlarge_in = 2
    w = ""
    for c in _code_units(s) + _END:
        wc = w + c
        if wc in dictionary:
            w = wc
            continue
        # Only now look at c alone: a new c cannot extend w.  It gets its
        # code before w + c does.
        if c not in dictionary:
            dictionary[c] = size
            size += 1
            pending.add(c)
            if not w:  # the first character
                w = c
                continue
        if w in pending:
            pending.remove(w)
            unit = ord(w)
            if unit < 256:
                acc |= unit << num_bits << nacc
                nacc += num_bits + 8
            else:
                acc |= (1 | unit << num_bits) << nacc
                nacc += num_bits + 16
            enlarge_in -= 1
            if not enlarge_in:
                enlarge_in = 1 << num_bits
                num_bits += 1
        else:
            acc |= dictionary[w] << nacc
            nacc += num_bits
        while nacc >= _BITS_PER_CHAR:
            append(acc & 0x7FFF)
            acc >>= _BITS_PER_CHAR
            nacc -= _BITS_PER_CHAR
        enlarge_in -= 1
        if not enlarge_in:
            enlarge_in = 1 << num_bits
            num_bits += 1
        # JavaScript's plain-object dictionary ignores this key.
        if wc != "__proto__":
            dictionary[wc] = size
        size += 1
        w = c
    acc |= 2 << nacc  # end of stream
    nacc += num_bits
    while nacc >= _BITS_PER_CHAR:
        append(acc & 0x7FFF)
        acc >>= _BITS_PER_CHAR
        nacc -= _BITS_PER_CHAR
    append(acc)  # zero-padded last character, possibly all padding
    codes = _output_codes()
    out = array("H", [codes[g] for g in groups])
    return out.tobytes().decode(_UTF16) + " "


def _py_decompress_from_utf16(s: str) -> str:
    """Pure-Python ``decompressFromUTF16``.

    The bit stream is spelled out as a string of binary digits, reversed so
    that each code, stored least significant bit first, is a single
    ``int(slice, 2)``.
    """
    units = array("H", _utf16(s))
    if not units:
        raise LZStringError("invalid LZ-String data: empty input")
    # JavaScript reads zero bits past the end: the padding covers any
    # overrun before the truncation check.
    padding = 64
    digits = []
    add = digits.append
    for unit in units:
        group = (unit - _CHAR_OFFSET) & 0x7FFF  # as JavaScript's int32 maths
        add(_HIGH_BITS[group >> 8])
        add(_LOW_BITS[group & 0xFF])
    bits = "0" * padding + "".join(digits)[::-1]
    # `p` is where the unread part of the stream ends in `bits`.
    p = len(bits) - 2
    code = int(bits[p:], 2)
    if code == 2:
        return ""
    if code == 3:
        raise LZStringError("invalid LZ-String data: bad first code")
    width = 8 << code
    w = chr(int(bits[p - width:p], 2))
    p -= width
    dictionary = ["", "", "", w]  # indexed by code; 0-2 are not phrases
    result = [w]
    append = result.append
    define = dictionary.append
    enlarge_in = 4
    num_bits = 3
    while True:
        if p <= padding:
            raise LZStringError(
                "invalid LZ-String data: truncated (no end-of-stream marker)"
            )
        code = int(bits[p - num_bits:p], 2)
        p -= num_bits
        if code == 2:
            return _from_code_units("".join(result))
        if code < 2:
            width = 8 << code
            entry = chr(int(bits[p - width:p], 2))
            p -= width
            define(entry)
            enlarge_in -= 1
            if not enlarge_in:
                enlarge_in = 1 << num_bits
                num_bits += 1
        elif code < len(dictionary):
            entry = dictionary[code]
        elif code == len(dictionary):
            entry = w + w[0]
        else:
            raise LZStringError("invalid LZ-String data: bad dictionary code")
        append(entry)
        define(w + entry[0])
        enlarge_in -= 1
        if not enlarge_in:
            enlarge_in = 1 << num_bits
            num_bits += 1
        w = entry


_c_compress_to_utf16: Optional[Callable[[str], str]]
_c_decompress_from_utf16: Optional[Callable[[str], str]]
try:
    from livetiming.protocol._lzstring import (
        compress_to_utf16 as _c_compress_to_utf16,
    )
    from livetiming.protocol._lzstring import (
        decompress_from_utf16 as _c_decompress_from_utf16,
    )
except ImportError:  # built without a compiler: fall back to pure Python
    _c_compress_to_utf16 = _c_decompress_from_utf16 = None

compress_to_utf16: Callable[[str], str]
decompress_from_utf16: Callable[[str], str]
if _c_compress_to_utf16 is not None and _c_decompress_from_utf16 is not None:
    BACKEND = "c"
    compress_to_utf16 = _c_compress_to_utf16
    decompress_from_utf16 = _c_decompress_from_utf16
else:
    BACKEND = "python"
    compress_to_utf16 = _py_compress_to_utf16
    decompress_from_utf16 = _py_decompress_from_utf16

# The names used by the JavaScript package and its clients.
compressToUTF16 = compress_to_utf16
decompressFromUTF16 = decompress_from_utf16
