/**
 * Seeded per-class sampling: SOM-tr and SOM-val draw `n` examples per class (SPEC §1).
 *
 * @module
 */

import type { Rng } from "../rng.ts";

/** Options for {@linkcode samplePerClass}. */
export interface SamplePerClassOptions {
  /** Take every example of a class that has fewer than `perClass` instead of failing. Default false. */
  allowFewer?: boolean;
  /**
   * Classes `0..numClasses−1` must all be sampled (a class with no examples is then short).
   * Default: the classes that occur in `labels`.
   */
  numClasses?: number;
  /** Class names for error messages (label order). */
  classNames?: readonly string[];
}

/** Result of {@linkcode samplePerClass}. */
export interface PerClassSample {
  /** Drawn example indices, class by class (ascending label), ascending within a class. */
  indices: Int32Array;
  /** Examples drawn per label (`counts[label]`; 0 for classes not sampled). */
  counts: number[];
}

/**
 * Draws `perClass` examples of every class without replacement, with a seeded RNG.
 *
 * Each class draws from its own named stream of `rng` (`class-<label>`), so a class's draw does
 * not depend on the other classes, and the same seed gives the same indices. Train and
 * validation draws are disjoint because they come from different splits.
 *
 * @param labels Label of every example.
 * @param perClass Examples per class, a positive integer.
 * @param rng Seeded generator (its seed, not its state, decides the draw).
 * @param options Fewer-examples policy, class count, class names.
 * @returns The indices and the count per class.
 * @throws {RangeError} If `perClass` is not a positive integer, a label is negative, or a class
 * has fewer than `perClass` examples and `allowFewer` is not set (the message names the class
 * and its count).
 * @example
 * ```ts
 * import { Rng, samplePerClass } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const labels = Int32Array.from([0, 1, 0, 1, 0, 1, 2, 2]);
 * const a = samplePerClass(labels, 2, new Rng(1));
 * const b = samplePerClass(labels, 2, new Rng(1));
 * assertEquals(a.counts, [2, 2, 2]);
 * assertEquals(Array.from(a.indices), Array.from(b.indices));
 * assertEquals(Array.from(a.indices.slice(4)), [6, 7]);
 * ```
 */
export function samplePerClass(
  labels: Int32Array,
  perClass: number,
  rng: Rng,
  options: SamplePerClassOptions = {},
): PerClassSample {
  if (!Number.isInteger(perClass) || perClass <= 0) {
    throw new RangeError(
      `Cannot sample per class: perClass is ${perClass} but expected a positive integer`,
    );
  }
  let maxLabel = -1;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < 0) {
      throw new RangeError(`Cannot sample per class: label ${labels[i]} at ${i} is negative`);
    }
    maxLabel = Math.max(maxLabel, labels[i]);
  }
  const { numClasses } = options;
  if (numClasses !== undefined && (!Number.isInteger(numClasses) || numClasses <= maxLabel)) {
    throw new RangeError(
      `Cannot sample per class: numClasses is ${numClasses} but labels go up to ${maxLabel}`,
    );
  }
  const k = numClasses ?? maxLabel + 1;
  const members: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < labels.length; i++) members[labels[i]].push(i);
  const counts = new Array<number>(k).fill(0);
  const out: number[] = [];
  for (let c = 0; c < k; c++) {
    const m = members[c];
    if (m.length === 0 && numClasses === undefined) continue;
    if (m.length < perClass && !options.allowFewer) {
      const name = options.classNames?.[c];
      throw new RangeError(
        `Cannot sample ${perClass} examples per class: class ${c}` +
          `${name !== undefined ? ` (${name})` : ""} has ${m.length} but expected at least ` +
          `${perClass}; allow fewer to take all ${m.length}`,
      );
    }
    const take = Math.min(perClass, m.length);
    // Partial Fisher–Yates: the first `take` slots become a uniform sample without replacement.
    const s = rng.stream(`class-${c}`);
    for (let i = 0; i < take; i++) {
      const j = i + s.int(m.length - i);
      [m[i], m[j]] = [m[j], m[i]];
    }
    const chosen = m.slice(0, take).sort((a, b) => a - b);
    out.push(...chosen);
    counts[c] = take;
  }
  return { indices: Int32Array.from(out), counts };
}
