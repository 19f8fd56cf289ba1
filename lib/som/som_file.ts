/**
 * The saved form of a SOM: a folder holding `som.json` (a {@linkcode SomFile} header:
 * hyper-parameters, seed, backend, grid, layer, loss curve) and `weights.npy` (`K×dim` float32),
 * each written atomically, the header last, so a folder with a header is complete. Reading
 * parses only JSON and `.npy`; nothing is executed.
 *
 * @module
 */

import { readNpy, writeNpy } from "../npy.ts";
import { writeJsonAtomic } from "../fs_atomic.ts";
import { DataFormatError } from "../errors.ts";

/** The JSON header of a saved map (`som.json`). */
export interface SomFile {
  /** Always `"somscope-som"`. */
  format: "somscope-som";
  /** File format version (1). */
  formatVersion: 1;
  /** somscope version that wrote it. */
  somscope: string;
  /** Grid rows. */
  m: number;
  /** Grid columns. */
  n: number;
  /** Code dimension. */
  dim: number;
  /** Torus grid. */
  periodic: boolean;
  /** σ₀. */
  sigma0: number;
  /** α₀. */
  alpha0: number;
  /** Nominal batch size. */
  batchSize: number;
  /** Epochs per train call. */
  epochs: number;
  /** Root seed. */
  seed: number;
  /** Init strategy (`"explicit"` for given weights). */
  init: "normal" | "pca" | "sample" | "explicit";
  /** Shuffling on. */
  shuffle: boolean;
  /** Backend that trained the map, or null if never trained. */
  backend: string | null;
  /** Layer name, or null. */
  layer: string | null;
  /** Sample counter after the last batch of the last train call. */
  step: number;
  /** Per-batch losses (float32 values). */
  losses: number[];
  /** Weights file beside this one (`K×dim` float32 `.npy`). */
  weights: string;
}

/** The header's file name inside a map folder. */
export const SOM_HEADER_FILE = "som.json";
/** The weights' default file name inside a map folder. */
export const SOM_WEIGHTS_FILE = "weights.npy";

const _INITS = ["normal", "pca", "sample", "explicit"];

/**
 * Writes a map folder: the weights, then the header (with `extra` fields merged in first, so the
 * header's own fields win).
 *
 * @param dir Destination folder (created if missing).
 * @param head The header.
 * @param weights `K×dim` weights.
 * @param extra Extra header fields (e.g. a manifest).
 *
 * @example
 * ```ts
 * import { readSomFile, writeSomFile } from "./som_file.ts";
 * import { Som } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const som = new Som({ m: 1, n: 2, dim: 2, init: new Float32Array([1, 0, 0, 1]) });
 * const dir = await Deno.makeTempDir();
 * await writeSomFile(dir, som.toJSON(), som.weights);
 * assertEquals(Array.from((await readSomFile(dir)).weights), [1, 0, 0, 1]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeSomFile(
  dir: string,
  head: SomFile,
  weights: Float32Array,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await writeNpy(`${dir}/${head.weights}`, { data: weights, shape: [head.m * head.n, head.dim] });
  await writeJsonAtomic(`${dir}/${SOM_HEADER_FILE}`, { ...extra, ...head });
}

/**
 * Reads and checks a map folder written by {@linkcode writeSomFile}.
 *
 * @param dir Folder holding `som.json` and its weights file.
 * @returns The header and the `K×dim` weights.
 * @throws {DataFormatError} If a file is missing, malformed or inconsistent.
 *
 * @example
 * ```ts
 * import { readSomFile } from "./som_file.ts";
 * import { DataFormatError } from "../../mod.ts";
 * import { rejects } from "node:assert";
 * await rejects(() => readSomFile("/nonexistent"), DataFormatError);
 * ```
 */
export async function readSomFile(dir: string): Promise<{ head: SomFile; weights: Float32Array }> {
  const path = `${dir}/${SOM_HEADER_FILE}`;
  let head: SomFile;
  try {
    head = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new DataFormatError(
      `Cannot load SOM: ${path} is unreadable (${(e as Error).message})`,
      { cause: e },
    );
  }
  _checkHeader(path, head);
  const wname = typeof head.weights === "string" ? head.weights : SOM_WEIGHTS_FILE;
  if (wname.includes("/") || wname.includes("\\") || wname.startsWith(".")) {
    throw new DataFormatError(
      `Cannot load SOM: weights file "${wname}" but expected a name inside ${dir}`,
    );
  }
  const wpath = `${dir}/${wname}`;
  const arr = await readNpy(wpath);
  const K = head.m * head.n;
  if (
    !(arr.data instanceof Float32Array) || arr.shape.length !== 2 || arr.shape[0] !== K ||
    arr.shape[1] !== head.dim
  ) {
    throw new DataFormatError(
      `Cannot load SOM: ${wpath} is ${arr.data.constructor.name} of shape ` +
        `[${arr.shape}] but expected Float32Array of shape [${K},${head.dim}]`,
    );
  }
  return { head, weights: arr.data };
}

function _checkHeader(path: string, head: SomFile): void {
  if (head?.format !== "somscope-som" || head.formatVersion !== 1) {
    throw new DataFormatError(
      `Cannot load SOM: ${path} has format ${JSON.stringify(head?.format)} version ` +
        `${JSON.stringify(head?.formatVersion)} but expected "somscope-som" version 1`,
    );
  }
  for (const f of ["m", "n", "dim", "batchSize", "epochs", "seed", "step"] as const) {
    if (!Number.isSafeInteger(head[f])) {
      throw new DataFormatError(
        `Cannot load SOM: ${path} field ${f} is ${JSON.stringify(head[f])} but expected an integer`,
      );
    }
  }
  if (!Array.isArray(head.losses) || head.losses.some((v) => typeof v !== "number")) {
    throw new DataFormatError(`Cannot load SOM: ${path} field losses is not a list of numbers`);
  }
  if (!_INITS.includes(head.init)) {
    throw new DataFormatError(
      `Cannot load SOM: ${path} field init is ${JSON.stringify(head.init)} but expected one ` +
        `of ${_INITS.join(", ")}`,
    );
  }
}
