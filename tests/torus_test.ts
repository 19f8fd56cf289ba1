import {
  cosineDistanceMatrix,
  cosineDistanceMatrixGpu,
  cosineDistanceMatrixNative,
  cosineDistanceMatrixReference,
  gridD2Table,
  pairwiseTorusDistances,
  pairwiseTorusDistancesGpu,
  Rng,
  torusD2,
  torusDistance,
  unitPosition,
} from "../mod.ts";
import {
  assert,
  assertAlmostEquals,
  assertArrayClose,
  assertEquals,
  assertRejects,
  assertThrows,
} from "./asserts.ts";
import { withGpu } from "./gpu_helper.ts";

/** Brute force: the minimum over the 3×3 tiling of squared offsets (independent of min(d, m−d)). */
function tiledD2(a: number, b: number, m: number, n: number): number {
  const [ia, ja] = [Math.floor(a / n), a % n], [ib, jb] = [Math.floor(b / n), b % n];
  let best = Infinity;
  for (const oi of [-m, 0, m]) {
    for (const oj of [-n, 0, n]) {
      best = Math.min(best, (ia - ib + oi) ** 2 + (ja - jb + oj) ** 2);
    }
  }
  return best;
}

Deno.test("unitPosition() is row-major", () => {
  assertEquals(unitPosition(0, 5), [0, 0]);
  assertEquals(unitPosition(4, 5), [0, 4]);
  assertEquals(unitPosition(5, 5), [1, 0]);
  assertEquals(unitPosition(23, 7), [3, 2]);
  assertThrows(() => unitPosition(-1, 5), RangeError, "-1");
  assertThrows(() => unitPosition(1, 0), RangeError, "0 columns");
});

Deno.test("torusD2() equals the minimum over the 3×3 tiling on non-square grids", () => {
  for (const [m, n] of [[4, 7], [7, 4], [1, 5], [3, 3], [2, 2], [5, 6]]) {
    for (let a = 0; a < m * n; a++) {
      for (let b = 0; b < m * n; b++) {
        assertEquals(torusD2(a, b, m, n), tiledD2(a, b, m, n), `${m}×${n} ${a},${b}`);
        const [ia, ja] = unitPosition(a, n), [ib, jb] = unitPosition(b, n);
        assertEquals(torusD2(a, b, m, n, false), (ia - ib) ** 2 + (ja - jb) ** 2);
      }
    }
  }
  assertThrows(() => torusD2(0, 12, 3, 4), RangeError, "unit 12 is outside the 3×4 grid");
  assertThrows(() => torusD2(0, 1, 0, 4), RangeError, "grid is 0×4");
});

Deno.test("gridD2Table() matches torusD2() for every pair, periodic and not", () => {
  for (const [m, n] of [[4, 7], [7, 4], [1, 1], [20, 20], [3, 10]]) {
    for (const periodic of [true, false]) {
      const t = gridD2Table(m, n, periodic), K = m * n;
      assertEquals(t.length, K * K);
      for (let a = 0; a < K; a++) {
        for (let b = 0; b < K; b++) {
          if (t[a * K + b] !== torusD2(a, b, m, n, periodic)) {
            throw new Error(`${m}×${n} periodic=${periodic}: D2(${a},${b}) is ${t[a * K + b]}`);
          }
        }
      }
    }
  }
});

Deno.test("torusDistance() wraps continuous positions, including ones outside the grid", () => {
  assertAlmostEquals(torusDistance([0.25, 0], [19.75, 0], 20, 20), 0.5, 1e-12);
  assertAlmostEquals(torusDistance([0, 0.25], [0, 29.75], 20, 30), 0.5, 1e-12);
  assertAlmostEquals(torusDistance([-1, 0], [19, 0], 20, 20), 0, 1e-12);
  assertAlmostEquals(torusDistance([41, 3], [0, 0], 20, 20), Math.hypot(1, 3), 1e-12);
  assertAlmostEquals(torusDistance([0, 0], [10, 15], 20, 30), Math.hypot(10, 15), 1e-12);
  assertAlmostEquals(torusDistance([1, 2], [3, 5], 20, 30), torusDistance([3, 5], [1, 2], 20, 30));
  assertThrows(() => torusDistance([NaN, 0], [0, 0], 4, 4), RangeError, "NaN");
});

// ---- pairwise torus distances ----

function randomPositions(rng: Rng, count: number, m: number, n: number, spread = 1): Float32Array {
  // Mostly inside the grid, some outside (unfolded positions), some on unit centres.
  return Float32Array.from({ length: 2 * count }, (_, i) => {
    const L = i % 2 === 0 ? m : n;
    const u = rng.float();
    return u < 0.3 ? rng.int(L) : (rng.float() * (1 + 2 * spread) - spread) * L;
  });
}

Deno.test("pairwiseTorusDistances() equals torusDistance() for every pair", () => {
  const rng = new Rng(3);
  for (const [m, n] of [[20, 20], [7, 13], [1, 5]]) {
    const a = randomPositions(rng, 17, m, n), b = randomPositions(rng, 9, m, n);
    const d = pairwiseTorusDistances(a, b, m, n);
    assertEquals(d.length, 17 * 9);
    for (let i = 0; i < 17; i++) {
      for (let j = 0; j < 9; j++) {
        const want = torusDistance(
          a.subarray(2 * i, 2 * i + 2),
          b.subarray(2 * j, 2 * j + 2),
          m,
          n,
        );
        assertEquals(d[i * 9 + j], Math.fround(want));
      }
    }
  }
  assertThrows(
    () => pairwiseTorusDistances(new Float32Array(3), new Float32Array(2), 4, 4),
    RangeError,
    "a has 3 values",
  );
  assertThrows(
    () => pairwiseTorusDistances(new Float32Array(2), new Float32Array([0, NaN]), 4, 4),
    RangeError,
    "b position 0 has coordinate NaN",
  );
});

Deno.test("pairwiseTorusDistances() of unit positions is the square root of gridD2Table()", () => {
  for (const [m, n] of [[4, 7], [20, 20]]) {
    const K = m * n;
    const pos = Float32Array.from({ length: 2 * K }, (_, i) => unitPosition(i >> 1, n)[i % 2]);
    const d = pairwiseTorusDistances(pos, pos, m, n), t = gridD2Table(m, n);
    for (let k = 0; k < K * K; k++) assertEquals(d[k], Math.fround(Math.sqrt(t[k])));
  }
});

// ---- cosine distance matrices ----

/** Random weights with planted zero, parallel, antiparallel and duplicate rows. */
function weightsWithCases(rng: Rng, K: number, d: number): Float32Array {
  const w = Float32Array.from({ length: K * d }, () => rng.normal());
  w.fill(0, 1 * d, 2 * d); // row 1: zero vector
  for (let t = 0; t < d; t++) {
    w[2 * d + t] = 3 * w[t]; // row 2 ∥ row 0
    w[3 * d + t] = -w[t]; // row 3 antiparallel to row 0
  }
  if (K > 5) w.copyWithin(5 * d, 4 * d, 5 * d); // row 5 = row 4
  return w;
}

Deno.test("cosineDistanceMatrixReference() follows the SOM metric: zero vector at distance 1 to all", () => {
  const rng = new Rng(8);
  const K = 7, d = 5;
  const w = weightsWithCases(rng, K, d);
  const D = cosineDistanceMatrixReference(w, K, d);
  for (let j = 0; j < K; j++) assertEquals([D[K + j], D[j * K + 1]], [1, 1]);
  assertAlmostEquals(D[0 * K + 2], 0, 1e-7);
  assertAlmostEquals(D[0 * K + 3], 2, 1e-7);
  assertAlmostEquals(D[4 * K + 5], 0, 1e-7);
  for (let i = 0; i < K; i++) {
    if (i !== 1) assertAlmostEquals(D[i * K + i], 0, 1e-7);
    for (let j = 0; j < K; j++) {
      assertEquals(D[i * K + j], D[j * K + i]);
      assert(D[i * K + j] >= -1e-7 && D[i * K + j] <= 2 + 1e-7);
    }
  }
  assertThrows(() => cosineDistanceMatrixReference(w, K, d + 1), RangeError, "needs 42");
  w[12] = NaN;
  assertThrows(() => cosineDistanceMatrix(w, K, d), RangeError, "weight 2 component 2 is NaN");
});

Deno.test("cosineDistanceMatrix() matches the reference within 1e-6 and is exactly symmetric", () => {
  const rng = new Rng(9);
  for (const [K, d] of [[1, 1], [2, 3], [7, 5], [13, 17], [25, 64], [30, 129]]) {
    const w = K >= 4
      ? weightsWithCases(rng, K, d)
      : Float32Array.from({ length: K * d }, () => rng.normal());
    const ref = cosineDistanceMatrixReference(w, K, d);
    const fast = cosineDistanceMatrix(w, K, d);
    assertArrayClose(fast, ref, 1e-6, 0, `K=${K} d=${d}`);
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < K; j++) assertEquals(fast[i * K + j], fast[j * K + i]);
    }
    if (K >= 4) assertEquals(fast[K + 1], 1);
  }
});

Deno.test("cosineDistanceMatrixNative() matches the reference within 1e-5 and is exactly symmetric", async () => {
  const rng = new Rng(11);
  for (const [K, d] of [[1, 1], [7, 5], [30, 129], [100, 512]]) {
    const w = K >= 6
      ? weightsWithCases(rng, K, d)
      : Float32Array.from({ length: K * d }, () => rng.normal());
    const ref = cosineDistanceMatrixReference(w, K, d);
    const native = await cosineDistanceMatrixNative(w, K, d, { threads: 1 });
    assertArrayClose(native, ref, 1e-5, 0, `K=${K} d=${d}`);
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < K; j++) assertEquals(native[i * K + j], native[j * K + i]);
      if (K >= 6) assertEquals(native[K + i], 1);
    }
  }
  await assertRejects(
    () => cosineDistanceMatrixNative(new Float32Array(4), 2, 2, { threads: 0 }),
    RangeError,
    "threads is 0",
  );
});

// ---- WebGPU ----

Deno.test("pairwiseTorusDistancesGpu() matches the CPU path within 1e-5, non-square grids, split outputs", async () => {
  await withGpu(async (ctx) => {
    const rng = new Rng(4);
    for (const [m, n, P, Q] of [[20, 20, 130, 10], [7, 13, 33, 65], [40, 40, 1, 1], [1, 5, 5, 3]]) {
      const a = randomPositions(rng, P, m, n), b = randomPositions(rng, Q, m, n);
      const cpu = pairwiseTorusDistances(a, b, m, n);
      assertArrayClose(await pairwiseTorusDistancesGpu(ctx, a, b, m, n), cpu, 1e-5, 0, `${m}×${n}`);
      // A binding of 3 rows forces ceil(P/3) dispatches.
      const split = await pairwiseTorusDistancesGpu(ctx, a, b, m, n, { maxBindingBytes: 12 * Q });
      assertArrayClose(split, cpu, 1e-5, 0, `${m}×${n} split`);
    }
    assertEquals(
      (await pairwiseTorusDistancesGpu(ctx, new Float32Array(0), new Float32Array(4), 3, 3)).length,
      0,
    );
  });
});

Deno.test("cosineDistanceMatrixGpu() matches the reference within 1e-5, exactly symmetric, zero vector at 1", async () => {
  await withGpu(async (ctx) => {
    const rng = new Rng(10);
    for (
      const [K, d, wg] of [
        [7, 5, 64],
        [25, 64, 64],
        [33, 129, 8],
        [100, 512, 64],
        [17, 3, 1],
        [40, 40, 256],
        [1, 1, 64],
        [3, 6, 64],
      ]
    ) {
      const w = K >= 6
        ? weightsWithCases(rng, K, d)
        : Float32Array.from({ length: K * d }, () => rng.normal());
      const ref = cosineDistanceMatrixReference(w, K, d);
      const gpu = await cosineDistanceMatrixGpu(ctx, w, K, d, { workgroupSize: wg });
      assertArrayClose(gpu, ref, 1e-5, 0, `K=${K} d=${d} WG=${wg}`);
      for (let i = 0; i < K; i++) {
        for (let j = 0; j < K; j++) assertEquals(gpu[i * K + j], gpu[j * K + i]);
        if (K >= 6) assertEquals(gpu[K + i], 1);
      }
    }
    // Nearly parallel rows (like neighbouring SOM units) at d = 8192: small distances matter.
    const d = 8192, K = 9;
    const base = Float32Array.from({ length: d }, () => rng.normal());
    const w = Float32Array.from({ length: K * d }, (_, i) => base[i % d] + 0.1 * rng.normal());
    const ref = cosineDistanceMatrixReference(w, K, d);
    assert(ref[1] < 0.02, "rows are nearly parallel");
    assertArrayClose(await cosineDistanceMatrixGpu(ctx, w, K, d), ref, 1e-5, 0, "d=8192");
    await assertRejects(
      () => cosineDistanceMatrixGpu(ctx, new Float32Array(4), 2, 2, { workgroupSize: 0 }),
      RangeError,
      "workgroupSize is 0",
    );
  });
});
