/**
 * Child process for the sharding and concurrency tests in `extract_shard_test.ts`: extracts
 * codes of the toy CNN over a synthetic data set into a shared cache and prints one JSON line
 * `{ computed, n, start, end }`.
 *
 * Usage: deno run -A tests/extract_shard_child.ts CACHE_DIR N BATCH SHARD|all
 *
 * @module
 */

import { extractQuiet, loadModel, syntheticDataset, TOY_CNN } from "./model_helpers.ts";
import { parseShard } from "../mod.ts";

const [cacheDir, n, batch, shard] = Deno.args;
const model = await loadModel(TOY_CNN);
const r = await extractQuiet(
  model,
  syntheticDataset(Number(n)),
  Array.from({ length: Number(n) }, (_, i) => i),
  {
    batchSize: Number(batch),
    chunkImages: Number(batch), // every batch is its own chunk: the most interleaving
    cacheDir,
    shard: shard === "all" ? undefined : parseShard(shard),
  },
);
console.log(JSON.stringify({
  computed: r.computed,
  n: r.indices.length,
  start: r.shard?.start ?? 0,
  end: r.shard?.end ?? Number(n),
}));
