import { gridD2Table, torusD2, torusDistance, unitPosition } from "../mod.ts";
import { assertAlmostEquals, assertEquals, assertThrows } from "./asserts.ts";

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
