/**
 * Sharded extraction: shard `i` of `N` owns a deterministic, contiguous slice of a run's
 * positions, cut at whole batches so every shard runs exactly the batches a one-process run
 * would (the same examples in the same forward passes, hence byte-identical codes). Shards
 * write into the shared content-addressed cache; a later run over the whole index list finds
 * every shard's rows there and computes nothing.
 *
 * @module
 */

/** Shard `index` (0-based) of `count`. */
export interface Shard {
  /** 0-based shard number, `0 ≤ index < count`. */
  index: number;
  /** Number of shards, ≥ 1. */
  count: number;
}

/**
 * Parses a shard given as `i/N` (0-based `i`, e.g. `0/4` … `3/4`, as a Slurm array task id
 * over `N` tasks).
 *
 * @param text `"i/N"`.
 * @returns The shard.
 * @throws {RangeError} If the text is not `i/N` with integers `0 ≤ i < N`.
 *
 * @example
 * ```ts
 * import { parseShard } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals, throws } from "node:assert";
 * assertEquals(parseShard("2/8"), { index: 2, count: 8 });
 * throws(() => parseShard("8/8"), RangeError);
 * ```
 */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(String(text).trim());
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index < count) || !Number.isSafeInteger(count)) {
    throw new RangeError(
      `Cannot shard: shard is "${text}" but expected i/N with integers 0 ≤ i < N (e.g. 0/4)`,
    );
  }
  return { index, count };
}

/**
 * The positions `[start, end)` of shard `shard` in a run of `n` examples at `batchSize`: the
 * run's `ceil(n / batchSize)` batches are split as evenly as possible, in order.
 *
 * @param n Examples in the run.
 * @param batchSize Examples per forward pass.
 * @param shard The shard.
 * @returns `[start, end)`; empty when there are more shards than batches.
 * @throws {RangeError} If the shard is not `0 ≤ index < count`.
 *
 * @example
 * ```ts
 * import { shardRange } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * // 10 examples at batch 3 are batches [0,3) [3,6) [6,9) [9,10): two shards of two batches.
 * assertEquals(shardRange(10, 3, { index: 0, count: 2 }), [0, 6]);
 * assertEquals(shardRange(10, 3, { index: 1, count: 2 }), [6, 10]);
 * ```
 */
export function shardRange(n: number, batchSize: number, shard: Shard): [number, number] {
  const { index, count } = shard;
  if (
    !(Number.isInteger(count) && count >= 1 && Number.isInteger(index) && index >= 0 &&
      index < count)
  ) {
    throw new RangeError(
      `Cannot shard: shard is ${index}/${count} but expected integers 0 ≤ index < count`,
    );
  }
  const batches = Math.ceil(n / batchSize);
  const b0 = Math.floor((index * batches) / count);
  const b1 = Math.floor(((index + 1) * batches) / count);
  return [Math.min(n, b0 * batchSize), Math.min(n, b1 * batchSize)];
}
