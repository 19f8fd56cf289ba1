/**
 * A streaming reader for numeric arrays in MATLAB level-5 `.mat` files (the format of SVHN's
 * `train_32x32.mat`), compressed (`miCOMPRESSED`, MATLAB 7's default) or not.
 *
 * The file is read front to back once, in chunks; compressed elements are inflated as they
 * stream past. Only the arrays asked for are kept, and a `uint8` array goes straight into one
 * buffer of its final size, so a 182 MB file costs its pixels and a few chunks, never the file
 * and an inflated copy beside it. Layout reference: MathWorks, "MAT-File Format" (level 5).
 *
 * Internal to `lib/data`; nothing here is re-exported from `mod.ts`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { DataFormatError } from "../errors.ts";

/** One numeric array read from a `.mat` file. */
export interface MatArray {
  /** MATLAB dimensions (column-major: the first index varies fastest). */
  dims: number[];
  /** The array's class, e.g. `"uint8"`, `"double"`. */
  className: string;
  /**
   * The values: the stored bytes for `uint8` storage (no copy), otherwise numbers. Column-major.
   */
  data: Uint8Array | Float64Array;
}

/** What {@linkcode readMatArrays} returns. */
export interface MatContents {
  /** The arrays asked for that the file holds, by name. */
  arrays: Map<string, MatArray>;
  /** SHA-256 (hex) of the whole file, computed while streaming it. */
  sha256: string;
  /** File size in bytes. */
  bytes: number;
}

// Element data types (miINT8 …) and their byte sizes; 14 = miMATRIX, 15 = miCOMPRESSED.
const _MI_SIZE: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 2,
  5: 4,
  6: 4,
  7: 4,
  9: 8,
  12: 8,
  13: 8,
};
const _MI_MATRIX = 14, _MI_COMPRESSED = 15, _MI_UINT8 = 2;
// Array classes (mxDOUBLE_CLASS = 6 … mxUINT64_CLASS = 15); 1–5 are cells, structs, chars, …
const _CLASS_NAMES: Record<number, string> = {
  6: "double",
  7: "single",
  8: "int8",
  9: "uint8",
  10: "int16",
  11: "uint16",
  12: "int32",
  13: "uint32",
  14: "int64",
  15: "uint64",
};

/** Pull-based exact reads over a byte stream, counting what was consumed. */
class _Bytes {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  #at = 0;
  /** Bytes handed out or skipped so far. */
  consumed = 0;

  constructor(stream: ReadableStream<Uint8Array>, readonly what: string) {
    this.#reader = stream.getReader();
  }

  /** Buffered bytes not yet consumed. */
  get #left(): number {
    return this.#buf.length - this.#at;
  }

  async #next(): Promise<boolean> {
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await this.#reader.read();
    } catch (e) {
      throw new DataFormatError(`Cannot read ${this.what}: ${(e as Error).message}`, { cause: e });
    }
    if (r.done) return false;
    const rest = this.#buf.subarray(this.#at);
    if (rest.length === 0) this.#buf = r.value;
    else {
      const merged = new Uint8Array(rest.length + r.value.length);
      merged.set(rest);
      merged.set(r.value, rest.length);
      this.#buf = merged;
    }
    this.#at = 0;
    return true;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    while (this.#left === 0) if (!await this.#next()) return true;
    return false;
  }

  /** Exactly `n` bytes (a view valid until the next call). */
  async read(n: number): Promise<Uint8Array> {
    while (this.#left < n) {
      if (!await this.#next()) {
        throw new DataFormatError(
          `Cannot read ${this.what}: truncated (the data ends after ${
            this.consumed + this.#left
          } bytes, ${n - this.#left} byte(s) short of the element being read)`,
        );
      }
    }
    const out = this.#buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    this.consumed += n;
    return out;
  }

  /** Up to `max` bytes (at least one unless at the end), without merging chunks. */
  async some(max: number): Promise<Uint8Array> {
    if (this.#left === 0 && !await this.#next()) return new Uint8Array(0);
    const n = Math.min(max, this.#left);
    const out = this.#buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    this.consumed += n;
    return out;
  }

  /** Fills `dest` completely, chunk by chunk. */
  async readInto(dest: Uint8Array): Promise<void> {
    for (let o = 0; o < dest.length;) {
      const part = await this.some(dest.length - o);
      if (part.length === 0) await this.read(dest.length - o); // throws "truncated"
      dest.set(part, o);
      o += part.length;
    }
  }

  /** Skips `n` bytes. */
  async skip(n: number): Promise<void> {
    for (let left = n; left > 0;) {
      const part = await this.some(left);
      if (part.length === 0) await this.read(left);
      left -= part.length;
    }
  }

  /** Stops reading (the rest of the stream is discarded). */
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

/** The `n` bytes that follow in `src`, as a stream (for inflating one compressed element). */
function _slice(
  src: _Bytes,
  n: number,
): { stream: ReadableStream<Uint8Array<ArrayBuffer>>; done: () => Promise<void> } {
  let left = n, inflight: Promise<unknown> = Promise.resolve();
  const stream = new ReadableStream<Uint8Array<ArrayBuffer>>({
    pull: (controller) => {
      const p = (async () => {
        if (left === 0) return controller.close();
        const part = await src.some(Math.min(left, 1 << 16));
        if (part.length === 0) await src.read(left); // throws "truncated"
        left -= part.length;
        controller.enqueue(part.slice());
      })();
      inflight = p.catch(() => {});
      return p;
    },
  }, { highWaterMark: 0 });
  // What the inflater has not pulled is skipped in the outer stream.
  return { stream, done: async () => (await inflight, await src.skip(left)) };
}

/** One element tag; a small element (≤ 4 bytes) carries its data inline. */
interface _Tag {
  type: number;
  bytes: number;
  inline?: Uint8Array;
}

async function _tag(b: _Bytes, little: boolean): Promise<_Tag> {
  const t = await b.read(8);
  const v = new DataView(t.buffer, t.byteOffset, 8);
  const first = v.getUint32(0, little);
  if (first >>> 16 !== 0) {
    const bytes = first >>> 16;
    return { type: first & 0xffff, bytes, inline: t.slice(4, 4 + bytes) };
  }
  return { type: first, bytes: v.getUint32(4, little) };
}

/** Reads a sub-element's data bytes (normal elements are padded to a multiple of 8). */
async function _subelement(b: _Bytes, little: boolean): Promise<[number, Uint8Array]> {
  const tag = await _tag(b, little);
  if (tag.inline) return [tag.type, tag.inline];
  const data = (await b.read(tag.bytes)).slice();
  await b.skip((8 - (tag.bytes % 8)) % 8);
  return [tag.type, data];
}

/** Numbers from stored bytes of element type `type`. */
function _numbers(type: number, bytes: Uint8Array, little: boolean, what: string): Float64Array {
  const size = _MI_SIZE[type];
  if (!size) {
    throw new DataFormatError(`Cannot read ${what}: element type ${type} is not numeric`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(bytes.length / size);
  const get: (o: number) => number = {
    1: (o: number) => v.getInt8(o),
    2: (o: number) => v.getUint8(o),
    3: (o: number) => v.getInt16(o, little),
    4: (o: number) => v.getUint16(o, little),
    5: (o: number) => v.getInt32(o, little),
    6: (o: number) => v.getUint32(o, little),
    7: (o: number) => v.getFloat32(o, little),
    9: (o: number) => v.getFloat64(o, little),
    12: (o: number) => Number(v.getBigInt64(o, little)),
    13: (o: number) => Number(v.getBigUint64(o, little)),
  }[type]!;
  for (let i = 0; i < out.length; i++) out[i] = get(i * size);
  return out;
}

/**
 * Reads one `miMATRIX` element of `bytes` bytes from `b`: its name, and its data when the name
 * is wanted and the array numeric and real; everything else is skipped.
 */
async function _matrix(
  b: _Bytes,
  bytes: number,
  little: boolean,
  want: ReadonlySet<string>,
  out: Map<string, MatArray>,
): Promise<void> {
  const start = b.consumed;
  const [, flagBytes] = await _subelement(b, little);
  const cls = new DataView(flagBytes.buffer).getUint32(0, little) & 0xff;
  const complex = (new DataView(flagBytes.buffer).getUint32(0, little) & 0x800) !== 0;
  const [dimType, dimBytes] = await _subelement(b, little);
  const dims = Array.from(_numbers(dimType, dimBytes, little, b.what));
  const [, nameBytes] = await _subelement(b, little);
  const name = new TextDecoder().decode(nameBytes);
  const className = _CLASS_NAMES[cls];
  if (want.has(name) && className && !complex) {
    const what = `${b.what}: array "${name}"`;
    const tag = await _tag(b, little);
    const count = dims.reduce((a, d) => a * d, 1);
    const size = _MI_SIZE[tag.type] ?? 0;
    if (tag.bytes !== count * size) {
      throw new DataFormatError(
        `Cannot read ${what}: ${tag.bytes} data bytes but expected ${count * size} for ` +
          `dimensions [${dims}]`,
      );
    }
    let data: Uint8Array | Float64Array;
    if (tag.inline) data = _numbers(tag.type, tag.inline, little, what);
    else if (tag.type === _MI_UINT8) {
      data = new Uint8Array(count);
      await b.readInto(data);
    } else data = _numbers(tag.type, (await b.read(tag.bytes)).slice(), little, what);
    out.set(name, { dims, className, data });
  }
  await b.skip(bytes - (b.consumed - start));
}

/**
 * Reads the named numeric arrays of a MATLAB level-5 `.mat` file, streaming it once.
 *
 * @param path The file.
 * @param names Names of the arrays to keep; others are skipped.
 * @returns The arrays found, the file's SHA-256 and size.
 * @throws {DataFormatError} If the file cannot be read, is not a level-5 MAT-file (e.g. a
 * MATLAB 7.3 HDF5 file), is truncated, or an element is inconsistent.
 */
export async function readMatArrays(
  path: string,
  names: readonly string[],
): Promise<MatContents> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    throw new DataFormatError(`Cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const hash = createHash("sha256");
  let size = 0;
  const hashed = file.readable.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        hash.update(chunk);
        size += chunk.length;
        controller.enqueue(chunk);
      },
    }),
  );
  const top = new _Bytes(hashed, path);
  try {
    const header = await top.read(128).catch(() => {
      throw new DataFormatError(`Cannot read ${path}: shorter than a MAT-file's 128-byte header`);
    });
    const text = new TextDecoder().decode(header.subarray(0, 116));
    const endian = String.fromCharCode(header[126], header[127]);
    if (!text.startsWith("MATLAB") || (endian !== "IM" && endian !== "MI")) {
      throw new DataFormatError(
        `Cannot read ${path}: not a MATLAB level-5 MAT-file (header ` +
          `${JSON.stringify(text.slice(0, 40).trim())}, expected "MATLAB 5.0 MAT-file…")`,
      );
    }
    if (text.includes("7.3")) {
      throw new DataFormatError(
        `Cannot read ${path}: a MATLAB 7.3 (HDF5) file, but only level-5 MAT-files are read; ` +
          `save it with -v7`,
      );
    }
    const little = endian === "IM";
    const want = new Set(names), arrays = new Map<string, MatArray>();
    while (!await top.atEnd()) {
      const tag = await _tag(top, little);
      if (tag.inline) continue;
      if (tag.type === _MI_MATRIX) {
        await _matrix(top, tag.bytes, little, want, arrays);
      } else if (tag.type === _MI_COMPRESSED) {
        const part = _slice(top, tag.bytes);
        const inflated = part.stream.pipeThrough(new DecompressionStream("deflate"));
        const inner = new _Bytes(inflated, path);
        const t = await _tag(inner, little);
        if (t.type === _MI_MATRIX) await _matrix(inner, t.bytes, little, want, arrays);
        await inner.cancel();
        await part.done();
      } else {
        await top.skip(tag.bytes);
      }
    }
    return { arrays, sha256: hash.digest("hex"), bytes: size };
  } finally {
    await top.cancel();
  }
}
