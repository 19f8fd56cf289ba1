/**
 * A minimal multi-input ONNX session over onnxruntime-node or onnxruntime-web (wasm), for the
 * gradient and PGD step graphs (which take several named inputs, unlike the model runtime).
 *
 * @module
 */

/** Where a graph runs: native onnxruntime-node or onnxruntime-web's wasm EP. */
export type GraphRuntime = "node" | "wasm";

/** Float32 or int64 feeds by name, with shapes. */
export type Feeds = Record<string, { data: Float32Array | BigInt64Array; dims: number[] }>;

/** A loaded graph session. */
export interface GraphSession {
  /** Runtime in use. */
  readonly runtime: GraphRuntime;
  /** Runs the graph, returning float outputs by name. */
  run(feeds: Feeds, outputs?: string[]): Promise<Record<string, Float32Array>>;
  /** Releases the session. */
  release(): Promise<void>;
}

// deno-lint-ignore no-explicit-any
type Ort = any;

let _node: Promise<Ort> | undefined;
let _wasm: Promise<Ort> | undefined;

/**
 * Opens a session for ONNX bytes.
 *
 * @param bytes The model.
 * @param runtime `node` (default) or `wasm`.
 * @param threads Intra-op threads (node; wasm runs single-threaded in Deno).
 * @param optimization onnxruntime graph optimisation level (default `"all"`; `"basic"` keeps the
 *   graph's own float32 arithmetic, without layout-changing fusions).
 * @param spinning Let onnxruntime-node's idle worker threads spin (default false: on a shared
 *   2-core host spinning doubled the CPU time of a ResNet18 PGD iteration, 1007 vs 540 CPU-ms,
 *   and made it slower, 1.0–1.4 s vs 0.93 s).
 * @returns The session.
 * @throws {RangeError} For an unknown runtime.
 * @example
 * ```ts
 * import { deriveForwardGraph, openGraphSession } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const model = await Deno.readFile("tests/data/models/toy_cnn.onnx");
 * const s = await openGraphSession(deriveForwardGraph(model, { batch: 1 }), "node", 1);
 * const out = await s.run({ input: { data: new Float32Array(784), dims: [1, 1, 28, 28] } });
 * await s.release();
 * assertEquals(out.logits.length, 10);
 * ```
 */
export async function openGraphSession(
  bytes: Uint8Array,
  runtime: GraphRuntime = "node",
  threads: number = Math.max(1, navigator.hardwareConcurrency ?? 1),
  optimization: "disabled" | "basic" | "extended" | "all" = "all",
  spinning: boolean = false,
): Promise<GraphSession> {
  let ort: Ort;
  let opts: Record<string, unknown>;
  if (runtime === "node") {
    ort = await (_node ??= import("npm:onnxruntime-node@1.30.0"));
    opts = {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: optimization,
      extra: { session: { intra_op: { allow_spinning: spinning ? "1" : "0" } } },
    };
  } else if (runtime === "wasm") {
    ort = await (_wasm ??= import("npm:onnxruntime-web@1.30.0").then((m) => {
      // Multi-threaded wasm needs a blob: URL shim in Deno (MODELS.md); one thread needs none.
      m.env.wasm.numThreads = 1;
      return m;
    }));
    opts = { executionProviders: ["wasm"], graphOptimizationLevel: optimization };
  } else {
    throw new RangeError(
      `Cannot open graph session: runtime is "${runtime}" but expected node or wasm`,
    );
  }
  ort = ort.default?.InferenceSession ? ort.default : ort;
  const session = await ort.InferenceSession.create(bytes, opts);
  return {
    runtime,
    async run(feeds, outputs) {
      const f: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(feeds)) {
        f[k] = new ort.Tensor(
          v.data instanceof BigInt64Array ? "int64" : "float32",
          v.data,
          v.dims,
        );
      }
      const out = outputs ? await session.run(f, outputs) : await session.run(f);
      const r: Record<string, Float32Array> = {};
      for (const [k, t] of Object.entries(out)) {
        r[k] = (t as { data: Float32Array }).data;
        (t as { dispose?: () => void }).dispose?.();
      }
      return r;
    },
    async release() {
      await session.release();
    },
  };
}
