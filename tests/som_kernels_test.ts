// The WGSL SOM kernels (shaders/som_bmu.wgsl, shaders/som_update.wgsl through webgpuBackend)
// against the float64 TypeScript reference. Tolerances: distances 2e-6 absolute (float32 dot
// products of unit-scale vectors, d ≤ 67), weights 1e-5 after a whole epoch, test vector 1e-6.

import { assert, assertArrayClose, assertEquals } from "./asserts.ts";
import {
  type EpochArgs,
  referenceBackend,
  Rng,
  Som,
  type SomBackend,
  type SomGeometry,
  type TopK,
  webgpuBackend,
} from "../mod.ts";
import { withGpu } from "./gpu_helper.ts";
import { loadGolden, replayGolden } from "./som_golden.ts";

function randn(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** Same top-k up to float32 rounding: equal distances within tol; indices equal unless tied. */
function assertSameTopk(got: TopK, want: TopK, k: number, tol: number, msg: string): void {
  assertArrayClose(got.distance, want.distance, tol, 0, `${msg} distances`);
  for (let i = 0; i < want.index.length; i++) {
    if (got.index[i] !== want.index[i]) {
      const row = Math.floor(i / k);
      const q = i - row * k;
      // A swap is only allowed between near-equal neighbours in the ranking.
      const near = [q - 1, q + 1].some((p) =>
        p >= 0 && p < k && Math.abs(want.distance[row * k + p] - want.distance[i]) <= 2 * tol &&
        got.index[i] === want.index[row * k + p]
      );
      assert(
        near,
        `${msg}: row ${row} rank ${q} is unit ${got.index[i]} but expected ${want.index[i]}`,
      );
    }
  }
}

Deno.test("webgpu backend replays the QuickSOM test vector: same BMUs and losses, weights within 1e-6", async () => {
  await withGpu(async (ctx) => {
    const worst = await replayGolden(webgpuBackend(ctx), 1e-6, 1e-6);
    // Reached on llvmpipe: weights 2.4e-7, losses 3.3e-8.
    assert(worst.weight <= 5e-7, `worst weight difference ${worst.weight}`);
  });
});

Deno.test("som_bmu top-k matches the reference on random inputs with odd sizes", async () => {
  await withGpu(async (ctx) => {
    const gpu = webgpuBackend(ctx), ref = referenceBackend();
    for (
      const [K, d, N, k] of [[37, 13, 29, 5], [130, 67, 70, 16], [1, 3, 9, 1], [65, 1, 11, 3], [
        200,
        5,
        3,
        10,
      ]]
    ) {
      const w = randn(K * d, K), x = randn(N * d, d + 100);
      const want = await ref.topk(w, d, x, k);
      const got = await gpu.topk(w, d, x, k);
      assertSameTopk(got, want, k, 2e-6, `K=${K} d=${d} N=${N} k=${k}`);
    }
  });
});

Deno.test("som_bmu breaks exact ties to the lowest unit index, in BMU and top-k", async () => {
  await withGpu(async (ctx) => {
    const gpu = webgpuBackend(ctx), ref = referenceBackend();
    const K = 100, d = 4;
    const w = randn(K * d, 3);
    const proto = [0.3, -1, 2, 0.5];
    // Units 97, 12, 64 and 65 identical (and scaled copies have the same cosine distance).
    for (const [u, s] of [[97, 1], [12, 2], [64, 0.5], [65, 1]] as const) {
      w.set(proto.map((v) => v * s), u * d);
    }
    const x = new Float32Array([...proto, ...proto.map((v) => v * 3)]);
    for (const be of [gpu, ref]) {
      const r = await be.topk(w, d, x, 5);
      assertEquals(Array.from(r.index.subarray(0, 4)), [12, 64, 65, 97], be.name);
      assertEquals(Array.from(r.index.subarray(5, 9)), [12, 64, 65, 97], be.name);
    }
  });
});

Deno.test("som_bmu gives zero vectors distance 1 to everything, never NaN", async () => {
  await withGpu(async (ctx) => {
    const gpu = webgpuBackend(ctx);
    const K = 9, d = 6;
    const w = randn(K * d, 4);
    w.fill(0, 2 * d, 3 * d); // unit 2 is zero
    const x = new Float32Array(2 * d);
    x.set(w.subarray(5 * d, 6 * d), d); // row 1 equals unit 5
    const r = await gpu.topk(w, d, x, K);
    assertEquals(
      Array.from(r.index.subarray(0, K)),
      [0, 1, 2, 3, 4, 5, 6, 7, 8],
      "zero row: all tie",
    );
    assertArrayClose(r.distance.subarray(0, K), new Float32Array(K).fill(1), 0, 0, "zero row");
    assertEquals(r.index[K], 5);
    assert(Math.abs(r.distance[K]) < 1e-6);
    const zeroUnit = Array.from(r.index.subarray(K)).indexOf(2);
    assertEquals(r.distance[K + zeroUnit], 1, "zero unit has distance 1");
  });
});

Deno.test("som_bmu sorts NaN distances after every number, like the reference", async () => {
  await withGpu(async (ctx) => {
    const gpu = webgpuBackend(ctx), ref = referenceBackend();
    const K = 16, d = 3; // k = K = 16, the largest k
    const w = randn(K * d, 5);
    w[10 * d + 1] = NaN; // unit 10 has NaN distance to everything
    const x = new Float32Array([1, 2, 3, NaN, 0, 0]); // row 1 is NaN everywhere
    for (const be of [gpu, ref]) {
      const r = await be.topk(w, d, x, K);
      assertEquals(r.index[K - 1], 10, `${be.name}: NaN unit last`);
      assert(Number.isNaN(r.distance[K - 1]));
      assertEquals(
        Array.from(r.index.subarray(K, K + 5)),
        [0, 1, 2, 3, 4],
        `${be.name}: all-NaN row`,
      );
      assert(Array.from(r.distance.subarray(K)).every(Number.isNaN));
    }
    // At the public boundary NaN is an error naming the row, never a silent NaN map.
    const som = new Som({ m: 4, n: 4, dim: d, init: randn(K * d, 6), backend: gpu });
    let msg = "";
    await som.train(x).catch((e) => msg = e.message);
    assert(msg.includes("row 1 has NaN at column 0"), msg);
  });
});

async function epochBoth(
  g: SomGeometry,
  a: Omit<EpochArgs, "weights">,
  w0: Float32Array,
  backends: SomBackend[],
) {
  const out = [];
  for (const be of backends) {
    const w = w0.slice();
    const res = await be.trainEpoch(g, { ...a, weights: w, returnBmus: true });
    out.push({ w, res });
  }
  return out;
}

Deno.test("som_update epoch matches the reference on odd sizes, flat and toroidal, short last batch", async () => {
  await withGpu(async (ctx) => {
    const gpu = webgpuBackend(ctx), ref = referenceBackend();
    for (
      const [m, n, d, N, B, periodic] of [[5, 7, 19, 53, 10, true], [3, 4, 70, 23, 4, false], [
        9,
        9,
        8,
        17,
        17,
        true,
      ]] as const
    ) {
      const x = randn(N * d, 7), w0 = randn(m * n * d, 8);
      const order = new Rng(9).permutation(N);
      const [r, g] = await epochBoth(
        { m, n, periodic },
        {
          dim: d,
          data: x,
          order,
          batchSize: B,
          step: 0,
          totalSteps: N,
          alpha0: 0.5,
          sigma0: 3,
        },
        w0,
        [ref, gpu],
      );
      const what = `${m}×${n} d=${d} N=${N} B=${B} periodic=${periodic}`;
      assertEquals(g.res.step, r.res.step, what);
      assertEquals(Array.from(g.res.bmus!), Array.from(r.res.bmus!), `${what} BMUs`);
      assertArrayClose(g.res.losses, r.res.losses, 1e-5, 0, `${what} losses`);
      assertArrayClose(g.w, r.w, 1e-5, 0, `${what} weights`);
    }
  });
});

Deno.test("webgpu epochs and queries split into chunks give bit-identical results, run after run", async () => {
  await withGpu(async (ctx) => {
    const m = 4, n = 6, d = 33, N = 95, B = 10;
    const x = randn(N * d, 10), w0 = randn(m * n * d, 11);
    const args = {
      dim: d,
      data: x,
      order: new Rng(12).permutation(N),
      batchSize: B,
      step: 0,
      totalSteps: 2 * N,
      alpha0: 0.1,
      sigma0: 10,
    };
    const whole = webgpuBackend(ctx);
    const chunked = webgpuBackend(ctx, { chunkBytes: 3 * B * d * 4, tileFloats: 7 * m * n });
    const [a, b, c] = await epochBoth({ m, n, periodic: true }, args, w0, [whole, chunked, whole]);
    assertEquals(b.w, a.w);
    assertEquals(c.w, a.w, "same input ⇒ same bits");
    assertEquals(b.res.losses, a.res.losses);
    assertEquals(b.res.bmus, a.res.bmus);
    const q1 = await whole.topk(a.w, d, x, 7), q2 = await chunked.topk(a.w, d, x, 7);
    assertEquals(q2.index, q1.index);
    assertEquals(q2.distance, q1.distance);
  });
});

Deno.test("Som on webgpu reproduces the test vector through the public API", async () => {
  await withGpu(async (ctx) => {
    const g = await loadGolden();
    const som = new Som({
      m: g.m,
      n: g.n,
      dim: g.dim,
      epochs: 1,
      init: g.w0,
      shuffle: false,
      backend: "webgpu",
      ctx,
    });
    const losses = await som.train(g.x);
    assertArrayClose(losses, g.steps.map((s) => s.loss), 1e-6, 0, "losses");
    assertArrayClose(som.weights, g.steps.at(-1)!.wAfter, 1e-6, 0, "weights");
    assertEquals(som.backendName, "webgpu");
    som.dispose();
  });
});

Deno.test("Som on webgpu: same seed gives bit-identical shuffled multi-epoch maps and BMUs match the reference", async () => {
  await withGpu(async (ctx) => {
    const d = 21, N = 64;
    const data = randn(N * d, 13);
    const run = async (seed: number) => {
      const som = new Som({ m: 5, n: 6, dim: d, epochs: 3, seed, backend: "webgpu", ctx });
      const losses = await som.train(data);
      return { som, losses };
    };
    const a = await run(4), b = await run(4);
    assertEquals(a.som.weights, b.som.weights);
    assertEquals(a.losses, b.losses);
    assertEquals(a.losses.length, 3 * 7);
    const ref = new Som({ m: 5, n: 6, dim: d, init: a.som.weights, backend: "reference" });
    assertEquals(await a.som.bmus(data), await ref.bmus(data));
    a.som.dispose();
    b.som.dispose();
  });
});

Deno.test("webgpu epochs with a progress callback report every 256 batches and give the same bits", async () => {
  await withGpu(async (ctx) => {
    const m = 2, n = 3, d = 5, N = 2575, B = 10; // 258 batches, the last one short
    const x = randn(N * d, 14), w0 = randn(m * n * d, 15);
    const base = {
      dim: d,
      data: x,
      order: Int32Array.from({ length: N }, (_, i) => i),
      batchSize: B,
      step: 0,
      totalSteps: N,
      alpha0: 0.1,
      sigma0: 2,
    };
    const be = webgpuBackend(ctx);
    const calls: [number, number][] = [];
    const wa = w0.slice(), wb = w0.slice();
    const a = await be.trainEpoch({ m, n, periodic: true }, { ...base, weights: wa });
    const b = await be.trainEpoch({ m, n, periodic: true }, {
      ...base,
      weights: wb,
      onProgress: (done, total) => calls.push([done, total]),
    });
    assertEquals(calls, [[256, 258], [258, 258]]);
    assertEquals(wb, wa);
    assertEquals(b.losses, a.losses);
  });
});
