/**
 * Map quality, the one implementation behind the {@linkcode Som} methods and the analyses:
 * quantization error, topographic error and the U-matrix, from plain arrays (top-k BMUs and their
 * distances, weights) and a grid shape.
 *
 * Neighbours on small grids. A unit's neighbours are the *distinct* units at grid offsets
 * `(±1, 0)` and `(0, ±1)` (the 4 direct neighbours) or all 8 offsets with `|Δ| ≤ 1` (the
 * U-matrix), wrapping on a torus, and never the unit itself. On a torus side of length 2 the
 * offsets `+1` and `−1` land on the same unit, which then counts once; on a side of length 1
 * they land on the unit itself, which does not count. So a `2×2` torus unit has 2 direct and 3
 * U-matrix neighbours, a `1×n` torus unit (n ≥ 3) 2 and 2, and a `1×1` map none (U value 0).
 * For the topographic error this is exactly "squared grid distance `D2 ≤ 1`" (SOM.md).
 *
 * @module
 */

import { checkGrid, checkTopk, type GridShape, unitD2, wrap } from "../geometry/torus.ts";
import { cosineDist } from "../geometry/cosine.ts";

/**
 * Quantization error: the mean cosine distance of each input to its BMU.
 *
 * @param bmuDistance `N×k` top-k distances (the first of each row is the BMU's).
 * @param k BMUs per row.
 * @returns The mean first-BMU distance (float64 sum).
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
  if (!Number.isInteger(k) || k < 1 || bmuDistance.length === 0 || bmuDistance.length % k !== 0) {
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
 * Topographic error: the fraction of inputs whose first and second BMUs are not direct
 * neighbours, i.e. have squared grid distance `D2 > 1` (diagonal units, `D2 = 2`, do not count
 * as adjacent; on a torus the seam does not separate). See the module doc for small grids.
 *
 * @param topk `N×k` top-k units, `k ≥ 2`.
 * @param k BMUs per row.
 * @param grid The grid (`periodic` default true).
 * @returns A fraction in [0, 1].
 * @throws {RangeError} If `k < 2`, there are no rows, or an index is outside the grid.
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
  for (let i = 0; i < N; i++) if (unitD2(topk[i * k], topk[i * k + 1], grid) > 1) bad++;
  return bad / N;
}

/**
 * U-matrix: for each unit, the mean cosine distance between its weights and those of its
 * distinct neighbours among the 8 surrounding grid positions (wrapping on a torus; on a flat
 * grid, the positions that exist). See the module doc for small grids.
 *
 * @param weights `K×d` weights, row-major.
 * @param d Weight dimension.
 * @param grid The grid (`K = m·n`; `periodic` default true).
 * @returns `m×n` mean neighbour distances (float64).
 * @throws {RangeError} If the grid is invalid or `weights.length !== m·n·d`.
 *
 * @example
 * ```ts
 * import { uMatrix } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * // A 1×2 torus whose two units point in orthogonal directions: one neighbour each.
 * assertEquals(Array.from(uMatrix(Float32Array.from([1, 0, 0, 1]), 2, { m: 1, n: 2 })), [1, 1]);
 * ```
 */
export function uMatrix(weights: ArrayLike<number>, d: number, grid: GridShape): Float64Array {
  const K = checkGrid("compute U-matrix", grid);
  const { m, n } = grid, periodic = grid.periodic !== false;
  if (weights.length !== K * d) {
    throw new RangeError(
      `Cannot compute U-matrix: weights have ${weights.length} values but expected m·n·d = ${
        K * d
      }`,
    );
  }
  const out = new Float64Array(K);
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) {
      const u = r * n + c;
      const seen = new Set<number>();
      let s = 0;
      for (let dr = -1; dr <= 1; dr++) {
        for (let dc = -1; dc <= 1; dc++) {
          const rr = r + dr, cc = c + dc;
          if (!periodic && (rr < 0 || cc < 0 || rr >= m || cc >= n)) continue;
          const v = wrap(rr, m) * n + wrap(cc, n);
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
