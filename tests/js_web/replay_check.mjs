#!/usr/bin/env node
// The replay player's own ZIP reader, dictdiffer-format patch and recording
// reader (src/livetiming/web/static/js/{zipreader,dictpatch,recording}.js)
// under node, for tests/test_replay_js.py.
//
//   node replay_check.mjs states RECORDING.zip OUT.jsonl
//     Every frame's state, in order, by moving forward frame by frame
//     (`advance`), one JSON line `[time, state]` each, to OUT; and for every
//     frame `stateAt(time)` (keyframe + intra-frames) compared with it.
//     Then 60 seeks through a fake HTTP server answering Range requests.
//     Prints {frames, keyframes, seekMismatches, httpMismatches, httpBytes, size, manifest}.
//   node replay_check.mjs patch CASES.jsonl
//     Each line `[before, diff, after]`: patch(diff, before) must equal after
//     and leave `before` unchanged. Prints {cases, mismatches}.
//   node replay_check.mjs offsets '["+1:00", ...]'
//     The jump box's reading of each text, and formatOffset of a few numbers.
//   node replay_check.mjs zip FILE.zip
//     Every member's bytes (hex of a SHA-256) as {name: digest}.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const js = `${here}../../src/livetiming/web/static/js/`;
const { patch } = await import(`${js}dictpatch.js`);
const { Recording } = await import(`${js}recording.js`);
const { ZipReader, bufferSource, httpSource } = await import(`${js}zipreader.js`);

function equal(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((key) => Object.prototype.hasOwnProperty.call(b, key) && equal(a[key], b[key]));
}

/** A fetch answering Range requests over `bytes`, as Twisted's static.File does. */
function rangeFetch(bytes) {
  return async (url, { method = "GET", headers = {} } = {}) => {
    if (method === "HEAD") {
      return new Response(null, { status: 200, headers: { "Content-Length": String(bytes.length), "Accept-Ranges": "bytes" } });
    }
    const range = /^bytes=(\d*)-(\d*)$/.exec(headers.Range || "");
    if (!range) return new Response(bytes, { status: 200 });
    let start;
    let end;
    if (range[1] === "") {
      if (Number(range[2]) > bytes.length) return new Response("suffix longer than the file", { status: 500 });
      start = bytes.length - Number(range[2]);
      end = bytes.length - 1;
    } else {
      start = Number(range[1]);
      end = range[2] === "" ? bytes.length - 1 : Math.min(bytes.length - 1, Number(range[2]));
    }
    return new Response(bytes.subarray(start, end + 1), {
      status: 206, headers: { "Content-Range": `bytes ${start}-${end}/${bytes.length}` },
    });
  };
}

const [mode, ...args] = process.argv.slice(2);

if (mode === "states") {
  const [path, out] = args;
  const bytes = new Uint8Array(readFileSync(path));
  const recording = await Recording.open(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const lines = [];
  const states = [];
  let current = null;
  for (let i = 0; i < recording.times.length; i++) {
    current = await recording.advance(current, recording.times[i]);
    if (current.position !== i) throw new Error(`advance to frame ${i} gave ${current.position}`);
    states.push(current.state);
    lines.push(JSON.stringify([recording.times[i], current.state]));
  }
  writeFileSync(out, lines.join("\n") + "\n");
  // playing: frame by frame with frames read ahead (kept between calls), and in steps of 7 at "60x"
  const aheadMismatches = [];
  for (const [step, ahead] of [[1, 3], [7, 120]]) {
    let playing = null;
    for (let i = 0; i < recording.times.length; i += step) {
      playing = await recording.advance(playing, recording.times[i], { ahead });
      if (playing.position !== i || !equal(playing.state, states[i])) aheadMismatches.push(`${step}:${i}`);
    }
  }
  const seekMismatches = [];
  for (let i = 0; i < recording.times.length; i++) {
    const found = await recording.stateAt(recording.times[i]);
    if (found.position !== i || !equal(found.state, states[i])) seekMismatches.push(i);
  }
  // in between frames, before the first and after the last
  const before = await recording.stateAt(recording.first - 100);
  if (before.position !== 0) seekMismatches.push("before");
  const after = await recording.stateAt(recording.last + 100);
  if (after.position !== states.length - 1) seekMismatches.push("after");
  // the same by HTTP Range, seeking at random
  const source = await httpSource("http://fixture/recording.zip", { fetchImpl: rangeFetch(bytes) });
  const remote = await Recording.open(source);
  const httpMismatches = [];
  let seed = 71;
  const random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  for (let n = 0; n < 60; n++) {
    const i = Math.floor(random() * states.length);
    const found = await remote.stateAt(recording.times[i] + 0.5);
    if (found.position !== i || !equal(found.state, states[i])) httpMismatches.push(i);
  }
  // a server without ranges: one whole download, then read from memory
  const plain = async (url, { method = "GET" } = {}) => new Response(method === "HEAD" ? null : bytes, { status: 200 });
  const whole = await Recording.open(await httpSource("http://fixture/plain.zip", { fetchImpl: plain }));
  for (const i of [0, 9, 10, 11, 1234, states.length - 1]) {
    const found = await whole.stateAt(recording.times[i]);
    if (found.position !== i || !equal(found.state, states[i])) httpMismatches.push(`plain ${i}`);
  }
  // a missing file is one clear error
  let missing = null;
  try {
    await Recording.open("http://fixture/missing.zip", { fetchImpl: async () => new Response("no", { status: 404 }) });
  } catch (e) {
    missing = e.message;
  }
  console.log(JSON.stringify({
    missing,
    aheadMismatches,
    frames: recording.times.length, keyframes: recording.keyframes.length, seekMismatches, httpMismatches,
    httpBytes: source.bytesRead, httpRequests: source.requests, size: bytes.length, manifest: recording.manifest,
    duration: recording.duration,
  }));
} else if (mode === "patch") {
  const [path] = args;
  const mismatches = [];
  const lines = readFileSync(path, "utf-8").split("\n").filter(Boolean);
  lines.forEach((line, i) => {
    const [before, diff, after] = JSON.parse(line);
    const copy = JSON.parse(JSON.stringify(before));
    let result;
    try {
      result = patch(diff, before);
    } catch (e) {
      mismatches.push([i, `threw ${e.message}`]);
      return;
    }
    if (!equal(result, after)) mismatches.push([i, "result differs"]);
    if (!equal(before, copy)) mismatches.push([i, "target changed"]);
  });
  console.log(JSON.stringify({ cases: lines.length, mismatches: mismatches.slice(0, 20) }));
} else if (mode === "zip") {
  const [path] = args;
  const zip = await ZipReader.open(bufferSource(readFileSync(path)));
  const digests = {};
  for (const name of zip.names()) digests[name] = createHash("sha256").update(await zip.read(name)).digest("hex");
  console.log(JSON.stringify(digests));
} else if (mode === "corrupt") {
  // every member read: {name: "ok" or the error}; a broken member is an error, never a crash
  const zip = await ZipReader.open(bufferSource(readFileSync(args[0])));
  const outcome = {};
  for (const name of zip.names()) {
    try {
      await zip.read(name);
      outcome[name] = "ok";
    } catch (e) {
      outcome[name] = `${e.constructor.name}: ${e.message}`;
    }
  }
  console.log(JSON.stringify(outcome));
} else if (mode === "offsets") {
  // argv: JSON list of texts; prints {texts: {text: seconds or null}}
  const { parseOffset, formatOffset } = await import(`${js}player.js`);
  const texts = JSON.parse(args[0]);
  const parsed = Object.fromEntries(texts.map((text) => [text, parseOffset(text)]));
  const formatted = Object.fromEntries([0, 59, 60, 3599, 3600, 86399, 86460.7, -5].map((n) => [n, formatOffset(n)]));
  console.log(JSON.stringify({ parsed, formatted }));
} else {
  console.error("usage: replay_check.mjs states|patch|zip ...");
  process.exit(2);
}
