/**
 * The resize / centre-crop / channel rules shared by every loader ({@linkcode resolvePreprocess}),
 * their application to a sharp pipeline, and the in-memory dataset over 8-bit pixels that IDX
 * and CIFAR use ({@linkcode rawDataset}).
 *
 * Internal to `lib/data`; nothing here is re-exported from `mod.ts`.
 *
 * @module
 */

// sharp's own declarations pull npm's @types/node into the type program; ./sharp.d.ts types the
// part somscope uses instead.
// @ts-types="./sharp.d.ts"
import sharp from "npm:sharp@0.35.5";
import type { Sharp } from "./sharp.d.ts";
import { DataFormatError } from "../errors.ts";
import type { Dataset } from "./types.ts";

/** Default pixel limit for one decoded image (sharp `limitInputPixels`): 100 megapixels. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Resolved preprocessing of one dataset: every loaded image ends up `channels×height×width`. */
export interface Preprocess {
  /** Shorter side after resizing, or 0 for no resize. */
  resize: number;
  /** Side of the centre square crop, or 0 for no crop. */
  crop: number;
  /** Output channels (1 grey, 3 RGB). */
  channels: 1 | 3;
  /** Output height. */
  height: number;
  /** Output width. */
  width: number;
  /** Pixel limit per decoded image. */
  maxPixels: number;
}

/** The options that shape preprocessing (a subset of `OpenDatasetOptions`). */
export interface PreprocessOptions {
  resize?: number;
  crop?: number;
  channels?: number;
  height?: number;
  width?: number;
  maxPixels?: number;
}

function _checkSize(what: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0)) {
    throw new RangeError(`Cannot open dataset: ${what} is ${v} but expected an integer >= 0`);
  }
}

/**
 * Resolves resize, crop, channels and output size for a dataset.
 *
 * Rules: `crop` (or a square `height`/`width` target) fixes the output side; `resize` is the
 * shorter side before the crop. When `resize` is not given: fixed-size sources (IDX, CIFAR)
 * only crop for an explicit `crop` and scale to a `height`/`width` target; image folders resize
 * to `round(crop · 256/224)` when their images are larger than 64 px (the torchvision ImageNet
 * convention) and to the crop side otherwise. `resize` without `crop` crops to `resize`. With no
 * size options at all, fixed-size sources keep their native size, folders of large images use
 * 256/224 and folders of small images keep the first image's size.
 *
 * @param options The caller's options.
 * @param native The source's native size, or `null` when images vary (folders).
 * @param sample The size of a sample image (folders), to choose the ImageNet-style default.
 * @param nativeChannels The source's channels (1 or 3), used when `channels` is not given.
 * @returns The preprocessing.
 * @throws {RangeError} On a bad option value.
 */
export function resolvePreprocess(
  options: PreprocessOptions,
  native: { height: number; width: number } | null,
  sample: { height: number; width: number } | null,
  nativeChannels: 1 | 3,
): Preprocess {
  const { resize, crop, height, width } = options;
  _checkSize("resize", resize);
  _checkSize("crop", crop);
  _checkSize("height", height);
  _checkSize("width", width);
  const channels = options.channels ?? nativeChannels;
  if (channels !== 1 && channels !== 3) {
    throw new RangeError(`Cannot open dataset: channels is ${channels} but expected 1 or 3`);
  }
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Number.isInteger(maxPixels) || maxPixels <= 0) {
    throw new RangeError(
      `Cannot open dataset: maxPixels is ${maxPixels} but expected a positive integer`,
    );
  }
  if (height && width && height !== width && !crop) {
    throw new RangeError(
      `Cannot open dataset: target size is ${height}×${width} but only square crops are ` +
        `supported; pass crop`,
    );
  }
  const target = crop || height || width || 0;
  const large = sample !== null && Math.min(sample.height, sample.width) > 64;
  let r = resize ?? 0, c = target;
  if (resize === undefined && c) {
    if (native === null) r = large ? Math.round(c * 256 / 224) : c;
    else if (native.height === c && native.width === c) r = 0;
    else r = crop ? 0 : c; // fixed-size sources: an explicit crop only crops; a target size scales
  }
  if (!c && r) c = r;
  if (!c && !r && native === null) {
    if (large) [r, c] = [256, 224];
    else if (sample) return { resize: 0, crop: 0, channels, maxPixels, ...sample };
  }
  if (!c) {
    if (native === null) {
      throw new RangeError("Cannot open dataset: no image size known; pass resize or crop");
    }
    return { resize: 0, crop: 0, channels, maxPixels, ...native };
  }
  if (!r && native !== null && native.height === c && native.width === c) {
    // Cropping to the native size is no crop: same pixels, same identity.
    return { resize: 0, crop: 0, channels, maxPixels, ...native };
  }
  return { resize: r, crop: c, channels, height: c, width: c, maxPixels };
}

/** Python's `round()` (half to even), as torchvision's CenterCrop uses. */
function _roundHalfEven(x: number): number {
  const f = Math.floor(x), d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Applies resize (shorter side, torchvision `Resize(int)` sizes) and centre crop (torchvision
 * `CenterCrop` offsets) to a sharp pipeline whose input is `w×h`.
 *
 * @param img The sharp pipeline.
 * @param w Input width.
 * @param h Input height.
 * @param p The preprocessing.
 * @param name Image name for error messages.
 * @returns The pipeline.
 * @throws {DataFormatError} If the image is smaller than the crop.
 */
export function applyGeometry(
  img: Sharp,
  w: number,
  h: number,
  p: Preprocess,
  name: string,
): Sharp {
  let cw = w, ch = h;
  if (p.resize) {
    [cw, ch] = w <= h
      ? [p.resize, Math.floor(p.resize * h / w)]
      : [Math.floor(p.resize * w / h), p.resize];
    if (cw !== w || ch !== h) img = img.resize(cw, ch, { fit: "fill", kernel: "linear" });
  }
  if (p.crop) {
    if (cw < p.crop || ch < p.crop) {
      throw new DataFormatError(
        `Cannot crop ${name}: image is ${cw}×${ch} but the crop is ${p.crop}×${p.crop}`,
      );
    }
    if (cw !== p.crop || ch !== p.crop) {
      img = img.extract({
        left: _roundHalfEven((cw - p.crop) / 2),
        top: _roundHalfEven((ch - p.crop) / 2),
        width: p.crop,
        height: p.crop,
      });
    }
  } else if (cw !== p.width || ch !== p.height) {
    throw new DataFormatError(
      `Cannot load ${name}: image is ${cw}×${ch} but expected ${p.width}×${p.height} ` +
        `like the rest of the dataset; pass resize/crop`,
    );
  }
  return img;
}

/**
 * PIL's `convert("L")` of one sRGB pixel, `L = 0.299 R + 0.587 G + 0.114 B` in its exact integer
 * form (torchvision's `Grayscale` calls it): `(R·19595 + G·38470 + B·7471 + 0x8000) >> 16`.
 *
 * @param r Red, 0..255.
 * @param g Green, 0..255.
 * @param b Blue, 0..255.
 * @returns Grey, 0..255.
 */
export function pilLuma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

/**
 * Copies interleaved `H×W×C` bytes into planar float32 `C×H×W` in `[0,1]`.
 *
 * @param src Interleaved bytes.
 * @param channels Channels in `src`.
 * @param out Destination.
 * @param offset Element offset in `out`.
 */
export function hwcToChw(src: Uint8Array, channels: number, out: Float32Array, offset: number) {
  const plane = src.length / channels;
  for (let c = 0; c < channels; c++) {
    const o = offset + c * plane;
    for (let i = 0; i < plane; i++) out[o + i] = src[i * channels + c] / 255;
  }
}

/**
 * Preprocesses fixed-size raw images (IDX, CIFAR, SVHN) held as planar bytes `N×C×H×W`.
 * Grey sources are repeated into three planes for a colour target; colour sources are made grey
 * with {@linkcode pilLuma} for a grey target.
 *
 * @param bytes Planar bytes of all images.
 * @param src Source layout.
 * @param p The preprocessing.
 * @param indices Examples to load.
 * @param name Dataset name for error messages.
 * @returns `k×C×H×W` float32 in `[0,1]`.
 * @throws {DataFormatError} If the source has neither 1 nor 3 channels.
 */
export async function loadRaw(
  bytes: Uint8Array,
  src: { channels: number; height: number; width: number; count: number },
  p: Preprocess,
  indices: ArrayLike<number>,
  name: string,
): Promise<Float32Array> {
  const inPlane = src.height * src.width, inSize = src.channels * inPlane;
  const outPlane = p.height * p.width, outSize = p.channels * outPlane;
  const out = new Float32Array(indices.length * outSize);
  const same = !p.resize && p.height === src.height && p.width === src.width;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= src.count) {
      throw new RangeError(
        `Cannot load from ${name}: index ${i} but expected an integer in [0, ${src.count})`,
      );
    }
    let img = bytes.subarray(i * inSize, (i + 1) * inSize);
    const c = src.channels;
    if (!same) {
      const hwc = new Uint8Array(inSize);
      for (let ch = 0; ch < c; ch++) {
        for (let j = 0; j < inPlane; j++) hwc[j * c + ch] = img[ch * inPlane + j];
      }
      let pipe = sharp(hwc, { raw: { width: src.width, height: src.height, channels: c as 1 } });
      pipe = applyGeometry(pipe, src.width, src.height, p, `${name}[${i}]`);
      const r = await pipe.raw().toBuffer({ resolveWithObject: true });
      const buf = new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
      const planar = new Uint8Array(buf.length);
      const plane = buf.length / c;
      for (let ch = 0; ch < c; ch++) {
        for (let j = 0; j < plane; j++) planar[ch * plane + j] = buf[j * c + ch];
      }
      img = planar;
    }
    const o = k * outSize;
    if (c === p.channels) {
      for (let j = 0; j < outSize; j++) out[o + j] = img[j] / 255;
    } else if (c === 1) {
      // Grey to RGB: the same plane three times (torchvision's Grayscale(3) / PIL convert).
      for (let ch = 0; ch < 3; ch++) {
        for (let j = 0; j < outPlane; j++) out[o + ch * outPlane + j] = img[j] / 255;
      }
    } else if (c === 3) {
      // Colour to grey: PIL's convert("L") (torchvision's Grayscale), after the geometry.
      for (let j = 0; j < outPlane; j++) {
        out[o + j] = pilLuma(img[j], img[outPlane + j], img[2 * outPlane + j]) / 255;
      }
    } else {
      throw new DataFormatError(
        `Cannot load ${name}: images have ${c} channels but expected 1 or 3`,
      );
    }
  }
  return out;
}

/**
 * A {@linkcode Dataset} over 8-bit pixels already in memory (IDX, CIFAR): `load()` decodes only
 * the requested examples through {@linkcode loadRaw}.
 *
 * @param name Dataset name for messages.
 * @param classes Class names.
 * @param labels Label per example.
 * @param pixels `count×C×H×W` bytes.
 * @param src Layout of `pixels`.
 * @param p Output preprocessing.
 * @param identity Stable identity string for cache keys.
 * @returns The dataset.
 */
export function rawDataset(
  name: string,
  classes: string[],
  labels: Int32Array,
  pixels: Uint8Array,
  src: { channels: number; height: number; width: number; count: number },
  p: Preprocess,
  identity: string,
): Dataset {
  return {
    name,
    classes,
    size: src.count,
    channels: p.channels,
    height: p.height,
    width: p.width,
    labels,
    load: (indices) => loadRaw(pixels, src, p, indices, name),
    identity: () => Promise.resolve(identity),
  };
}
