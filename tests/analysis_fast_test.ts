/**
 * The fast paths of the class statistics and the seed alignment against the plain reference
 * implementations they replaced (tests/reference/, the code before the speed-up): on random
 * inputs, up to 1000 classes, every output must be identical — the same floating-point
 * operations in the same order, and the same draws from the same streams.
 */
import { assertEquals } from "./asserts.ts";
import { classStatistics, type ClassStatsLayer } from "../lib/analysis/class_stats.ts";
import { classStatistics as refClassStatistics } from "./reference/class_stats.ts";
import { alignMaps, placementStability, stabilityInterval } from "../lib/analysis/alignment.ts";
import {
  alignMaps as refAlignMaps,
  placementStability as refPlacementStability,
  stabilityInterval as refStabilityInterval,
} from "./reference/alignment.ts";
import { classCentres } from "../lib/analysis/class_centres.ts";
import type { GridShape } from "../lib/geometry/torus.ts";
import { Rng } from "../lib/rng.ts";

/** `n` examples × k BMUs: each class lands near its own anchor unit (or anywhere, `spread`). */
function bmus(rng: Rng, labels: Int32Array, anchors: Int32Array, k: number, g: GridShape) {
  const topk = new Int32Array(labels.length * k);
  for (let i = 0; i < labels.length; i++) {
    const a = anchors[labels[i]], r0 = Math.floor(a / g.n), c0 = a % g.n;
    for (let j = 0; j < k; j++) {
      const r = (r0 + rng.int(5) - 2 + g.m) % g.m, c = (c0 + rng.int(5) - 2 + g.n) % g.n;
      topk[i * k + j] = r * g.n + c;
    }
  }
  return topk;
}

function weights(rng: Rng, K: number, d: number): Float32Array {
  return Float32Array.from({ length: K * d }, () => rng.normal());
}

/** A model's layers on random data: `C` classes, `perClass` examples per split, some map sizes. */
function layers(seed: number, C: number, perClass: number, sizes: number[], dims: number[]) {
  const rng = new Rng(seed), k = 3;
  const train = Int32Array.from({ length: C * perClass }, (_, i) => i % C);
  const val = Int32Array.from({ length: C * perClass }, (_, i) => (i * 7) % C);
  const correct = Int32Array.from(val, () => (rng.int(3) === 0 ? 1 : 0));
  return dims.map((dim): ClassStatsLayer => {
    const maps = sizes.map((s) => {
      const grid = { m: s, n: s + (s % 3) }, K = grid.m * grid.n;
      const anchors = Int32Array.from({ length: C }, () => rng.int(K));
      return { grid, weights: weights(rng, K, dim), anchors };
    });
    const main = maps[Math.min(1, maps.length - 1)];
    const split = (labels: Int32Array, grid: GridShape, anchors: Int32Array) => ({
      topk: bmus(rng, labels, anchors, k, grid),
      labels,
    });
    return {
      grid: main.grid,
      dim,
      weights: main.weights,
      k,
      train: split(train, main.grid, main.anchors),
      val: { ...split(val, main.grid, main.anchors), correct },
      sizes: maps.filter((m) => m !== main).map((m) => ({
        grid: m.grid,
        weights: m.weights,
        train: split(train, m.grid, m.anchors),
      })),
    };
  });
}

for (
  const [name, C, perClass, sizes, dims, subset] of [
    ["10 classes, two sizes", 10, 6, [5, 8], [7, 16], undefined],
    ["60 classes, one size, odd dimensions", 60, 3, [6], [5], 20],
    ["1000 classes, four sizes, a 100-class subset", 1000, 2, [4, 6, 9, 11], [9, 33], 100],
  ] as const
) {
  Deno.test(`classStatistics() equals the reference implementation: ${name}`, () => {
    const ls = layers(C + perClass, C, perClass, [...sizes], [...dims]);
    const centreClasses = subset === undefined
      ? undefined
      : Array.from(new Rng(3).permutation(C).subarray(0, subset)).sort((a, b) => a - b);
    const o = { model: "m", seed: 4, resamples: 12, permutations: 7, centreClasses };
    const fast = classStatistics(ls, o), ref = refClassStatistics(ls, o);
    assertEquals(fast, ref);
    // Not vacuous: the replicates and nulls vary.
    const r = fast[0].centreCd[Object.keys(fast[0].centreCd)[0]];
    assertEquals(new Set(r.replicates).size > 1 && new Set(r.null).size > 1, true);
  });
}

Deno.test("classStatistics() without correctness flags equals the reference", () => {
  const ls = layers(9, 30, 4, [5, 7], [6]).map((l) => ({
    ...l,
    val: { topk: l.val.topk, labels: l.val.labels },
  }));
  const o = { model: "x", resamples: 9, permutations: 5 };
  assertEquals(classStatistics(ls, o), refClassStatistics(ls, o));
});

Deno.test("alignMaps() equals the reference on every shape of blocking (odd K, d mod 4)", () => {
  const rng = new Rng(21);
  for (
    const [grid, d] of [[{ m: 5, n: 7 }, 3], [{ m: 6, n: 6 }, 9], [{ m: 20, n: 20 }, 64]] as const
  ) {
    const K = grid.m * grid.n, a = weights(rng, K, d);
    // b: a shifted copy plus noise, so the best symmetry is not the identity.
    const b = new Float32Array(K * d);
    for (let u = 0; u < K; u++) {
      const v = (u + 3) % K;
      for (let t = 0; t < d; t++) b[v * d + t] = a[u * d + t] + 0.3 * rng.normal();
    }
    assertEquals(alignMaps(a, b, d, grid), refAlignMaps(a, b, d, grid));
    assertEquals(alignMaps(a, a, d, grid), refAlignMaps(a, a, d, grid));
  }
});

Deno.test("placementStability() and stabilityInterval() equal the reference at 1000 classes", () => {
  const rng = new Rng(8), grid = { m: 12, n: 12 }, K = 144, d = 6, C = 1000;
  const labels = Int32Array.from({ length: 3 * C }, (_, i) => i % C);
  const maps = [0, 1, 2].map((seed) => {
    const anchors = Int32Array.from({ length: C }, () => rng.int(K));
    const topk = bmus(rng, labels, anchors, 2, grid);
    return { seed, weights: weights(rng, K, d), centres: classCentres(topk, 2, labels, grid) };
  });
  const fast = placementStability(maps, d, grid), ref = refPlacementStability(maps, d, grid);
  assertEquals(fast, ref);
  assertEquals(
    stabilityInterval(fast, new Rng(5), 40),
    refStabilityInterval(ref, new Rng(5), 40),
  );
  // Fewer than 200 classes takes the exact between-class sum.
  const few = maps.map((m) => ({ ...m, centres: m.centres.slice(0, 150) }));
  const f2 = placementStability(few, d, grid);
  assertEquals(f2, refPlacementStability(few, d, grid));
  assertEquals(stabilityInterval(f2, new Rng(6), 40), refStabilityInterval(f2, new Rng(6), 40));
});
