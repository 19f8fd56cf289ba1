// The plain reference for tests/analysis_fast_test.ts: lib/analysis/alignment.ts as of baa0161,
// before the issue-14 speed-up (imports re-pointed, nothing else changed). Not library code.
/**
 * Comparing SOMs trained with different seeds: a torus map is only defined up to its symmetries
 * (translations, row/column flips and, on square grids, transposition — together the 90°
 * rotations), so two maps are aligned over that group before their class placements are
 * compared.
 *
 * @module
 */

import { type GridShape, torusDist, wrap } from "../../lib/geometry/torus.ts";
import { rowNorms } from "../../lib/geometry/cosine.ts";
import type { ClassCentre } from "../../lib/analysis/class_centres.ts";
import { quantileSorted } from "../../lib/analysis/box_stats.ts";

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
 * import { applySymmetry } from "../../lib/../mod.ts";
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
 * import { applySymmetry, invertSymmetry } from "../../lib/../mod.ts";
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
 * import { torusSymmetries } from "../../lib/../mod.ts";
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
 * import { alignMaps } from "../../lib/../mod.ts";
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
  const na = rowNorms(a, K, d), nb = rowNorms(b, K, d);
  const A = new Float32Array(K * d), B = new Float32Array(K * d);
  for (let k = 0; k < K; k++) {
    for (let t = 0; t < d; t++) {
      A[k * d + t] = a[k * d + t] / na[k];
      B[k * d + t] = b[k * d + t] / nb[k];
    }
  }
  const C = new Float32Array(K * K);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += A[i * d + t] * B[j * d + t];
      C[i * K + j] = 1 - s;
    }
  }
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
 * import { classCentres, placementStability } from "../../lib/../mod.ts";
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
      const C = moved.length, cross = new Float64Array(C * C);
      moved.forEach(([ca], i) =>
        moved.forEach(([, [r, c]], j) => {
          cross[i * C + j] = torusDist(ca.row, ca.col, r, c, grid);
        })
      );
      const displacement: [number, number][] = moved.map((
        [ca, [r, c]],
      ) => [ca.label, torusDist(ca.row, ca.col, r, c, grid)]);
      let ns = 0, nc = 0;
      for (const [ca] of moved) {
        for (const [cb, [r, c]] of moved) {
          if (cb.label === ca.label) continue;
          ns += torusDist(ca.row, ca.col, r, c, grid);
          nc++;
        }
      }
      const md = displacement.reduce((s, x) => s + x[1], 0) / Math.max(1, displacement.length);
      pairs.push({
        seedA: a.seed,
        seedB: b.seed,
        alignment,
        displacement,
        meanDisplacement: md,
        nullDisplacement: nc ? ns / nc : NaN,
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
  const maxC = Math.max(...ps.pairs.map((p) => p.displacement.length));
  const counts = new Int32Array(maxC), idx = new Int32Array(maxC);
  for (let b = 0; b < resamples; b++) {
    let disp = 0, nul = 0;
    for (let q = 0; q < P; q++) {
      const pi = rng.int(P), pair = ps.pairs[pi], C = pair.displacement.length;
      for (let t = 0; t < C; t++) counts[idx[t] = rng.int(C)]++;
      let d = 0, n = 0, nc = 0;
      for (let t = 0; t < C; t++) d += pair.cross[idx[t] * C + idx[t]];
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
          n += counts[i] * others * rowMeans[pi][i];
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
