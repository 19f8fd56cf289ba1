/**
 * Similarity of SOM weights (paper Figs. 6C,D, 7, 9, 10): the `K×K` cosine-distance matrix of
 * a map's unit weights, and the cosine distances between the weights of class-centre units.
 *
 * @module
 */

import type { Rng } from "../rng.ts";
import { cosineDist, cosineDistanceMatrix } from "../geometry/cosine.ts";

function _checkWeights(what: string, weights: ArrayLike<number>, K: number, d: number): void {
  if (!Number.isInteger(K) || K < 1 || !Number.isInteger(d) || d < 1) {
    throw new RangeError(`Cannot ${what}: K = ${K}, d = ${d} but both must be positive integers`);
  }
  if (weights.length !== K * d) {
    throw new RangeError(
      `Cannot ${what}: weights have ${weights.length} values but expected K·d = ${K * d}`,
    );
  }
}

/**
 * Cosine distances between all pairs of unit weights, `1 − wᵢ·wⱼ/(‖wᵢ‖‖wⱼ‖)` with norms
 * floored at 1e-8 (SOM.md), as a symmetric `K×K` matrix with a zero diagonal: the SOM's
 * {@linkcode cosineDistanceMatrix} with the diagonal (a unit and itself, not a pair; 1 there for
 * a zero vector in the SOM's convention) set to 0, so row sums over `K − 1` are means over the
 * other units.
 *
 * @param weights `K×d` unit weights, row-major.
 * @param K Number of units.
 * @param d Weight dimension.
 * @returns `K×K` distances, row-major.
 * @throws {RangeError} If `weights.length !== K·d` or a weight is not finite.
 *
 * @example
 * ```ts
 * import { weightCosineDistances } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const D = weightCosineDistances(Float32Array.from([1, 0, 0, 1, 2, 0]), 3, 2);
 * assertEquals(Array.from(D), [0, 1, 0, 1, 0, 1, 0, 1, 0]);
 * ```
 */
export function weightCosineDistances(
  weights: ArrayLike<number>,
  K: number,
  d: number,
): Float32Array {
  _checkWeights("compute weight cosine distances", weights, K, d);
  const w = weights instanceof Float32Array ? weights : Float32Array.from(weights);
  const out = cosineDistanceMatrix(w, K, d);
  for (let i = 0; i < K; i++) out[i * K + i] = 0;
  return out;
}

/**
 * The strictly-upper-triangle entries (`i < j`) of a `K×K` matrix: each unordered pair once.
 *
 * @param matrix `K×K` matrix, row-major.
 * @param K Size.
 * @returns `K(K−1)/2` values.
 */
export function upperTriangle(matrix: ArrayLike<number>, K: number): Float32Array {
  const out = new Float32Array((K * (K - 1)) / 2);
  let c = 0;
  for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) out[c++] = matrix[i * K + j];
  return out;
}

/**
 * Block-mean downsampling of a square matrix for drawing (a 400×400 heat map is 160,000 marks).
 *
 * @param matrix `K×K` matrix.
 * @param K Size.
 * @param size Target size (at most K).
 * @returns `size×size` block means.
 */
export function downsampleMatrix(matrix: ArrayLike<number>, K: number, size: number): Float32Array {
  const s = Math.max(1, Math.min(size, K));
  const out = new Float32Array(s * s), cnt = new Float32Array(s * s);
  for (let i = 0; i < K; i++) {
    const bi = Math.floor((i * s) / K);
    for (let j = 0; j < K; j++) {
      const b = bi * s + Math.floor((j * s) / K);
      out[b] += matrix[i * K + j];
      cnt[b]++;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] /= cnt[i];
  return out;
}

/** Class-centre cosine distances of one map. */
export interface CentreDistances {
  /** The classes compared (up to `maxClasses`, chosen at random when there are more). */
  labels: number[];
  /** Their centre units. */
  units: number[];
  /** One row per pair `i < j`: `[labelA, labelB, cosine distance]`. */
  pairs: [number, number, number][];
}

/**
 * Cosine distances between the weights of the centre units of up to `maxClasses` classes
 * (SPEC §4.7). When there are more classes, a seeded random subset is taken.
 *
 * @param weights `K×d` unit weights.
 * @param d Weight dimension.
 * @param centres `{label, centreUnit}` per class.
 * @param options `maxClasses` (default 100) and `rng` for the subset (required only when there
 *   are more classes than `maxClasses`).
 * @returns The chosen classes and every pair's distance.
 * @throws {RangeError} If a centre unit is out of range.
 * @throws {TypeError} If a subset must be drawn but no `rng` was given.
 *
 * @example
 * ```ts
 * import { centreCosineDistances } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const w = Float32Array.from([1, 0, 0, 1]); // 2 units, d = 2
 * const r = centreCosineDistances(w, 2, [{ label: 0, centreUnit: 0 }, { label: 1, centreUnit: 1 }]);
 * assertEquals(r.pairs, [[0, 1, 1]]);
 * ```
 */
export function centreCosineDistances(
  weights: ArrayLike<number>,
  d: number,
  centres: readonly { label: number; centreUnit: number }[],
  options: { maxClasses?: number; rng?: Rng } = {},
): CentreDistances {
  const K = weights.length / d;
  _checkWeights("compute class-centre cosine distances", weights, K, d);
  const max = options.maxClasses ?? 100;
  let chosen = [...centres];
  if (chosen.length > max) {
    if (!options.rng) {
      throw new TypeError(
        `Cannot choose ${max} of ${chosen.length} classes: no rng given but one is required`,
      );
    }
    const perm = options.rng.permutation(chosen.length);
    chosen = Array.from(perm.subarray(0, max)).sort((a, b) => a - b).map((i) => centres[i]);
  }
  for (const c of chosen) {
    if (!Number.isInteger(c.centreUnit) || c.centreUnit < 0 || c.centreUnit >= K) {
      throw new RangeError(
        `Cannot compute class-centre cosine distances: centre unit of class ${c.label} is ` +
          `${c.centreUnit} but expected a unit index in [0, ${K})`,
      );
    }
  }
  const pairs: [number, number, number][] = [];
  for (let a = 0; a < chosen.length; a++) {
    for (let b = a + 1; b < chosen.length; b++) {
      const i = chosen[a].centreUnit, j = chosen[b].centreUnit;
      pairs.push([chosen[a].label, chosen[b].label, cosineDist(weights, i * d, weights, j * d, d)]);
    }
  }
  return {
    labels: chosen.map((c) => c.label),
    units: chosen.map((c) => c.centreUnit),
    pairs,
  };
}
