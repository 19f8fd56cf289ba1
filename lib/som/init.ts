/**
 * Initial SOM weights (SOM.md "Initialisation"): seeded standard normals (QuickSOM's choice),
 * random training rows, or the plane of the data's first two principal components. Every
 * strategy draws from the stream `"som-init"` of the map's root seed, so a seed fixes the map.
 *
 * @module
 */

import { Rng } from "../rng.ts";
import type { GridShape } from "../geometry/torus.ts";

/** How the weights start: a named strategy or explicit `K×dim` weights. */
export type SomInit = "normal" | "pca" | "sample" | Float32Array;

/**
 * `K×d` standard normal weights from stream `"som-init"` of `seed`.
 *
 * @param K Units.
 * @param d Dimension.
 * @param seed Root seed.
 * @returns The weights, row-major.
 *
 * @example
 * ```ts
 * import { normalWeights } from "./init.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(normalWeights(2, 3, 0), normalWeights(2, 3, 0));
 * ```
 */
export function normalWeights(K: number, d: number, seed: number): Float32Array {
  const rng = new Rng(seed).stream("som-init");
  return Float32Array.from({ length: K * d }, () => rng.normal());
}

/**
 * Weights copied from random training rows (without replacement when there are at least `K`).
 *
 * @param data `N×d` codes.
 * @param N Rows.
 * @param K Units.
 * @param d Dimension.
 * @param seed Root seed.
 * @returns `K×d` weights.
 *
 * @example
 * ```ts
 * import { sampleWeights } from "./init.ts";
 * import { ok } from "node:assert";
 * const w = sampleWeights(Float32Array.from([1, 1, 2, 2, 3, 3]), 3, 2, 2, 0);
 * ok([1, 2, 3].includes(w[0]) && w[0] === w[1]);
 * ```
 */
export function sampleWeights(
  data: Float32Array,
  N: number,
  K: number,
  d: number,
  seed: number,
): Float32Array {
  const rng = new Rng(seed).stream("som-init");
  const w = new Float32Array(K * d);
  const pick = N >= K
    ? rng.permutation(N).subarray(0, K)
    : Int32Array.from({ length: K }, () => rng.int(N));
  for (let k = 0; k < K; k++) w.set(data.subarray(pick[k] * d, pick[k] * d + d), k * d);
  return w;
}

/**
 * PCA weights: `mean + c1·s1·pc1 + c2·s2·pc2` with `c` running over [−1, 1] along the rows
 * (`c1`) and the columns (`c2`) of the grid and `s` the component's standard deviation. The
 * components come from power iteration (50 steps, with deflation) on at most 4096 rows, never
 * forming the `d×d` covariance (268 MB at d = 8192).
 *
 * @param data `N×d` codes.
 * @param N Rows.
 * @param grid The grid.
 * @param d Dimension.
 * @param seed Root seed.
 * @returns `m·n×d` weights.
 *
 * @example The map is centred on the data mean
 * ```ts
 * import { pcaWeights } from "./init.ts";
 * import { ok } from "node:assert";
 * const data = Float32Array.from([0, 0, 2, 0, 0, 2, 2, 2]);
 * const w = pcaWeights(data, 4, { m: 3, n: 3 }, 2, 0);
 * ok(Math.abs(w[4 * 2] - 1) < 1e-6 && Math.abs(w[4 * 2 + 1] - 1) < 1e-6); // the centre unit
 * ```
 */
export function pcaWeights(
  data: Float32Array,
  N: number,
  grid: GridShape,
  d: number,
  seed: number,
): Float32Array {
  const { m, n } = grid;
  const rng = new Rng(seed).stream("som-init");
  const w = new Float32Array(m * n * d);
  const S = Math.min(N, 4096);
  const rows = N > S
    ? rng.permutation(N).subarray(0, S)
    : Int32Array.from({ length: N }, (_, i) => i);
  const mean = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += data[r * d + j];
  for (let j = 0; j < d; j++) mean[j] /= S;
  const comps: Float64Array[] = [], sds: number[] = [];
  for (let c = 0; c < 2; c++) {
    const { v, lambda } = _powerIteration(data, rows, mean, d, comps, rng);
    comps.push(v);
    sds.push(Math.sqrt(lambda));
  }
  for (let i = 0; i < m; i++) {
    const c1 = m > 1 ? -1 + 2 * i / (m - 1) : 0;
    for (let jj = 0; jj < n; jj++) {
      const c2 = n > 1 ? -1 + 2 * jj / (n - 1) : 0;
      const o = (i * n + jj) * d;
      for (let j = 0; j < d; j++) {
        w[o + j] = mean[j] + c1 * sds[0] * comps[0][j] + c2 * sds[1] * comps[1][j];
      }
    }
  }
  return w;
}

/** The next principal component orthogonal to `comps`, and its eigenvalue. */
function _powerIteration(
  data: Float32Array,
  rows: Int32Array,
  mean: Float64Array,
  d: number,
  comps: Float64Array[],
  rng: Rng,
): { v: Float64Array; lambda: number } {
  const S = rows.length;
  const proj = new Float64Array(S);
  let v = Float64Array.from({ length: d }, () => rng.normal());
  let lambda = 0;
  for (let it = 0; it < 50; it++) {
    for (const p of comps) _deflate(v, p);
    for (let s = 0; s < S; s++) {
      let dot = 0;
      const o = rows[s] * d;
      for (let j = 0; j < d; j++) dot += (data[o + j] - mean[j]) * v[j];
      proj[s] = dot;
    }
    const nv = new Float64Array(d);
    for (let s = 0; s < S; s++) {
      const o = rows[s] * d, p = proj[s];
      for (let j = 0; j < d; j++) nv[j] += (data[o + j] - mean[j]) * p;
    }
    for (const p of comps) _deflate(nv, p);
    let sq = 0;
    for (let j = 0; j < d; j++) sq += nv[j] * nv[j];
    const norm = Math.sqrt(sq);
    if (norm === 0) break;
    lambda = norm / Math.max(1, S - 1);
    for (let j = 0; j < d; j++) nv[j] /= norm;
    v = nv;
  }
  return { v, lambda };
}

function _deflate(v: Float64Array, p: Float64Array): void {
  let dot = 0;
  for (let j = 0; j < v.length; j++) dot += v[j] * p[j];
  for (let j = 0; j < v.length; j++) v[j] -= dot * p[j];
}
