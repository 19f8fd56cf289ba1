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
  /**
   * How the labels were matched to the model's logits, when `openDataset` was given `logits`
   * or `classIndex` (see `resolveLabelMapping`); record `note` in a run's manifest.
   */
  readonly labelMapping?: LabelMapping;
}

/** Which logit index each data class is, and why (from `resolveLabelMapping`). */
export interface LabelMapping {
  /**
   * `"identity"`: the labels are used as they are; `"class-index"`: from a class-index file;
   * `"imagenet"`: the standard sorted-wnid order of ImageNet-1k, chosen automatically.
   */
  kind: "identity" | "class-index" | "imagenet";
  /** Logit index of each data class, in the data's label order. */
  logitOf: Int32Array;
  /** Class names by logit index (length: the model's logits, or the data's classes). */
  classes: string[];
  /** One sentence saying what was done, for manifests and logs. */
  note: string;
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
  /**
   * The model's number of logits: the labels are then matched to them (ImageNet wnid folders
   * to the standard 1000-class order; any other mismatch is an error naming what to pass).
   * Default: not checked.
   */
  logits?: number;
  /** A class-index file mapping class (folder) names to logit indices (see `readClassIndex`). */
  classIndex?: string;
}
