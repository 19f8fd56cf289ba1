/**
 * BMU shifts under perturbation (paper Figs. 11, 12): for each image, the torus distance between
 * its i-th clean BMU and its i-th perturbed BMU, i = 1..k.
 *
 * @module
 */

import { bmuShifts } from "../attack/bmu_shift.ts";
import { checkTopk, type GridShape } from "../geometry/torus.ts";

/**
 * Rank-wise torus distances between clean and perturbed top-k BMUs (an adapter over the attack
 * module's `bmuShifts` that validates unit indices against the grid).
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
  // The distances themselves come from the attack module's bmuShifts (one definition of a BMU
  // shift in the toolkit); this adapter adds the validation and message shape of the analyses.
  return bmuShifts(clean, perturbed, { m: grid.m, n: grid.n, k, ranks: k, periodic: true })
    .distances;
}
