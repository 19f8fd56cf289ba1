/**
 * Writing extracted codes: per layer an Arrow IPC table (example id, label, predicted class,
 * correctness, and the code as a fixed-size list of float32) and a `.npy` of the codes, plus
 * `examples.npy`-style index files. Every file is written atomically.
 *
 * @module
 */

import {
  bool,
  fixedSizeList,
  float32,
  int32,
  tableFromArrays,
  tableToIPC,
} from "npm:@uwdata/flechette@2.6.0";
import { encodeNpy } from "../npy.ts";
import { writeFileAtomic } from "../fs_atomic.ts";
import type { ExtractResult } from "./extract.ts";

/** One written layer. */
export interface WrittenLayer {
  /** Layer label. */
  label: string;
  /** Tensor name. */
  tensor: string;
  /** Token 0 taken. */
  token0: boolean;
  /** Code dimension. */
  dim: number;
  /** `.npy` file name (relative to the output folder). */
  npy: string;
  /** Arrow IPC file name. */
  arrow: string;
  /** Cache entry key. */
  key: string;
  /** Whether the codes came from the cache. */
  cached: boolean;
}

/**
 * A file-name-safe form of a layer label (`/layer1/Relu_output_0` → `layer1_Relu_output_0`).
 *
 * @param label The label.
 * @returns Letters, digits, `.`, `_` and `-` only.
 *
 * @example
 * ```ts
 * import { safeLayerName } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(safeLayerName("/layer1/layer1.1/relu_1/Relu_output_0"), "layer1_layer1.1_relu_1_Relu_output_0");
 * assertEquals(safeLayerName("CL3"), "CL3");
 * ```
 */
export function safeLayerName(label: string): string {
  const s = label.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[_.]+|_+$/g, "");
  return s || "layer";
}

/**
 * Encodes one layer's codes as an Arrow IPC table with columns `id` (data set index), `label`,
 * `predicted`, `correct` and `code` (fixed-size list of float32).
 *
 * @param result Extraction result.
 * @param layer Index into `result.layers`.
 * @returns Arrow IPC (file format) bytes.
 * @throws {RangeError} If `layer` is not an index of `result.layers`.
 *
 * @example
 * ```ts
 * import { codesToArrow, type ExtractResult } from "../../mod.ts";
 * import { tableFromIPC } from "npm:@uwdata/flechette@2.6.0";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const result = {
 *   indices: Int32Array.of(7, 3), labels: Int32Array.of(1, 0), predictions: Int32Array.of(1, 1),
 *   correct: Uint8Array.of(1, 0),
 *   layers: [{ label: "CL1", tensor: "t", token0: false, shape: [1, 1, 2, 2], dim: 4, key: "k",
 *     cached: false, codes: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8) }],
 * } as unknown as ExtractResult;
 * const table = tableFromIPC(codesToArrow(result, 0));
 * assertEquals(table.names, ["id", "label", "predicted", "correct", "code"]);
 * assertEquals(Array.from(table.getChild("code").at(1) as Float32Array), [5, 6, 7, 8]);
 * ```
 */
export function codesToArrow(result: ExtractResult, layer: number): Uint8Array {
  const l = result.layers[layer];
  if (!l) {
    throw new RangeError(
      `Cannot encode codes: layer ${layer} but the result has ${result.layers.length} layers`,
    );
  }
  const n = result.indices.length;
  const rows = Array.from({ length: n }, (_, i) => l.codes.subarray(i * l.dim, (i + 1) * l.dim));
  const table = tableFromArrays({
    id: result.indices,
    label: result.labels,
    predicted: result.predictions,
    correct: Array.from(result.correct, (c) => c === 1),
    code: rows,
  }, {
    types: {
      id: int32(),
      label: int32(),
      predicted: int32(),
      correct: bool(),
      code: fixedSizeList(float32(), l.dim),
    },
  });
  return tableToIPC(table, { format: "file" })!;
}

/**
 * Writes `DIR/<layer>.npy`, `DIR/<layer>.arrow` for every layer and `DIR/examples.npy`
 * (`n×4` int32: id, label, predicted, correct).
 *
 * @param dir Output folder (created if needed).
 * @param result Extraction result.
 * @returns What was written per layer.
 *
 * @example
 * ```ts
 * import { decodeNpy, type ExtractResult, writeCodes } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const result = {
 *   indices: Int32Array.of(0), labels: Int32Array.of(2), predictions: Int32Array.of(2),
 *   correct: Uint8Array.of(1),
 *   layers: [{ label: "cls0", tensor: "t", token0: true, shape: [1, 3], dim: 3, key: "k",
 *     cached: false, codes: Float32Array.of(0.5, 1, 2) }],
 * } as unknown as ExtractResult;
 * const dir = await Deno.makeTempDir();
 * const [w] = await writeCodes(dir, result);
 * assertEquals([w.npy, w.arrow], ["cls0.npy", "cls0.arrow"]);
 * assertEquals(decodeNpy(await Deno.readFile(`${dir}/cls0.npy`)).shape, [1, 3]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeCodes(dir: string, result: ExtractResult): Promise<WrittenLayer[]> {
  await Deno.mkdir(dir, { recursive: true });
  const n = result.indices.length;
  const ex = new Int32Array(n * 4);
  for (let i = 0; i < n; i++) {
    ex[4 * i] = result.indices[i];
    ex[4 * i + 1] = result.labels[i];
    ex[4 * i + 2] = result.predictions[i];
    ex[4 * i + 3] = result.correct[i];
  }
  await writeFileAtomic(`${dir}/examples.npy`, encodeNpy({ data: ex, shape: [n, 4] }));
  const out: WrittenLayer[] = [];
  const used = new Set<string>();
  for (let i = 0; i < result.layers.length; i++) {
    const l = result.layers[i];
    let base = safeLayerName(l.label);
    while (used.has(base)) base += "_";
    used.add(base);
    await writeFileAtomic(`${dir}/${base}.npy`, encodeNpy({ data: l.codes, shape: [n, l.dim] }));
    await writeFileAtomic(`${dir}/${base}.arrow`, codesToArrow(result, i));
    out.push({
      label: l.label,
      tensor: l.tensor,
      token0: l.token0,
      dim: l.dim,
      npy: `${base}.npy`,
      arrow: `${base}.arrow`,
      key: l.key,
      cached: l.cached,
    });
  }
  return out;
}
