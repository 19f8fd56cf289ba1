// The part of sharp's API that lib/report uses. sharp's own declarations pull npm's @types/node
// into the type program, where they change node:assert's signatures for every test; this file
// types the import instead (as lib/data/sharp.d.ts does for the loaders).

/** Input options. */
export interface SharpOptions {
  /** DPI for vector input (SVG): 72 = the SVG's own size. */
  density?: number;
}

/** A sharp pipeline. */
export interface Sharp {
  /** Composite over a background, dropping alpha. */
  flatten(options?: { background?: string }): Sharp;
  /** Encode as PNG. */
  png(options?: { compressionLevel?: number }): Sharp;
  /** Convert to one grey channel. */
  greyscale(): Sharp;
  /** Output raw pixels. */
  raw(): Sharp;
  /** Run the pipeline. */
  toBuffer(): Promise<Uint8Array>;
  /** Run the pipeline, returning the pixels with their layout. */
  toBuffer(options: { resolveWithObject: true }): Promise<{
    data: Uint8Array;
    info: { width: number; height: number; channels: number };
  }>;
}

declare function sharp(input: Uint8Array, options?: SharpOptions): Sharp;
export default sharp;
