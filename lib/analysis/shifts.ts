/**
 * BMU shifts (paper Figs. 11–12, SPEC §5): for each example and rank i = 1..k, the torus distance
 * between its i-th clean BMU and its i-th perturbed BMU, for adversarial and for noise inputs;
 * a long table and per-layer summaries (mean, median, quartiles). Pure functions on top-k index
 * arrays (as `Som.topk` returns them), so a report can call them without a model. An analysis
 * like the others: the attack produces perturbed images, the shifts are measured here.
 *
 * @module
 */

import { checkTopk, type GridShape, torusD2 } from "../geometry/torus.ts";
import { quantileSorted } from "./box_stats.ts";

/** Summary statistics of a set of distances (quartiles by linear interpolation, numpy's default). */
export interface ShiftStats {
  /** Values summarised. */
  count: number;
  /** Mean. */
  mean: number;
  /** First quartile. */
  q1: number;
  /** Median. */
  median: number;
  /** Third quartile. */
  q3: number;
  /** Maximum. */
  max: number;
}

/** Result of {@linkcode bmuShifts}. */
export interface BmuShifts {
  /** Examples. */
  rows: number;
  /** BMUs per example compared. */
  k: number;
  /** `rows × k` distances: `distances[r*k + i]` for the (i+1)-th BMU of example r. */
  distances: Float32Array;
  /** Statistics per rank (index i is rank i + 1). */
  byRank: ShiftStats[];
  /** Statistics over all ranks and examples. */
  all: ShiftStats;
}

/** Options for {@linkcode bmuShifts}. */
export interface BmuShiftOptions {
  /** Grid rows. */
  m: number;
  /** Grid columns. */
  n: number;
  /** Ranks compared (default: min(10, k of the inputs)). */
  ranks?: number;
  /** BMUs per row in the input arrays (default: the same as `ranks`, or 10). */
  k?: number;
  /** Toroidal grid (default true). */
  periodic?: boolean;
}

/**
 * Mean, quartiles and maximum of a set of values.
 *
 * @param values The values.
 * @returns Their statistics.
 * @example
 * ```ts
 * import { shiftStats } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(shiftStats([1, 2, 3, 4]), { count: 4, mean: 2.5, q1: 1.75, median: 2.5, q3: 3.25, max: 4 });
 * ```
 */
export function shiftStats(values: ArrayLike<number>): ShiftStats {
  const s = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return {
    count: s.length,
    mean: s.length ? sum / s.length : NaN,
    q1: quantileSorted(s, 0.25),
    median: quantileSorted(s, 0.5),
    q3: quantileSorted(s, 0.75),
    max: s.length ? s[s.length - 1] : NaN,
  };
}

/**
 * Torus distances between rank-matched clean and perturbed BMUs.
 *
 * @param cleanTopk `rows × k` unit indices of the clean inputs (ascending distance).
 * @param pertTopk `rows × k` unit indices of the perturbed inputs.
 * @param options Grid `m × n`, ranks compared, k of the arrays.
 * @returns Distances and their statistics per rank and overall.
 * @throws {RangeError} If the arrays differ in length, are not a multiple of k, or hold units
 *   outside the grid.
 * @example
 * ```ts
 * import { bmuShifts } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * // 2 examples × 2 BMUs on a 4×5 torus: unit 0 → 4 is one step (wrap-around), 6 → 6 none.
 * const s = bmuShifts(Int32Array.of(0, 6, 1, 2), Int32Array.of(4, 6, 1, 12), { m: 4, n: 5, k: 2 });
 * assertEquals(Array.from(s.distances), [1, 0, 0, 2]);
 * ```
 */
export function bmuShifts(
  cleanTopk: ArrayLike<number>,
  pertTopk: ArrayLike<number>,
  options: BmuShiftOptions,
): BmuShifts {
  const { m, n } = options;
  const k = options.k ?? options.ranks ?? 10;
  const ranks = options.ranks ?? Math.min(10, k);
  if (!Number.isInteger(k) || k < 1 || !Number.isInteger(ranks) || ranks < 1 || ranks > k) {
    throw new RangeError(
      `Cannot measure BMU shifts: ranks ${ranks} and k ${k} must satisfy 1 ≤ ranks ≤ k`,
    );
  }
  if (cleanTopk.length !== pertTopk.length || cleanTopk.length % k !== 0) {
    throw new RangeError(
      `Cannot measure BMU shifts: clean has ${cleanTopk.length} and perturbed ${pertTopk.length} ` +
        `indices but expected the same number, a multiple of k = ${k}`,
    );
  }
  const rows = cleanTopk.length / k;
  const distances = new Float32Array(rows * ranks);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < ranks; i++) {
      distances[r * ranks + i] = Math.sqrt(
        torusD2(cleanTopk[r * k + i], pertTopk[r * k + i], m, n, options.periodic ?? true),
      );
    }
  }
  const byRank = Array.from(
    { length: ranks },
    (_, i) => shiftStats(Array.from({ length: rows }, (_, r) => distances[r * ranks + i])),
  );
  return { rows, k: ranks, distances, byRank, all: shiftStats(distances) };
}

/** One row of the long BMU-shift table. */
export interface BmuShiftRow {
  /** Layer name. */
  layer: string;
  /** Perturbation, e.g. `"adversarial"` or `"noise"`. */
  perturbation: string;
  /** Example id. */
  example: number;
  /** BMU rank (1-based). */
  rank: number;
  /** Torus distance. */
  distance: number;
}

/** Per-layer, per-perturbation summary. */
export interface BmuShiftSummary {
  /** Layer name. */
  layer: string;
  /** Perturbation. */
  perturbation: string;
  /** Statistics over all ranks. */
  all: ShiftStats;
  /** Statistics of the first BMU only. */
  first: ShiftStats;
}

/**
 * Flattens shifts of several layers and perturbations into table rows and summaries.
 *
 * @param shifts `shifts[layer][perturbation]` from {@linkcode bmuShifts}.
 * @param ids Example ids, one per row (default 0..rows−1).
 * @returns Long-table rows and per-layer summaries.
 * @example
 * ```ts
 * import { bmuShifts, bmuShiftTable } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const adv = bmuShifts(Int32Array.of(0, 1), Int32Array.of(2, 1), { m: 3, n: 3, k: 2 });
 * const t = bmuShiftTable({ CL1: { adversarial: adv } });
 * assertEquals(t.rows.length, 2);
 * assertEquals(t.summaries[0].first.mean, 1);
 * ```
 */
export function bmuShiftTable(
  shifts: Record<string, Record<string, BmuShifts>>,
  ids?: ArrayLike<number>,
): { rows: BmuShiftRow[]; summaries: BmuShiftSummary[] } {
  const rows: BmuShiftRow[] = [];
  const summaries: BmuShiftSummary[] = [];
  for (const [layer, byPert] of Object.entries(shifts)) {
    for (const [perturbation, s] of Object.entries(byPert)) {
      for (let r = 0; r < s.rows; r++) {
        for (let i = 0; i < s.k; i++) {
          rows.push({
            layer,
            perturbation,
            example: ids ? ids[r] : r,
            rank: i + 1,
            distance: s.distances[r * s.k + i],
          });
        }
      }
      summaries.push({ layer, perturbation, all: s.all, first: s.byRank[0] });
    }
  }
  return { rows, summaries };
}

/**
 * Rank-wise torus distances between clean and perturbed top-k BMUs: {@linkcode bmuShifts} over
 * all k ranks, after validating unit indices against the grid.
 *
 * @param clean `N×k` clean top-k units.
 * @param perturbed `N×k` perturbed top-k units.
 * @param k BMUs per row.
 * @param grid The grid.
 * @returns `N×k` distances in grid units.
 * @throws {RangeError} If the arrays differ in length or hold bad indices.
 *
 * @example
 * ```ts
 * import { bmuShiftDistances } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const d = bmuShiftDistances(Int32Array.from([0, 1]), Int32Array.from([0, 9]), 2, { m: 10, n: 10 });
 * assertEquals(Array.from(d), [0, 2]);
 * ```
 */
export function bmuShiftDistances(
  clean: ArrayLike<number>,
  perturbed: ArrayLike<number>,
  k: number,
  grid: GridShape,
): Float32Array {
  checkTopk("measure BMU shifts", clean, k, grid);
  checkTopk("measure BMU shifts", perturbed, k, grid);
  if (clean.length !== perturbed.length) {
    throw new RangeError(
      `Cannot measure BMU shifts: ${clean.length / k} clean rows but ${
        perturbed.length / k
      } perturbed rows; expected the same images`,
    );
  }
  return bmuShifts(clean, perturbed, { m: grid.m, n: grid.n, k, ranks: k, periodic: true })
    .distances;
}
