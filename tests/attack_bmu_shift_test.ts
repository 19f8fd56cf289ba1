import { assert, assertEquals, assertThrows } from "./asserts.ts";
import { bmuShifts, bmuShiftTable, shiftStats } from "../lib/analysis/shifts.ts";
import { quantileSorted } from "../lib/analysis/box_stats.ts";
import { torusDistance, unitPosition } from "../lib/geometry/torus.ts";
import { Rng } from "../lib/rng.ts";

Deno.test("bmuShifts gives rank-matched torus distances that agree with torusDistance", () => {
  const m = 7, n = 9, k = 10, rows = 13;
  const rng = new Rng(4);
  const a = Int32Array.from({ length: rows * k }, () => rng.int(m * n));
  const b = Int32Array.from({ length: rows * k }, () => rng.int(m * n));
  const s = bmuShifts(a, b, { m, n, k });
  assertEquals(s.rows, rows);
  assertEquals(s.k, 10);
  for (let i = 0; i < rows * k; i++) {
    const want = torusDistance(unitPosition(a[i], n), unitPosition(b[i], n), m, n);
    assert(Math.abs(s.distances[i] - want) < 1e-6, `entry ${i}: ${s.distances[i]} vs ${want}`);
  }
  assertEquals(s.byRank.length, 10);
  assertEquals(s.byRank[3].count, rows);
});

Deno.test("unchanged BMUs shift by 0 and the wrap-around is the short way", () => {
  const s = bmuShifts(Int32Array.of(0, 1, 2), Int32Array.of(0, 1, 2), { m: 3, n: 3, k: 3 });
  assertEquals(Array.from(s.distances), [0, 0, 0]);
  assertEquals(s.all.max, 0);
  // On a 10×10 torus, (0,0) and (9,9) are √2 apart.
  const w = bmuShifts([0], [99], { m: 10, n: 10, k: 1 });
  assert(Math.abs(w.distances[0] - Math.SQRT2) < 1e-6);
  assert(
    Math.abs(
      bmuShifts([0], [99], { m: 10, n: 10, k: 1, periodic: false }).distances[0] - 9 * Math.SQRT2,
    ) < 1e-5,
  );
});

Deno.test("ranks < k compares only the first ranks of each row", () => {
  const s = bmuShifts([0, 5, 0, 1], [0, 0, 2, 3], { m: 4, n: 4, k: 2, ranks: 1 });
  assertEquals(Array.from(s.distances), [0, 2]);
});

Deno.test("quartiles follow numpy's linear interpolation", () => {
  assertEquals(quantileSorted([1, 2, 3, 4, 10], 0.25), 2);
  assertEquals(quantileSorted([1, 2], 0.5), 1.5);
  const st = shiftStats([3, 1, 2]);
  assertEquals([st.q1, st.median, st.q3, st.mean, st.max], [1.5, 2, 2.5, 2, 3]);
  assert(Number.isNaN(shiftStats([]).mean));
});

Deno.test("bmuShiftTable flattens layers × perturbations × examples × ranks and summarises each", () => {
  const adv = bmuShifts([0, 1, 2, 3], [3, 1, 2, 0], { m: 2, n: 2, k: 2 });
  const noise = bmuShifts([0, 1, 2, 3], [0, 1, 2, 3], { m: 2, n: 2, k: 2 });
  const t = bmuShiftTable({ CL1: { adversarial: adv, noise }, CL2: { adversarial: adv } }, [
    10,
    11,
  ]);
  assertEquals(t.rows.length, 3 * 2 * 2);
  assertEquals(t.rows[0], {
    layer: "CL1",
    perturbation: "adversarial",
    example: 10,
    rank: 1,
    distance: adv.distances[0],
  });
  assertEquals(t.summaries.map((s) => `${s.layer}/${s.perturbation}`), [
    "CL1/adversarial",
    "CL1/noise",
    "CL2/adversarial",
  ]);
  assertEquals(t.summaries[1].all.max, 0);
});

Deno.test("bmuShifts rejects mismatched lengths and units outside the grid", () => {
  assertThrows(() => bmuShifts([0, 1], [0], { m: 2, n: 2, k: 1 }), RangeError, "same number");
  assertThrows(
    () => bmuShifts([0, 1, 2], [0, 1, 2], { m: 2, n: 2, k: 2 }),
    RangeError,
    "multiple of k",
  );
  assertThrows(() => bmuShifts([0], [4], { m: 2, n: 2, k: 1 }), RangeError);
  assertThrows(() => bmuShifts([0], [0], { m: 2, n: 2, k: 1, ranks: 2 }), RangeError, "ranks");
});
