/**
 * Argument checks shared by the SOM modules (map options, codes), with the house message shape.
 *
 * @module
 */

/**
 * Checks a positive integer option.
 *
 * @param what What could not be done.
 * @param name The option's name.
 * @param v The value.
 * @returns `v`.
 * @throws {RangeError} If `v` is not a positive integer.
 *
 * @example
 * ```ts
 * import { positiveInt } from "./validate.ts";
 * import { throws } from "node:assert";
 * throws(() => positiveInt("create SOM", "dim", 0), /dim is 0/);
 * ```
 */
export function positiveInt(what: string, name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new RangeError(`Cannot ${what}: ${name} is ${String(v)} but must be a positive integer`);
  }
  return v;
}

/**
 * Checks a finite, non-negative number option.
 *
 * @param what What could not be done.
 * @param name The option's name.
 * @param v The value.
 * @returns `v`.
 * @throws {RangeError} If `v` is not a finite number ≥ 0.
 *
 * @example
 * ```ts
 * import { nonNegative } from "./validate.ts";
 * import { throws } from "node:assert";
 * throws(() => nonNegative("create SOM", "sigma0", -1), /sigma0 is -1/);
 * ```
 */
export function nonNegative(what: string, name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new RangeError(
      `Cannot ${what}: ${name} is ${String(v)} but must be a finite number ≥ 0`,
    );
  }
  return v;
}

/**
 * Checks that `data` is a finite `rows×dim` float32 matrix and returns `rows`.
 *
 * @param what What could not be done.
 * @param data The codes.
 * @param dim Columns the map expects.
 * @param rows Rows, if given (else `data.length / dim`).
 * @returns The number of rows.
 * @throws {TypeError} If `data` is not a Float32Array.
 * @throws {RangeError} On an empty input, a shape mismatch or a non-finite value (naming the row).
 *
 * @example
 * ```ts
 * import { checkCodes } from "./validate.ts";
 * import { strictEqual, throws } from "node:assert";
 * strictEqual(checkCodes("train SOM", new Float32Array(6), 3), 2);
 * throws(() => checkCodes("train SOM", new Float32Array([0, NaN]), 2), /row 0 has NaN/);
 * ```
 */
export function checkCodes(what: string, data: unknown, dim: number, rows?: number): number {
  if (!(data instanceof Float32Array)) {
    throw new TypeError(
      `Cannot ${what}: codes are a ${
        (data as object)?.constructor?.name ?? typeof data
      } but expected a Float32Array`,
    );
  }
  if (data.length === 0 || rows === 0) {
    throw new RangeError(`Cannot ${what}: codes are empty but expected at least one row`);
  }
  if (rows !== undefined) {
    if (!Number.isInteger(rows) || rows < 0) {
      throw new RangeError(`Cannot ${what}: rows is ${rows} but must be a positive integer`);
    }
    if (data.length % rows !== 0) {
      throw new RangeError(
        `Cannot ${what}: codes have ${data.length} values, not a whole number of ${rows} rows`,
      );
    }
    const cols = data.length / rows;
    if (cols !== dim) {
      throw new RangeError(`Cannot ${what}: codes have ${cols} columns but the map has ${dim}`);
    }
  } else if (data.length % dim !== 0) {
    throw new RangeError(
      `Cannot ${what}: codes have ${data.length} values, not a whole number of rows of ${dim} ` +
        `columns (the map has ${dim})`,
    );
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // v - v is 0 for finite v and NaN for NaN/±Infinity: one comparison per element.
    if (v - v !== 0) {
      const row = Math.floor(i / dim), col = i - row * dim;
      throw new RangeError(
        `Cannot ${what}: row ${row} has ${v} at column ${col} but codes must be finite`,
      );
    }
  }
  return data.length / dim;
}
