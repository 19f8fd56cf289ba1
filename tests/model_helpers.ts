/**
 * Shared helpers for the model and extraction tests: re-exports, a synthetic data set, and the
 * extraction tests' quiet onnxruntime-node runs of the toy CNN.
 *
 * @module
 */

export {
  createRuntime,
  decodeNpy,
  extractCodes,
  listLayers,
  loadModel,
  ModelFormatError,
  prepareModel,
  readNpy,
  resolveLayers,
} from "../mod.ts";
export type { DatasetLike } from "../mod.ts";
export { DT, encodeModel } from "../lib/onnx/proto.ts";
import type { DatasetLike, ExtractOptions, ExtractResult, LoadedModel } from "../mod.ts";
import { extractCodes, loadModel, Rng } from "../mod.ts";
import { assert, assertEquals } from "./asserts.ts";
import { inTempDir } from "./temp_dir.ts";

/** The toy CNN of `tests/data/models` (auto layers CL1..CL3). */
export const TOY_CNN = "tests/data/models/toy_cnn.onnx";

/** The extraction tests' run: no progress bar, onnxruntime-node, one thread. */
export const QUIET = { progress: false as const, runtime: "node" as const, threads: 1 };

/**
 * `extractCodes` with {@linkcode QUIET} under `options`.
 *
 * @param model The model.
 * @param data The data set.
 * @param ix Example indices.
 * @param options Extraction options over `QUIET` (e.g. `cacheDir`).
 * @returns The extraction's result.
 */
export function extractQuiet(
  model: LoadedModel,
  data: DatasetLike,
  ix: ArrayLike<number>,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  return extractCodes(model, data, ix, { ...QUIET, ...options });
}

/**
 * Wraps `fn` into a test function given the loaded toy CNN and a fresh cache folder (removed
 * afterwards, pass or fail).
 *
 * @param fn The test body.
 * @returns The test function for `Deno.test`.
 */
export function withToyCnn(
  fn: (model: LoadedModel, cacheDir: string) => Promise<void>,
): () => Promise<void> {
  return inTempDir(async (dir) => fn(await loadModel(TOY_CNN), dir), {
    prefix: "somscope_toy_cnn_",
  });
}

/**
 * A deterministic synthetic data set: example `i` has pixels from a seeded stream and label
 * `i mod classes`. Counts the images loaded.
 *
 * @param size Examples.
 * @param shape `[C, H, W]`.
 * @param identity Identity string.
 * @returns The data set and a load counter.
 */
export function syntheticDataset(
  size: number,
  shape: [number, number, number] = [1, 28, 28],
  identity = "synthetic-v1",
): DatasetLike & { loaded: number } {
  const [C, H, W] = shape;
  const per = C * H * W;
  const ds = {
    size,
    channels: C,
    height: H,
    width: W,
    labels: Int32Array.from({ length: size }, (_, i) => i % 10),
    loaded: 0,
    load(indices: number[]): Promise<Float32Array> {
      const out = new Float32Array(indices.length * per);
      indices.forEach((ix, k) => {
        const rng = new Rng(1000 + ix);
        for (let j = 0; j < per; j++) out[k * per + j] = rng.float();
      });
      ds.loaded += indices.length;
      return Promise.resolve(out);
    },
    identity: () => Promise.resolve(identity),
  };
  return ds;
}

/**
 * Largest absolute difference divided by the largest absolute expected value.
 *
 * @param a Actual.
 * @param b Expected.
 * @returns The relative error.
 */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? d : d / m;
}

/**
 * Extracts with `run("node")`, then with each other runtime of `others`, and asserts that each
 * reports its runtime, predicts as node does and has codes within its tolerance of node's.
 *
 * @param name Model name for the messages.
 * @param run Extraction on one runtime.
 * @param others The other runtimes and their relative-error tolerances.
 */
export async function assertRuntimesAgree(
  name: string,
  run: (runtime: "node" | "wasm" | "webgpu") => Promise<ExtractResult>,
  others: ["wasm" | "webgpu", number][],
): Promise<void> {
  const node = await run("node");
  for (const [kind, tol] of others) {
    const r = await run(kind);
    assertEquals(r.runtime?.kind, kind);
    assertEquals(r.predictions, node.predictions);
    for (let i = 0; i < r.layers.length; i++) {
      const e = relErr(r.layers[i].codes, node.layers[i].codes);
      assert(e <= tol, `${name} ${kind} ${r.layers[i].label}: relative error ${e}`);
    }
  }
}

/**
 * Asserts that two extractions agree: every layer's codes (over `want`'s layers), then, unless
 * `predictions` is false, the predictions.
 *
 * @param got The extraction under test.
 * @param want The reference extraction.
 * @param predictions Whether to compare the predictions too.
 */
export function assertSameCodes(
  got: ExtractResult,
  want: ExtractResult,
  predictions = true,
): void {
  for (let i = 0; i < want.layers.length; i++) {
    assertEquals(got.layers[i].codes, want.layers[i].codes);
  }
  if (predictions) assertEquals(got.predictions, want.predictions);
}

/**
 * Asserts that two file listings (relative path → bytes) hold the same paths with the same bytes.
 *
 * @param got The listing under test.
 * @param want The reference listing.
 */
export function assertSameFiles(
  got: Map<string, Uint8Array>,
  want: Map<string, Uint8Array>,
): void {
  assertEquals([...got.keys()].sort(), [...want.keys()].sort());
  for (const [k, v] of got) assertEquals(v, want.get(k), k);
}
