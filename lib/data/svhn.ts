/**
 * SVHN cropped digits (`train_32x32.mat`, `test_32x32.mat`; http://ufldl.stanford.edu/housenumbers/):
 * MATLAB level-5 files holding `X`, `32×32×3×N` uint8 (height, width, channel, example;
 * column-major), and `y`, `N×1` labels where 10 stands for the digit 0 (torchvision's `SVHN`
 * maps it to 0 the same way).
 *
 * @module
 */

import { DataFormatError } from "../errors.ts";
import { baseName, toUrl } from "./io.ts";
import { readMatArrays } from "./mat.ts";
import { rawDataset, resolvePreprocess } from "./preprocess.ts";
import type { Dataset, OpenDatasetOptions } from "./types.ts";

/** SVHN's class names in label order: the digits. */
const SVHN_CLASSES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/** The file of each split: the `val` split is SVHN's test set, like CIFAR's test batch. */
const SVHN_FILES = { train: "train_32x32.mat", val: "test_32x32.mat" } as const;

/**
 * Opens one split of SVHN from its folder. The `.mat` file is streamed once (compressed
 * elements inflated on the way); only the pixels (`N × 3,072` bytes, reordered to planar
 * `C×H×W` in place) and the labels are kept.
 *
 * @param name Dataset name for messages.
 * @param dir The folder holding `train_32x32.mat` and/or `test_32x32.mat`.
 * @param options Split and preprocessing (colour to grey follows PIL, see `loadRaw`).
 * @returns The dataset.
 * @throws {DataFormatError} If the split's file is missing or not SVHN-shaped (no `X`/`y`,
 * `X` not `H×W×3×N` uint8, a label count that differs from `N`, a label outside 0..10).
 */
export async function openSvhnDataset(
  name: string,
  dir: string,
  options: OpenDatasetOptions,
): Promise<Dataset> {
  const path = `${dir}/${SVHN_FILES[options.split]}`;
  try {
    await Deno.stat(path);
  } catch (e) {
    throw new DataFormatError(
      `Cannot open ${name}: no ${SVHN_FILES[options.split]} for split "${options.split}" in ` +
        `${dir} (expected train_32x32.mat and test_32x32.mat, the cropped-digits files)`,
      { cause: e },
    );
  }
  const mat = await readMatArrays(path, ["X", "y"]);
  const X = mat.arrays.get("X"), y = mat.arrays.get("y");
  if (!X || !y) {
    throw new DataFormatError(
      `Cannot open ${name}: ${path} has no ${!X ? "X" : "y"} array but expected X ` +
        `(32×32×3×N uint8) and y (N×1 labels)`,
    );
  }
  const [h, w, c, n = 1] = X.dims;
  if (
    !(X.data instanceof Uint8Array) || X.dims.length < 3 || X.dims.length > 4 || c !== 3
  ) {
    throw new DataFormatError(
      `Cannot open ${name}: ${path} has X of ${X.className} [${X.dims}] but expected uint8 ` +
        `[H, W, 3, N] (SVHN's 32×32×3×N)`,
    );
  }
  if (y.data.length !== n) {
    throw new DataFormatError(
      `Cannot open ${name}: ${path} has ${y.data.length} labels in y but ${n} images in X`,
    );
  }
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = y.data[i];
    if (!Number.isInteger(v) || v < 0 || v > 10) {
      throw new DataFormatError(
        `Cannot open ${name}: ${path} has label ${v} at y(${i + 1}) but expected 1..10 (10 is ` +
          `the digit 0)`,
      );
    }
    labels[i] = v % 10;
  }
  const pixels = _toPlanar(X.data, h, w, n);
  const p = resolvePreprocess(options, { height: h, width: w }, null, 3);
  const id = JSON.stringify({
    kind: "svhn",
    file: [baseName(toUrl(path)), mat.bytes, mat.sha256],
    classes: SVHN_CLASSES,
    preprocess: { resize: p.resize, crop: p.crop, channels: p.channels },
  });
  const src = { channels: 3, height: h, width: w, count: n };
  return rawDataset(name, [...SVHN_CLASSES], labels, pixels, src, p, id);
}

/**
 * Reorders column-major `H×W×3×N` bytes (each image's `h + H·w + H·W·c`) to planar row-major
 * `N×3×H×W` (`c·H·W + W·h + w`), image by image in place.
 */
function _toPlanar(data: Uint8Array, h: number, w: number, n: number): Uint8Array {
  const plane = h * w, size = 3 * plane, tmp = new Uint8Array(size);
  for (let i = 0; i < n; i++) {
    const img = data.subarray(i * size, (i + 1) * size);
    tmp.set(img);
    for (let c = 0; c < 3; c++) {
      for (let x = 0; x < w; x++) {
        for (let r = 0; r < h; r++) img[c * plane + r * w + x] = tmp[c * plane + x * h + r];
      }
    }
  }
  return data;
}
