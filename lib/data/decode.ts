/**
 * Decoding encoded image files (JPEG/PNG/WebP…) with sharp, under a pixel limit, into the
 * dataset's preprocessing.
 *
 * Internal to `lib/data`; nothing here is re-exported from `mod.ts`.
 *
 * @module
 */

// sharp's own declarations pull npm's @types/node into the type program; ./sharp.d.ts types the
// part somscope uses instead.
// @ts-types="./sharp.d.ts"
import sharp from "npm:sharp@0.35.5";
import type { Metadata } from "./sharp.d.ts";
import { DataFormatError } from "../errors.ts";
import { applyGeometry, hwcToChw, type Preprocess } from "./preprocess.ts";

/**
 * Decodes one encoded image file (JPEG/PNG/WebP…) to planar float32 with the dataset's
 * preprocessing. Decoding is lazy: nothing is kept after the pixels are written.
 *
 * @param path Image path.
 * @param p The preprocessing.
 * @param out Destination.
 * @param offset Element offset in `out`.
 * @throws {DataFormatError} If the file is unreadable, corrupt, truncated or over the pixel limit.
 */
export async function decodeImageFile(
  path: string,
  p: Preprocess,
  out: Float32Array,
  offset: number,
): Promise<void> {
  // One read: the header check and the decode share the bytes.
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new DataFormatError(`Cannot read image ${path}: ${(e as Error).message}`, { cause: e });
  }
  const meta = await imageSize(path, p.maxPixels, bytes);
  let img = sharp(bytes, { limitInputPixels: p.maxPixels, failOn: "warning" });
  img = p.channels === 1 ? img.grayscale() : img.toColourspace("srgb");
  img = applyGeometry(img.removeAlpha(), meta.width, meta.height, p, path);
  let data: Uint8Array, channels: number;
  try {
    const r = await img.raw().toBuffer({ resolveWithObject: true });
    data = new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
    channels = r.info.channels;
  } catch (e) {
    throw new DataFormatError(`Cannot decode image ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (channels !== p.channels) {
    throw new DataFormatError(
      `Cannot decode image ${path}: ${channels} channels after conversion but expected ` +
        `${p.channels}`,
    );
  }
  hwcToChw(data, channels, out, offset);
}

/**
 * Reads an image's size from its header and checks it against the pixel limit.
 *
 * @param path Image path.
 * @param maxPixels Pixel limit.
 * @param bytes The file's bytes, if already read.
 * @returns Width and height.
 * @throws {DataFormatError} If the header cannot be read or the image is over the limit.
 */
export async function imageSize(
  path: string,
  maxPixels: number,
  bytes?: Uint8Array,
): Promise<{ width: number; height: number }> {
  let meta: Metadata;
  try {
    // Header only (no pixels decoded): the limit is checked below with a precise message.
    meta = await sharp(bytes ?? path, { limitInputPixels: false, failOn: "warning" }).metadata();
  } catch (e) {
    throw new DataFormatError(`Cannot decode image ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const { width, height } = meta;
  if (!width || !height) {
    throw new DataFormatError(`Cannot decode image ${path}: no width/height in its header`);
  }
  if (width * height > maxPixels) {
    throw new DataFormatError(
      `Cannot decode image ${path}: ${width}×${height} = ${width * height} pixels but the ` +
        `limit is ${maxPixels} (maxPixels)`,
    );
  }
  return { width, height };
}
