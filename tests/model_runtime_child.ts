/**
 * Child process for `model_runtime_test.ts`: creates an `auto` runtime for the toy CNN and
 * prints its kind and reason as JSON. Run without `--allow-ffi`, onnxruntime-node (a native
 * addon) cannot load, which is the case `auto` must survive by falling back to wasm.
 *
 * @module
 */

import { loadModel } from "../lib/model/load.ts";
import { createRuntime } from "../lib/model/runtime.ts";

const m = await loadModel("tests/data/models/toy_cnn.onnx");
const rt = await createRuntime("auto", m.bytes);
const r = await rt.run(new Float32Array(28 * 28), [1, 1, 28, 28]);
console.log(JSON.stringify({ kind: rt.kind, reason: rt.reason, logits: r.logitsDims }));
await rt.dispose();
