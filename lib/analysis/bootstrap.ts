/**
 * Percentile bootstrap intervals with a seeded generator.
 *
 * @module
 */

import type { Rng } from "../rng.ts";
import { quantileSorted } from "./box_stats.ts";

/**
 * A percentile bootstrap interval: `replicate` is called `resamples` times with the generator
 * (it draws its own resample, e.g. classes with replacement) and the `(1±level)/2` quantiles of
 * the finite replicates are returned.
 *
 * @param replicate Computes the statistic on one resample drawn with `rng`.
 * @param rng Seeded generator.
 * @param options `resamples` (default 1000) and `level` (default 0.95).
 * @returns `[low, high]`; `[NaN, NaN]` when no replicate is finite.
 * @throws {RangeError} If `resamples < 1` or `level` is outside (0, 1).
 *
 * @example
 * ```ts
 * import { bootstrapInterval, Rng } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const xs = [1, 2, 3, 4, 5];
 * const [lo, hi] = bootstrapInterval((r) => xs[r.int(xs.length)], new Rng(1), { resamples: 200 });
 * assertEquals(lo >= 1 && hi <= 5 && lo <= hi, true);
 * ```
 */
export function bootstrapInterval(
  replicate: (rng: Rng) => number,
  rng: Rng,
  options: { resamples?: number; level?: number } = {},
): [number, number] {
  const B = options.resamples ?? 1000, level = options.level ?? 0.95;
  if (!Number.isInteger(B) || B < 1) {
    throw new RangeError(`Cannot bootstrap: resamples is ${B} but must be a positive integer`);
  }
  if (!(level > 0 && level < 1)) {
    throw new RangeError(`Cannot bootstrap: level is ${level} but must be in (0, 1)`);
  }
  const vals: number[] = [];
  for (let b = 0; b < B; b++) {
    const v = replicate(rng);
    if (Number.isFinite(v)) vals.push(v);
  }
  if (vals.length === 0) return [NaN, NaN];
  vals.sort((a, b) => a - b);
  return [quantileSorted(vals, (1 - level) / 2), quantileSorted(vals, (1 + level) / 2)];
}

/**
 * Draws `n` indices in `[0, n)` with replacement.
 *
 * @param rng Generator.
 * @param n Population size.
 * @returns The resampled indices.
 */
export function resampleIndices(rng: Rng, n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(n);
  return out;
}
