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

/** No usable WebGPU adapter or device could be obtained. */
export class GpuUnavailableError extends Error {
  /**
   * Creates the error.
   *
   * @param message What could not be done and why.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GpuUnavailableError";
  }
}

/** A GPU validation or out-of-memory error surfaced from a WebGPU error scope. */
export class GpuValidationError extends Error {
  /**
   * Creates the error.
   *
   * @param message What could not be done and the WebGPU error text.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GpuValidationError";
  }
}

/** An ONNX model could not be parsed or does not have the expected structure. */
export class ModelFormatError extends Error {
  /**
   * Creates the error.
   *
   * @param message What could not be done, the actual and the expected value.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ModelFormatError";
  }
}

/** A data file (image, IDX, CIFAR batch, `.npy`, SOM file) is corrupt or has the wrong layout. */
export class DataFormatError extends Error {
  /**
   * Creates the error.
   *
   * @param message What could not be done, the actual and the expected value.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DataFormatError";
  }
}
