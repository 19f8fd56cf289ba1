/**
 * Reading and writing numpy `.npy` files (format versions 1.0–3.0, C order, little-endian).
 *
 * Supported dtypes: `<f4`, `<f8`, `<i4`, `<i8`, `<u1`, `|u1`, `|i1`, `<i2`, `<u2`, `<u4`. Loading
 * never executes code: pickled object arrays (`|O`) are rejected.
 *
 * @module
 */

import { DataFormatError } from "./errors.ts";
import { writeFileAtomic } from "./fs_atomic.ts";

/** Typed arrays an `.npy` file can hold. */
export type NpyData =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Uint32Array;

/** An array read from or written to `.npy`: flat data in C order plus its shape. */
export interface NpyArray {
  /** The elements, row-major. */
  data: NpyData;
  /** The shape; the product of its entries equals `data.length`. */
  shape: number[];
}

const _DTYPES: Record<string, [new (b: ArrayBuffer, o: number, n: number) => NpyData, number]> = {
  "<f4": [Float32Array, 4],
  "<f8": [Float64Array, 8],
  "<i4": [Int32Array, 4],
  "<i8": [BigInt64Array, 8],
  "|u1": [Uint8Array, 1],
  "<u1": [Uint8Array, 1],
  "|i1": [Int8Array, 1],
  "<i2": [Int16Array, 2],
  "<u2": [Uint16Array, 2],
  "<u4": [Uint32Array, 4],
};

function _descr(data: NpyData): string {
  if (data instanceof Float32Array) return "<f4";
  if (data instanceof Float64Array) return "<f8";
  if (data instanceof Int32Array) return "<i4";
  if (data instanceof BigInt64Array) return "<i8";
  if (data instanceof Uint8Array) return "|u1";
  if (data instanceof Int8Array) return "|i1";
  if (data instanceof Int16Array) return "<i2";
  if (data instanceof Uint16Array) return "<u2";
  if (data instanceof Uint32Array) return "<u4";
  throw new TypeError("Cannot encode .npy: unsupported typed array");
}

/**
 * Encodes an array as `.npy` bytes (format 1.0, or 2.0 when the header needs it).
 *
 * @param array Data and shape.
 * @returns The file bytes.
 * @throws {RangeError} If the shape does not match the data length.
 * @example
 * ```ts
 * import { decodeNpy, encodeNpy } from "../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const bytes = encodeNpy({ data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] });
 * assertEquals(decodeNpy(bytes).shape, [2, 3]);
 * ```
 */
export function encodeNpy(array: NpyArray): Uint8Array {
  const { data, shape } = array;
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length || shape.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new RangeError(
      `Cannot encode .npy: shape [${shape}] holds ${n} elements but data has ${data.length}`,
    );
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${_descr(data)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let version = 1;
  let pre = 10;
  if (header.length + 1 + pre > 65535) {
    version = 2;
    pre = 12;
  }
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  header = header + " ".repeat(total - pre - header.length - 1) + "\n";
  const hb = new TextEncoder().encode(header);
  const out = new Uint8Array(total + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, hb.length, true);
  else dv.setUint32(8, hb.length, true);
  out.set(hb, pre);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}

/**
 * Decodes `.npy` bytes.
 *
 * @param bytes The file contents.
 * @param name A name for error messages (e.g. the path).
 * @returns Data (a fresh, aligned copy) and shape.
 * @throws {DataFormatError} On a bad magic string, an unsupported dtype, Fortran order or a
 * truncated file.
 * @example
 * ```ts
 * import { decodeNpy, encodeNpy } from "../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const { data, shape } = decodeNpy(encodeNpy({ data: new Int32Array([4, 5]), shape: [2] }));
 * assertEquals([Array.from(data as Int32Array), shape], [[4, 5], [2]]);
 * ```
 */
export function decodeNpy(bytes: Uint8Array, name = "<bytes>"): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) {
    throw new DataFormatError(`Cannot read ${name}: not a .npy file (bad magic string)`);
  }
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let hlen: number, pre: number;
  if (major === 1) [hlen, pre] = [dv.getUint16(8, true), 10];
  else if (major === 2 || major === 3) [hlen, pre] = [dv.getUint32(8, true), 12];
  else throw new DataFormatError(`Cannot read ${name}: .npy version ${major} but expected 1–3`);
  if (bytes.length < pre + hlen) {
    throw new DataFormatError(`Cannot read ${name}: header truncated`);
  }
  const header = new TextDecoder().decode(bytes.subarray(pre, pre + hlen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new DataFormatError(`Cannot read ${name}: malformed header ${JSON.stringify(header)}`);
  }
  if (fortran === "True") {
    throw new DataFormatError(`Cannot read ${name}: Fortran order but expected C order`);
  }
  const dt = _DTYPES[descr];
  if (!dt) {
    throw new DataFormatError(
      `Cannot read ${name}: dtype '${descr}' but expected one of ${
        Object.keys(_DTYPES).join(", ")
      }`,
    );
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new DataFormatError(`Cannot read ${name}: bad shape (${shapeText})`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  const start = pre + hlen;
  const need = n * dt[1];
  if (bytes.length - start < need) {
    throw new DataFormatError(
      `Cannot read ${name}: ${bytes.length - start} data bytes but shape [${shape}] needs ${need}`,
    );
  }
  const copy = bytes.slice(start, start + need);
  return { data: new dt[0](copy.buffer, 0, n), shape };
}

/**
 * Reads a `.npy` file.
 *
 * @param path File path.
 * @returns Data and shape.
 * @throws {DataFormatError} If the file is not a supported `.npy`.
 * @example
 * ```ts
 * import { readNpy, writeNpy } from "../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const path = await Deno.makeTempFile({ suffix: ".npy" });
 * await writeNpy(path, { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] });
 * assertEquals((await readNpy(path)).shape, [2, 2]);
 * await Deno.remove(path);
 * ```
 */
export async function readNpy(path: string): Promise<NpyArray> {
  return decodeNpy(await Deno.readFile(path), path);
}

/**
 * Writes a `.npy` file atomically (temp file, fsync, rename).
 *
 * @param path File path.
 * @param array Data and shape.
 * @throws {RangeError} If the shape does not match the data length.
 * @example
 * ```ts
 * import { readNpy, writeNpy } from "../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const path = await Deno.makeTempFile({ suffix: ".npy" });
 * await writeNpy(path, { data: new Uint8Array([7]), shape: [1, 1] });
 * assertEquals((await readNpy(path)).data, new Uint8Array([7]));
 * await Deno.remove(path);
 * ```
 */
export async function writeNpy(path: string, array: NpyArray): Promise<void> {
  await writeFileAtomic(path, encodeNpy(array));
}
