/**
 * Class centres on the unfolded torus (paper §2.4, Fig. 2) and the distances from BMUs to them:
 * D_class (Fig. 6A,B), BMUs by class (Fig. 5) and the label-centre distance split by
 * correctness (Supp. Fig. 3).
 *
 * @module
 */

import { checkTopk, type GridShape, nearestUnit, torusDist, wrap } from "../geometry/torus.ts";

/** The centre of one class. */
export interface ClassCentre {
  /** Class label. */
  label: number;
  /** Examples of the class that contributed. */
  count: number;
  /** Most frequent unit among the class's top-k BMUs (ties: lowest index). */
  modeUnit: number;
  /** Centre row, continuous, in `[0, m)`. */
  row: number;
  /** Centre column, continuous, in `[0, n)`. */
  col: number;
  /** Grid unit nearest to the centre on the torus (ties: lowest index). */
  centreUnit: number;
}

function _checkLabels(what: string, labels: ArrayLike<number>, N: number): void {
  if (labels.length !== N) {
    throw new RangeError(
      `Cannot ${what}: ${labels.length} labels but ${N} rows of BMUs; expected one label per row`,
    );
  }
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isInteger(labels[i]) || labels[i] < 0) {
      throw new RangeError(
        `Cannot ${what}: label ${i} is ${labels[i]} but labels must be non-negative integers`,
      );
    }
  }
}

/**
 * Class centres per SPEC §4.4: for each class, the mode unit `u*` of all its examples' top-k
 * BMUs; every BMU is unfolded to the one of its 9 images on the 3×3 tiling (offsets
 * `{−m,0,+m}×{−n,0,+n}`) nearest to `u*` (ties prefer the unshifted image, then the first in
 * the order −, +); the centre is the mean of the unfolded positions, wrapped into
 * `[0,m)×[0,n)`; the centre unit is the grid unit nearest to it on the torus.
 *
 * @param topk `N×k` top-k BMU unit indices of SOM-tr.
 * @param k BMUs per row (all k are used).
 * @param labels `N` class labels.
 * @param grid The grid.
 * @returns Centres by label, ascending.
 * @throws {RangeError} On mismatched lengths, bad indices or labels.
 *
 * @example A class straddling the seam has its centre on the seam
 * ```ts
 * import { classCentres } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * // Two examples, one BMU each, at columns 9 and 0 of row 5 on a 10×10 torus (units 59, 50).
 * const [c] = classCentres(Int32Array.from([59, 50]), 1, [3, 3], { m: 10, n: 10 });
 * assertEquals([c.label, c.row, c.col], [3, 5, 9.5]);
 * ```
 */
export function classCentres(
  topk: ArrayLike<number>,
  k: number,
  labels: ArrayLike<number>,
  grid: GridShape,
): ClassCentre[] {
  const what = "estimate class centres";
  const N = checkTopk(what, topk, k, grid);
  _checkLabels(what, labels, N);
  const { m, n } = grid;
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < N; i++) {
    const l = labels[i];
    let a = byClass.get(l);
    if (!a) byClass.set(l, a = []);
    a.push(i);
  }
  const out: ClassCentre[] = [];
  const counts = new Int32Array(m * n);
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const rowsOf = byClass.get(label)!;
    counts.fill(0);
    for (const i of rowsOf) for (let j = 0; j < k; j++) counts[topk[i * k + j]]++;
    let mode = 0;
    for (let u = 1; u < m * n; u++) if (counts[u] > counts[mode]) mode = u;
    const mr = Math.floor(mode / n), mc = mode % n;
    let sr = 0, sc = 0, cnt = 0;
    for (const i of rowsOf) {
      for (let j = 0; j < k; j++) {
        const u = topk[i * k + j];
        const [ur, uc] = unfold(Math.floor(u / n), u % n, mr, mc, grid);
        sr += ur;
        sc += uc;
        cnt++;
      }
    }
    const row = wrap(sr / cnt, m), col = wrap(sc / cnt, n);
    out.push({
      label,
      count: rowsOf.length,
      modeUnit: mode,
      row,
      col,
      centreUnit: nearestUnit(row, col, grid),
    });
  }
  return out;
}

/**
 * The image of grid point `(r, c)` on the 3×3 tiling nearest (Euclidean) to `(r0, c0)`.
 *
 * @param r Row of the point.
 * @param c Column of the point.
 * @param r0 Row of the anchor.
 * @param c0 Column of the anchor.
 * @param grid The grid.
 * @returns `[row, column]` of the chosen image, possibly outside `[0,m)×[0,n)`.
 *
 * @example
 * ```ts
 * import { unfold } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * // Column 9 seen from column 0 of a 10×10 torus is column −1.
 * assertEquals(unfold(5, 9, 5, 0, { m: 10, n: 10 }), [5, -1]);
 * ```
 */
export function unfold(
  r: number,
  c: number,
  r0: number,
  c0: number,
  grid: GridShape,
): [number, number] {
  let br = r, bc = c, bd = Infinity;
  for (const a of [0, -1, 1]) {
    for (const b of [0, -1, 1]) {
      const ir = r + a * grid.m, ic = c + b * grid.n;
      const d = (ir - r0) ** 2 + (ic - c0) ** 2;
      if (d < bd) {
        bd = d;
        br = ir;
        bc = ic;
      }
    }
  }
  return [br, bc];
}

/**
 * Per-example mean torus distance between its top-k BMUs and the centre of a given class.
 *
 * @param topk `N×k` top-k BMU unit indices.
 * @param k BMUs per row.
 * @param classOf `N` labels naming whose centre each row is measured against.
 * @param centres Centres from {@linkcode classCentres}.
 * @param grid The grid.
 * @returns `N` mean distances in grid units.
 * @throws {RangeError} If a label has no centre (a class present here but not in SOM-tr).
 *
 * @example
 * ```ts
 * import { centreDistances, classCentres } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const g = { m: 10, n: 10 };
 * const centres = classCentres(Int32Array.from([0]), 1, [0], g);
 * assertEquals(Array.from(centreDistances(Int32Array.from([9]), 1, [0], centres, g)), [1]);
 * ```
 */
export function centreDistances(
  topk: ArrayLike<number>,
  k: number,
  classOf: ArrayLike<number>,
  centres: readonly ClassCentre[],
  grid: GridShape,
): Float64Array {
  const what = "measure distances to class centres";
  const N = checkTopk(what, topk, k, grid);
  _checkLabels(what, classOf, N);
  const byLabel = new Map(centres.map((c) => [c.label, c]));
  const out = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const c = byLabel.get(classOf[i]);
    if (!c) {
      throw new RangeError(
        `${what[0].toUpperCase()}${what.slice(1)} failed: class ${classOf[i]} (row ${i}) has no ` +
          `centre; expected one of the SOM-tr classes ${[...byLabel.keys()].join(", ")}`,
      );
    }
    let s = 0;
    for (let j = 0; j < k; j++) {
      const u = topk[i * k + j];
      s += torusDist(Math.floor(u / grid.n), u % grid.n, c.row, c.col, grid);
    }
    out[i] = s / k;
  }
  return out;
}

/** D_class of one class. */
export interface ClassDistance {
  /** Class label. */
  label: number;
  /** Examples averaged. */
  count: number;
  /** Mean over the class's examples and their top-k BMUs of the torus distance to the centre. */
  dClass: number;
}

/**
 * D_class per class (SPEC §4.5): the mean torus distance between each example's top-k BMUs and
 * its class centre (centres estimated from SOM-tr, also when measuring SOM-val).
 *
 * @param topk `N×k` top-k BMU unit indices.
 * @param k BMUs per row.
 * @param labels `N` class labels.
 * @param centres Centres from {@linkcode classCentres} on SOM-tr.
 * @param grid The grid.
 * @returns One entry per class present in `labels`, ascending by label.
 * @throws {RangeError} If a class has no centre, or on bad inputs.
 *
 * @example
 * ```ts
 * import { classCentres, dClass } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const grid = { m: 10, n: 10 };
 * const centres = classCentres(Int32Array.from([0, 2]), 1, [0, 0], grid); // centre (0, 1)
 * assertEquals(dClass(Int32Array.from([0, 2]), 1, [0, 0], centres, grid)[0].dClass, 1);
 * ```
 */
export function dClass(
  topk: ArrayLike<number>,
  k: number,
  labels: ArrayLike<number>,
  centres: readonly ClassCentre[],
  grid: GridShape,
): ClassDistance[] {
  const per = centreDistances(topk, k, labels, centres, grid);
  return _meanByLabel(per, labels).map(([label, count, mean]) => ({ label, count, dClass: mean }));
}

function _meanByLabel(
  values: ArrayLike<number>,
  labels: ArrayLike<number>,
  keep?: (i: number) => boolean,
): [number, number, number][] {
  const acc = new Map<number, [number, number]>();
  for (let i = 0; i < values.length; i++) {
    if (keep && !keep(i)) continue;
    const a = acc.get(labels[i]) ?? [0, 0];
    a[0] += values[i];
    a[1]++;
    acc.set(labels[i], a);
  }
  return [...acc.entries()].sort((a, b) => a[0] - b[0]).map(([l, [s, c]]) => [l, c, s / c]);
}

/** Label-centre distances of one class split by whether the model was right. */
export interface CorrectnessDistance {
  /** Class label. */
  label: number;
  /** Correctly predicted examples. */
  nCorrect: number;
  /** Mean label-centre distance over correct examples (NaN if none). */
  correct: number;
  /** Wrongly predicted examples. */
  nIncorrect: number;
  /** Mean label-centre distance over wrong examples (NaN if none). */
  incorrect: number;
}

/**
 * Supp. Fig. 3: for SOM-val, the mean distance between an example's top-k BMUs and the centre of
 * its label class, averaged per class separately over correctly and wrongly predicted examples.
 *
 * @param topk `N×k` top-k BMU unit indices (SOM-val).
 * @param k BMUs per row.
 * @param labels `N` true labels.
 * @param correct `N` flags, non-zero where the model's prediction equals the label.
 * @param centres Centres from SOM-tr.
 * @param grid The grid.
 * @returns One entry per class, ascending by label.
 * @throws {RangeError} On mismatched lengths or a class without a centre.
 *
 * @example
 * ```ts
 * import { classCentres, correctnessDistances } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const g = { m: 10, n: 10 };
 * const centres = classCentres(Int32Array.from([0]), 1, [0], g);
 * const [r] = correctnessDistances(Int32Array.from([0, 2]), 1, [0, 0], [1, 0], centres, g);
 * assertEquals([r.correct, r.incorrect], [0, 2]);
 * ```
 */
export function correctnessDistances(
  topk: ArrayLike<number>,
  k: number,
  labels: ArrayLike<number>,
  correct: ArrayLike<number | boolean>,
  centres: readonly ClassCentre[],
  grid: GridShape,
): CorrectnessDistance[] {
  const per = centreDistances(topk, k, labels, centres, grid);
  if (correct.length !== per.length) {
    throw new RangeError(
      `Cannot split distances by correctness: ${correct.length} flags but ${per.length} rows`,
    );
  }
  const c = new Map(_meanByLabel(per, labels, (i) => !!correct[i]).map((r) => [r[0], r]));
  const w = new Map(_meanByLabel(per, labels, (i) => !correct[i]).map((r) => [r[0], r]));
  const all = [...new Set([...c.keys(), ...w.keys()])].sort((a, b) => a - b);
  return all.map((label) => ({
    label,
    nCorrect: c.get(label)?.[1] ?? 0,
    correct: c.get(label)?.[2] ?? NaN,
    nIncorrect: w.get(label)?.[1] ?? 0,
    incorrect: w.get(label)?.[2] ?? NaN,
  }));
}

/** BMU counts of one class on the grid (Fig. 5). */
export interface ClassBmuCounts {
  /** Class label. */
  label: number;
  /** `[unit, count]` pairs of the units hit, ascending by unit. */
  units: [number, number][];
}

/**
 * Where the examples of chosen classes land: for each class, the units among their top-k BMUs
 * and how often each was hit.
 *
 * @param topk `N×k` top-k BMU unit indices.
 * @param k BMUs per row.
 * @param labels `N` class labels.
 * @param classes The classes to report.
 * @param grid The grid.
 * @returns One entry per requested class, in the order given.
 *
 * @example
 * ```ts
 * import { bmusByClass } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const r = bmusByClass(Int32Array.from([3, 3, 5]), 1, [1, 1, 2], [1], { m: 4, n: 4 });
 * assertEquals(r, [{ label: 1, units: [[3, 2]] }]);
 * ```
 */
export function bmusByClass(
  topk: ArrayLike<number>,
  k: number,
  labels: ArrayLike<number>,
  classes: readonly number[],
  grid: GridShape,
): ClassBmuCounts[] {
  const N = checkTopk("collect BMUs by class", topk, k, grid);
  _checkLabels("collect BMUs by class", labels, N);
  return classes.map((label) => {
    const cnt = new Map<number, number>();
    for (let i = 0; i < N; i++) {
      if (labels[i] !== label) continue;
      for (let j = 0; j < k; j++) {
        const u = topk[i * k + j];
        cnt.set(u, (cnt.get(u) ?? 0) + 1);
      }
    }
    return { label, units: [...cnt.entries()].sort((a, b) => a[0] - b[0]) };
  });
}
