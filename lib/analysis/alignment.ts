/**
 * Comparing SOMs trained with different seeds: a torus map is only defined up to its symmetries
 * (translations, row/column flips and, on square grids, transposition — together the 90°
 * rotations), so two maps are aligned over that group before their class placements are
 * compared.
 *
 * @module
 */

import { type GridShape, wrap } from "../geometry/torus.ts";
import { rowNorms } from "../geometry/cosine.ts";
import type { ClassCentre } from "./class_centres.ts";
import { quantileSorted } from "./box_stats.ts";

/**
 * A symmetry of the torus grid: `p ↦ translate(flip(transpose(p)))`.
 */
export interface TorusSymmetry {
  /** Swap rows and columns first (square grids only). */
  transpose: boolean;
  /** Then map row `r` to `−r mod m`. */
  flipRows: boolean;
  /** And column `c` to `−c mod n`. */
  flipCols: boolean;
  /** Then shift rows by this many units. */
  dr: number;
  /** And columns by this many units. */
  dc: number;
}

/**
 * Applies a symmetry to a (possibly continuous) grid point.
 *
 * @param g The symmetry.
 * @param r Row.
 * @param c Column.
 * @param grid The grid.
 * @returns `[row, column]` of the image, wrapped into the grid.
 *
 * @example
 * ```ts
 * import { applySymmetry } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const flip = { transpose: false, flipRows: true, flipCols: false, dr: 1, dc: 0 };
 * assertEquals(applySymmetry(flip, 1, 2, { m: 4, n: 4 }), [0, 2]);
 * ```
 */
export function applySymmetry(
  g: TorusSymmetry,
  r: number,
  c: number,
  grid: GridShape,
): [number, number] {
  if (g.transpose) [r, c] = [c, r];
  if (g.flipRows) r = -r;
  if (g.flipCols) c = -c;
  return [wrap(r + g.dr, grid.m), wrap(c + g.dc, grid.n)];
}

/**
 * Applies the inverse of a symmetry to a grid point.
 *
 * @param g The symmetry.
 * @param r Row.
 * @param c Column.
 * @param grid The grid.
 * @returns `[row, column]` with `applySymmetry(g, …result) = [r, c]`.
 *
 * @example
 * ```ts
 * import { applySymmetry, invertSymmetry } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const g = { transpose: true, flipRows: false, flipCols: true, dr: 2, dc: 3 }, grid = { m: 5, n: 5 };
 * const [r, c] = applySymmetry(g, 1, 4, grid);
 * assertEquals(invertSymmetry(g, r, c, grid), [1, 4]);
 * ```
 */
export function invertSymmetry(
  g: TorusSymmetry,
  r: number,
  c: number,
  grid: GridShape,
): [number, number] {
  r = r - g.dr;
  c = c - g.dc;
  if (g.flipRows) r = -r;
  if (g.flipCols) c = -c;
  if (g.transpose) [r, c] = [c, r];
  return [wrap(r, grid.m), wrap(c, grid.n)];
}

/**
 * Every symmetry of the grid: `m·n` translations times 4 flips, times 2 for transposition when
 * the grid is square (8 point symmetries = the dihedral group with its 90° rotations).
 *
 * @param grid The grid.
 * @returns The group's elements, identity first.
 *
 * @example
 * ```ts
 * import { torusSymmetries } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(torusSymmetries({ m: 3, n: 3 }).length, 8 * 9);
 * ```
 */
export function torusSymmetries(grid: GridShape): TorusSymmetry[] {
  const out: TorusSymmetry[] = [];
  for (const transpose of grid.m === grid.n ? [false, true] : [false]) {
    for (const flipRows of [false, true]) {
      for (const flipCols of [false, true]) {
        for (let dr = 0; dr < grid.m; dr++) {
          for (let dc = 0; dc < grid.n; dc++) out.push({ transpose, flipRows, flipCols, dr, dc });
        }
      }
    }
  }
  return out;
}

/** Each row of a `K×d` matrix divided by its norm (floored at 1e-8), as float32. */
function _unitWeights(w: ArrayLike<number>, K: number, d: number): Float32Array {
  const norms = rowNorms(w, K, d), out = new Float32Array(K * d);
  for (let k = 0; k < K; k++) {
    for (let t = 0; t < d; t++) out[k * d + t] = w[k * d + t] / norms[k];
  }
  return out;
}

/**
 * The `K×K` matrix `1 − A_i·B_j` (float32). Each dot product is summed in float64 over
 * `t = 0 … d−1` in order, so the values do not depend on the blocking (4 rows × 4 columns at a
 * time, which reads each row once per block instead of once per entry).
 */
function _crossDistances(
  A: Float32Array,
  B: Float32Array,
  K: number,
  d: number,
): Float32Array {
  const C = new Float32Array(K * K), K4 = K - (K % 4);
  for (let i = 0; i < K4; i += 4) {
    const a0 = i * d, a1 = a0 + d, a2 = a1 + d, a3 = a2 + d;
    for (let j = 0; j < K4; j += 4) {
      const b0 = j * d, b1 = b0 + d, b2 = b1 + d, b3 = b2 + d;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let t = 0; t < d; t++) {
        const x0 = A[a0 + t], x1 = A[a1 + t], x2 = A[a2 + t], x3 = A[a3 + t];
        const y0 = B[b0 + t], y1 = B[b1 + t], y2 = B[b2 + t], y3 = B[b3 + t];
        s00 += x0 * y0, s01 += x0 * y1, s02 += x0 * y2, s03 += x0 * y3;
        s10 += x1 * y0, s11 += x1 * y1, s12 += x1 * y2, s13 += x1 * y3;
        s20 += x2 * y0, s21 += x2 * y1, s22 += x2 * y2, s23 += x2 * y3;
        s30 += x3 * y0, s31 += x3 * y1, s32 += x3 * y2, s33 += x3 * y3;
      }
      let o = i * K + j;
      C[o] = 1 - s00, C[o + 1] = 1 - s01, C[o + 2] = 1 - s02, C[o + 3] = 1 - s03;
      o += K;
      C[o] = 1 - s10, C[o + 1] = 1 - s11, C[o + 2] = 1 - s12, C[o + 3] = 1 - s13;
      o += K;
      C[o] = 1 - s20, C[o + 1] = 1 - s21, C[o + 2] = 1 - s22, C[o + 3] = 1 - s23;
      o += K;
      C[o] = 1 - s30, C[o + 1] = 1 - s31, C[o + 2] = 1 - s32, C[o + 3] = 1 - s33;
    }
  }
  // The last K mod 4 rows and columns, one entry at a time.
  for (let i = 0; i < K; i++) {
    for (let j = i < K4 ? K4 : 0; j < K; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += A[i * d + t] * B[j * d + t];
      C[i * K + j] = 1 - s;
    }
  }
  return C;
}

/** The result of {@linkcode alignMaps}. */
export interface Alignment {
  /** The symmetry `g` with `W_b[g(u)] ≈ W_a[u]`. */
  symmetry: TorusSymmetry;
  /** Mean cosine distance between matched unit weights under `g`. */
  cost: number;
  /** The same without alignment (identity). */
  identityCost: number;
}

/**
 * Finds the torus symmetry that best superimposes map `b` on map `a`: the `g` minimising the
 * mean over units `u` of the cosine distance between `W_a[u]` and `W_b[g(u)]`. Exhaustive over
 * the group (the `K×K` cross-distance matrix is computed once).
 *
 * @param a `K×d` weights of the reference map.
 * @param b `K×d` weights of the other map.
 * @param d Weight dimension.
 * @param grid The common grid.
 * @returns The best symmetry, its cost and the identity's cost. Ties keep the first in
 *   {@linkcode torusSymmetries} order.
 * @throws {RangeError} If the weights do not match the grid.
 *
 * @example A map shifted by one column is recognised
 * ```ts
 * import { alignMaps } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const a = Float32Array.from([1, 0, 0, 1, 1, 1]);   // 1×3 grid, d = 2
 * const b = Float32Array.from([1, 1, 1, 0, 0, 1]);   // b[u+1] = a[u]
 * const { symmetry } = alignMaps(a, b, 2, { m: 1, n: 3 });
 * assertEquals([symmetry.dc, symmetry.flipCols], [1, false]);
 * ```
 */
export function alignMaps(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  d: number,
  grid: GridShape,
): Alignment {
  const K = grid.m * grid.n;
  for (const [name, w] of [["a", a], ["b", b]] as const) {
    if (w.length !== K * d) {
      throw new RangeError(
        `Cannot align maps: map ${name} has ${w.length} weights but expected m·n·d = ${K * d}`,
      );
    }
  }
  const C = _crossDistances(_unitWeights(a, K, d), _unitWeights(b, K, d), K, d);
  // Unit images under each point symmetry (no translation), then translations by integer
  // arithmetic: |G|·K lookups without allocating per unit.
  const { m, n } = grid;
  const group = torusSymmetries(grid);
  const baseRow = new Int32Array(K), baseCol = new Int32Array(K);
  let best = group[0], bestCost = Infinity, identityCost = NaN;
  let lastKey = "";
  for (const g of group) {
    const key = `${g.transpose}${g.flipRows}${g.flipCols}`;
    if (key !== lastKey) {
      const g0 = { ...g, dr: 0, dc: 0 };
      for (let u = 0; u < K; u++) {
        const [r, c] = applySymmetry(g0, Math.floor(u / n), u % n, grid);
        baseRow[u] = r;
        baseCol[u] = c;
      }
      lastKey = key;
    }
    let s = 0;
    for (let u = 0; u < K; u++) {
      let r = baseRow[u] + g.dr, c = baseCol[u] + g.dc;
      if (r >= m) r -= m;
      if (c >= n) c -= n;
      s += C[u * K + r * n + c];
    }
    const v = s / K;
    if (Number.isNaN(identityCost)) identityCost = v;
    if (v < bestCost - 1e-9) {
      best = g;
      bestCost = v;
    }
  }
  return { symmetry: best, cost: bestCost, identityCost };
}

/** One seed map for {@linkcode placementStability}. */
export interface SeedMap {
  /** Seed it was trained with (for the report). */
  seed: number | string;
  /** `K×d` weights. */
  weights: ArrayLike<number>;
  /** Class centres on this map (from SOM-tr). */
  centres: readonly ClassCentre[];
}

/** Comparison of two seed maps after alignment. */
export interface SeedPairComparison {
  /** Seed of the reference map. */
  seedA: number | string;
  /** Seed of the other map. */
  seedB: number | string;
  /** The aligning symmetry and costs. */
  alignment: Alignment;
  /** Per class: `[label, torus distance between its centre on a and its aligned centre on b]`. */
  displacement: [number, number][];
  /** Mean displacement over classes. */
  meanDisplacement: number;
  /** Mean distance between a class's centre on a and other classes' aligned centres on b. */
  nullDisplacement: number;
  /**
   * `C×C` distances (row-major, classes in `displacement` order) between class i's centre on a
   * and class j's aligned centre on b; the diagonal is the displacement.
   */
  cross: Float64Array;
}

/** Placement stability over a seed ensemble. */
export interface PlacementStability {
  /** Every pair of seeds. */
  pairs: SeedPairComparison[];
  /** Mean of the pairs' mean displacements (grid units). */
  meanDisplacement: number;
  /** Mean of the pairs' null displacements. */
  nullDisplacement: number;
  /** `1 − meanDisplacement / nullDisplacement`: 1 = classes land in the same place, 0 = as far as unrelated classes. */
  stability: number;
}

/**
 * Placement stability of classes across SOMs trained with different seeds: every pair of maps is
 * aligned modulo the torus symmetries ({@linkcode alignMaps}), the second map's class centres
 * are carried into the first's frame, and the displacement of each class's centre is compared
 * with the distance between different classes' centres.
 *
 * @param maps At least two maps on the same grid with centres for the same classes.
 * @param d Weight dimension.
 * @param grid The grid.
 * @returns Per-pair comparisons and the ensemble summary.
 * @throws {RangeError} With fewer than two maps or mismatched class sets.
 *
 * @example
 * ```ts
 * import { classCentres, placementStability } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const grid = { m: 1, n: 3 }, w = Float32Array.from([1, 0, 0, 1, 1, 1]);
 * const centres = classCentres(Int32Array.from([0, 2]), 1, [0, 1], grid);
 * const maps = [{ seed: 0, weights: w, centres }, { seed: 1, weights: w, centres }];
 * assertEquals(placementStability(maps, 2, grid).stability, 1);
 * ```
 */
export function placementStability(
  maps: readonly SeedMap[],
  d: number,
  grid: GridShape,
): PlacementStability {
  if (maps.length < 2) {
    throw new RangeError(
      `Cannot measure placement stability: ${maps.length} map(s) but expected at least 2 seeds`,
    );
  }
  const pairs: SeedPairComparison[] = [];
  for (let i = 0; i < maps.length; i++) {
    for (let j = i + 1; j < maps.length; j++) {
      const a = maps[i], b = maps[j];
      const alignment = alignMaps(a.weights, b.weights, d, grid);
      const bc = new Map(b.centres.map((c) => [c.label, c]));
      const moved = a.centres.map((ca) => {
        const cb = bc.get(ca.label);
        if (!cb) {
          throw new RangeError(
            `Cannot measure placement stability: class ${ca.label} has a centre on seed ` +
              `${a.seed} but not on seed ${b.seed}`,
          );
        }
        return [ca, invertSymmetry(alignment.symmetry, cb.row, cb.col, grid)] as const;
      });
      const { cross, displacement, nullDisplacement } = _crossPlacement(moved, grid);
      const md = displacement.reduce((s, x) => s + x[1], 0) / Math.max(1, displacement.length);
      pairs.push({
        seedA: a.seed,
        seedB: b.seed,
        alignment,
        displacement,
        meanDisplacement: md,
        nullDisplacement,
        cross,
      });
    }
  }
  const meanDisplacement = pairs.reduce((s, p) => s + p.meanDisplacement, 0) / pairs.length;
  const nullDisplacement = pairs.reduce((s, p) => s + p.nullDisplacement, 0) / pairs.length;
  return {
    pairs,
    meanDisplacement,
    nullDisplacement,
    stability: 1 - meanDisplacement / nullDisplacement,
  };
}

/**
 * The cross distances of one seed pair (`torusDist` between class i's centre on a and class j's
 * aligned centre on b, over flat coordinates), the displacements (the
 * diagonal) and the between-class mean (the off-diagonal entries of different labels, summed row
 * by row).
 */
function _crossPlacement(
  moved: readonly (readonly [ClassCentre, readonly [number, number]])[],
  grid: GridShape,
): Pick<SeedPairComparison, "cross" | "displacement" | "nullDisplacement"> {
  const C = moved.length, cross = new Float64Array(C * C), { m, n } = grid;
  const ar = new Float64Array(C), ac = new Float64Array(C), lab = new Float64Array(C);
  const br = new Float64Array(C), bc = new Float64Array(C);
  for (let i = 0; i < C; i++) {
    [ar[i], ac[i], lab[i]] = [moved[i][0].row, moved[i][0].col, moved[i][0].label];
    [br[i], bc[i]] = moved[i][1];
  }
  let ns = 0, nc = 0;
  for (let i = 0; i < C; i++) {
    const r1 = ar[i], c1 = ac[i], row = i * C;
    for (let j = 0; j < C; j++) {
      // torusDist(r1, c1, br[j], bc[j], grid), its arithmetic written out for this hot loop.
      let dr = Math.abs(r1 - br[j]), dc = Math.abs(c1 - bc[j]);
      if (dr >= m) dr %= m;
      if (dr > m - dr) dr = m - dr;
      if (dc >= n) dc %= n;
      if (dc > n - dc) dc = n - dc;
      const v = Math.sqrt(dr * dr + dc * dc);
      cross[row + j] = v;
      if (lab[j] === lab[i]) continue;
      ns += v;
      nc++;
    }
  }
  const displacement = moved.map(([ca], i) => [ca.label, cross[i * C + i]] as [number, number]);
  return { cross, displacement, nullDisplacement: nc ? ns / nc : NaN };
}

/**
 * A percentile-bootstrap interval of the placement stability, resampling classes and seed pairs.
 * The between-class term sums the cross distances of the drawn classes exactly for up to 200
 * classes; with more, through each drawn class's mean distance to the other classes (the mean of
 * many random pairs, so the interval keeps the class-level variation at O(C) per replicate
 * instead of O(C²)).
 *
 * @param ps The ensemble result of {@linkcode placementStability}.
 * @param rng Seeded generator.
 * @param resamples Replicates. Default 1000.
 * @returns `[low, high]` of `1 − mean displacement / mean between-class distance`.
 */
export function stabilityInterval(
  ps: PlacementStability,
  rng: { int(n: number): number },
  resamples = 1000,
): [number, number] {
  const vals: number[] = [];
  const P = ps.pairs.length;
  const rowMeans = ps.pairs.map((pair) => {
    const C = pair.displacement.length, out = new Float64Array(C);
    for (let i = 0; i < C; i++) {
      let s = 0;
      for (let j = 0; j < C; j++) if (j !== i) s += pair.cross[i * C + j];
      out[i] = C > 1 ? s / (C - 1) : NaN;
    }
    return out;
  });
  // The displacements (the diagonal) apart, so that a replicate reads C numbers in a row rather
  // than C entries scattered over the C×C matrix.
  const diags = ps.pairs.map((pair) => {
    const C = pair.displacement.length;
    return Float64Array.from({ length: C }, (_, i) => pair.cross[i * C + i]);
  });
  const maxC = Math.max(...ps.pairs.map((p) => p.displacement.length));
  const counts = new Int32Array(maxC), idx = new Int32Array(maxC);
  for (let b = 0; b < resamples; b++) {
    let disp = 0, nul = 0;
    for (let q = 0; q < P; q++) {
      const pi = rng.int(P), pair = ps.pairs[pi], C = pair.displacement.length;
      const diag = diags[pi], rm = rowMeans[pi];
      for (let t = 0; t < C; t++) counts[idx[t] = rng.int(C)]++;
      let d = 0, n = 0, nc = 0;
      for (let t = 0; t < C; t++) d += diag[idx[t]];
      if (C <= 200) {
        for (let i = 0; i < C; i++) {
          if (!counts[i]) continue;
          for (let j = 0; j < C; j++) {
            if (j === i || !counts[j]) continue;
            n += counts[i] * counts[j] * pair.cross[i * C + j];
            nc += counts[i] * counts[j];
          }
        }
      } else {
        for (let i = 0; i < C; i++) {
          if (!counts[i]) continue;
          const others = C - counts[i];
          n += counts[i] * others * rm[i];
          nc += counts[i] * others;
        }
      }
      for (let t = 0; t < C; t++) counts[idx[t]] = 0;
      disp += d / C;
      nul += nc ? n / nc : NaN;
    }
    const v = 1 - disp / nul;
    if (Number.isFinite(v)) vals.push(v);
  }
  vals.sort((a, b) => a - b);
  return [quantileSorted(vals, 0.025), quantileSorted(vals, 0.975)];
}
