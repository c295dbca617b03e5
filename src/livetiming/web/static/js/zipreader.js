/**
 * A small ZIP reader for recordings (protocol §7), written from the ZIP
 * format (PKWARE APPNOTE): the end-of-central-directory record (and its
 * ZIP64 forms), the central directory, local headers, and members stored or
 * deflated. Inflating is the browser's own `DecompressionStream("deflate-raw")`;
 * every member's CRC-32 is checked.
 *
 * It reads through a *source* — `{size, read(offset, length)}` giving bytes —
 * so it never needs the whole file: opening reads the file's tail (for the
 * central directory), then only the members asked for. Sources: a Blob or
 * File (`blobSource`), an ArrayBuffer (`bufferSource`), or a URL read with
 * HTTP Range requests (`httpSource`, falling back to one whole download
 * when the server does not answer ranges).
 */

export class ZipError extends Error {}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const TAIL = 65557; // EOCD (22) + the longest comment (65535)
const SLACK = 256; // bytes read past a member for a local extra field longer than the central one

// ------------------------------------------------------------------ sources

export function bufferSource(buffer) {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  return {
    size: bytes.length,
    async read(offset, length) {
      return bytes.subarray(offset, Math.min(bytes.length, offset + length));
    },
  };
}

export function blobSource(blob) {
  return {
    size: blob.size,
    async read(offset, length) {
      return new Uint8Array(await blob.slice(offset, Math.min(blob.size, offset + length)).arrayBuffer());
    },
  };
}

/**
 * Bytes of `url` by HTTP Range. A HEAD request gives the size (a suffix
 * range `bytes=-N` longer than the file is not safe to ask: Twisted's
 * static.File answers it with a 500), then every read is one
 * `bytes=start-end` request. A server that does not offer ranges gets one
 * whole download, which is then kept and read.
 */
export async function httpSource(url, { fetchImpl = globalThis.fetch } = {}) {
  const head = await fetchImpl(url, { method: "HEAD" });
  if (!head.ok) throw new ZipError(`${url}: HTTP ${head.status}`);
  const length = Number(head.headers.get("Content-Length"));
  if (!/bytes/i.test(head.headers.get("Accept-Ranges") || "") || !Number.isSafeInteger(length)) {
    const whole = await fetchImpl(url);
    if (!whole.ok) throw new ZipError(`${url}: HTTP ${whole.status}`);
    return bufferSource(await whole.arrayBuffer());
  }
  const source = {
    size: length,
    requests: 1,
    bytesRead: 0,
    async read(offset, count) {
      const end = Math.min(length, offset + count);
      if (end <= offset) return new Uint8Array(0);
      const answer = await fetchImpl(url, { headers: { Range: `bytes=${offset}-${end - 1}` } });
      if (answer.status !== 206) throw new ZipError(`${url}: HTTP ${answer.status} for a range`);
      const bytes = new Uint8Array(await answer.arrayBuffer());
      source.requests += 1;
      source.bytesRead += bytes.length;
      if (bytes.length !== end - offset) throw new ZipError(`${url}: short range (${bytes.length} of ${end - offset})`);
      return bytes;
    },
  };
  return source;
}

// -------------------------------------------------------------------- CRC-32

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes) {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// ------------------------------------------------------------------- reading

function view(bytes) {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function u64(dv, at) {
  const value = dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 2 ** 32;
  if (!Number.isSafeInteger(value)) throw new ZipError("a ZIP64 field is too large");
  return value;
}

/**
 * A raw-deflate member inflated by the browser's DecompressionStream,
 * written and read directly: no Response or pipe per member, which keeps
 * what each of them leaves for the garbage collector small (a player at 60×
 * inflates 60 members a second).
 */
async function inflate(bytes) {
  const stream = new DecompressionStream("deflate-raw");
  const writer = stream.writable.getWriter();
  // a corrupt member rejects these too; the reader below reports it once
  writer.write(bytes).catch(() => {});
  writer.close().catch(() => {});
  const reader = stream.readable.getReader();
  const chunks = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

export class ZipReader {
  /** Open a ZIP from a source (see above): reads its tail and central directory. */
  static async open(source) {
    const zip = new ZipReader(source);
    await zip._readDirectory();
    return zip;
  }

  constructor(source) {
    this.source = source;
    /** name → {name, method, crc, compressedSize, size, offset} */
    this.entries = new Map();
  }

  async _readDirectory() {
    const size = this.source.size;
    if (size < 22) throw new ZipError("not a ZIP file (too short)");
    const tailStart = Math.max(0, size - TAIL);
    const tail = await this.source.read(tailStart, size - tailStart);
    const dv = view(tail);
    let at = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (dv.getUint32(i, true) === EOCD && i + 22 + dv.getUint16(i + 20, true) <= tail.length) {
        at = i;
        break;
      }
    }
    if (at < 0) throw new ZipError("not a ZIP file (no end of central directory)");
    let count = dv.getUint16(at + 10, true);
    let cdSize = dv.getUint32(at + 12, true);
    let cdOffset = dv.getUint32(at + 16, true);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const locator = tailStart + at - 20;
      const loc = view(await this.source.read(locator, 20));
      if (loc.byteLength < 20 || loc.getUint32(0, true) !== ZIP64_LOCATOR) throw new ZipError("ZIP64 locator missing");
      const z = view(await this.source.read(u64(loc, 8), 56));
      if (z.byteLength < 56 || z.getUint32(0, true) !== ZIP64_EOCD) throw new ZipError("ZIP64 end record missing");
      count = u64(z, 32);
      cdSize = u64(z, 40);
      cdOffset = u64(z, 48);
    }
    if (cdOffset + cdSize > size) throw new ZipError("the central directory lies outside the file");
    const cd = cdOffset >= tailStart
      ? tail.subarray(cdOffset - tailStart, cdOffset - tailStart + cdSize)
      : await this.source.read(cdOffset, cdSize);
    this._parseDirectory(cd, count);
  }

  _parseDirectory(cd, count) {
    const dv = view(cd);
    const decoder = new TextDecoder();
    let at = 0;
    for (let n = 0; n < count; n++) {
      if (at + 46 > cd.length || dv.getUint32(at, true) !== CENTRAL) throw new ZipError(`bad central directory entry ${n}`);
      const method = dv.getUint16(at + 10, true);
      const crc = dv.getUint32(at + 16, true);
      let compressedSize = dv.getUint32(at + 20, true);
      let size = dv.getUint32(at + 24, true);
      const nameLength = dv.getUint16(at + 28, true);
      const extraLength = dv.getUint16(at + 30, true);
      const commentLength = dv.getUint16(at + 32, true);
      let offset = dv.getUint32(at + 42, true);
      const name = decoder.decode(cd.subarray(at + 46, at + 46 + nameLength));
      // ZIP64 extra field (0x0001): the 64-bit values of the fields set to 0xFFFFFFFF, in order
      let extra = at + 46 + nameLength;
      const extraEnd = extra + extraLength;
      while (extra + 4 <= extraEnd) {
        const id = dv.getUint16(extra, true);
        const length = dv.getUint16(extra + 2, true);
        if (id === 0x0001) {
          let field = extra + 4;
          if (size === 0xffffffff) { size = u64(dv, field); field += 8; }
          if (compressedSize === 0xffffffff) { compressedSize = u64(dv, field); field += 8; }
          if (offset === 0xffffffff) { offset = u64(dv, field); field += 8; }
        }
        extra += 4 + length;
      }
      at = extraEnd + commentLength;
      if (at > cd.length) throw new ZipError(`central directory entry ${n} runs past its end`);
      if (!name.endsWith("/")) {
        this.entries.set(name, { name, method, crc, compressedSize, size, offset, extraLength, nameLength });
      }
    }
  }

  names() {
    return [...this.entries.keys()];
  }

  has(name) {
    return this.entries.has(name);
  }

  /** The bytes of one member. */
  async read(name) {
    return (await this.readMany([name]))[0];
  }

  /**
   * The bytes of several members, in the order asked. Members lying close
   * together in the file (a keyframe and the frames after it) are read with
   * one request covering them all; `gap` bounds the bytes read in between.
   */
  async readMany(names, { gap = 1 << 20 } = {}) {
    const wanted = names.map((name) => {
      const entry = this.entries.get(name);
      if (!entry) throw new ZipError(`no member ${name}`);
      return entry;
    });
    const order = [...wanted].sort((a, b) => a.offset - b.offset);
    const spans = [];
    for (const entry of order) {
      const start = entry.offset;
      const end = Math.min(this.source.size, entry.offset + 30 + entry.nameLength + entry.extraLength
        + entry.compressedSize + SLACK);
      const last = spans[spans.length - 1];
      if (last && start - last.end <= gap) {
        last.end = Math.max(last.end, end);
        last.entries.push(entry);
      } else {
        spans.push({ start, end, entries: [entry] });
      }
    }
    const found = new Map();
    await Promise.all(spans.map(async (span) => {
      const bytes = await this.source.read(span.start, span.end - span.start);
      for (const entry of span.entries) {
        found.set(entry.name, await this._member(entry, bytes, entry.offset - span.start));
      }
    }));
    return wanted.map((entry) => found.get(entry.name));
  }

  async _member(entry, bytes, at) {
    let dv = view(bytes);
    if (at + 30 > bytes.length || dv.getUint32(at, true) !== LOCAL) throw new ZipError(`${entry.name}: bad local header`);
    let start = at + 30 + dv.getUint16(at + 26, true) + dv.getUint16(at + 28, true);
    if (start + entry.compressedSize > bytes.length) { // a local extra field longer than we guessed
      const dataOffset = entry.offset + (start - at);
      bytes = await this.source.read(dataOffset, entry.compressedSize);
      dv = view(bytes);
      start = 0;
      if (bytes.length < entry.compressedSize) throw new ZipError(`${entry.name}: truncated`);
    }
    const raw = bytes.subarray(start, start + entry.compressedSize);
    let data;
    if (entry.method === 0) data = raw;
    else if (entry.method === 8) {
      try {
        data = await inflate(raw);
      } catch (e) {
        throw new ZipError(`${entry.name}: does not inflate (${e.message})`);
      }
    } else throw new ZipError(`${entry.name}: compression method ${entry.method} is not supported`);
    if (data.length !== entry.size) throw new ZipError(`${entry.name}: ${data.length} bytes, expected ${entry.size}`);
    if (crc32(data) !== entry.crc) throw new ZipError(`${entry.name}: CRC mismatch`);
    return data;
  }
}
