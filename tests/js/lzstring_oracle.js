#!/usr/bin/env node
// Compatibility oracle for tests/test_lzstring.py.
//
// Reads a JSON array of strings from stdin, each given as an array of UTF-16
// code units (integers), so lone surrogates survive the trip exactly.
// Writes a JSON array with, for each input, the reference lz-string results:
//   {"compressed": [...code units], "decompressed": [...code units] | null,
//    "threw": bool}
// "decompressed" is null when decompressFromUTF16 returns null or throws
// (it can throw a TypeError on corrupt input); "threw" tells which.
'use strict';

const LZString = require('lz-string');

const CHUNK = 8192; // stay well below the engine's argument-count limit

function fromUnits(units) {
  let s = '';
  for (let i = 0; i < units.length; i += CHUNK) {
    s += String.fromCharCode.apply(null, units.slice(i, i + CHUNK));
  }
  return s;
}

function toUnits(s) {
  const units = new Array(s.length);
  for (let i = 0; i < s.length; i++) {
    units[i] = s.charCodeAt(i);
  }
  return units;
}

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  const inputs = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const results = inputs.map((units) => {
    const s = fromUnits(units);
    let decompressed = null;
    let threw = false;
    try {
      decompressed = LZString.decompressFromUTF16(s);
    } catch (e) {
      threw = true;
    }
    return {
      compressed: toUnits(LZString.compressToUTF16(s)),
      decompressed: decompressed === null ? null : toUnits(decompressed),
      threw,
    };
  });
  process.stdout.write(JSON.stringify(results));
});
