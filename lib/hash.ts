/**
 * Content hashing shared by the model loader and the dataset readers.
 *
 * @module
 */

/**
 * Hex SHA-256 of bytes (a string is hashed as its UTF-8 bytes).
 *
 * @param bytes Data.
 * @returns 64 hex digits.
 * @example
 * ```ts
 * import { sha256Hex } from "../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(
 *   await sha256Hex("abc"),
 *   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 * );
 * ```
 */
export async function sha256Hex(bytes: Uint8Array | string): Promise<string> {
  const b = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>));
  return Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
}
