/**
 * A recording (protocol §7) read in the browser: the manifest, the index of
 * frames from the ZIP's central directory, and the state at any time.
 *
 * `stateAt(t)` reads only the newest keyframe at or before t and the
 * intra-frames after it up to t (at most nine, read with one request when
 * the ZIP comes by HTTP Range); `advance(from, t)` moves a state forward
 * from where it is when that is shorter. Nothing else is kept but the
 * frames read ahead while playing (at most 120): memory is the frame index
 * (a few numbers per frame) plus the states in hand, however long the
 * recording.
 */
import { patch } from "./dictpatch.js";
import { ZipReader, blobSource, bufferSource, httpSource } from "./zipreader.js";

export class RecordingError extends Error {}

const FRAME = /^(\d{11})(i?)\.json$/;
const MAX_MESSAGES = 100;
const MAX_AHEAD = 120;
const decoder = new TextDecoder();

function parse(bytes, name) {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (e) {
    throw new RecordingError(`${name} is not JSON (${e.message})`);
  }
}

/** Index of the last element of the sorted `list` that is <= value (-1 if none). */
function lastAtOrBefore(list, value) {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** The state after intra-frame `frame` (protocol §7), sharing what did not change. */
export function applyIntraframe(previous, frame, name = "frame") {
  if (!frame || typeof frame !== "object") throw new RecordingError(`${name} is not an object`);
  let cars;
  let session;
  try {
    cars = patch(frame.cars ?? [], previous.cars ?? []);
    session = patch(frame.session ?? [], previous.session ?? {});
  } catch (e) {
    throw new RecordingError(`frame ${name} does not apply: ${e.message}`);
  }
  const messages = frame.messages ?? [];
  const highlight = frame.highlight ?? [];
  if (!Array.isArray(messages) || !Array.isArray(highlight)) {
    throw new RecordingError(`frame ${name}: messages and highlight must be lists`);
  }
  const old = Array.isArray(previous.messages) ? previous.messages : [];
  const merged = messages.length || old.length > MAX_MESSAGES ? messages.concat(old).slice(0, MAX_MESSAGES) : old;
  return { cars, session, messages: merged, highlight };
}

export class Recording {
  /** Open a recording from a URL (HTTP Range), a Blob/File or an ArrayBuffer. */
  static async open(from, options = {}) {
    let source;
    if (typeof from === "string") source = await httpSource(from, options);
    else if (typeof Blob !== "undefined" && from instanceof Blob) source = blobSource(from);
    else if (from instanceof ArrayBuffer || ArrayBuffer.isView(from)) source = bufferSource(from);
    else source = from; // a source object already
    const zip = await ZipReader.open(source);
    return new Recording(zip, parse(await zip.read("manifest.json").catch(() => {
      throw new RecordingError("no manifest.json: not a recording");
    }), "manifest.json"));
  }

  constructor(zip, manifest) {
    if (!manifest || typeof manifest !== "object" || manifest.version !== 1) {
      throw new RecordingError(`unsupported recording version ${JSON.stringify(manifest && manifest.version)}`);
    }
    this.zip = zip;
    this.manifest = manifest;
    const frames = [];
    for (const name of zip.names()) {
      const match = FRAME.exec(name);
      if (match) frames.push([Number(match[1]), match[2] !== "i", name]);
    }
    if (!frames.length) throw new RecordingError("the recording has no frames");
    frames.sort((a, b) => a[0] - b[0]);
    /** frame times (Unix seconds), ascending */
    this.times = new Float64Array(frames.map((frame) => frame[0]));
    for (let i = 1; i < this.times.length; i++) {
      if (this.times[i] === this.times[i - 1]) throw new RecordingError(`two frames for second ${this.times[i]}`);
    }
    this.names = frames.map((frame) => frame[2]);
    this.keyframes = frames.flatMap((frame, i) => (frame[1] ? [i] : []));
    if (this.keyframes[0] !== 0) throw new RecordingError("the first frame is not a keyframe");
    /** how many frame files have been read (for tests and the benchmark) */
    this.framesRead = 0;
  }

  get first() { return this.times[0]; }
  get last() { return this.times[this.times.length - 1]; }
  get duration() { return this.last - this.first; }
  get startTime() {
    return typeof this.manifest.startTime === "number" ? this.manifest.startTime : this.first;
  }

  /** Position of the newest frame at or before t (-1 before the first). */
  positionAt(t) {
    return lastAtOrBefore(this.times, t);
  }

  keyframeBefore(position) {
    return this.keyframes[lastAtOrBefore(this.keyframes, position)];
  }

  /**
   * The decoded frames at positions from..to. With `ahead`, up to that many
   * frames after `to` are read in the same request and kept (only those:
   * the playing player's next steps, at most MAX_AHEAD frames).
   */
  async _frames(from, to, ahead = 0) {
    const kept = this.ahead;
    if (kept && from >= kept.from && to < kept.from + kept.frames.length) {
      return kept.frames.slice(from - kept.from, to - kept.from + 1);
    }
    const end = Math.min(this.names.length - 1, to + Math.min(MAX_AHEAD, Math.max(0, ahead)));
    const names = this.names.slice(from, end + 1);
    const bytes = await this.zip.readMany(names);
    this.framesRead += names.length;
    const frames = bytes.map((data, i) => parse(data, names[i]));
    this.ahead = end > to ? { from, frames } : null;
    return frames.slice(0, to - from + 1);
  }

  /**
   * `{position, time, state}` at time t: the newest frame at or before t
   * (the first frame before the recording starts, the last after it ends).
   */
  async stateAt(t, { ahead = 0 } = {}) {
    const position = Math.max(0, this.positionAt(t));
    const key = this.keyframeBefore(position);
    const frames = await this._frames(key, position, ahead);
    let state = frames[0];
    for (let i = 1; i < frames.length; i++) state = applyIntraframe(state, frames[i], this.names[key + i]);
    return { position, time: this.times[position], state };
  }

  /**
   * The state at t starting from `current` (a `stateAt` answer): forward by
   * the intra-frames after it when no keyframe lies in between, else as
   * `stateAt` does. `current` is left as it was. `ahead`: read that many
   * frames further in the same request, for the next calls (playing).
   */
  async advance(current, t, { ahead = 0 } = {}) {
    const position = Math.max(0, this.positionAt(t));
    if (!current || position < current.position || this.keyframeBefore(position) > current.position) {
      return this.stateAt(t, { ahead });
    }
    if (position === current.position) return current;
    const frames = await this._frames(current.position + 1, position, ahead);
    let state = current.state;
    // no keyframe lies in between: every one of these is an intra-frame
    frames.forEach((frame, i) => { state = applyIntraframe(state, frame, this.names[current.position + 1 + i]); });
    return { position, time: this.times[position], state };
  }
}
