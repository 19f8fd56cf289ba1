/**
 * Box-plot statistics and quantiles, as drawn in the paper's Figs. 6, 7, 11 and Supp. Fig. 3:
 * median, quartiles, whiskers at 1.5 IQR (the most extreme data inside the fences) and outliers.
 *
 * @module
 */

/** Box-plot summary of a sample. */
export interface BoxStats {
  /** Sample size (non-finite values are dropped first). */
  n: number;
  /** Mean. */
  mean: number;
  /** Smallest value. */
  min: number;
  /** First quartile (linear interpolation, numpy's default). */
  q1: number;
  /** Median. */
  median: number;
  /** Third quartile. */
  q3: number;
  /** Largest value. */
  max: number;
  /** Lowest datum ≥ q1 − 1.5·IQR. */
  whiskerLow: number;
  /** Highest datum ≤ q3 + 1.5·IQR. */
  whiskerHigh: number;
  /** Values outside the whiskers, ascending. */
  outliers: number[];
}

/**
 * The `p`-quantile of ascending-sorted values by linear interpolation between order statistics
 * (numpy's default, Hyndman–Fan type 7).
 *
 * @param sorted Values sorted ascending.
 * @param p Probability in [0, 1].
 * @returns The quantile, NaN for an empty sample.
 * @example
 * ```ts
 * import { quantileSorted } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
 * assertEquals(quantileSorted([], 0.5), NaN);
 * ```
 */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p, lo = Math.floor(h), hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

function _sortedFinite(values: ArrayLike<number>): Float64Array {
  let c = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) c++;
  const out = new Float64Array(c);
  c = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) out[c++] = values[i];
  return out.sort();
}

/**
 * Box-plot statistics of a sample: quartiles by linear interpolation, whiskers at the most
 * extreme data within 1.5 IQR of the box, outliers beyond. Non-finite values are ignored; an
 * empty sample gives `n = 0` and NaN statistics.
 *
 * @param values The sample.
 * @returns The summary.
 *
 * @example
 * ```ts
 * import { boxStats } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const s = boxStats([1, 2, 3, 4, 100]);
 * assertEquals([s.q1, s.median, s.q3, s.whiskerHigh, s.outliers], [2, 3, 4, 4, [100]]);
 * ```
 */
export function boxStats(values: ArrayLike<number>): BoxStats {
  const s = _sortedFinite(values);
  const n = s.length;
  if (n === 0) {
    return {
      n,
      mean: NaN,
      min: NaN,
      q1: NaN,
      median: NaN,
      q3: NaN,
      max: NaN,
      whiskerLow: NaN,
      whiskerHigh: NaN,
      outliers: [],
    };
  }
  let sum = 0;
  for (const v of s) sum += v;
  const q1 = quantileSorted(s, 0.25), q3 = quantileSorted(s, 0.75);
  const lo = q1 - 1.5 * (q3 - q1), hi = q3 + 1.5 * (q3 - q1);
  let wl = q1, wh = q3;
  const outliers: number[] = [];
  for (const v of s) {
    if (v < lo || v > hi) outliers.push(v);
    else {
      if (v < wl) wl = v;
      if (v > wh) wh = v;
    }
  }
  return {
    n,
    mean: sum / n,
    min: s[0],
    q1,
    median: quantileSorted(s, 0.5),
    q3,
    max: s[n - 1],
    whiskerLow: wl,
    whiskerHigh: wh,
    outliers,
  };
}

/** Distribution summary for large samples (no outlier list). */
export interface Distribution {
  /** Sample size. */
  n: number;
  /** Mean. */
  mean: number;
  /** Standard deviation (population). */
  std: number;
  /** Smallest value. */
  min: number;
  /** First quartile. */
  q1: number;
  /** Median. */
  median: number;
  /** Third quartile. */
  q3: number;
  /** Largest value. */
  max: number;
}

/**
 * Mean, standard deviation and quartiles of a (possibly large) sample; non-finite values ignored.
 *
 * @param values The sample.
 * @returns The summary.
 *
 * @example
 * ```ts
 * import { distribution } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const d = distribution([1, 2, 3, 4, NaN]);
 * assertEquals([d.n, d.mean, d.median], [4, 2.5, 2.5]);
 * ```
 */
export function distribution(values: ArrayLike<number>): Distribution {
  const s = _sortedFinite(values);
  const n = s.length;
  let sum = 0, sq = 0;
  for (const v of s) sum += v;
  const mean = n ? sum / n : NaN;
  for (const v of s) sq += (v - mean) * (v - mean);
  return {
    n,
    mean,
    std: n ? Math.sqrt(sq / n) : NaN,
    min: n ? s[0] : NaN,
    q1: quantileSorted(s, 0.25),
    median: quantileSorted(s, 0.5),
    q3: quantileSorted(s, 0.75),
    max: n ? s[n - 1] : NaN,
  };
}

/**
 * Histogram with equal-width bins over `[lo, hi]`.
 *
 * @param values The sample.
 * @param bins Number of bins.
 * @param lo Lower edge (default: sample minimum).
 * @param hi Upper edge (default: sample maximum).
 * @returns Bin edges (`bins + 1`) and counts.
 */
export function histogram(
  values: ArrayLike<number>,
  bins: number,
  lo?: number,
  hi?: number,
): { edges: number[]; counts: number[] } {
  let a = lo ?? Infinity, b = hi ?? -Infinity;
  if (lo === undefined || hi === undefined) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) continue;
      if (lo === undefined && v < a) a = v;
      if (hi === undefined && v > b) b = v;
    }
  }
  if (!Number.isFinite(a) || !Number.isFinite(b)) a = b = 0;
  if (b <= a) b = a + 1e-9;
  const counts = new Array(bins).fill(0);
  const w = (b - a) / bins;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v) || v < a || v > b) continue;
    counts[Math.min(bins - 1, Math.floor((v - a) / w))]++;
  }
  return { edges: Array.from({ length: bins + 1 }, (_, i) => a + i * w), counts };
}
