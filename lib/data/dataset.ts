/**
 * {@linkcode openDataset}, the one entry point from a spec string (`builtin:fashion-mnist`,
 * `folder:PATH`, `idx:PATH`, `cifar:PATH`, `svhn:PATH` or a bare path): it parses the spec and
 * dispatches down to the loader of that kind.
 *
 * @module
 */

import { findCifarFiles, openCifarDataset } from "./cifar.ts";
import { readClassIndex, relabelDataset, resolveLabelMapping } from "./class_index.ts";
import { openImageFolder } from "./image_folder.ts";
import { findIdxFiles, openIdxDataset } from "./idx.ts";
import { type DataKind, parseDataSpec } from "./spec.ts";
import { openSvhnDataset } from "./svhn.ts";
import type { Dataset, OpenDatasetOptions } from "./types.ts";

/**
 * Opens a dataset from a spec string.
 *
 * - `builtin:fashion-mnist`: the committed Fashion-MNIST subset (10,000 train images, 1,000
 *   per class, and the full 10,000-image test set as `val`), read with `fetch()` relative to
 *   this module, so it also works when somscope is imported over HTTP.
 * - `folder:PATH`: class sub-folders, or `train/` and `val/` each with class sub-folders
 *   (JPEG/PNG/WebP, decoded on demand with sharp).
 * - `idx:PATH`: a folder with MNIST-format `train-images-idx3-ubyte[.gz]`,
 *   `train-labels-idx1-ubyte[.gz]` and `t10k-…` (or `test-…`) files.
 * - `cifar:PATH`: CIFAR-10 (`data_batch_*.bin`, `test_batch.bin`) or CIFAR-100 (`train.bin`,
 *   `test.bin`) binary batches.
 * - `svhn:PATH`: SVHN cropped digits, a folder with `train_32x32.mat` and `test_32x32.mat`
 *   (MATLAB level 5, compressed or not; label 10 is the digit 0).
 * - a bare path: detected from its contents.
 *
 * With `logits` (the model's) or `classIndex`, the labels are matched to the model's logits by
 * {@linkcode resolveLabelMapping} and the dataset comes back relabelled, its `labelMapping`
 * saying how.
 *
 * @param spec The dataset spec.
 * @param options Split and preprocessing.
 * @returns The dataset.
 * @throws {RangeError} On a bad spec prefix, split or option value.
 * @throws {DataFormatError} On missing, corrupt or inconsistent files (wrong IDX magic, empty
 * class folder, a `val` class missing from `train`, wrong channel count, unreadable image), or
 * classes that do not fit `logits`.
 * @example
 * ```ts
 * import { openDataset } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const ds = await openDataset("builtin:fashion-mnist", { split: "val" });
 * assertEquals([ds.size, ds.channels, ds.height, ds.width], [10000, 1, 28, 28]);
 * assertEquals(ds.classes[9], "Ankle boot");
 * const pixels = await ds.load([0, 1]);
 * assertEquals(pixels.length, 2 * 28 * 28);
 * ```
 */
export async function openDataset(spec: string, options: OpenDatasetOptions): Promise<Dataset> {
  if (options?.split !== "train" && options?.split !== "val") {
    throw new RangeError(
      `Cannot open dataset "${spec}": split is ${JSON.stringify(options?.split)} but expected ` +
        `"train" or "val"`,
    );
  }
  const { kind, path } = await parseDataSpec(spec);
  const ds = await _open(kind, path, spec, options);
  if (options.logits === undefined && options.classIndex === undefined) return ds;
  const mapping = resolveLabelMapping(ds.classes, options.logits, {
    classIndex: options.classIndex === undefined
      ? undefined
      : await readClassIndex(options.classIndex),
    folderOrder: kind === "folder" && options.classNames === undefined,
    name: spec,
  });
  return relabelDataset(ds, mapping);
}

async function _open(
  kind: DataKind,
  path: string,
  spec: string,
  options: OpenDatasetOptions,
): Promise<Dataset> {
  switch (kind) {
    case "builtin": {
      const base = new URL(`../../fixtures/data/${path}/`, import.meta.url);
      const prefix = options.split === "train" ? "train" : "t10k";
      return await openIdxDataset(spec, {
        images: new URL(`${prefix}-images-idx3-ubyte.gz`, base),
        labels: new URL(`${prefix}-labels-idx1-ubyte.gz`, base),
        classes: new URL("classes.txt", base),
      }, options);
    }
    case "idx":
      return await openIdxDataset(spec, await findIdxFiles(path, options.split), options);
    case "cifar":
      return await openCifarDataset(spec, await findCifarFiles(path, options.split), options);
    case "svhn":
      return await openSvhnDataset(spec, path, options);
    case "folder":
      return await openImageFolder(path, options);
  }
}
