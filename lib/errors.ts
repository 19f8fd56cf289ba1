/**
 * Named error classes for problems with the environment or with input files.
 *
 * Bad arguments raise the built-in `RangeError` / `TypeError`; these classes are for things the
 * caller cannot fix by changing an argument value (no GPU, a corrupt model, an unreadable image).
 * Messages follow the house shape: what could not be done, a colon, the actual and the expected
 * value.
 *
 * @module
 */

/**
 * No usable WebGPU adapter or device could be obtained.
 *
 * @example
 * ```ts
 * import { GpuUnavailableError } from "../mod.ts";
 * import { ok } from "node:assert";
 * const e = new GpuUnavailableError("Cannot create a GPU context: no adapter");
 * ok(e instanceof Error && e.name === "GpuUnavailableError");
 * ```
 */
export class GpuUnavailableError extends Error {
  /** `"GpuUnavailableError"`, set on every instance (the constructor is `Error`'s). */
  override name = "GpuUnavailableError";
}

/**
 * A GPU validation or out-of-memory error surfaced from a WebGPU error scope.
 *
 * @example
 * ```ts
 * import { GpuValidationError } from "../mod.ts";
 * import { ok } from "node:assert";
 * const e = new GpuValidationError("Cannot dispatch x: WebGPU reported \"bad\"");
 * ok(e instanceof Error && e.name === "GpuValidationError");
 * ```
 */
export class GpuValidationError extends Error {
  /** `"GpuValidationError"`, set on every instance (the constructor is `Error`'s). */
  override name = "GpuValidationError";
}

/**
 * An ONNX model could not be parsed or does not have the expected structure.
 *
 * @example
 * ```ts
 * import { ModelFormatError } from "../mod.ts";
 * import { ok } from "node:assert";
 * const e = new ModelFormatError("Cannot load ONNX model m.onnx: truncated");
 * ok(e instanceof Error && e.name === "ModelFormatError");
 * ```
 */
export class ModelFormatError extends Error {
  /** `"ModelFormatError"`, set on every instance (the constructor is `Error`'s). */
  override name = "ModelFormatError";
}

/**
 * A data file (image, IDX, CIFAR batch, `.npy`, SOM file) is corrupt or has the wrong layout.
 *
 * @example
 * ```ts
 * import { DataFormatError } from "../mod.ts";
 * import { ok } from "node:assert";
 * const e = new DataFormatError("Cannot read a.npy: bad magic");
 * ok(e instanceof Error && e.name === "DataFormatError");
 * ```
 */
export class DataFormatError extends Error {
  /** `"DataFormatError"`, set on every instance (the constructor is `Error`'s). */
  override name = "DataFormatError";
}
