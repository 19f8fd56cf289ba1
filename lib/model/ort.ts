/**
 * The one onnxruntime layer of somscope: it loads onnxruntime-node (native CPU, MLAS) and
 * onnxruntime-web (its wasm build, and its WebGPU build) on first use, and opens sessions from an
 * options object, so that model runtimes, gradient and PGD graphs, the SOM's CPU graphs, the
 * native cosine matrix, conformance and extraction all configure onnxruntime the same way.
 *
 * Nothing here loads at import time: importing `mod.ts` works where the native addon cannot
 * load (callers then fall back to wasm). onnxruntime-node's npm install script (which downloads
 * GPU binaries) never runs: Deno resolves the package without lifecycle scripts, and the package
 * is only ever imported from this module, by its full `npm:` specifier.
 *
 * Session defaults, and why: one inter-op thread and sequential execution (the graphs are
 * chains); worker threads that do not spin after a run (on a machine with few cores spinning
 * workers steal the CPU from the TypeScript work between runs: measured 2.5× slower for the SOM
 * with 2 threads under load, and twice the CPU time of a PGD iteration); log severity 3 (errors
 * only), because warnings such as "some nodes were not assigned to the preferred EP" are by
 * design.
 *
 * @module
 */

import type * as OrtNode from "npm:onnxruntime-node@1.30.0";
import { ModelFormatError } from "../errors.ts";

/** Which onnxruntime: native onnxruntime-node, or onnxruntime-web's wasm or WebGPU build. */
export type OrtRuntime = "node" | "wasm" | "webgpu";

/** The onnxruntime API (the same shape for the node and web builds). */
export type Ort = typeof OrtNode;

/** An onnxruntime inference session. */
export type OrtSession = OrtNode.InferenceSession;

/** Options of {@linkcode createSession}. */
export interface SessionOptions {
  /** Which onnxruntime. Default `"node"`. */
  runtime?: OrtRuntime;
  /**
   * Intra-op threads. Default `navigator.hardwareConcurrency`. onnxruntime-web fixes its wasm
   * thread count at its first session in the process; later wasm sessions run with that count
   * (returned as `threads`). The WebGPU build runs its CPU fallback kernels on one thread.
   */
  threads?: number;
  /** Graph optimisation level. Default `"all"`. */
  optimization?: "disabled" | "basic" | "extended" | "all";
  /** Let idle onnxruntime-node worker threads spin-wait for work. Default false. */
  spinning?: boolean;
  /** The `GPUDevice` the WebGPU execution provider runs on (required for `"webgpu"`). */
  device?: GPUDevice;
  /** Keep outputs on the GPU as `gpu-buffer` tensors (`"webgpu"` only). Default false. */
  gpuOutputs?: boolean;
  /** onnxruntime log severity, 0 (verbose) … 4 (fatal). Default 3 (errors). */
  logSeverity?: 0 | 1 | 2 | 3 | 4;
  /** What the session is for, for error messages. Default `"onnxruntime"`. */
  what?: string;
}

/** What {@linkcode createSession} returns. */
export interface OpenedSession {
  /** The onnxruntime module the session belongs to (for its `Tensor` class). */
  ort: Ort;
  /** The session. */
  session: OrtSession;
  /** Intra-op threads the session actually runs with. */
  threads: number;
}

let _node: Promise<Ort> | undefined;
let _wasm: Promise<Ort> | undefined;
let _webgpu: Promise<Ort> | undefined;
/** The thread count onnxruntime-web's wasm build was fixed to by its first session. */
let _wasmThreads: number | undefined;

/**
 * Loads an onnxruntime build once per process (later calls share the promise). A failed
 * onnxruntime-node load is not cached, so a caller can report it and fall back.
 *
 * @param runtime Which onnxruntime.
 * @returns The module.
 * @throws {RangeError} For an unknown runtime.
 * @throws {Error} If the module cannot load (e.g. the native addon without `--allow-ffi`).
 *
 * @example
 * ```ts
 * import { loadOrt } from "./ort.ts";
 * import { strictEqual } from "node:assert";
 * const ort = await loadOrt("node");
 * strictEqual(typeof ort.InferenceSession.create, "function");
 * ```
 */
export function loadOrt(runtime: OrtRuntime): Promise<Ort> {
  switch (runtime) {
    case "node":
      _node ??= import("npm:onnxruntime-node@1.30.0").then((m) => (m.default ?? m) as Ort)
        .catch((e) => {
          _node = undefined;
          throw e;
        });
      return _node;
    case "wasm":
      _installWasmThreadShim();
      _wasm ??= import("npm:onnxruntime-web@1.30.0/wasm").then((m) =>
        (m.default ?? m) as unknown as Ort
      );
      return _wasm;
    case "webgpu":
      _webgpu ??= import("npm:onnxruntime-web@1.30.0/webgpu").then((m) => {
        const ort = (m.default ?? m) as unknown as Ort;
        // The EP's CPU fallback kernels (shape ops) need no threads.
        (ort.env as { wasm: { numThreads: number } }).wasm.numThreads = 1;
        return ort;
      });
      return _webgpu;
    default:
      throw new RangeError(
        `Cannot load onnxruntime: runtime is "${runtime}" but expected node, wasm or webgpu`,
      );
  }
}

/**
 * onnxruntime-web with `numThreads > 1` fetches its worker module and imports it from a `blob:`
 * URL, which Deno's module loader refuses (`ERR_UNSUPPORTED_ESM_URL_SCHEME`); Deno has no
 * `location.origin`, so ORT treats its own file as cross-origin. The shim hands back the
 * original `file:` URL of a fetched local `.mjs` instead of a blob URL (MODELS.md). It touches
 * nothing else: other fetches and blobs pass through unchanged.
 */
function _installWasmThreadShim(): void {
  const g = globalThis as unknown as { __somscopeOrtShim?: boolean };
  if (g.__somscopeOrtShim) return;
  g.__somscopeOrtShim = true;
  const tagged = new WeakMap<Blob, string>();
  const origFetch = globalThis.fetch;
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const res = await origFetch(input, init);
    const url = typeof input === "string"
      ? input
      : input instanceof URL
      ? input.href
      : (input as Request).url;
    if (url.startsWith("file:") && url.endsWith(".mjs")) {
      const blob = res.blob.bind(res);
      Object.defineProperty(res, "blob", {
        value: async () => {
          const b = await blob();
          tagged.set(b, url);
          return b;
        },
      });
    }
    return res;
  }) as typeof fetch;
  const origCreate = URL.createObjectURL;
  URL.createObjectURL = (obj: Blob) => tagged.get(obj) ?? origCreate(obj);
}

/**
 * The default thread count: `navigator.hardwareConcurrency` (at least 1).
 *
 * @returns The number of logical CPUs.
 *
 * @example
 * ```ts
 * import { defaultThreads } from "./ort.ts";
 * import { ok } from "node:assert";
 * ok(defaultThreads() >= 1);
 * ```
 */
export function defaultThreads(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/**
 * Checks a thread count.
 *
 * @param what What could not be done, for the message.
 * @param threads The value given.
 * @returns `threads`, or the default when undefined.
 * @throws {RangeError} If it is not a positive integer.
 *
 * @example
 * ```ts
 * import { checkThreads } from "./ort.ts";
 * import { strictEqual, throws } from "node:assert";
 * strictEqual(checkThreads("run", 2), 2);
 * throws(() => checkThreads("run", 0), RangeError);
 * ```
 */
export function checkThreads(what: string, threads: number | undefined): number {
  const t = threads ?? defaultThreads();
  if (!Number.isInteger(t) || t < 1) {
    throw new RangeError(`Cannot ${what}: threads is ${t} but expected a positive integer`);
  }
  return t;
}

/**
 * Opens an onnxruntime session on ONNX bytes with somscope's settings (see the module doc).
 *
 * @param bytes Self-contained ONNX model bytes.
 * @param options Runtime, threads, optimisation, spinning, WebGPU device and output location.
 * @returns The session, its onnxruntime module and its thread count.
 * @throws {RangeError} For an unknown runtime or a bad thread count.
 * @throws {TypeError} For `"webgpu"` without `device`.
 * @throws {ModelFormatError} If onnxruntime refuses the model.
 *
 * @example A one-node graph on onnxruntime-node
 * ```ts
 * import { createSession } from "./ort.ts";
 * import { DT, encodeModel, model, node, valueInfo } from "../onnx/proto.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const bytes = encodeModel(model({
 *   name: "neg",
 *   node: [node("Neg", ["x"], ["y"])],
 *   input: [valueInfo("x", DT.FLOAT, [2])],
 *   output: [valueInfo("y", DT.FLOAT, [2])],
 * }));
 * const { ort, session } = await createSession(bytes, { threads: 1 });
 * const out = await session.run({ x: new ort.Tensor("float32", new Float32Array([1, -2]), [2]) });
 * assertEquals(Array.from(out.y.data as Float32Array), [-1, 2]);
 * await session.release();
 * ```
 */
export async function createSession(
  bytes: Uint8Array,
  options: SessionOptions = {},
): Promise<OpenedSession> {
  const runtime = options.runtime ?? "node";
  const what = options.what ?? "onnxruntime";
  let threads = checkThreads(`create ${what} session`, options.threads);
  const common = {
    graphOptimizationLevel: options.optimization ?? "all",
    logSeverityLevel: options.logSeverity ?? 3,
  };
  let opts: Record<string, unknown>;
  let label: string;
  if (runtime === "node") {
    label = "onnxruntime-node";
    opts = {
      ...common,
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      extra: { session: { intra_op: { allow_spinning: options.spinning ? "1" : "0" } } },
    };
  } else if (runtime === "wasm") {
    label = "onnxruntime-web wasm";
    opts = { ...common, executionProviders: ["wasm"] };
  } else if (runtime === "webgpu") {
    label = "onnxruntime-web webgpu";
    if (!options.device) {
      throw new TypeError(`Cannot create ${what} session: runtime "webgpu" needs a GPUDevice`);
    }
    opts = {
      ...common,
      // ORT 1.30's WebGPU EP takes a caller's device through the EP option `device`; it must be
      // the device our kernels run on so that `gpu-buffer` outputs can be bound directly.
      executionProviders: [{ name: "webgpu", device: options.device }],
      ...(options.gpuOutputs ? { preferredOutputLocation: "gpu-buffer" } : {}),
    };
  } else {
    throw new RangeError(
      `Cannot create ${what} session: runtime is "${runtime}" but expected node, wasm or webgpu`,
    );
  }
  const ort = await loadOrt(runtime);
  if (runtime === "wasm") {
    // numThreads is global to the ORT-web instance and fixed by its first session.
    if (_wasmThreads === undefined) {
      ort.env.wasm.numThreads = threads;
      _wasmThreads = threads;
    }
    threads = _wasmThreads;
  } else if (runtime === "webgpu") threads = 0;
  let session: OrtSession;
  try {
    session = await ort.InferenceSession.create(bytes, opts);
  } catch (e) {
    throw new ModelFormatError(
      `Cannot create ${label} session for ${what}: ${(e as Error).message}; expected a model ` +
        "the runtime can run (opset 13–21, float32)",
      { cause: e },
    );
  }
  return { ort, session, threads };
}

/** Where a graph session runs: native onnxruntime-node or onnxruntime-web's wasm build. */
export type GraphRuntime = "node" | "wasm";

/** Float32 or int64 feeds by name, with shapes. */
export type Feeds = Record<string, { data: Float32Array | BigInt64Array; dims: number[] }>;

/** A loaded multi-input graph session (gradient, PGD step and forward graphs). */
export interface GraphSession {
  /** Runtime in use. */
  readonly runtime: GraphRuntime;
  /**
   * Runs the graph.
   *
   * @param feeds Inputs by name.
   * @param outputs Outputs to fetch. Default all.
   * @returns Float outputs by name (copies owned by the caller).
   */
  run(feeds: Feeds, outputs?: string[]): Promise<Record<string, Float32Array>>;
  /** Releases the session. */
  release(): Promise<void>;
}

/** Options of {@linkcode openGraphSession}. */
export interface GraphSessionOptions {
  /** `"node"` or `"wasm"`. Default `"node"`. */
  runtime?: GraphRuntime;
  /** Intra-op threads. Default `navigator.hardwareConcurrency`. */
  threads?: number;
  /**
   * onnxruntime graph optimisation level. Default `"all"`; `"basic"` keeps the graph's own
   * float32 arithmetic, without layout-changing fusions.
   */
  optimization?: "disabled" | "basic" | "extended" | "all";
  /**
   * Let onnxruntime-node's idle worker threads spin. Default false: on a shared 2-core host
   * spinning doubled the CPU time of a ResNet18 PGD iteration (1007 vs 540 CPU-ms) and made it
   * slower (1.0–1.4 s vs 0.93 s).
   */
  spinning?: boolean;
}

/**
 * Opens a session for a graph with several named inputs (the gradient, PGD step and forward
 * graphs; the model runtime covers single-input classifiers).
 *
 * @param bytes The ONNX model.
 * @param options Runtime, threads, optimisation level, spinning.
 * @returns The session.
 * @throws {RangeError} For an unknown runtime or a bad thread count.
 * @throws {ModelFormatError} If onnxruntime refuses the model.
 *
 * @example
 * ```ts
 * import { deriveForwardGraph, openGraphSession } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const model = await Deno.readFile("tests/data/models/toy_cnn.onnx");
 * const s = await openGraphSession(deriveForwardGraph(model, { batch: 1 }), { threads: 1 });
 * const out = await s.run({ input: { data: new Float32Array(784), dims: [1, 1, 28, 28] } });
 * await s.release();
 * assertEquals(out.logits.length, 10);
 * ```
 */
export async function openGraphSession(
  bytes: Uint8Array,
  options: GraphSessionOptions = {},
): Promise<GraphSession> {
  const runtime = options.runtime ?? "node";
  if (runtime !== "node" && runtime !== "wasm") {
    throw new RangeError(
      `Cannot open graph session: runtime is "${runtime}" but expected node or wasm`,
    );
  }
  const { ort, session } = await createSession(bytes, {
    runtime,
    threads: options.threads,
    optimization: options.optimization,
    spinning: options.spinning,
    what: "a graph",
  });
  return {
    runtime,
    async run(feeds, outputs) {
      const f: Record<string, OrtNode.Tensor> = {};
      for (const [k, v] of Object.entries(feeds)) {
        f[k] = v.data instanceof BigInt64Array
          ? new ort.Tensor("int64", v.data, v.dims)
          : new ort.Tensor("float32", v.data, v.dims);
      }
      const out = outputs ? await session.run(f, outputs) : await session.run(f);
      const r: Record<string, Float32Array> = {};
      for (const [k, t] of Object.entries(out)) {
        r[k] = t.data as Float32Array;
        (t as { dispose?: () => void }).dispose?.();
      }
      return r;
    },
    async release() {
      await session.release();
    },
  };
}
