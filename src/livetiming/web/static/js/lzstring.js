/**
 * LZ-String `decompressFromUTF16`, written from the algorithm (an LZW variant
 * whose code width grows as its dictionary does) so the app needs nothing
 * from npm. Services publish state compressed with `compressToUTF16`: 15 bits
 * of the bit stream per UTF-16 code unit, each unit offset by 32 so it is
 * always a valid, printable character, and a trailing space.
 *
 * Results match the `lz-string` package exactly, including its edge cases:
 * `null`/`undefined` give "", "" gives null, and a stream that refers to a
 * code not yet defined gives null.
 */

const UNIT_BITS = 15;

/**
 * Reads little-endian groups of bits from the code units of `text`.
 * Each unit holds UNIT_BITS bits, most significant bit first.
 */
class BitReader {
  constructor(text) {
    this.text = text;
    this.index = 0;
    this.value = 0;
    this.mask = 0; // no bits left: the first read loads a unit
  }

  /** True once the stream ran out: every unit consumed, counting the next
   * unit as loaded as soon as the current one is used up, as the reference
   * does (so both give up at the same point on a truncated stream). */
  exhausted() {
    return this.index + (this.mask === 0 ? 1 : 0) > this.text.length;
  }

  read(count) {
    let bits = 0;
    for (let place = 0; place < count; place++) {
      if (this.mask === 0) {
        this.value = this.text.charCodeAt(this.index++) - 32;
        this.mask = 1 << (UNIT_BITS - 1);
      }
      if (this.value & this.mask) bits |= 1 << place;
      this.mask >>= 1;
    }
    return bits;
  }
}

/** Codes 0, 1, 2 of the stream: a new 8-bit char, a new 16-bit char, the end. */
const CHAR8 = 0;
const CHAR16 = 1;
const END = 2;

export function decompressFromUTF16(compressed) {
  if (compressed === null || compressed === undefined) return "";
  if (compressed === "") return null;
  return inflate(new BitReader(compressed));
}

function inflate(reader) {
  // Codes 0-2 are the commands above; learnt strings start at 3.
  const dictionary = [null, null, null];
  let width = 2;
  let room = 4; // codes left before `width` must grow (1 << (width - 1) after growth)

  const first = reader.read(width);
  if (first === END) return "";
  // A first code of 3 is corrupt; the reference goes on with an undefined
  // string (joined as "", or a TypeError later), and so do we, to match it.
  let previous = first === 3 ? undefined : String.fromCharCode(reader.read(first === CHAR8 ? 8 : 16));
  dictionary.push(previous);
  width = 3;
  const out = [previous];

  for (;;) {
    if (reader.exhausted()) return "";
    let code = reader.read(width);
    if (code === CHAR8 || code === CHAR16) {
      dictionary.push(String.fromCharCode(reader.read(code === CHAR8 ? 8 : 16)));
      code = dictionary.length - 1;
      room -= 1;
    } else if (code === END) {
      return out.join("");
    }
    if (room === 0) {
      room = 1 << width;
      width += 1;
    }
    let entry;
    if (code < dictionary.length && dictionary[code] !== undefined) {
      entry = dictionary[code];
    } else if (code === dictionary.length) {
      entry = previous + previous.charAt(0);
    } else {
      return null;
    }
    out.push(entry);
    dictionary.push(previous + entry.charAt(0));
    room -= 1;
    previous = entry;
    if (room === 0) {
      room = 1 << width;
      width += 1;
    }
  }
}
