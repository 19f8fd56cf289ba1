import { assert, assertEquals, assertNotEquals, assertThrows } from "./asserts.ts";
import { Rng } from "../mod.ts";

Deno.test("Rng gives the same sequence for the same seed and different ones otherwise", () => {
  const a = new Rng(1), b = new Rng(1), c = new Rng(2);
  const xa = Array.from({ length: 8 }, () => a.nextU32());
  const xb = Array.from({ length: 8 }, () => b.nextU32());
  const xc = Array.from({ length: 8 }, () => c.nextU32());
  assertEquals(xa, xb);
  assertNotEquals(xa, xc);
});

Deno.test("Rng.stream() depends on the name and seed, not on the parent's state", () => {
  const a = new Rng(5);
  const s1 = a.stream("init").float();
  a.float();
  assertEquals(a.stream("init").float(), s1);
  assertNotEquals(a.stream("shuffle").float(), s1);
});

Deno.test("Rng.float() is uniform in [0,1) and normal() has mean 0, variance 1", () => {
  const r = new Rng(3);
  let s = 0, s2 = 0, lo = 1, hi = 0;
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    const u = r.float();
    lo = Math.min(lo, u);
    hi = Math.max(hi, u);
    const z = r.normal();
    s += z;
    s2 += z * z;
  }
  assert(lo >= 0 && hi < 1);
  assert(Math.abs(s / n) < 0.01, `mean ${s / n}`);
  assert(Math.abs(s2 / n - 1) < 0.02, `variance ${s2 / n}`);
});

Deno.test("Rng.permutation() is a permutation and int() stays in range", () => {
  const r = new Rng(9);
  const p = Array.from(r.permutation(1000)).sort((a, b) => a - b);
  assertEquals(p, Array.from({ length: 1000 }, (_, i) => i));
  for (let i = 0; i < 1000; i++) {
    const v = r.int(7);
    assert(v >= 0 && v < 7 && Number.isInteger(v));
  }
  assertThrows(() => r.int(0), RangeError);
  assertThrows(() => new Rng(0.5), RangeError);
});
