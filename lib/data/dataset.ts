/**
 * The dataset interface and {@linkcode openDataset}, the one entry point from a spec string
 * (`builtin:fashion-mnist`, `folder:PATH`, `idx:PATH`, `cifar:PATH` or a bare path).
 *
 * @module
 */

import { DataFormatError } from "../errors.ts";
import { findCifarFiles, openCifarDataset } from "./cifar.ts";
import { openImageFolder } from "./image_folder.ts";
import { openIdxDataset } from "./idx.ts";
import { toUrl } from "./preprocess.ts";
import { parseDataSpec } from "./spec.ts";

/** A labelled image dataset: labels up front, pixels decoded on demand. */
export interface Dataset {
  /** The spec it was opened from, e.g. `builtin:fashion-mnist`. */
  readonly name: string;
  /** Class names in label order. */
  readonly classes: string[];
  /** Number of examples. */
  readonly size: number;
  /** Channels of loaded pixels (1 or 3). */
  readonly channels: number;
  /** Height of loaded pixels. */
  readonly height: number;
  /** Width of loaded pixels. */
  readonly width: number;
  /** Label of every example (length `size`). */
  readonly labels: Int32Array;
  /**
   * Pixels in `[0,1]`, `k×C×H×W` float32, for the given example indices; streaming datasets
   * decode only these.
   */
  load(indices: ArrayLike<number>): Promise<Float32Array>;
  /** Stable identity for cache keys: files (paths, sizes, mtimes or content hashes) and preprocessing. */
  identity(): Promise<string>;
}

/** Options for {@linkcode openDataset}. */
export interface OpenDatasetOptions {
  /** Which split: `"train"` (SOM-tr) or `"val"` (SOM-val, the test/validation split). */
  split: "train" | "val";
  /**
   * Shorter side after resizing (torchvision `Resize(int)`). Default: none for IDX/CIFAR and
   * small images; `round(crop·256/224)` for folders of images larger than 64 px (256 when no
   * crop is given either).
   */
  resize?: number;
  /** Side of the centre square crop. Default: `height`/`width`, else `resize`, else none (224 for folders of large images). */
  crop?: number;
  /** Output channels: 1 (grey) or 3 (RGB). Default: the source's (folders: 3). */
  channels?: 1 | 3;
  /** Required output height (e.g. the model's input); square targets only. */
  height?: number;
  /** Required output width (e.g. the model's input); square targets only. */
  width?: number;
  /** Class-name file: one name per line in label order, or `FOLDER NAME` lines for folders. */
  classNames?: string;
  /** Pixel limit per decoded image (sharp `limitInputPixels`). Default 100,000,000. */
  maxPixels?: number;
}

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
 * - a bare path: detected from its contents.
 *
 * @param spec The dataset spec.
 * @param options Split and preprocessing.
 * @returns The dataset.
 * @throws {RangeError} On a bad spec prefix, split or option value.
 * @throws {DataFormatError} On missing, corrupt or inconsistent files (wrong IDX magic, empty
 * class folder, a `val` class missing from `train`, wrong channel count, unreadable image).
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
      return await openIdxDataset(spec, await _findIdxFiles(path, options.split), options);
    case "cifar":
      return await openCifarDataset(spec, await findCifarFiles(path, options.split), options);
    case "folder":
      return await openImageFolder(path, options);
  }
}

async function _findIdxFiles(dir: string, split: "train" | "val") {
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
