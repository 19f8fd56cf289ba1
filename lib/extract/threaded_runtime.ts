/**
 * A CPU model session in a worker thread, so that extraction can decode the next batch and
 * reduce the previous one while the forward pass runs: onnxruntime-node's `run()` is
 * synchronous and holds the calling JavaScript thread for the whole pass, which otherwise
 * stalls every asynchronous decode (sharp) step queued behind it. Inputs, logits and taps move
 * between the threads by transfer, not by copy.
 *
 * Internal to `lib/extract`; not re-exported from `mod.ts`.
 *
 * @module
 */

import { DataFormatError, ModelFormatError } from "../errors.ts";
import type { ModelRuntime, RunResult, TapOutput } from "../model/runtime.ts";

/**
 * The Web Worker constructor, taken when this module loads: onnxruntime-web's wasm build, once
 * loaded, replaces `globalThis.Worker` with node's `worker_threads` Worker (other semantics).
 */
const WebWorker = globalThis.Worker;

const ERRORS: Record<string, new (message: string) => Error> = {
  ModelFormatError,
  DataFormatError,
  RangeError,
  TypeError,
};

/** Options of {@linkcode createThreadedRuntime}. */
export interface ThreadedRuntimeOptions {
  /** Intra-op threads. Default `navigator.hardwareConcurrency`. */
  threads?: number;
  /** Name of the logits output. Default: the model's first output. */
  logits?: string;
  /** Reason to report instead of the runtime's own (e.g. the caller's `auto` decision). */
  reason?: string;
}

/**
 * Creates an onnxruntime-node session inside a worker and returns it as a
 * {@linkcode ModelRuntime}: same results as `createRuntime(kind, …)` on the main thread, with
 * the main thread free while a batch runs. `run()` transfers its input buffer to the worker
 * (the caller's array is detached afterwards).
 *
 * @param kind `"node"` (onnxruntime-web's wasm runtime starts workers of its own).
 * @param modelBytes Self-contained ONNX bytes.
 * @param options Threads, logits name.
 * @returns The runtime; its `reason` ends in `; worker thread`.
 * @throws {ModelFormatError} If the runtime refuses the model.
 * @throws {Error} If the worker cannot start (e.g. a compiled binary without the worker module).
 */
export async function createThreadedRuntime(
  kind: "node",
  modelBytes: Uint8Array,
  options: ThreadedRuntimeOptions = {},
): Promise<ModelRuntime> {
  const worker = new WebWorker(new URL("./runtime_worker.ts", import.meta.url), { type: "module" });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let dead: Error | null = null;
  const fail = (e: Error) => {
    dead ??= e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  worker.onmessage = (event: MessageEvent) => {
    const m = event.data;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.type === "error") p.reject(new (ERRORS[m.name] ?? Error)(m.message));
    else p.resolve(m);
  };
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    fail(new Error(`Cannot run the model worker: ${event.message}`));
  };
  const call = (msg: Record<string, unknown>, transfer: Transferable[] = []) => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...msg, id }, transfer);
    });
  };
  let info: Record<string, unknown>;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // A worker that never answers (it cannot start, or hangs) must not hang the extraction.
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("Cannot start the model worker: no answer in 300 s")),
        300_000,
      );
    });
    info = await Promise.race([
      call({
        type: "init",
        kind,
        bytes: modelBytes,
        threads: options.threads,
        logits: options.logits,
        reason: options.reason,
      }),
      silent,
    ]);
  } catch (e) {
    worker.terminate();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return {
    kind: "node",
    reason: `${info.reason}; worker thread`,
    threads: info.threads as number,
    inputName: info.inputName as string,
    logitsName: info.logitsName as string,
    tapNames: info.tapNames as string[],
    async run(input: Float32Array, shape: readonly number[]): Promise<RunResult> {
      // A view into a larger buffer (or a shared one) is copied; a whole buffer is transferred.
      const whole = input.byteOffset === 0 && input.byteLength === input.buffer.byteLength &&
        input.buffer instanceof ArrayBuffer;
      const x = whole ? input : input.slice();
      const r = await call({ type: "run", input: x, shape: [...shape] }, [x.buffer as ArrayBuffer]);
      return {
        logits: r.logits as Float32Array,
        logitsDims: r.logitsDims as number[],
        taps: r.taps as Record<string, TapOutput>,
        dispose() {},
      };
    },
    async dispose() {
      try {
        if (!dead) await call({ type: "dispose" });
      } finally {
        worker.terminate();
      }
    },
  };
}
