/**
 * Model runtimes behind one interface: onnxruntime-node (native CPU, MLAS), onnxruntime-web's
 * WebGPU execution provider (sharing a {@linkcode GpuContext}'s device, taps left on the GPU),
 * and onnxruntime-web's wasm execution provider (portable; multi-threaded through a small shim).
 *
 * `auto` follows the context's {@linkcode gpuPolicy}: WebGPU on a hardware adapter, node on a
 * software adapter or without a context (MODELS.md: llvmpipe runs the WebGPU EP at ~1 image/s
 * against ~58 for ORT-node), and wasm when the native module cannot load. Sessions are opened
 * through `ort.ts`, the one onnxruntime layer.
 *
 * @module
 */

import { type GpuContext, gpuPolicy } from "../gpu/context.ts";
import { checkThreads, createSession, loadOrt, type Ort, type OrtSession } from "./ort.ts";

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
  /**
   * GPU context whose device the WebGPU EP shares (required for `"webgpu"`; for `"auto"`, its
   * {@linkcode gpuPolicy} decides). The runtime never makes a context of its own.
   */
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

/**
 * Creates a model session on a runtime.
 *
 * @param kind `"node"`, `"webgpu"`, `"wasm"` or `"auto"`.
 * @param modelBytes Self-contained ONNX bytes (e.g. from `prepareModel`).
 * @param options GPU context, threads, logits output name.
 * @returns The runtime; `kind` and `reason` say which ran and why.
 * @throws {RangeError} If `kind` is unknown or `threads` is not a positive integer.
 * @throws {ModelFormatError} If the runtime refuses the model.
 * @throws {TypeError} If `"webgpu"` is requested without `options.ctx`.
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
  const threads = checkThreads("create runtime", options.threads);
  if (kind === "node") return await _nodeRuntime(modelBytes, threads, options, "requested");
  if (kind === "wasm") return await _wasmRuntime(modelBytes, threads, options, "requested");
  if (kind === "webgpu") return await _webgpuRuntime(modelBytes, options, "requested");
  const policy = gpuPolicy(options.ctx);
  if (policy.wgsl) return await _webgpuRuntime(modelBytes, options, `auto: ${policy.reason}`);
  const reason = `auto: ${policy.reason}`;
  try {
    await loadOrt("node");
  } catch (e) {
    return await _wasmRuntime(
      modelBytes,
      threads,
      options,
      `${reason}; onnxruntime-node cannot load (${(e as Error).message.split("\n")[0]})`,
    );
  }
  return await _nodeRuntime(modelBytes, threads, options, reason);
}

function _names(session: OrtSession, options: RuntimeOptions) {
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

type _Names = ReturnType<typeof _names>;

/** Runs `session` on one input; the taps (every output but the logits) mapped by `tap`. */
async function _runSession(
  ort: Ort,
  session: OrtSession,
  names: _Names,
  input: Float32Array,
  shape: readonly number[],
  tap: (t: Awaited<ReturnType<OrtSession["run"]>>[string]) => TapOutput,
) {
  const feeds = { [names.inputName]: new ort.Tensor("float32", input, [...shape]) };
  const out = await session.run(feeds);
  const taps: Record<string, TapOutput> = {};
  for (const n of names.tapNames) taps[n] = tap(out[n]);
  return { out, taps };
}

async function _nodeRuntime(
  bytes: Uint8Array,
  threads: number,
  options: RuntimeOptions,
  reason: string,
): Promise<ModelRuntime> {
  // Workers that do not spin (ort.ts): they would otherwise steal the CPU from the code
  // reduction that follows every batch.
  const { ort, session } = await createSession(bytes, {
    threads,
    what: "the model",
  });
  return _cpuRuntime("node", ort, session, threads, options, reason);
}

async function _wasmRuntime(
  bytes: Uint8Array,
  threads: number,
  options: RuntimeOptions,
  reason: string,
): Promise<ModelRuntime> {
  const opened = await createSession(bytes, { runtime: "wasm", threads, what: "the model" });
  return _cpuRuntime("wasm", opened.ort, opened.session, opened.threads, options, reason);
}

function _cpuRuntime(
  kind: "node" | "wasm",
  ort: Ort,
  session: OrtSession,
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
      const { out, taps } = await _runSession(ort, session, names, input, shape, (t) => ({
        dims: [...t.dims].map(Number),
        data: t.data as Float32Array,
      }));
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
): Promise<ModelRuntime> {
  const ctx = options.ctx;
  if (!ctx) {
    throw new TypeError(
      'Cannot create runtime "webgpu": options.ctx is missing (pass a GpuContext, e.g. from ' +
        "GpuContext.create())",
    );
  }
  // All outputs stay on the GPU, on the device our kernels run on; the (small) logits are
  // downloaded with getData().
  const { ort, session } = await createSession(bytes, {
    runtime: "webgpu",
    device: ctx.device,
    gpuOutputs: true,
    what: "the model",
  });
  const names = _names(session, options);
  return {
    kind: "webgpu",
    reason,
    threads: 0,
    ctx,
    ...names,
    async run(input, shape) {
      const { out, taps } = await _runSession(ort, session, names, input, shape, (t) => ({
        dims: [...t.dims].map(Number),
        gpuBuffer: t.gpuBuffer as unknown as GPUBuffer,
      }));
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
    },
  };
}
