/**
 * The {@linkcode Dataset} interface every loader returns and the {@linkcode OpenDatasetOptions}
 * they all take. The lowest module of `lib/data`: the loaders and `dataset.ts` import it, it
 * imports nothing.
 *
 * @module
 */

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
