import { assert, assertArrayClose, assertEquals, assertRejects } from "./asserts.ts";
import { cpuBackend } from "../lib/som/cpu_backend.ts";
import type { EpochArgs, SomBackend, SomGeometry } from "../lib/som/backend.ts";
import { Rng } from "../lib/rng.ts";

interface Golden {
  m: number;
  n: number;
  dim: number;
  alpha0: number;
  sigma0: number;
  total_steps: number;
  batch_size: number;
  W0: number[][];
  X: number[][];
  steps: { bmu: number[]; loss: number; W_after: number[][] }[];
}

const golden: Golden = JSON.parse(
  await Deno.readTextFile(new URL("./data/quicksom_20x20_d16.json", import.meta.url)),
);

const cpu: SomBackend = await cpuBackend({ threads: 2 });

function randn(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** Cosine distance in float64 (SOM.md "Metric"). */
function cosDist(x: ArrayLike<number>, xo: number, w: ArrayLike<number>, wo: number, d: number) {
  let dot = 0, xx = 0, ww = 0;
  for (let j = 0; j < d; j++) {
    dot += x[xo + j] * w[wo + j];
    xx += x[xo + j] * x[xo + j];
    ww += w[wo + j] * w[wo + j];
  }
  return 1 - dot / (Math.max(Math.sqrt(xx), 1e-8) * Math.max(Math.sqrt(ww), 1e-8));
}

/**
 * A straightforward float64 transcription of SOM.md "One batch"/"Schedule" (weights kept in
 * float32 between batches, as the backends keep them).
 */
function slowEpoch(
  g: SomGeometry,
  a: EpochArgs,
): { losses: number[]; bmus: number[]; step: number } {
  const { m, n, periodic } = g, K = m * n, d = a.dim, B = a.batchSize;
  const losses: number[] = [], bmus: number[] = [];
  let step = a.step;
  for (let s = 0; s < a.order.length; s += B) {
    const rows = Array.from(a.order.subarray(s, Math.min(s + B, a.order.length)));
    const b = rows.length;
    const f = Math.exp(-5 * step / a.totalSteps);
    const alpha = a.alpha0 * f, sigma = a.sigma0 * f;
    let loss = 0;
    const bmu = rows.map((r) => {
      let best = 0, bd = Infinity;
      for (let k = 0; k < K; k++) {
        const dd = cosDist(a.data, r * d, a.weights, k * d, d);
        if (dd < bd) [best, bd] = [k, dd];
      }
      loss += bd;
      return best;
    });
    const next = new Float64Array(K * d);
    for (let k = 0; k < K; k++) {
      const ik = Math.floor(k / n), jk = k % n;
      for (let j = 0; j < d; j++) next[k * d + j] = a.weights[k * d + j];
      for (let r = 0; r < b; r++) {
        let di = Math.abs(ik - Math.floor(bmu[r] / n)), dj = Math.abs(jk - (bmu[r] % n));
        if (periodic) [di, dj] = [Math.min(di, m - di), Math.min(dj, n - dj)];
        const h = Math.exp(-(di * di + dj * dj) / (2 * sigma * sigma + 1e-5));
        for (let j = 0; j < d; j++) {
          next[k * d + j] += (alpha / b) * h * (a.data[rows[r] * d + j] - a.weights[k * d + j]);
        }
      }
    }
    a.weights.set(next);
    losses.push(loss / b);
    bmus.push(...bmu);
    step += B;
  }
  return { losses, bmus, step };
}

function slowTopk(w: Float32Array, d: number, x: Float32Array, k: number) {
  const K = w.length / d, N = x.length / d;
  const index: number[] = [], distance: number[] = [];
  for (let r = 0; r < N; r++) {
    const all = Array.from({ length: K }, (_, u) => [cosDist(x, r * d, w, u * d, d), u]);
    all.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
    for (let i = 0; i < k; i++) [distance[r * k + i], index[r * k + i]] = all[i];
  }
  return { index, distance };
}

Deno.test("cpu trainEpoch replays the QuickSOM golden vector: same BMUs, losses, weights ±1e-6", async () => {
  const g = golden;
  const weights = Float32Array.from(g.W0.flat());
  const data = Float32Array.from(g.X.flat());
  let step = 0, worst = 0;
  for (let s = 0; s < g.steps.length; s++) {
    const B = g.batch_size;
    const r = await cpu.trainEpoch({ m: g.m, n: g.n, periodic: true }, {
      weights,
      dim: g.dim,
      data,
      order: Int32Array.from({ length: B }, (_, i) => s * B + i),
      batchSize: B,
      step,
      totalSteps: g.total_steps,
      alpha0: g.alpha0,
      sigma0: g.sigma0,
      returnBmus: true,
    });
    step = r.step;
    assertEquals(Array.from(r.bmus!), g.steps[s].bmu, `batch ${s} BMUs`);
    assertArrayClose(r.losses, [g.steps[s].loss], 1e-6, 0, `batch ${s} loss`);
    worst = Math.max(
      worst,
      assertArrayClose(weights, g.steps[s].W_after.flat(), 1e-6, 0, `W ${s}`),
    );
  }
  assertEquals(step, 40);
  // float32 weights and Gemm accumulation: the worst element is a few float32 ulps off.
  assert(worst < 1e-6, `worst weight error ${worst}`);
});

Deno.test("cpu trainEpoch matches a float64 transcription of SOM.md on odd sizes and grids", async () => {
  const rng = new Rng(11);
  const cases: [SomGeometry, number, number, number, number, number][] = [
    // geometry, d, B, rows visited, data rows, α₀
    [{ m: 7, n: 5, periodic: true }, 37, 6, 50, 61, 0.3],
    [{ m: 3, n: 9, periodic: false }, 13, 10, 40, 40, 0.1],
    [{ m: 1, n: 4, periodic: true }, 5, 3, 7, 9, 0.3],
    [{ m: 6, n: 6, periodic: true }, 64, 1, 5, 8, 0.3],
    // A single unit; fewer rows than one batch.
    [{ m: 1, n: 1, periodic: true }, 4, 5, 3, 3, 0.1],
    [{ m: 2, n: 3, periodic: false }, 7, 10, 3, 5, 0.2],
    // α₀ ≥ 0.5 takes the unscaled graph.
    [{ m: 4, n: 3, periodic: true }, 9, 4, 30, 30, 0.9],
    // α₀ = 0.45 over 150 batches: several runs (the weight scale's budget), one session call each.
    [{ m: 5, n: 4, periodic: true }, 6, 2, 301, 400, 0.45],
  ];
  for (const [geo, d, B, L, N, alpha0] of cases) {
    const K = geo.m * geo.n;
    const w0 = randn(rng, K * d), data = randn(rng, N * d);
    const order = Int32Array.from({ length: L }, () => rng.int(N));
    const base = { dim: d, data, order, batchSize: B, step: 20, totalSteps: 3 * N };
    const sched = { alpha0, sigma0: 2.5 };
    const wFast = w0.slice(), wSlow = w0.slice();
    const fast = await cpu.trainEpoch(geo, { ...base, ...sched, weights: wFast, returnBmus: true });
    const slow = slowEpoch(geo, { ...base, ...sched, weights: wSlow });
    const what = `${geo.m}x${geo.n} ${geo.periodic} d=${d} B=${B} L=${L}`;
    assertEquals(fast.step, slow.step, `${what} step`);
    assertEquals(fast.losses.length, Math.ceil(L / B), `${what} batches`);
    assertEquals(Array.from(fast.bmus!), slow.bmus, `${what} BMUs`);
    assertArrayClose(fast.losses, slow.losses, 2e-6, 0, `${what} losses`);
    assertArrayClose(wFast, wSlow, 2e-6, 1e-6, `${what} weights`);
  }
});

Deno.test("cpu trainEpoch over many batches in one call equals batch-by-batch calls", async () => {
  const rng = new Rng(5);
  const geo = { m: 4, n: 5, periodic: true }, d = 24, N = 53, B = 7;
  const w0 = randn(rng, 20 * d), data = randn(rng, N * d);
  const order = rng.permutation(N);
  const common = { dim: d, data, batchSize: B, totalSteps: 2 * N, alpha0: 0.1, sigma0: 3 };
  const wAll = w0.slice();
  const progress: [number, number][] = [];
  const all = await cpu.trainEpoch(geo, {
    ...common,
    weights: wAll,
    order,
    step: 0,
    onProgress: (done, total) => progress.push([done, total]),
  });
  assertEquals(progress.at(-1), [8, 8]);
  const wOne = w0.slice();
  let step = 0;
  const losses: number[] = [];
  for (let s = 0; s < N; s += B) {
    const r = await cpu.trainEpoch(geo, {
      ...common,
      weights: wOne,
      order: order.subarray(s, Math.min(N, s + B)),
      step,
    });
    step = r.step;
    losses.push(...r.losses);
  }
  assertEquals(all.step, step);
  assertEquals(all.step, 8 * B);
  assertArrayClose(all.losses, losses, 1e-6, 0, "losses");
  assertArrayClose(wAll, wOne, 1e-6, 1e-6, "weights");
});

Deno.test("cpu backend gives bit-identical results for the same input", async () => {
  const rng = new Rng(9);
  const geo = { m: 5, n: 5, periodic: true }, d = 33, N = 64;
  const w0 = randn(rng, 25 * d), data = randn(rng, N * d), order = rng.permutation(N);
  const run = async () => {
    const weights = w0.slice();
    const r = await cpu.trainEpoch(geo, {
      weights,
      dim: d,
      data,
      order,
      batchSize: 10,
      step: 0,
      totalSteps: N,
      alpha0: 0.1,
      sigma0: 5,
      returnBmus: true,
    });
    const t = await cpu.topk(weights, d, data, 4);
    return [Array.from(weights), Array.from(r.losses), Array.from(r.bmus!), Array.from(t.index)];
  };
  assertEquals(await run(), await run());
});

Deno.test("cpu BMU ties go to the lowest unit index; zero vectors have distance 1", async () => {
  const d = 3;
  // Units 1 and 3 are identical; unit 4 is zero.
  const w = new Float32Array([0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0]);
  const x = new Float32Array([2, 2, 0, 0, 0, 0, 1, 0, 0]);
  const t = await cpu.topk(w, d, x, 6);
  // (2,2,0): units 1 and 3 at distance 0, then 2 and 5 at 1 − 1/√2, then 0 and 4 at 1.
  assertEquals(Array.from(t.index.subarray(0, 6)), [1, 3, 2, 5, 0, 4]);
  // A zero row is at distance 1 from every unit: indices in order.
  assertEquals(Array.from(t.index.subarray(6, 12)), [0, 1, 2, 3, 4, 5]);
  assertArrayClose(t.distance.subarray(6, 12), [1, 1, 1, 1, 1, 1], 0);
  // The zero unit 4 is at distance 1 from (1,0,0), tied with units 0 and 2 (orthogonal).
  assertEquals(Array.from(t.index.subarray(12, 18)), [5, 1, 3, 0, 2, 4]);
  assertArrayClose(t.distance.subarray(15, 18), [1, 1, 1], 1e-7);
  // Training on the tied row picks unit 1, not 3.
  const r = await cpu.trainEpoch({ m: 2, n: 3, periodic: false }, {
    weights: w.slice(),
    dim: d,
    data: x.subarray(0, 3),
    order: Int32Array.of(0),
    batchSize: 1,
    step: 0,
    totalSteps: 1,
    alpha0: 0.1,
    sigma0: 1,
    returnBmus: true,
  });
  assertEquals(Array.from(r.bmus!), [1]);
});

Deno.test("cpu topk matches brute force, including across several chunks", async () => {
  const rng = new Rng(3);
  for (const [K, d, N, k] of [[35, 8, 40000, 10], [400, 17, 301, 16], [3, 5, 4, 1]]) {
    const w = randn(rng, K * d), x = randn(rng, N * d);
    const t = await cpu.topk(w, d, x, k);
    const check = Math.min(N, 3000);
    const slow = slowTopk(w, d, x.subarray(0, check * d), k);
    assertEquals(Array.from(t.index.subarray(0, check * k)), slow.index, `K=${K} d=${d} index`);
    assertArrayClose(t.distance.subarray(0, check * k), slow.distance, 1e-6, 0, `K=${K} dist`);
    // The last chunk too.
    const tail = slowTopk(w, d, x.subarray((N - 50) * d), k);
    assertEquals(Array.from(t.index.subarray((N - 50) * k)), tail.index, `K=${K} tail`);
  }
});

Deno.test("cpu topk answers 1M rows (chunked) and agrees with brute force on samples", async () => {
  const rng = new Rng(8);
  const K = 6, d = 3, N = 1_000_000;
  const w = randn(rng, K * d), x = randn(rng, N * d);
  const t = await cpu.topk(w, d, x, 2);
  assertEquals(t.index.length, 2 * N);
  for (const r0 of [0, 123_456, N - 500]) {
    const slow = slowTopk(w, d, x.subarray(r0 * d, (r0 + 500) * d), 2);
    assertEquals(Array.from(t.index.subarray(r0 * 2, (r0 + 500) * 2)), slow.index, `rows ${r0}+`);
    assertArrayClose(t.distance.subarray(r0 * 2, (r0 + 500) * 2), slow.distance, 1e-6);
  }
});

Deno.test("cpu backend rejects NaN rows by index and leaves the weights untouched", async () => {
  const rng = new Rng(1);
  const d = 4, w = randn(rng, 9 * d), data = randn(rng, 30 * d);
  data[17 * d + 2] = NaN;
  const before = w.slice();
  const epoch = (weights: Float32Array, order: Int32Array) =>
    cpu.trainEpoch({ m: 3, n: 3, periodic: true }, {
      weights,
      dim: d,
      data,
      order,
      batchSize: 4,
      step: 0,
      totalSteps: 30,
      alpha0: 0.1,
      sigma0: 1,
    });
  await assertRejects(
    () => epoch(w, Int32Array.from({ length: 30 }, (_, i) => i)),
    RangeError,
    "data row 17 has NaN in column 2",
  );
  assertEquals(Array.from(w), Array.from(before));
  await assertRejects(() => cpu.topk(w, d, data, 3), RangeError, "data row 17 has NaN");
  const wNaN = w.slice();
  wNaN[4 * d] = NaN;
  await assertRejects(
    () => epoch(wNaN, Int32Array.of(0)),
    RangeError,
    "weights unit 4 has NaN in column 0",
  );
  const wBad = w.slice();
  wBad[5] = Infinity;
  await assertRejects(() => cpu.topk(wBad, d, data, 3), RangeError, "weights unit 1 has Infinity");
});

Deno.test("cpu backend rejects bad shapes and arguments with clear errors", async () => {
  const geo = { m: 2, n: 2, periodic: true };
  const ok = {
    weights: new Float32Array(8),
    dim: 2,
    data: new Float32Array(6),
    order: Int32Array.of(0, 1, 2),
    batchSize: 2,
    step: 0,
    totalSteps: 3,
    alpha0: 0.1,
    sigma0: 1,
  };
  await assertRejects(
    () => cpu.trainEpoch(geo, { ...ok, weights: new Float32Array(6) }),
    RangeError,
    "weights have 6 values but expected 4×2 = 8",
  );
  await assertRejects(() => cpu.trainEpoch(geo, { ...ok, batchSize: 0 }), RangeError, "batch size");
  await assertRejects(() => cpu.trainEpoch(geo, { ...ok, sigma0: -1 }), RangeError, "sigma0");
  await assertRejects(
    () => cpu.trainEpoch(geo, { ...ok, order: Int32Array.of(3) }),
    RangeError,
    "order[0] is 3",
  );
  await assertRejects(
    () => cpu.trainEpoch({ m: 0, n: 2, periodic: true }, ok),
    RangeError,
    "grid is 0x2",
  );
  await assertRejects(() => cpu.topk(ok.weights, 2, ok.data, 5), RangeError, "k is 5");
  await assertRejects(() => cpu.topk(ok.weights, 3, ok.data, 1), RangeError, "multiple of dim");
  const empty = await cpu.trainEpoch(geo, { ...ok, order: new Int32Array(0) });
  assertEquals([empty.losses.length, empty.step], [0, 0]);
});

Deno.test("cpu backend is named cpu and still answers after dispose()", async () => {
  assertEquals(cpu.name, "cpu");
  const w = new Float32Array([1, 0, 0, 1]);
  cpu.dispose();
  const t = await cpu.topk(w, 2, new Float32Array([0, 3]), 2);
  assertEquals(Array.from(t.index), [1, 0]);
  cpu.dispose();
});
