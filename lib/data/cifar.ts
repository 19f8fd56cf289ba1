/**
 * CIFAR-10 / CIFAR-100 binary batches (`data_batch_1..5.bin` + `test_batch.bin`, or
 * `train.bin` + `test.bin`).
 *
 * Record layout (https://www.cs.toronto.edu/~kriz/cifar.html): CIFAR-10 is one label byte then
 * 3,072 pixel bytes (1,024 red, 1,024 green, 1,024 blue, row-major 32×32); CIFAR-100 is a
 * coarse and a fine label byte then the same pixels. somscope uses the fine labels.
 *
 * @module
 */

import { DataFormatError } from "../errors.ts";
import { sha256Hex } from "../hash.ts";
import { baseName, readBytes, readClassNames, showUrl, toUrl } from "./io.ts";
import { rawDataset, resolvePreprocess } from "./preprocess.ts";
import type { Dataset, OpenDatasetOptions } from "./types.ts";

/**
 * CIFAR-10's class names in label order.
 *
 * @example
 * ```ts
 * import { CIFAR10_CLASSES } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(CIFAR10_CLASSES.length, 10);
 * assertEquals(CIFAR10_CLASSES[0], "airplane");
 * ```
 */
export const CIFAR10_CLASSES = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];

const PIXELS = 3 * 32 * 32;

/** The batch files of one split, found in a CIFAR folder. */
export interface CifarFiles {
  /** `10` or `100`. */
  variant: 10 | 100;
  /** Batch files in order. */
  batches: URL[];
  /** Class-name file shipped with the batches (`batches.meta.txt`, `fine_label_names.txt`). */
  classes?: URL;
}

/**
 * Finds the batch files of a split in a local CIFAR folder (or its `cifar-10-batches-bin` /
 * `cifar-100-binary` sub-folder).
 *
 * @param dir The folder.
 * @param split `"train"` or `"val"` (the test batch).
 * @returns The files.
 * @throws {DataFormatError} If the folder holds no CIFAR batches.
 */
export async function findCifarFiles(dir: string, split: "train" | "val"): Promise<CifarFiles> {
  for (const sub of ["", "cifar-10-batches-bin", "cifar-100-binary"]) {
    const d = sub ? `${dir}/${sub}` : dir;
    let names: string[];
    try {
      names = [];
      for await (const e of Deno.readDir(d)) if (e.isFile) names.push(e.name);
    } catch {
      continue;
    }
    const url = (n: string) => toUrl(`${d}/${n}`);
    const meta = (n: string) => names.includes(n) ? url(n) : undefined;
    const train10 = names.filter((n) => /^data_batch_\d+\.bin$/.test(n)).sort((a, b) =>
      Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0])
    );
    if (train10.length > 0 || names.includes("test_batch.bin")) {
      const batches = split === "train" ? train10 : ["test_batch.bin"];
      if (split === "val" && !names.includes("test_batch.bin")) continue;
      return { variant: 10, batches: batches.map(url), classes: meta("batches.meta.txt") };
    }
    if (names.includes("train.bin") || names.includes("test.bin")) {
      const f = split === "train" ? "train.bin" : "test.bin";
      if (!names.includes(f)) {
        throw new DataFormatError(`Cannot open cifar:${dir}: no ${f} for split "${split}"`);
      }
      return { variant: 100, batches: [url(f)], classes: meta("fine_label_names.txt") };
    }
  }
  throw new DataFormatError(
    `Cannot open cifar:${dir}: no CIFAR batches found but expected data_batch_*.bin and ` +
      `test_batch.bin (CIFAR-10) or train.bin and test.bin (CIFAR-100)`,
  );
}

/**
 * Opens a CIFAR dataset from its batch files.
 *
 * @param name Dataset name.
 * @param files The batches.
 * @param options Preprocessing and class names.
 * @returns The dataset.
 * @throws {DataFormatError} If a file is not a whole number of records or a label is out of
 * range.
 */
export async function openCifarDataset(
  name: string,
  files: CifarFiles,
  options: OpenDatasetOptions,
): Promise<Dataset> {
  const header = files.variant === 10 ? 1 : 2, record = header + PIXELS;
  const maxClasses = files.variant;
  const parts = await Promise.all(files.batches.map(readBytes));
  let n = 0;
  parts.forEach((b, i) => {
    if (b.length === 0 || b.length % record !== 0) {
      throw new DataFormatError(
        `Cannot read CIFAR-${files.variant} batch ${showUrl(files.batches[i])}: ${b.length} ` +
          `bytes but expected a positive multiple of ${record} (records of ${header} label ` +
          `byte(s) + ${PIXELS} pixels)`,
      );
    }
    n += b.length / record;
  });
  const labels = new Int32Array(n), pixels = new Uint8Array(n * PIXELS);
  let k = 0;
  for (const [bi, b] of parts.entries()) {
    for (let off = 0; off < b.length; off += record, k++) {
      const label = b[off + header - 1];
      if (label >= maxClasses) {
        throw new DataFormatError(
          `Cannot read CIFAR-${files.variant} batch ${showUrl(files.batches[bi])}: record ` +
            `${off / record} has label ${label} but expected 0..${maxClasses - 1}`,
        );
      }
      labels[k] = label;
      pixels.set(b.subarray(off + header, off + record), k * PIXELS);
    }
  }
  let classes: string[];
  const classFile = options.classNames !== undefined ? toUrl(options.classNames) : files.classes;
  if (classFile) {
    classes = (await readClassNames(classFile)).raw;
    if (classes.length < maxClasses) {
      throw new DataFormatError(
        `Cannot open ${name}: ${showUrl(classFile)} names ${classes.length} classes but ` +
          `CIFAR-${files.variant} has ${maxClasses}`,
      );
    }
  } else {
    classes = files.variant === 10
      ? [...CIFAR10_CLASSES]
      : Array.from({ length: 100 }, (_, i) => String(i));
  }
  const p = resolvePreprocess(options, { height: 32, width: 32 }, null, 3);
  const hashes = await Promise.all(parts.map((b) => sha256Hex(b)));
  const id = JSON.stringify({
    kind: "cifar",
    variant: files.variant,
    batches: files.batches.map((u, i) => [baseName(u), parts[i].length, hashes[i]]),
    classes,
    preprocess: { resize: p.resize, crop: p.crop, channels: p.channels },
  });
  parts.length = 0;
  const src = { channels: 3, height: 32, width: 32, count: n };
  return rawDataset(name, classes, labels, pixels, src, p, id);
}
