/**
 * Child process for the resume test in `extract_codes_test.ts`: extracts codes of the toy CNN
 * over a synthetic data set, one image per batch and chunk, and after `--stop-after` batches writes a
 * marker file and waits to be killed (SIGKILL) by the parent.
 *
 * With STOP_AFTER 0 it never stops by itself: the parent kills it at an arbitrary moment.
 *
 * Usage: deno run -A tests/extract_child.ts CACHE_DIR MARKER N STOP_AFTER
 *
 * @module
 */

import { extractQuiet, loadModel, syntheticDataset, TOY_CNN } from "./model_helpers.ts";

const [cacheDir, marker, n, stopAfter] = Deno.args;
const model = await loadModel(TOY_CNN);
const data = syntheticDataset(Number(n));
await extractQuiet(model, data, Array.from({ length: Number(n) }, (_, i) => i), {
  batchSize: 1,
  chunkImages: 1, // every batch is its own chunk, so the kill lands between whole chunks
  cacheDir,
  async onBatch(done) {
    if (Number(stopAfter) > 0 && done === Number(stopAfter)) {
      await Deno.writeTextFile(marker, String(done));
      await new Promise(() => setInterval(() => {}, 1000)); // wait for SIGKILL
    }
  },
});
