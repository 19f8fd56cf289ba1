/**
 * Helpers shared by the benchmark files.
 *
 * @module
 */

/**
 * An in-memory image source of 3×224×224 images (so that a bench times the model, not I/O).
 *
 * @param px The pixels, image after image.
 * @param identity The source's identity (the code cache's key).
 * @returns A source with all labels 0.
 */
export function memoryImages(px: Float32Array, identity: () => string) {
  const per = 3 * 224 * 224;
  const size = px.length / per;
  return {
    size,
    channels: 3,
    height: 224,
    width: 224,
    labels: new Int32Array(size),
    load: (ix: number[]) => {
      const out = new Float32Array(ix.length * per);
      ix.forEach((i, k) => out.set(px.subarray(i * per, (i + 1) * per), k * per));
      return Promise.resolve(out);
    },
    identity: () => Promise.resolve(identity()),
  };
}
