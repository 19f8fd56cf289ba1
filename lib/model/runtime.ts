/**
 * Model runtimes behind one interface: onnxruntime-node (native CPU, MLAS), onnxruntime-web's
 * WebGPU execution provider (sharing a {@linkcode GpuContext}'s device, taps left on the GPU),
 * and onnxruntime-web's wasm execution provider (portable; multi-threaded through a small shim).
 *
 * `auto` picks WebGPU on a real adapter, node on a fallback (software) adapter or without WebGPU
 * (MODELS.md: llvmpipe runs the WebGPU EP at ~1 image/s against ~58 for ORT-node), and wasm
 * when the native module cannot load.
 *
 * @module
 */

import { GpuContext } from "../gpu/context.ts";
import { ModelFormatError } from "../errors.ts";

/** A concrete runtime. */
export type RuntimeKind = "node" | "webgpu" | "wasm";
/** A runtime request: a concrete runtime or `"auto"`. */
export type RuntimeChoice = RuntimeKind | "auto";

/**
 * The runtime names accepted by {@linkcode createRuntime}.
 *
 * @example
 * ```ts
 * import { RUNTIME_CHOICES } from "../../mod.ts";
 * import { ok } from "node:assert";
 * ok(RUNTIME_CHOICES.includes("auto") && RUNTIME_CHOICES.includes("node"));
 * ```
 */
export const RUNTIME_CHOICES: readonly RuntimeChoice[] = ["auto", "node", "webgpu", "wasm"];

/** One non-logits output of a run. */
export interface TapOutput {
  /** Output shape. */
  dims: number[];
  /** Values on the CPU (node, wasm). */
  data?: Float32Array;
  /** Values on the GPU (webgpu), valid until the run result is disposed. */
  gpuBuffer?: GPUBuffer;
}

/** What one forward pass returns. */
export interface RunResult {
  /** Logits, `N×K` row-major, on the CPU. */
  logits: Float32Array;
  /** Logits shape. */
  logitsDims: number[];
  /** Every other output, by output name. */
  taps: Record<string, TapOutput>;
  /** Frees GPU outputs (a no-op on CPU runtimes). */
  dispose(): void;
}

/** A loaded model session. */
export interface ModelRuntime {
  /** Which runtime runs the model. */
  readonly kind: RuntimeKind;
  /** Why it was chosen (for manifests), e.g. `"auto: fallback adapter llvmpipe"`. */
  readonly reason: string;
  /** Intra-op threads of the CPU runtimes, else 0. */
  readonly threads: number;
  /** The GPU context (webgpu only). */
  readonly ctx?: GpuContext;
  /** Input name. */
  readonly inputName: string;
  /** Logits output name. */
  readonly logitsName: string;
  /** Names of the other outputs. */
  readonly tapNames: readonly string[];
  /**
   * Runs one batch.
   *
   * @param input Pixels (after any preprocessing), row-major.
   * @param shape `[N, C, H, W]`.
   * @returns Logits and taps; call `dispose()` when done with GPU taps.
   */
  run(input: Float32Array, shape: readonly number[]): Promise<RunResult>;
  /** Releases the session (and a GPU context the runtime created itself). */
  dispose(): Promise<void>;
}

/** Options for {@linkcode createRuntime}. */
export interface RuntimeOptions {
  /** GPU context whose device the WebGPU EP shares. Default: one is created when needed. */
  ctx?: GpuContext;
  /**
   * Intra-op threads of the CPU runtimes. Default `navigator.hardwareConcurrency`: on the
   * idle 2-vCPU reference VM, onnxruntime-node ran ResNet18 at 224 (batch 8) at 105 img/s with 2
   * threads against 55 with its own default of one thread per physical core (1 there); only on
   * a heavily shared CPU was 1 thread faster, so pass `threads: 1` there. For wasm, 2 threads
   * gave 1.65–2.05× (MODELS.md). onnxruntime-web fixes its thread count at its first session in
   * the process; later wasm sessions report that count in `threads`.
   */
  threads?: number;
  /** Name of the logits output. Default: the model's first output. */
  logits?: string;
}

// deno-lint-ignore no-explicit-any
type Ort = any;
// deno-lint-ignore no-explicit-any
type Session = any;

let _nodeOrt: Promise<Ort> | undefined;
let _wasmOrt: Promise<Ort> | undefined;
let _webgpuOrt: Promise<Ort> | undefined;

/**
 * Creates a model session on a runtime.
 *
 * @param kind `"node"`, `"webgpu"`, `"wasm"` or `"auto"`.
 * @param modelBytes Self-contained ONNX bytes (e.g. from `prepareModel`).
 * @param options GPU context, threads, logits output name.
 * @returns The runtime; `kind` and `reason` say which ran and why.
 * @throws {RangeError} If `kind` is unknown or `threads` is not a positive integer.
 * @throws {ModelFormatError} If the runtime refuses the model.
 * @throws {GpuUnavailableError} If `"webgpu"` is requested without WebGPU.
 *
 * @example
 * ```ts
 * import { createRuntime, loadModel } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const m = await loadModel("tests/data/models/toy_cnn.onnx");
 * const rt = await createRuntime("node", m.bytes);
 * const r = await rt.run(new Float32Array(2 * 28 * 28), [2, 1, 28, 28]);
 * assertEquals(r.logitsDims, [2, 10]);
 * await rt.dispose();
 * ```
 */
export async function createRuntime(
  kind: RuntimeChoice,
  modelBytes: Uint8Array,
  options: RuntimeOptions = {},
): Promise<ModelRuntime> {
  if (!RUNTIME_CHOICES.includes(kind)) {
    throw new RangeError(
      `Cannot create runtime: kind is "${kind}" but expected one of ` +
        RUNTIME_CHOICES.map((k) => `"${k}"`).join(", "),
    );
  }
  const threads = options.threads ?? Math.max(1, navigator.hardwareConcurrency ?? 1);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`Cannot create runtime: threads is ${threads} but must be an integer ≥ 1`);
  }
  if (kind === "node") return await _nodeRuntime(modelBytes, threads, options, "requested");
  if (kind === "wasm") return await _wasmRuntime(modelBytes, threads, options, "requested");
  if (kind === "webgpu") return await _webgpuRuntime(modelBytes, options, "requested");
  // auto
  let ctx = options.ctx;
  let owned = false;
  if (!ctx) {
    const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
    const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
    if (adapter && !adapter.info.isFallbackAdapter) {
      ctx = await GpuContext.create();
      owned = true;
    } else if (adapter) {
      return await _cpuAuto(
        modelBytes,
        threads,
        options,
        `auto: fallback adapter (${adapter.info.description})`,
      );
    } else {
      return await _cpuAuto(modelBytes, threads, options, "auto: no WebGPU adapter");
    }
  }
  if (ctx.adapter.isFallbackAdapter) {
    return await _cpuAuto(
      modelBytes,
      threads,
      options,
      `auto: fallback adapter (${ctx.adapter.description})`,
    );
  }
  return await _webgpuRuntime(
    modelBytes,
    { ...options, ctx },
    `auto: hardware adapter (${ctx.adapter.description})`,
    owned,
  );
}

async function _cpuAuto(
  bytes: Uint8Array,
  threads: number,
  options: RuntimeOptions,
  reason: string,
): Promise<ModelRuntime> {
  let ort: Ort;
  try {
    ort = await _loadNode();
  } catch (e) {
    return await _wasmRuntime(
      bytes,
      threads,
      options,
      `${reason}; onnxruntime-node cannot load (${(e as Error).message.split("\n")[0]})`,
    );
  }
  void ort;
  return await _nodeRuntime(bytes, threads, options, reason);
}

function _loadNode(): Promise<Ort> {
  _nodeOrt ??= import("npm:onnxruntime-node@1.30.0").then((m) => m.default ?? m).catch((e) => {
    _nodeOrt = undefined;
    throw e;
  });
  return _nodeOrt;
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

function _loadWasm(): Promise<Ort> {
  _installWasmThreadShim();
  _wasmOrt ??= import("npm:onnxruntime-web@1.30.0/wasm").then((m) => m.default ?? m);
  return _wasmOrt;
}

function _loadWebgpu(): Promise<Ort> {
  _webgpuOrt ??= import("npm:onnxruntime-web@1.30.0/webgpu").then((m) => m.default ?? m);
  return _webgpuOrt;
}

async function _createSession(
  ort: Ort,
  bytes: Uint8Array,
  opts: Record<string, unknown>,
  kind: string,
): Promise<Session> {
  try {
    return await ort.InferenceSession.create(bytes, opts);
  } catch (e) {
    throw new ModelFormatError(
      `Cannot create ${kind} session: ${(e as Error).message}; expected a model the runtime ` +
        "can run (opset 13–21, float32)",
      { cause: e },
    );
  }
}

function _names(session: Session, options: RuntimeOptions) {
  const outputs: string[] = [...session.outputNames];
  const logitsName = options.logits ?? outputs[0];
  if (!outputs.includes(logitsName)) {
    throw new RangeError(
      `Cannot create runtime: logits output "${logitsName}" is not among the model's outputs ` +
        outputs.join(", "),
    );
  }
  return {
    inputName: session.inputNames[0] as string,
    logitsName,
    tapNames: outputs.filter((n) => n !== logitsName),
  };
}

async function _nodeRuntime(
  bytes: Uint8Array,
  threads: number,
  options: RuntimeOptions,
  reason: string,
): Promise<ModelRuntime> {
  const ort = await _loadNode();
  const session = await _createSession(ort, bytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    logSeverityLevel: 3,
    // ORT's intra-op threads spin after a run by default; on a machine with few cores they then
    // steal the CPU from the code reduction that follows every batch.
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  }, "onnxruntime-node");
  return _cpuRuntime("node", ort, session, threads, options, reason);
}

async function _wasmRuntime(
  bytes: Uint8Array,
  threads: number,
  options: RuntimeOptions,
  reason: string,
): Promise<ModelRuntime> {
  const ort = await _loadWasm();
  // numThreads is global to the ORT-web instance and fixed by its first session.
  if (!ort.env.__somscopeThreads) {
    ort.env.wasm.numThreads = threads;
    ort.env.__somscopeThreads = threads;
  }
  const session = await _createSession(ort, bytes, {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
    logSeverityLevel: 3,
  }, "onnxruntime-web wasm");
  return _cpuRuntime("wasm", ort, session, ort.env.__somscopeThreads, options, reason);
}

function _cpuRuntime(
  kind: "node" | "wasm",
  ort: Ort,
  session: Session,
  threads: number,
  options: RuntimeOptions,
  reason: string,
): ModelRuntime {
  const names = _names(session, options);
  return {
    kind,
    reason,
    threads,
    ...names,
    async run(input, shape) {
      const feeds = { [names.inputName]: new ort.Tensor("float32", input, [...shape]) };
      const out = await session.run(feeds);
      const taps: Record<string, TapOutput> = {};
      for (const n of names.tapNames) {
        taps[n] = { dims: [...out[n].dims].map(Number), data: out[n].data as Float32Array };
      }
      return {
        logits: out[names.logitsName].data as Float32Array,
        logitsDims: [...out[names.logitsName].dims].map(Number),
        taps,
        dispose() {},
      };
    },
    async dispose() {
      await session.release();
    },
  };
}

async function _webgpuRuntime(
  bytes: Uint8Array,
  options: RuntimeOptions,
  reason: string,
  ownsCtx = false,
): Promise<ModelRuntime> {
  let ctx = options.ctx;
  if (!ctx) {
    ctx = await GpuContext.create();
    ownsCtx = true;
  }
  const ort = await _loadWebgpu();
  ort.env.wasm.numThreads = 1;
  // ORT 1.30's WebGPU EP takes a caller's device through the EP option `device` (it then also
  // reports it as `env.webgpu.device`); the device must be the one our kernels run on so that
  // `gpu-buffer` outputs can be bound directly.
  // All outputs stay on the GPU; the (small) logits are downloaded with getData().
  const session = await _createSession(ort, bytes, {
    executionProviders: [{ name: "webgpu", device: ctx.device }],
    preferredOutputLocation: "gpu-buffer",
    // Warnings such as "some nodes were not assigned to the preferred EP" (shape ops on CPU, by
    // design) would otherwise print on every session.
    logSeverityLevel: 3,
  }, "onnxruntime-web webgpu");
  const names = _names(session, options);
  return {
    kind: "webgpu",
    reason,
    threads: 0,
    ctx,
    ...names,
    async run(input, shape) {
      const feeds = { [names.inputName]: new ort.Tensor("float32", input, [...shape]) };
      const out = await session.run(feeds);
      const taps: Record<string, TapOutput> = {};
      for (const n of names.tapNames) {
        taps[n] = { dims: [...out[n].dims].map(Number), gpuBuffer: out[n].gpuBuffer };
      }
      const lg = out[names.logitsName];
      const logits = (lg.location === "cpu" ? lg.data : await lg.getData()) as Float32Array;
      return {
        logits,
        logitsDims: [...lg.dims].map(Number),
        taps,
        dispose() {
          for (const n of names.tapNames) out[n].dispose();
          lg.dispose();
        },
      };
    },
    async dispose() {
      await session.release();
      if (ownsCtx) ctx.dispose();
    },
  };
}
