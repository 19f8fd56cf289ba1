/**
 * Map quality beyond the paper: quantization error, torus topographic error and the U-matrix,
 * computed from a map's weights and top-k BMUs.
 *
 * @module
 */

import { checkTopk, cosineDist, type GridShape, wrap } from "./grid.ts";

/**
 * Quantization error: the mean cosine distance of each input to its BMU.
 *
 * @param bmuDistance `N×k` top-k distances (the first of each row is the BMU's).
 * @param k BMUs per row.
 * @returns The mean first-BMU distance.
 * @throws {RangeError} If the array is empty or not a multiple of `k`.
 *
 * @example
 * ```ts
 * import { quantizationError } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(quantizationError(Float32Array.from([0.5, 0.9, 0.25, 0.3]), 2), 0.375);
 * ```
 */
export function quantizationError(bmuDistance: ArrayLike<number>, k: number): number {
  if (bmuDistance.length === 0 || bmuDistance.length % k !== 0) {
    throw new RangeError(
      `Cannot compute quantization error: ${bmuDistance.length} distances but expected a ` +
        `positive multiple of k = ${k}`,
    );
  }
  let s = 0;
  const N = bmuDistance.length / k;
  for (let i = 0; i < N; i++) s += bmuDistance[i * k];
  return s / N;
}

/**
 * Topographic error on the torus: the fraction of inputs whose first and second BMUs are not
 * adjacent, where only the 4 direct torus neighbours count as adjacent (squared grid distance
 * ≤ 1), as SOM.md states.
 *
 * @param topk `N×k` top-k units, `k ≥ 2`.
 * @param k BMUs per row.
 * @param grid The grid.
 * @returns A fraction in [0, 1].
 * @throws {RangeError} If `k < 2` or the inputs are bad.
 *
 * @example
 * ```ts
 * import { topographicError } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * // 5×5 torus: units 0 and 4 are neighbours across the seam; 0 and 12 are not.
 * assertEquals(topographicError(Int32Array.from([0, 4, 0, 12]), 2, { m: 5, n: 5 }), 0.5);
 * ```
 */
export function topographicError(topk: ArrayLike<number>, k: number, grid: GridShape): number {
  const N = checkTopk("compute topographic error", topk, k, grid);
  if (k < 2 || N === 0) {
    throw new RangeError(
      `Cannot compute topographic error: k is ${k} with ${N} rows but expected k ≥ 2 and rows`,
    );
  }
  let bad = 0;
  for (let i = 0; i < N; i++) {
    const a = topk[i * k], b = topk[i * k + 1];
    const dr = Math.abs(Math.floor(a / grid.n) - Math.floor(b / grid.n));
    const dc = Math.abs((a % grid.n) - (b % grid.n));
    const r = Math.min(dr, grid.m - dr), c = Math.min(dc, grid.n - dc);
    if (r * r + c * c > 1) bad++;
  }
  return bad / N;
}

/**
 * U-matrix: for each unit, the mean cosine distance between its weight and those of its 8
 * torus neighbours (distinct neighbours only, so tiny grids are not double counted).
 *
 * @param weights `K×d` weights.
 * @param d Weight dimension.
 * @param grid The grid (`K = m·n`).
 * @returns `m×n` mean neighbour distances.
 * @throws {RangeError} If `weights.length !== m·n·d`.
 *
 * @example
 * ```ts
 * import { uMatrix } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * // A 1×2 torus whose two units point in orthogonal directions.
 * assertEquals(Array.from(uMatrix(Float32Array.from([1, 0, 0, 1]), 2, { m: 1, n: 2 })), [1, 1]);
 * ```
 */
export function uMatrix(weights: ArrayLike<number>, d: number, grid: GridShape): Float64Array {
  const { m, n } = grid;
  if (weights.length !== m * n * d) {
    throw new RangeError(
      `Cannot compute U-matrix: weights have ${weights.length} values but expected m·n·d = ${
        m * n * d
      }`,
    );
  }
  const out = new Float64Array(m * n);
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) {
      const u = r * n + c;
      const seen = new Set<number>();
      let s = 0;
      for (let dr = -1; dr <= 1; dr++) {
        for (let dc = -1; dc <= 1; dc++) {
          const v = wrap(r + dr, m) * n + wrap(c + dc, n);
          if (v === u || seen.has(v)) continue;
          seen.add(v);
          s += cosineDist(weights, u * d, weights, v * d, d);
        }
      }
      out[u] = seen.size ? s / seen.size : 0;
    }
  }
  return out;
}
