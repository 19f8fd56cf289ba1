/**
 * Worker side of {@linkcode createThreadedRuntime}: hosts one CPU model session
 * (`createRuntime("node" | "wasm")`) off the main thread, because onnxruntime-node's `run()`
 * blocks the calling JavaScript thread for the whole forward pass. Messages in: `init`, `run`,
 * `dispose`; out: `ready`, `result` (logits and taps transferred, not copied), `error`.
 *
 * @module
 */

// Loaded by a computed URL: Deno type-checks a worker's static imports against the worker lib,
// where the main-thread modules' `Navigator` types do not exist.
const RUNTIME_MODULE = new URL("../model/runtime.ts", import.meta.url).href;

/** The worker's global scope (typed here: the worker lib would change the whole program's). */
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
  close(): void;
};

/** The part of `ModelRuntime` used here (not imported: see above). */
interface _Runtime {
  kind: string;
  reason: string;
  threads: number;
  inputName: string;
  logitsName: string;
  tapNames: readonly string[];
  run(input: Float32Array, shape: number[]): Promise<{
    logits: Float32Array;
    logitsDims: number[];
    taps: Record<string, { dims: number[]; data?: Float32Array }>;
  }>;
  dispose(): Promise<void>;
}

let runtime: _Runtime | null = null;

function _error(id: number, e: unknown) {
  const err = e as Error;
  scope.postMessage({
    type: "error",
    id,
    name: err?.name ?? "Error",
    message: String(err?.message ?? e),
  });
}

scope.onmessage = async (event: MessageEvent) => {
  const m = event.data;
  try {
    if (m.type === "init") {
      const { createRuntime } = await import(RUNTIME_MODULE);
      runtime = await createRuntime(m.kind, m.bytes, {
        threads: m.threads,
        logits: m.logits,
      }) as _Runtime;
      if (runtime.kind !== "node" && runtime.kind !== "wasm") {
        throw new TypeError(`the worker hosts CPU runtimes only, not "${runtime.kind}"`);
      }
      const { kind, threads, inputName, logitsName, tapNames } = runtime;
      const reason = m.reason ?? runtime.reason;
      scope.postMessage({
        type: "ready",
        id: m.id,
        kind,
        reason,
        threads,
        inputName,
        logitsName,
        tapNames: [...tapNames],
      });
    } else if (m.type === "run") {
      const r = await runtime!.run(m.input, m.shape);
      const taps: Record<string, { dims: number[]; data: Float32Array }> = {};
      const transfer: ArrayBuffer[] = [r.logits.buffer as ArrayBuffer];
      for (const [name, t] of Object.entries(r.taps)) {
        taps[name] = { dims: t.dims, data: t.data! };
        transfer.push(t.data!.buffer as ArrayBuffer);
      }
      scope.postMessage(
        { type: "result", id: m.id, logits: r.logits, logitsDims: r.logitsDims, taps },
        [...new Set(transfer)],
      );
    } else if (m.type === "dispose") {
      await runtime?.dispose();
      runtime = null;
      scope.postMessage({ type: "disposed", id: m.id });
      scope.close();
    }
  } catch (e) {
    _error(m.id, e);
  }
};
