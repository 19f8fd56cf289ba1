/**
 * Grid geometry of a toroidal SOM, shared by the SOM and the analyses (SPEC §3, §4; SOM.md
 * "Units and grid"): unit positions, squared grid distances between units (the neighbourhood
 * table), torus distances between continuous positions (BMU sets versus class centres), and
 * cosine distance matrices between unit weights (weight similarity, Fig. 6C,D).
 *
 * Unit `k` of an `m×n` grid sits at row `floor(k/n)`, column `k mod n` (row-major). On a
 * periodic grid (a torus) the row difference `Δr` is taken modulo `m` and replaced by
 * `min(Δr, m − Δr)`, the column difference likewise with `n`; non-square grids are handled
 * (QuickSOM's own table is wrong for them, ours is not).
 *
 * The pairwise kernels have three implementations each: a plain float64 TypeScript reference
 * (`…Reference`), a fast CPU path, and a WGSL kernel (`…Gpu`).
 *
 * @module
 */

/**
 * Row and column of unit `k` on a grid with `n` columns (row-major).
 *
 * @param k Unit index (`0 ≤ k`).
 * @param n Number of columns.
 * @returns `[row, column]`.
 * @throws {RangeError} If `k` is not a non-negative integer or `n` not a positive integer.
 *
 * @example
 * ```ts
 * import { unitPosition } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(unitPosition(7, 3), [2, 1]);
 * ```
 */
export function unitPosition(k: number, n: number): [number, number] {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot locate unit: grid has ${n} columns but expected a positive integer`,
    );
  }
  if (!Number.isInteger(k) || k < 0) {
    throw new RangeError(`Cannot locate unit: index is ${k} but expected a non-negative integer`);
  }
  return [Math.floor(k / n), k % n];
}

/** Validates an `m×n` grid shape; returns `K = m·n`. */
function _checkGrid(what: string, m: number, n: number): number {
  if (!Number.isInteger(m) || m < 1 || !Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot ${what}: grid is ${m}×${n} but expected positive integer rows and columns`,
    );
  }
  return m * n;
}

/**
 * Squared grid distance between units `a` and `b` of an `m×n` grid (SOM.md): on a torus
 * `di = min(|Δi|, m − |Δi|)`, `dj = min(|Δj|, n − |Δj|)`, `D2 = di² + dj²`; without
 * `periodic` plain `Δi² + Δj²`.
 *
 * @param a First unit index (`0 ≤ a < m·n`).
 * @param b Second unit index.
 * @param m Rows.
 * @param n Columns.
 * @param periodic Wrap around (torus). Default true.
 * @returns The squared distance, an integer.
 * @throws {RangeError} If the grid or a unit index is invalid.
 *
 * @example Wrap-around on a 4×5 torus
 * ```ts
 * import { torusD2 } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(torusD2(0, 4, 4, 5), 1); // columns 0 and 4 are neighbours
 * assertEquals(torusD2(0, 4, 4, 5, false), 16);
 * ```
 */
export function torusD2(a: number, b: number, m: number, n: number, periodic = true): number {
  const K = _checkGrid("compute grid distance", m, n);
  for (const u of [a, b]) {
    if (!Number.isInteger(u) || u < 0 || u >= K) {
      throw new RangeError(
        `Cannot compute grid distance: unit ${u} is outside the ${m}×${n} grid (0..${K - 1})`,
      );
    }
  }
  return _d2(a, b, m, n, periodic);
}

function _d2(a: number, b: number, m: number, n: number, periodic: boolean): number {
  let di = Math.abs(Math.floor(a / n) - Math.floor(b / n));
  let dj = Math.abs((a % n) - (b % n));
  if (periodic) {
    di = Math.min(di, m - di);
    dj = Math.min(dj, n - dj);
  }
  return di * di + dj * dj;
}

/**
 * Torus distance between two continuous grid positions (SPEC §3): the row difference is
 * reduced modulo `m` and replaced by `min(Δr, m − Δr)`, the column difference likewise with
 * `n`, and the result is `sqrt(Δr² + Δc²)`. Positions may lie outside `[0,m)×[0,n)` (e.g.
 * unfolded BMU positions); they are wrapped first.
 *
 * @param p First position `[row, column]`.
 * @param q Second position `[row, column]`.
 * @param m Rows of the torus.
 * @param n Columns of the torus.
 * @returns The wrapped Euclidean distance, at most `sqrt((m/2)² + (n/2)²)`.
 * @throws {RangeError} If the grid is invalid or a coordinate is not finite.
 *
 * @example
 * ```ts
 * import { torusDistance } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(torusDistance([0.5, 0], [19.5, 0], 20, 20), 1);
 * assertEquals(torusDistance([0, 0], [3, 4], 20, 20), 5);
 * ```
 */
export function torusDistance(
  p: readonly [number, number] | ArrayLike<number>,
  q: readonly [number, number] | ArrayLike<number>,
  m: number,
  n: number,
): number {
  _checkGrid("compute torus distance", m, n);
  for (const v of [p[0], p[1], q[0], q[1]]) {
    if (!Number.isFinite(v)) {
      throw new RangeError(
        `Cannot compute torus distance: coordinate is ${v} but expected a finite number`,
      );
    }
  }
  const dr = _wrap(p[0] - q[0], m);
  const dc = _wrap(p[1] - q[1], n);
  return Math.sqrt(dr * dr + dc * dc);
}

/** `min(|x| mod L, L − |x| mod L)`: the shortest signed-free offset on a circle of length L. */
function _wrap(x: number, L: number): number {
  let d = Math.abs(x) % L;
  if (d > L - d) d = L - d;
  return d;
}

/**
 * The `K×K` table of squared grid distances between all units (`K = m·n`, row-major), as used
 * by the SOM neighbourhood `exp(−D2/(2σ²+1e-5))`. Exact integers in float32.
 *
 * @param m Rows.
 * @param n Columns.
 * @param periodic Wrap around (torus). Default true.
 * @returns `Float32Array` of length `K²`; entry `a·K + b` is `D2(a, b)`.
 * @throws {RangeError} If the grid is invalid.
 *
 * @example A 2×3 torus
 * ```ts
 * import { gridD2Table } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const t = gridD2Table(2, 3);
 * assertEquals(Array.from(t.subarray(0, 6)), [0, 1, 1, 1, 2, 2]);
 * ```
 */
export function gridD2Table(m: number, n: number, periodic = true): Float32Array {
  const K = _checkGrid("build grid distance table", m, n);
  // Row and column offsets each take few values; precompute their squares once.
  const rowD2 = new Float64Array(m), colD2 = new Float64Array(n);
  for (let d = 0; d < m; d++) {
    const w = periodic ? Math.min(d, m - d) : d;
    rowD2[d] = w * w;
  }
  for (let d = 0; d < n; d++) {
    const w = periodic ? Math.min(d, n - d) : d;
    colD2[d] = w * w;
  }
  const out = new Float32Array(K * K);
  for (let a = 0; a < K; a++) {
    const ia = Math.floor(a / n), ja = a % n;
    const row = a * K;
    for (let b = 0; b < K; b++) {
      const ib = Math.floor(b / n), jb = b % n;
      out[row + b] = rowD2[Math.abs(ia - ib)] + colD2[Math.abs(ja - jb)];
    }
  }
  return out;
}
