/**
 * MNIST-format IDX files (`.gz` or raw): the parser and the dataset over an images/labels pair.
 *
 * @module
 */

import { DataFormatError } from "../errors.ts";
import { sha256Hex } from "../hash.ts";
import { baseName, gunzipIfNeeded, readBytes, readClassNames, showUrl, toUrl } from "./io.ts";
import { rawDataset, resolvePreprocess } from "./preprocess.ts";
import type { Dataset, OpenDatasetOptions } from "./types.ts";

/** A parsed IDX array of unsigned bytes. */
export interface IdxArray {
  /** Dimensions, outermost first (images: `[N, H, W]`, labels: `[N]`). */
  dims: number[];
  /** Row-major bytes. */
  data: Uint8Array;
}

/**
 * Parses an IDX file of unsigned bytes (type `0x08`), gzipped or raw.
 *
 * @param bytes File contents (gzip is detected by its magic, not by the file name).
 * @param name File name for error messages.
 * @param expectedDims Required number of dimensions (3 for images, 1 for labels), if any.
 * @returns The dimensions and the data.
 * @throws {DataFormatError} On a wrong magic number, another element type, a wrong number of
 * dimensions, or a truncated file.
 * @example
 * ```ts
 * import { parseIdx } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]);
 * const idx = await parseIdx(bytes, "labels", 1);
 * assertEquals(idx.dims, [3]);
 * assertEquals(Array.from(idx.data), [7, 8, 9]);
 * ```
 */
export async function parseIdx(
  bytes: Uint8Array,
  name: string,
  expectedDims?: number,
): Promise<IdxArray> {
  const raw = await gunzipIfNeeded(bytes, name);
  const hex = (n: number) => "0x" + (n >>> 0).toString(16).padStart(8, "0");
  const want = expectedDims === undefined ? "0x000008NN" : hex(0x800 + expectedDims);
  if (raw.length < 4) {
    throw new DataFormatError(`Cannot read IDX ${name}: ${raw.length} bytes but expected a header`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const magic = view.getUint32(0);
  const ndim = raw[3];
  if (raw[0] !== 0 || raw[1] !== 0 || raw[2] !== 0x08 || ndim === 0) {
    throw new DataFormatError(
      `Cannot read IDX ${name}: magic number ${hex(magic)} but expected ${want} ` +
        `(unsigned-byte IDX)`,
    );
  }
  if (expectedDims !== undefined && ndim !== expectedDims) {
    throw new DataFormatError(
      `Cannot read IDX ${name}: magic number ${hex(magic)} (${ndim} dimensions) but expected ` +
        `${want} (${expectedDims} dimensions)`,
    );
  }
  const headerBytes = 4 + 4 * ndim;
  if (raw.length < headerBytes) {
    throw new DataFormatError(`Cannot read IDX ${name}: truncated header`);
  }
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndim; i++) {
    dims.push(view.getUint32(4 + 4 * i));
    count *= dims[i];
  }
  if (raw.length !== headerBytes + count) {
    throw new DataFormatError(
      `Cannot read IDX ${name}: ${raw.length - headerBytes} data bytes but expected ${count} ` +
        `for dimensions [${dims}]`,
    );
  }
  return { dims, data: raw.subarray(headerBytes) };
}

/** Locations of one split of an IDX dataset. */
export interface IdxFiles {
  /** Images file (`…-images-idx3-ubyte[.gz]`). */
  images: URL;
  /** Labels file (`…-labels-idx1-ubyte[.gz]`). */
  labels: URL;
  /** Optional class-name file (one name per line, in label order). */
  classes?: URL;
}

/**
 * Finds the images/labels pair of a split in a local IDX folder (`train-…` for `"train"`,
 * `t10k-…` or `test-…` for `"val"`), and its `classes.txt` if present.
 *
 * @param dir The folder.
 * @param split `"train"` or `"val"`.
 * @returns The files.
 * @throws {DataFormatError} If the folder cannot be listed or does not hold exactly one images
 * and one labels file for the split.
 */
export async function findIdxFiles(dir: string, split: "train" | "val"): Promise<IdxFiles> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (!e.isDirectory) names.push(e.name);
  } catch (e) {
    throw new DataFormatError(`Cannot open idx:${dir}: ${(e as Error).message}`, { cause: e });
  }
  const want = split === "train" ? /(^|[-_.])train[-_.]/ : /(^|[-_.])(t10k|test)[-_.]/;
  const pick = (kind: "images-idx3" | "labels-idx1") => {
    const found = names.filter((n) => want.test(n) && new RegExp(`${kind}-ubyte(\\.gz)?$`).test(n));
    if (found.length !== 1) {
      throw new DataFormatError(
        `Cannot open idx:${dir}: ${found.length} ${split} ${kind}-ubyte[.gz] files ` +
          `(${found.join(", ") || "none"}) but expected exactly one`,
      );
    }
    return toUrl(`${dir}/${found[0]}`);
  };
  const classes = names.includes("classes.txt") ? toUrl(`${dir}/classes.txt`) : undefined;
  return { images: pick("images-idx3"), labels: pick("labels-idx1"), classes };
}

/**
 * Opens a dataset over an IDX images/labels pair (paths or URLs, read with `fetch()`).
 *
 * @param name Dataset name.
 * @param files Where the files are.
 * @param options Preprocessing and class names.
 * @returns The dataset (pixels are kept as bytes; `load()` converts the requested examples).
 * @throws {DataFormatError} On unreadable or inconsistent files.
 */
export async function openIdxDataset(
  name: string,
  files: IdxFiles,
  options: OpenDatasetOptions,
): Promise<Dataset> {
  const [imgBytes, labBytes] = await Promise.all([
    readBytes(files.images),
    readBytes(files.labels),
  ]);
  const images = await parseIdx(imgBytes, showUrl(files.images), 3);
  const labelsIdx = await parseIdx(labBytes, showUrl(files.labels), 1);
  const [n, h, w] = images.dims;
  if (labelsIdx.dims[0] !== n) {
    throw new DataFormatError(
      `Cannot open ${name}: ${showUrl(files.labels)} has ${labelsIdx.dims[0]} labels but ` +
        `${showUrl(files.images)} has ${n} images`,
    );
  }
  const labels = Int32Array.from(labelsIdx.data);
  let maxLabel = 0;
  for (const l of labels) maxLabel = Math.max(maxLabel, l);
  let classes: string[];
  const classFile = options.classNames !== undefined ? toUrl(options.classNames) : files.classes;
  if (classFile) {
    classes = (await readClassNames(classFile)).raw;
    if (classes.length <= maxLabel) {
      throw new DataFormatError(
        `Cannot open ${name}: ${showUrl(classFile)} names ${classes.length} classes but the ` +
          `labels go up to ${maxLabel}`,
      );
    }
  } else {
    classes = Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  }
  const p = resolvePreprocess(options, { height: h, width: w }, null, 1);
  const id = JSON.stringify({
    kind: "idx",
    // File names, sizes and content hashes, not locations: the same files give the same
    // identity in another checkout or over HTTP.
    images: [baseName(files.images), imgBytes.length, await sha256Hex(imgBytes)],
    labels: [baseName(files.labels), labBytes.length, await sha256Hex(labBytes)],
    classes,
    preprocess: { resize: p.resize, crop: p.crop, channels: p.channels },
  });
  const src = { channels: 1, height: h, width: w, count: n };
  return rawDataset(name, classes, labels, images.data, src, p, id);
}
