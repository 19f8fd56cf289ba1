// Minimal types for the part of sharp 0.35 that somscope uses.
//
// sharp's own index.d.ts pulls npm's @types/node (an optional peer dependency) into the type
// program, whose node:assert overloads clash with Deno's built-in Node types and break
// `deno check` of unrelated modules. Importing sharp with `// @ts-types="./sharp.d.ts"` keeps
// its declarations out.

/** Raw pixel input description. */
export interface RawOptions {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** Options of the sharp constructor that somscope uses. */
export interface SharpOptions {
  limitInputPixels?: number | boolean;
  failOn?: "none" | "truncated" | "error" | "warning";
  raw?: RawOptions;
  create?: {
    width: number;
    height: number;
    channels: 3 | 4;
    background: { r: number; g: number; b: number; alpha?: number };
  };
}

/** Header facts. */
export interface Metadata {
  width?: number;
  height?: number;
  channels?: number;
  format?: string;
}

/** Output facts. */
export interface OutputInfo {
  width: number;
  height: number;
  channels: number;
  size: number;
}

/** A sharp pipeline. */
export interface Sharp {
  metadata(): Promise<Metadata>;
  grayscale(grayscale?: boolean): Sharp;
  greyscale(greyscale?: boolean): Sharp;
  toColourspace(colourspace: string): Sharp;
  removeAlpha(): Sharp;
  resize(
    width: number,
    height: number,
    options?: { fit?: "fill" | "cover" | "contain" | "inside" | "outside"; kernel?: string },
  ): Sharp;
  extract(region: { left: number; top: number; width: number; height: number }): Sharp;
  raw(): Sharp;
  png(options?: { compressionLevel?: number }): Sharp;
  jpeg(options?: { quality?: number }): Sharp;
  webp(options?: { lossless?: boolean; quality?: number }): Sharp;
  toBuffer(): Promise<Uint8Array>;
  toBuffer(options: { resolveWithObject: true }): Promise<{ data: Uint8Array; info: OutputInfo }>;
}

/** Creates a pipeline from a file path, encoded bytes or raw pixels. */
declare function sharp(input?: string | Uint8Array, options?: SharpOptions): Sharp;
declare function sharp(options: SharpOptions): Sharp;

export default sharp;
