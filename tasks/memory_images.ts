/**
 * An in-memory image source of 3×224×224 images, shared by the benchmarks and the device check
 * so that they time the model, not I/O.
 *
 * @module
 */

/** Floats in one 3×224×224 image. */
const PER_IMAGE = 3 * 224 * 224;

/**
 * A data source over images held in memory. With `size` larger than the images held, index `i`
 * reads image `i mod held` (a large source from a few random images).
 *
 * @param px The pixels, image after image (a whole number of 3×224×224 images).
 * @param identity The source's identity (the code cache's key), asked for on each use.
 * @param size How many images the source has (default: the images in `px`).
 * @returns A source with all labels 0.
 *
 * @example
 * ```ts
 * import { memoryImages } from "./memory_images.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const px = Float32Array.from({ length: 2 * 3 * 224 * 224 }, (_, i) => i % 7);
 * const data = memoryImages(px, () => "two-images", 5);
 * assertEquals((await data.load([4]))[0], px[3 * 224 * 224]); // image 4 is image 0 of 2
 * ```
 */
export function memoryImages(
  px: Float32Array,
  identity: () => string,
  size: number = px.length / PER_IMAGE,
) {
  const held = px.length / PER_IMAGE;
  return {
    size,
    channels: 3,
    height: 224,
    width: 224,
    labels: new Int32Array(size),
    load: (ix: number[]) => {
      const out = new Float32Array(ix.length * PER_IMAGE);
      ix.forEach((i, k) => {
        const j = i % held;
        out.set(px.subarray(j * PER_IMAGE, (j + 1) * PER_IMAGE), k * PER_IMAGE);
      });
      return Promise.resolve(out);
    },
    identity: () => Promise.resolve(identity()),
  };
}
