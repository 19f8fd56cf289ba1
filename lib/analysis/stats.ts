/**
 * Small statistical tools behind the verdicts: Student-t and normal tails and quantiles, an
 * exact binomial tail, Wilson intervals for proportions, Kendall's τ, percentile intervals and
 * p-values from bootstrap replicates, and Holm's step-down adjustment. Plain functions on
 * numbers, checked against textbook values in the tests.
 *
 * @module
 */

/**
 * Mean of the finite values.
 *
 * @param xs Values.
 * @returns Their mean, NaN when none is finite.
 *
 * @example
 * ```ts
 * import { finiteMean } from "./stats.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(finiteMean([1, 2, NaN, 3]), 2);
 * ```
 */
export function finiteMean(xs: ArrayLike<number>): number {
  let s = 0, c = 0;
  for (let i = 0; i < xs.length; i++) {
    if (Number.isFinite(xs[i])) {
      s += xs[i];
      c++;
    }
  }
  return c ? s / c : NaN;
}

/**
 * Sample standard deviation (n − 1 in the denominator) of the finite values.
 *
 * @param xs Values.
 * @returns The standard deviation, NaN with fewer than two finite values.
 *
 * @example
 * ```ts
 * import { sampleSd } from "./stats.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(sampleSd([1, 2, 3]), 1);
 * ```
 */
export function sampleSd(xs: ArrayLike<number>): number {
  const m = finiteMean(xs);
  let s = 0, c = 0;
  for (let i = 0; i < xs.length; i++) {
    if (Number.isFinite(xs[i])) {
      s += (xs[i] - m) ** 2;
      c++;
    }
  }
  return c >= 2 ? Math.sqrt(s / (c - 1)) : NaN;
}

/** log Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~1e-15 relative). */
function _logGamma(x: number): number {
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - _logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the regularised incomplete beta (Numerical Recipes' betacf). */
function _betaCf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
function _betaInc(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbt = _logGamma(a + b) - _logGamma(a) - _logGamma(b) + a * Math.log(x) +
    b * Math.log(1 - x);
  const bt = Math.exp(lbt);
  return x < (a + 1) / (a + b + 2)
    ? (bt * _betaCf(a, b, x)) / a
    : 1 - (bt * _betaCf(b, a, 1 - x)) / b;
}

/**
 * Cumulative distribution function of Student's t.
 *
 * @param t The value.
 * @param df Degrees of freedom (> 0).
 * @returns P(T ≤ t).
 *
 * @example
 * ```ts
 * import { tCdf } from "./stats.ts";
 * import { ok } from "node:assert";
 * ok(Math.abs(tCdf(2.776445, 4) - 0.975) < 1e-6);
 * ```
 */
export function tCdf(t: number, df: number): number {
  if (Number.isNaN(t)) return NaN;
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const x = df / (df + t * t);
  const tail = 0.5 * _betaInc(df / 2, 0.5, x);
  return t > 0 ? 1 - tail : tail;
}

/**
 * Quantile of Student's t (bisection on {@linkcode tCdf}, to 1e-12).
 *
 * @param p Probability in (0, 1).
 * @param df Degrees of freedom (> 0).
 * @returns t with P(T ≤ t) = p.
 *
 * @example
 * ```ts
 * import { tQuantile } from "./stats.ts";
 * import { ok } from "node:assert";
 * ok(Math.abs(tQuantile(0.975, 4) - 2.776445) < 1e-5);
 * ```
 */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) return p === 0 ? -Infinity : p === 1 ? Infinity : NaN;
  if (p === 0.5) return 0;
  let lo = -1, hi = 1;
  while (tCdf(lo, df) > p) lo *= 2;
  while (tCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(lo)); i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Standard normal cumulative distribution function, through erfc(x) = Q(½, x²) (the
 * regularised upper incomplete gamma: series below x² < 1.5, Lentz continued fraction above).
 *
 * @param z The value.
 * @returns Φ(z).
 *
 * @example
 * ```ts
 * import { normalCdf } from "./stats.ts";
 * import { ok } from "node:assert";
 * ok(Math.abs(normalCdf(1.959964) - 0.975) < 1e-7);
 * ```
 */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return 0.5 * _erfc(-z / Math.SQRT2);
}

function _erfc(x: number): number {
  // erfc via the regularised incomplete gamma: erfc(x) = Q(1/2, x²) for x ≥ 0.
  if (x < 0) return 2 - _erfc(-x);
  if (x === Infinity) return 0;
  const a = 0.5, z = x * x;
  if (z < a + 1) {
    // Series for P(a, z).
    let sum = 1 / a, term = 1 / a;
    for (let n = 1; n < 500; n++) {
      term *= z / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return 1 - sum * Math.exp(-z + a * Math.log(z) - _logGamma(a));
  }
  // Continued fraction for Q(a, z) (Lentz).
  const tiny = 1e-300;
  let b = z + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return Math.exp(-z + a * Math.log(z) - _logGamma(a)) * h;
}

/**
 * Upper tail of the binomial distribution, P(X ≥ x) for X ~ Bin(n, p), summed exactly in log
 * space (fine for n in the hundreds of thousands).
 *
 * @param x Observed successes.
 * @param n Trials.
 * @param p Success probability.
 * @returns The tail probability.
 *
 * @example
 * ```ts
 * import { binomialUpperTail } from "./stats.ts";
 * import { ok } from "node:assert";
 * ok(Math.abs(binomialUpperTail(8, 10, 0.5) - 56 / 1024) < 1e-12);
 * ```
 */
export function binomialUpperTail(x: number, n: number, p: number): number {
  if (x <= 0) return 1;
  if (x > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const lc = _logGamma(n + 1);
  let s = 0;
  for (let k = x; k <= n; k++) {
    const lt = lc - _logGamma(k + 1) - _logGamma(n - k + 1) + k * Math.log(p) +
      (n - k) * Math.log(1 - p);
    const t = Math.exp(lt);
    s += t;
    if (k > n * p && t < s * 1e-17) break;
  }
  return Math.min(1, s);
}

/**
 * Wilson score interval of a proportion.
 *
 * @param x Successes.
 * @param n Trials (0 gives `[NaN, NaN]`).
 * @param level Confidence level. Default 0.95.
 * @returns `[low, high]` within [0, 1].
 *
 * @example
 * ```ts
 * import { wilsonInterval } from "./stats.ts";
 * import { ok } from "node:assert";
 * const [lo, hi] = wilsonInterval(5, 10);
 * ok(Math.abs(lo - 0.2366) < 1e-4 && Math.abs(hi - 0.7634) < 1e-4);
 * ```
 */
export function wilsonInterval(x: number, n: number, level = 0.95): [number, number] {
  if (n <= 0) return [NaN, NaN];
  const z = normalQuantile((1 + level) / 2), ph = x / n, z2 = z * z;
  const centre = (ph + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((ph * (1 - ph)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * Standard normal quantile (bisection on {@linkcode normalCdf}).
 *
 * @param p Probability in (0, 1).
 * @returns z with Φ(z) = p.
 *
 * @example
 * ```ts
 * import { normalQuantile } from "./stats.ts";
 * import { ok } from "node:assert";
 * ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-6);
 * ```
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) return p === 0 ? -Infinity : p === 1 ? Infinity : NaN;
  let lo = -40, hi = 40;
  for (let i = 0; i < 200 && hi - lo > 1e-13; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Kendall's τ-b between the positions 0..n−1 and the values (ties in the values counted as
 * neither concordant nor discordant, with the τ-b denominator).
 *
 * @param values Values in order (e.g. one per layer, shallow to deep).
 * @returns τ in [−1, 1]; NaN with fewer than two finite values or when all values tie.
 *
 * @example
 * ```ts
 * import { kendallTau } from "./stats.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(kendallTau([1, 2, 3, 4]), 1);
 * assertEquals(kendallTau([4, 3, 2, 1]), -1);
 * ```
 */
export function kendallTau(values: ArrayLike<number>): number {
  let conc = 0, disc = 0, tiesY = 0, n = 0;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) continue;
    n++;
    for (let j = i + 1; j < values.length; j++) {
      if (!Number.isFinite(values[j])) continue;
      const d = values[j] - values[i];
      if (d > 0) conc++;
      else if (d < 0) disc++;
      else tiesY++;
    }
  }
  const pairs = (n * (n - 1)) / 2;
  const denom = Math.sqrt(pairs * (pairs - tiesY));
  return n >= 2 && denom > 0 ? (conc - disc) / denom : NaN;
}

/**
 * The `p`-quantile of ascending-sorted values (linear interpolation, numpy's default).
 *
 * @param sorted Sorted values.
 * @param p Probability in [0, 1].
 * @returns The quantile, NaN when empty.
 */
function _q(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p, lo = Math.floor(h), hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Equal-tailed percentile interval of sorted bootstrap replicates.
 *
 * @param sorted Finite replicates, ascending.
 * @param level Confidence level in (0, 1).
 * @returns `[low, high]`; `[NaN, NaN]` when there are no replicates.
 *
 * @example
 * ```ts
 * import { percentileInterval } from "./stats.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(percentileInterval([0, 1, 2, 3, 4], 0.5), [1, 3]);
 * ```
 */
export function percentileInterval(sorted: ArrayLike<number>, level: number): [number, number] {
  return [_q(sorted, (1 - level) / 2), _q(sorted, (1 + level) / 2)];
}

/**
 * Two-sided p-value of "the statistic equals `threshold`" from bootstrap replicates, by the
 * normal approximation `z = (point − threshold) / sd(replicates)` (a percentile count cannot
 * resolve the small levels a Holm adjustment asks for with a few hundred replicates). Used to
 * order a family of claims; verdicts come from intervals.
 *
 * @param point The statistic on the full sample.
 * @param replicates Finite replicates.
 * @param threshold The "no effect" value.
 * @returns p in [0, 1]; 1 when the replicates have no spread and the point equals the threshold.
 *
 * @example
 * ```ts
 * import { bootstrapP } from "./stats.ts";
 * import { ok } from "node:assert";
 * ok(bootstrapP(3, [2, 3, 4], 0) < 0.01);
 * ```
 */
export function bootstrapP(
  point: number,
  replicates: ArrayLike<number>,
  threshold: number,
): number {
  const sd = sampleSd(replicates);
  if (!Number.isFinite(point)) return 1;
  if (!(sd > 0)) return point === threshold ? 1 : 0;
  const z = Math.abs(point - threshold) / sd;
  return Math.min(1, 2 * normalCdf(-z));
}

/**
 * Holm's step-down adjustment in the form used for interval verdicts: the claims are ordered
 * by p-value; the j-th (0-based) is judged at level `α / (m − j)`; after the first claim that is
 * not decided at its level, every later one is retained (not decided).
 *
 * @param ps p-values of the m claims of a family (NaN = not part of the family).
 * @param alpha Family-wise error rate, e.g. 0.05.
 * @returns Per claim (input order), its level α_j and rank (−1 outside the family).
 *
 * @example
 * ```ts
 * import { holmLevels } from "./stats.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(holmLevels([0.04, 0.001, NaN], 0.05).map((h) => h.alpha), [0.05, 0.025, NaN]);
 * ```
 */
export function holmLevels(
  ps: readonly number[],
  alpha: number,
): { alpha: number; rank: number }[] {
  const idx = ps.map((p, i) => [p, i] as const).filter(([p]) => Number.isFinite(p));
  idx.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const m = idx.length;
  const out = ps.map(() => ({ alpha: NaN, rank: -1 }));
  idx.forEach(([, i], j) => (out[i] = { alpha: alpha / (m - j), rank: j }));
  return out;
}
