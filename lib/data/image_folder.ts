/**
 * Image folders with one sub-folder per class (JPEG/PNG/WebP, decoded by sharp on demand).
 *
 * Layouts: `ROOT/train/<class>/*` and `ROOT/val/<class>/*` (the splits), or `ROOT/<class>/*`
 * (one pool; then every 5th image of each class, in file-name order, is the `val` split and the
 * rest the `train` split, so the two are disjoint). Labels are the class folders' positions in
 * sorted order — or in the class-name file's order when one is given, which lets a folder of a
 * few ImageNet classes keep the model's 1,000-class indices.
 *
 * Only file names are listed at open time; pixels are decoded in `load(indices)`, so a
 * 50,000-image set never sits in memory as pixels.
 *
 * @module
 */

import { DataFormatError } from "../errors.ts";
import { sha256Hex } from "../hash.ts";
import { decodeImageFile, imageSize } from "./decode.ts";
import { readClassNames } from "./io.ts";
import { DEFAULT_MAX_PIXELS, resolvePreprocess } from "./preprocess.ts";
import type { Dataset, OpenDatasetOptions } from "./types.ts";

/**
 * File extensions read as images (case-insensitive).
 *
 * @example
 * ```ts
 * import { IMAGE_EXTENSIONS } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(IMAGE_EXTENSIONS, [".jpg", ".jpeg", ".png", ".webp"]);
 * ```
 */
export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp"];

/** Images decoded at the same time by one `load()` (sharp runs them on libuv's pool). */
const CONCURRENCY = 4;

/** Every 5th image per class is `val` in a single-pool folder. */
const VAL_EVERY = 5;

async function _subdirs(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory && !e.name.startsWith(".")) out.push(e.name);
  }
  return out.sort();
}

async function _images(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const lower = e.name.toLowerCase();
    if (
      (e.isFile || e.isSymlink) && !e.name.startsWith(".") &&
      IMAGE_EXTENSIONS.some((x) => lower.endsWith(x))
    ) out.push(e.name);
  }
  return out.sort();
}

/**
 * Opens an image-folder dataset.
 *
 * @param root The folder.
 * @param options Split, preprocessing, class names, pixel limit.
 * @returns The dataset.
 * @throws {DataFormatError} On an empty class folder, a `val` class missing from `train`, a
 * class folder missing from the class-name file, or an unreadable first image.
 */
export async function openImageFolder(root: string, options: OpenDatasetOptions): Promise<Dataset> {
  const top = await _subdirs(root);
  const split = top.includes("train") && top.includes("val");
  const trainDir = split ? `${root}/train` : root;
  const trainClasses = await _subdirs(trainDir);
  if (trainClasses.length === 0) {
    throw new DataFormatError(
      `Cannot open folder:${root}: no class sub-folders in ${trainDir} but expected one per class`,
    );
  }
  let classes = trainClasses, keys = trainClasses;
  if (options.classNames !== undefined) {
    const mapping = await readClassNames(options.classNames);
    keys = mapping.keys;
    classes = mapping.names;
    for (const c of trainClasses) {
      if (!keys.includes(c)) {
        throw new DataFormatError(
          `Cannot open folder:${root}: class folder "${c}" is not in ${options.classNames} ` +
            `(${keys.length} classes)`,
        );
      }
    }
  }
  const dir = split ? `${root}/${options.split}` : root;
  const folders = split && options.split === "val" ? await _subdirs(dir) : trainClasses;
  const files: string[] = [], labels: number[] = [];
  for (const c of folders) {
    const label = keys.indexOf(c);
    if (label < 0 || !trainClasses.includes(c)) {
      throw new DataFormatError(
        `Cannot open folder:${root}: class "${c}" is in ${dir} but not in ${trainDir} ` +
          `(classes: ${trainClasses.join(", ")})`,
      );
    }
    let names = await _images(`${dir}/${c}`);
    if (names.length === 0) {
      throw new DataFormatError(
        `Cannot open folder:${root}: class folder ${dir}/${c} has no images but expected at ` +
          `least one ${IMAGE_EXTENSIONS.join("/")} file`,
      );
    }
    if (!split) {
      names = names.filter((_, i) =>
        (i % VAL_EVERY === VAL_EVERY - 1) === (options.split === "val")
      );
      if (names.length === 0) {
        throw new DataFormatError(
          `Cannot open folder:${root}: class folder ${dir}/${c} has no images for split ` +
            `"${options.split}" (every ${VAL_EVERY}th image is val)`,
        );
      }
    }
    for (const n of names) {
      files.push(`${dir}/${c}/${n}`);
      labels.push(label);
    }
  }
  const first = await imageSize(files[0], options.maxPixels ?? DEFAULT_MAX_PIXELS);
  const p = resolvePreprocess(options, null, first, 3);
  const name = `folder:${root}`;
  const id = async () => {
    const lines: string[] = [];
    for (let i = 0; i < files.length; i++) {
      const st = await Deno.stat(files[i]);
      lines.push(`${files[i]}\t${st.size}\t${st.mtime?.getTime() ?? 0}\t${labels[i]}`);
    }
    return JSON.stringify({
      kind: "folder",
      root,
      split: options.split,
      files: files.length,
      listing: await sha256Hex(lines.join("\n")),
      classes,
      preprocess: { resize: p.resize, crop: p.crop, channels: p.channels },
    });
  };
  let identity: Promise<string> | undefined;
  const size = p.channels * p.height * p.width;
  return {
    name,
    classes,
    size: files.length,
    channels: p.channels,
    height: p.height,
    width: p.width,
    labels: Int32Array.from(labels),
    async load(indices) {
      const out = new Float32Array(indices.length * size);
      for (let start = 0; start < indices.length; start += CONCURRENCY) {
        const jobs: Promise<void>[] = [];
        for (let k = start; k < Math.min(start + CONCURRENCY, indices.length); k++) {
          const i = indices[k];
          if (!Number.isInteger(i) || i < 0 || i >= files.length) {
            throw new RangeError(
              `Cannot load from ${name}: index ${i} but expected an integer in ` +
                `[0, ${files.length})`,
            );
          }
          jobs.push(decodeImageFile(files[i], p, out, k * size));
        }
        await Promise.all(jobs);
      }
      return out;
    },
    identity: () => identity ??= id(),
  };
}
