import { assert, assertAlmostEquals, assertEquals, assertThrows } from "./asserts.ts";
import { bmuDensity } from "../lib/analysis/density.ts";
import {
  bmusByClass,
  classCentres,
  correctnessDistances,
  dClass,
} from "../lib/analysis/class_centres.ts";
import { boxStats, quantileSorted } from "../lib/analysis/box_stats.ts";
import {
  centreCosineDistances,
  upperTriangle,
  weightCosineDistances,
} from "../lib/analysis/weight_distances.ts";
import { quantizationError, topographicError, uMatrix } from "../lib/som/quality.ts";
import {
  alignMaps,
  applySymmetry,
  invertSymmetry,
  placementStability,
  stabilityInterval,
  torusSymmetries,
} from "../lib/analysis/alignment.ts";
import { bmuShiftDistances } from "../lib/analysis/shifts.ts";
import { nearestUnit, torusDist } from "../lib/geometry/torus.ts";
import { Rng } from "../lib/rng.ts";

const G10 = { m: 10, n: 10 };
const unit = (r: number, c: number, n = 10) => r * n + c;

Deno.test("classCentres() puts the centre of a class straddling both seams at the corner", () => {
  // BMUs at the four corners of a 10×10 torus: all within one unit of (−0.5, −0.5) ≡ (9.5, 9.5).
  const topk = Int32Array.from([unit(0, 0), unit(0, 9), unit(9, 0), unit(9, 9)]);
  const [c] = classCentres(topk, 1, [7, 7, 7, 7], G10);
  assertEquals(c.label, 7);
  assertEquals(c.modeUnit, 0); // all tie at one hit: lowest index
  // Unfolded around (0,0): (0,0), (0,-1), (-1,0), (-1,-1) → mean (-0.5,-0.5) → wrapped (9.5, 9.5)
  assertEquals([c.row, c.col], [9.5, 9.5]);
  // Nearest units (9,9), (9,0), (0,9), (0,0) all tie; lowest index is 0.
  assertEquals(c.centreUnit, 0);
});

Deno.test("classCentres() unfolds towards the mode unit, not the plain mean", () => {
  // Class 1: three BMUs at column 9 and one at column 1 of row 4: the plain mean would be col 7;
  // unfolded around the mode (4,9) the column-1 BMU becomes 11 → mean (9·3+11)/4 = 9.5.
  const topk = Int32Array.from([unit(4, 9), unit(4, 9), unit(4, 9), unit(4, 1)]);
  const [c] = classCentres(topk, 2, [1, 1], G10);
  assertEquals(c.modeUnit, unit(4, 9));
  assertEquals([c.row, c.col], [4, 9.5]);
  assertEquals(c.centreUnit, unit(4, 0) < unit(4, 9) ? unit(4, 0) : unit(4, 9)); // tie → lowest
});

Deno.test("dClass() measures torus distances across the seam", () => {
  const topk = Int32Array.from([unit(5, 9), unit(5, 0)]);
  const centres = classCentres(topk, 1, [0, 0], G10); // centre (5, 9.5)
  const d = dClass(topk, 1, [0, 0], centres, G10);
  assertEquals(d.length, 1);
  assertAlmostEquals(d[0].dClass, 0.5, 1e-12);
  // A val example at (5,4) is 4.5 from the centre the short way round, not 5.5.
  const dv = dClass(Int32Array.from([unit(5, 4)]), 1, [0], centres, G10);
  assertAlmostEquals(dv[0].dClass, 4.5, 1e-12);
});

Deno.test("dClass() rejects a SOM-val class that has no SOM-tr centre", () => {
  const centres = classCentres(Int32Array.from([0]), 1, [0], G10);
  assertThrows(
    () => dClass(Int32Array.from([3]), 1, [4], centres, G10),
    RangeError,
    "class 4",
  );
});

Deno.test("correctnessDistances() averages right and wrong predictions per class apart", () => {
  const centres = classCentres(Int32Array.from([0, 0]), 1, [0, 0], G10);
  const val = Int32Array.from([0, 1, 3, 33]); // distances 0, 1, 3, 3√2
  const r = correctnessDistances(val, 1, [0, 0, 0, 0], [1, 1, 0, 0], centres, G10);
  assertEquals(r[0].nCorrect, 2);
  assertAlmostEquals(r[0].correct, 0.5, 1e-12);
  assertAlmostEquals(r[0].incorrect, (3 + 3 * Math.SQRT2) / 2, 1e-12);
});

Deno.test("bmusByClass() counts hits per unit for the requested classes only", () => {
  const r = bmusByClass(Int32Array.from([5, 6, 5, 7, 1, 2]), 2, [3, 3, 4], [3], G10);
  assertEquals(r, [{ label: 3, units: [[5, 2], [6, 1], [7, 1]] }]);
});

Deno.test("bmuDensity() peaks at a planted cluster and wraps across the seam", () => {
  const topk: number[] = [];
  // 50 BMUs at (0,0), 10 each at its 4 torus neighbours (two of them across the seams).
  for (let i = 0; i < 50; i++) topk.push(unit(0, 0));
  for (const u of [unit(1, 0), unit(9, 0), unit(0, 1), unit(0, 9)]) {
    for (let i = 0; i < 10; i++) topk.push(u);
  }
  topk.push(unit(5, 5)); // one far point
  const d = bmuDensity(Int32Array.from(topk), 1, G10);
  assertEquals(d.peak, 0);
  // Symmetric across the seam: density at (1,0) equals that at (9,0), (0,1) at (0,9).
  assertAlmostEquals(d.density[unit(1, 0)], d.density[unit(9, 0)], 1e-12);
  assertAlmostEquals(d.density[unit(0, 1)], d.density[unit(0, 9)], 1e-12);
  // A density per unit area: its sum over the unit grid is a Riemann sum of the integral (1);
  // exact to 1e-6 once the kernel is wider than a unit, within a few % at the 0.5 floor.
  const sum = (x: Float64Array) => x.reduce((a, b) => a + b, 0);
  assertAlmostEquals(sum(d.density), 1, 0.05);
  assertAlmostEquals(
    sum(bmuDensity(Int32Array.from(topk), 1, G10, { bandwidth: 1.5 }).density),
    1,
    1e-6,
  );
  assert(d.density[unit(5, 5)] < d.density[unit(0, 0)] / 10);
});

Deno.test("bmuDensity() with a given bandwidth matches a hand-computed wrapped Gaussian", () => {
  const d = bmuDensity(Int32Array.from([0]), 1, G10, { bandwidth: 1 });
  // At unit (0,1): sum over images of exp(-x²/2)/√(2π) along columns times the row profile at 0.
  const g = (x: number) => {
    let s = 0;
    for (let t = -3; t <= 3; t++) s += Math.exp(-((x + 10 * t) ** 2) / 2);
    return s / Math.sqrt(2 * Math.PI);
  };
  assertAlmostEquals(d.density[unit(0, 1)], g(0) * g(1), 1e-12);
  assertAlmostEquals(d.density[unit(0, 9)], g(0) * g(1), 1e-12);
  assertEquals(d.bandwidth, [1, 1]);
});

Deno.test("bmuDensity() uses Scott's rule on circular spread: N^(-1/6) times the spread", () => {
  // 64 points spread uniformly on rows: circular std is capped at the uniform m/√12.
  const pts = Array.from({ length: 64 }, (_, i) => unit(i % 10, 0));
  const d = bmuDensity(Int32Array.from(pts), 1, G10, { minBandwidth: 0 });
  assertAlmostEquals(d.bandwidth[0], (10 / Math.sqrt(12)) * Math.pow(64, -1 / 6), 1e-9);
  assertEquals(d.bandwidth[1], 0); // all in column 0: zero spread (no floor)
});

Deno.test("boxStats() gives numpy quartiles, 1.5 IQR whiskers and outliers", () => {
  const s = boxStats([1, 2, 3, 4, 5, 6, 7, 8, 9, 50, -30]);
  // sorted: -30 1 2 3 4 5 6 7 8 9 50; q1 = 2.5, q3 = 7.5, IQR = 5, fences −5 and 15
  assertEquals([s.q1, s.median, s.q3], [2.5, 5, 7.5]);
  assertEquals([s.whiskerLow, s.whiskerHigh], [1, 9]);
  assertEquals(s.outliers, [-30, 50]);
  assertEquals(quantileSorted([1, 2, 3, 4], 0.25), 1.75);
  assertEquals(boxStats([]).n, 0);
});

Deno.test("weightCosineDistances() is symmetric with a zero diagonal and zero vectors at 1", () => {
  const w = Float32Array.from([1, 0, 0, 2, 0, 0, -3, 0]);
  const D = weightCosineDistances(w, 4, 2);
  assertEquals(Array.from(D), [0, 1, 1, 2, 1, 0, 1, 1, 1, 1, 0, 1, 2, 1, 1, 0]);
  assertEquals(Array.from(upperTriangle(D, 4)), [1, 1, 2, 1, 1, 1]);
  assertThrows(() => weightCosineDistances(w, 3, 2), RangeError, "expected K·d = 6");
});

Deno.test("centreCosineDistances() compares centre-unit weights and subsamples with a seed", () => {
  const w = Float32Array.from([1, 0, 0, 1, -1, 0, 1, 1]);
  const centres = [{ label: 0, centreUnit: 0 }, { label: 1, centreUnit: 1 }, {
    label: 2,
    centreUnit: 2,
  }];
  const r = centreCosineDistances(w, 2, centres);
  assertEquals(r.pairs, [[0, 1, 1], [0, 2, 2], [1, 2, 1]]);
  const a = centreCosineDistances(w, 2, centres, { maxClasses: 2, rng: new Rng(3) });
  const b = centreCosineDistances(w, 2, centres, { maxClasses: 2, rng: new Rng(3) });
  assertEquals(a, b);
  assertEquals(a.pairs.length, 1);
  assertThrows(() => centreCosineDistances(w, 2, centres, { maxClasses: 2 }), TypeError, "rng");
});

Deno.test("quality: quantization error, torus topographic error and U-matrix by hand", () => {
  assertAlmostEquals(quantizationError(Float32Array.from([0.1, 0.5, 0.3, 0.9]), 2), 0.2, 1e-7);
  // 4×4 torus: (0,0)-(0,3) adjacent across the seam, (0,0)-(1,1) diagonal → not adjacent.
  const te = topographicError(Int32Array.from([0, 3, 0, 5, 0, 4, 0, 12]), 2, { m: 4, n: 4 });
  assertEquals(te, 0.25);
  // 3×3 map where only unit 4 points elsewhere: its U value is 1, its neighbours' 1/8.
  const w = new Float32Array(9 * 2);
  for (let u = 0; u < 9; u++) w[u * 2] = 1;
  w[8] = 0;
  w[9] = 1;
  const U = uMatrix(w, 2, { m: 3, n: 3 });
  assertAlmostEquals(U[4], 1, 1e-7);
  assertAlmostEquals(U[0], 1 / 8, 1e-7);
});

Deno.test("bmuShiftDistances() pairs ranks and uses torus distances", () => {
  const d = bmuShiftDistances(
    Int32Array.from([0, 11, 0]),
    Int32Array.from([90, 11, 99]),
    3,
    G10,
  );
  assertEquals(Array.from(d), [1, 0, Math.fround(Math.SQRT2)]);
  assertThrows(
    () => bmuShiftDistances(Int32Array.from([0]), Int32Array.from([0, 1]), 1, G10),
    RangeError,
    "same images",
  );
});

Deno.test("torus symmetries: the square group has 8·m·n elements and inverses undo them", () => {
  const g = { m: 4, n: 4 };
  const group = torusSymmetries(g);
  assertEquals(group.length, 8 * 16);
  assertEquals(torusSymmetries({ m: 3, n: 5 }).length, 4 * 15);
  for (const s of group) {
    const [r, c] = applySymmetry(s, 1.25, 2.5, g);
    const [r2, c2] = invertSymmetry(s, r, c, g);
    assertAlmostEquals(r2, 1.25, 1e-12);
    assertAlmostEquals(c2, 2.5, 1e-12);
  }
  assertEquals(nearestUnit(3.5, 0.2, g), 0); // rows 3 and 0 tie (3.5 → 0 across the seam)
  assertAlmostEquals(torusDist(0, 0, 3.5, 0, g), 0.5, 1e-12);
});

function transformed(
  w: Float32Array,
  d: number,
  g: { m: number; n: number },
  s: ReturnType<
    typeof torusSymmetries
  >[number],
): Float32Array {
  const out = new Float32Array(w.length);
  for (let u = 0; u < g.m * g.n; u++) {
    const [r, c] = applySymmetry(s, Math.floor(u / g.n), u % g.n, g);
    out.set(w.subarray(u * d, u * d + d), (r * g.n + c) * d);
  }
  return out;
}

Deno.test("alignMaps() recovers a rotation+translation between two identical SOMs", () => {
  const g = { m: 6, n: 6 }, d = 5, rng = new Rng(11);
  const a = Float32Array.from({ length: 36 * d }, () => rng.normal());
  // A 90° rotation: transpose then flip rows, then shift by (2, 5).
  const s = { transpose: true, flipRows: true, flipCols: false, dr: 2, dc: 5 };
  const b = transformed(a, d, g, s);
  const al = alignMaps(a, b, d, g);
  assertEquals(al.symmetry, s);
  assertAlmostEquals(al.cost, 0, 1e-6);
  assert(al.identityCost > 0.5);
});

Deno.test("placementStability() is 1 for a transformed copy and lower for scrambled centres", () => {
  const g = { m: 6, n: 6 }, d = 4, rng = new Rng(5);
  const a = Float32Array.from({ length: 36 * d }, () => rng.normal());
  const s = { transpose: false, flipRows: false, flipCols: true, dr: 3, dc: 1 };
  const b = transformed(a, d, g, s);
  const topkA = Int32Array.from([0, 7, 14, 21, 28, 35]);
  const topkB = Int32Array.from(Array.from(topkA, (u) => {
    const [r, c] = applySymmetry(s, Math.floor(u / 6), u % 6, g);
    return r * 6 + c;
  }));
  const labels = [0, 1, 2, 3, 4, 5];
  const ca = classCentres(topkA, 1, labels, g), cb = classCentres(topkB, 1, labels, g);
  const st = placementStability(
    [{ seed: 0, weights: a, centres: ca }, { seed: 1, weights: b, centres: cb }],
    d,
    g,
  );
  assertAlmostEquals(st.meanDisplacement, 0, 1e-9);
  assertAlmostEquals(st.stability, 1, 1e-9);
  assertEquals(stabilityInterval(st, new Rng(1), 100), [1, 1]);
  const scrambled = classCentres(topkB, 1, [1, 2, 3, 4, 5, 0], g);
  const st2 = placementStability(
    [{ seed: 0, weights: a, centres: ca }, { seed: 1, weights: b, centres: scrambled }],
    d,
    g,
  );
  assert(st2.stability < 0.5, `stability ${st2.stability}`);
  const [lo, hi] = stabilityInterval(st2, new Rng(2), 200);
  assert(lo <= hi && hi < 1, `${lo} ${hi}`);
  assertThrows(() => placementStability([st2 as never], d, g), RangeError, "at least 2");
});
