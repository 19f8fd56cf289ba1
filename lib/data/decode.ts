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
import { applyGeometry, hwcToChw, pilLuma, type Preprocess } from "./preprocess.ts";

/**
 * Decodes one encoded image file (JPEG/PNG/WebP…) to planar float32 with the dataset's
 * preprocessing. Decoding is lazy: nothing is kept after the pixels are written.
 *
 * Every image is decoded to 8-bit sRGB first (alpha dropped), like torchvision's
 * `Image.open(f).convert("RGB")`; a grey target is then made with PIL's `convert("L")` integer
 * formula ({@linkcode pilLuma}), not sharp's `grayscale()` (which weights linear light and
 * differs from PIL by up to 62 levels on saturated colours).
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
  img = applyGeometry(img.toColourspace("srgb").removeAlpha(), meta.width, meta.height, p, path);
  let data: Uint8Array, channels: number;
  try {
    const r = await img.raw().toBuffer({ resolveWithObject: true });
    data = new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
    channels = r.info.channels;
  } catch (e) {
    throw new DataFormatError(`Cannot decode image ${path}: ${_decodeFailure(bytes, e)}`, {
      cause: e,
    });
  }
  if (channels !== 3) {
    throw new DataFormatError(
      `Cannot decode image ${path}: ${channels} channels after conversion to sRGB but expected 3`,
    );
  }
  if (p.channels === 3) {
    hwcToChw(data, 3, out, offset);
    return;
  }
  for (let i = 0, n = data.length / 3; i < n; i++) {
    out[offset + i] = pilLuma(data[3 * i], data[3 * i + 1], data[3 * i + 2]) / 255;
  }
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
    let reason: string;
    try {
      reason = _decodeFailure(bytes ?? await Deno.readFile(path), e);
    } catch (r) {
      reason = (r as Error).message;
    }
    throw new DataFormatError(`Cannot decode image ${path}: ${reason}`, { cause: e });
  }
  const { width, height } = meta;
  if (!width || !height) {
    throw new DataFormatError(`Cannot decode image ${path}: no width/height in its header`);
  }
  if (width * height > maxPixels) {
    throw new DataFormatError(
      `Cannot decode image ${path}: ${width}×${height} = ${width * height} pixels but the ` +
        `limit is ${maxPixels} (too many pixels; raise maxPixels only for trusted images)`,
    );
  }
  return { width, height };
}

/** File signatures of the formats sharp decodes, with the offset they start at. */
const _SIGNATURES: { format: string; at: number; bytes: number[] }[] = [
  { format: "JPEG", at: 0, bytes: [0xff, 0xd8, 0xff] },
  { format: "PNG", at: 0, bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { format: "WebP", at: 8, bytes: [0x57, 0x45, 0x42, 0x50] }, // "WEBP" after "RIFF" + size
  { format: "GIF", at: 0, bytes: [0x47, 0x49, 0x46, 0x38] }, // "GIF8"
  { format: "TIFF", at: 0, bytes: [0x49, 0x49, 0x2a, 0x00] }, // "II*\0"
  { format: "TIFF", at: 0, bytes: [0x4d, 0x4d, 0x00, 0x2a] }, // "MM\0*"
  { format: "AVIF/HEIF", at: 4, bytes: [0x66, 0x74, 0x79, 0x70] }, // "ftyp"
];

/**
 * The format whose signature the bytes start with, or `null`.
 *
 * @param bytes File contents.
 * @returns `"JPEG"`, `"PNG"`, … or `null`.
 */
function _sniffImageFormat(bytes: Uint8Array): string | null {
  for (const s of _SIGNATURES) {
    if (s.bytes.every((b, i) => bytes[s.at + i] === b)) return s.format;
  }
  return null;
}

/**
 * Why a file of a known format is truncated, or `null` when its structure ends where it should:
 * PNG chunks walked to `IEND`, JPEG's end-of-image marker `FF D9`, WebP's RIFF size, GIF's
 * trailer `3B`.
 *
 * @param format From {@linkcode _sniffImageFormat}.
 * @param bytes File contents.
 * @returns A plain reason, or `null`.
 */
function _truncation(format: string, bytes: Uint8Array): string | null {
  const n = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === "PNG") {
    for (let at = 8; at + 8 <= n;) {
      const len = view.getUint32(at), type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
      if (at + 12 + len > n) {
        return `truncated: the PNG file ends after ${n} bytes, inside its ${type} chunk`;
      }
      if (type === "IEND") return null;
      at += 12 + len;
    }
    return `truncated: the PNG file ends after ${n} bytes, before its IEND chunk`;
  }
  if (format === "JPEG") {
    let end = n;
    while (end > 2 && bytes[end - 1] === 0) end--; // some writers pad with zeros
    return bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9 ? null : (
      `truncated: the JPEG file ends after ${n} bytes without its end-of-image marker (FF D9)`
    );
  }
  if (format === "WebP" && n >= 8 && view.getUint32(4, true) + 8 > n) {
    return `truncated: the WebP header announces ${view.getUint32(4, true) + 8} bytes but the ` +
      `file has ${n}`;
  }
  if (format === "GIF" && bytes[n - 1] !== 0x3b) {
    return `truncated: the GIF file ends after ${n} bytes without its trailer (3B)`;
  }
  return null;
}

/**
 * Translates a sharp/libvips decode error into a plain reason from the file's bytes: empty, not
 * an image (no known signature; shows how the file starts), truncated (the format's structure
 * ends early), too many pixels, or corrupt data (with the decoder's first line as detail),
 * instead of libvips texts such as "Warning treated as error due to failOn setting".
 *
 * @param bytes The file's contents.
 * @param error What sharp threw.
 * @returns The reason, to follow `Cannot decode image PATH: `.
 */
function _decodeFailure(bytes: Uint8Array, error: unknown): string {
  const detail = String((error as Error)?.message ?? error).split("\n")[0].trim();
  if (bytes.length === 0) return "the file is empty (0 bytes)";
  const format = _sniffImageFormat(bytes);
  if (format === null) {
    const head = bytes.subarray(0, 24);
    const text = head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
    const shown = text
      ? `the text ${JSON.stringify(new TextDecoder().decode(head))}`
      : `the bytes ${
        Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, "0"))
          .join(" ")
      }`;
    return `not an image: it starts with ${shown}, not a JPEG, PNG, WebP, GIF, TIFF or AVIF ` +
      `signature`;
  }
  if (/pixel limit/i.test(detail)) return `too many pixels (${detail})`;
  return _truncation(format, bytes) ??
    `corrupt ${format} data (the decoder says: ${detail.replace(/:$/, "") || "unreadable"})`;
}
