/**
 * Child process for the resume test in `extract_codes_test.ts`: extracts codes of the toy CNN
 * over a synthetic data set, one image per batch, and after `--stop-after` batches writes a
 * marker file and waits to be killed (SIGKILL) by the parent.
 *
 * Usage: deno run -A tests/extract_child.ts CACHE_DIR MARKER N STOP_AFTER
 *
 * @module
 */

import { extractCodes, loadModel, syntheticDataset } from "./model_helpers.ts";

const [cacheDir, marker, n, stopAfter] = Deno.args;
const model = await loadModel("tests/data/models/toy_cnn.onnx");
const data = syntheticDataset(Number(n));
await extractCodes(model, data, Array.from({ length: Number(n) }, (_, i) => i), {
  runtime: "node",
  threads: 1,
  batchSize: 1,
  cacheDir,
  progress: false,
  async onBatch(done) {
    if (done === Number(stopAfter)) {
      await Deno.writeTextFile(marker, String(done));
      await new Promise(() => setInterval(() => {}, 1000)); // wait for SIGKILL
    }
  },
});
