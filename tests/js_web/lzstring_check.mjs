#!/usr/bin/env node
// Checks the app's own decompressFromUTF16 (src/livetiming/web/static/js/lzstring.js)
// against the real npm lz-string (tests/js/node_modules), for tests/test_web_node.py.
//
// argv[2]: a file of JSON lines, each a JSON string (a state as the service
// serialises it). Each is compressed with lz-string's compressToUTF16 and
// must come back unchanged through ours. Then edge cases: empty and tiny
// inputs, every code unit, lone surrogates, long repeats, truncated streams
// and random garbage, where ours must give what lz-string gives (or throw
// where it throws). Prints one JSON line: {states, edge, mismatches}.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const require = createRequire(`${here}../js/`);
const LZString = require("lz-string");
const { decompressFromUTF16 } = await import(`${here}../../src/livetiming/web/static/js/lzstring.js`);

const mismatches = [];

function outcome(fn, input) {
  try {
    return { value: fn(input) };
  } catch (e) {
    return { threw: e.constructor.name };
  }
}

function sameAsReference(input, label) {
  const expected = outcome(LZString.decompressFromUTF16, input);
  const actual = outcome(decompressFromUTF16, input);
  if (expected.value !== actual.value || expected.threw !== actual.threw) {
    mismatches.push({ label, expected: JSON.stringify(expected).slice(0, 200), actual: JSON.stringify(actual).slice(0, 200) });
  }
}

function roundTrip(text, label) {
  const compressed = LZString.compressToUTF16(text);
  const back = decompressFromUTF16(compressed);
  if (back !== text) mismatches.push({ label, length: text.length, got: String(back).slice(0, 100) });
}

// 1. every state of the reference race
const lines = readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean);
lines.forEach((line, i) => roundTrip(JSON.parse(line), `state ${i}`));

// 2. edge cases
let edge = 0;
const seeded = (() => {
  let seed = 71;
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
})();
const units = (n, max = 65536) => Array.from({ length: n }, () => String.fromCharCode(Math.floor(seeded() * max))).join("");
const inputs = ["", " ", "a", "ab", "aaaa", "a".repeat(100000), "\u0000", "\uffff", "\ud800", "\udc00x\ud800",
  "😀 émoji ✓", JSON.stringify({ cars: [] }), "abc".repeat(5000), units(1000), units(20000, 256)];
for (let n = 0; n < 70; n++) inputs.push(units(n, n % 2 ? 128 : 65536));
for (const text of inputs) {
  roundTrip(text, `edge ${edge}`);
  edge++;
}
for (const input of [null, undefined, ""]) {
  sameAsReference(input, `special ${String(input)}`);
  edge++;
}
// truncated and corrupted streams of a real state
const sample = LZString.compressToUTF16(JSON.parse(lines[Math.floor(lines.length / 2)] || '"x"'));
for (const cut of [1, 2, 3, 10, 100, Math.floor(sample.length / 2), sample.length - 2, sample.length - 1]) {
  sameAsReference(sample.slice(0, cut), `truncated at ${cut}`);
  edge++;
}
for (let i = 0; i < 3000; i++) {
  sameAsReference(units(1 + Math.floor(seeded() * 40)), `garbage ${i}`);
  edge++;
}
for (let i = 0; i < 200; i++) {
  const at = Math.floor(seeded() * sample.length);
  sameAsReference(sample.slice(0, at) + units(1) + sample.slice(at + 1), `flipped ${i}`);
  edge++;
}

process.stdout.write(`${JSON.stringify({ states: lines.length, edge, mismatches: mismatches.slice(0, 20) })}\n`);
