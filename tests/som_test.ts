import {
  assert,
  assertAlmostEquals,
  assertArrayClose,
  assertEquals,
  assertNotEquals,
  assertRejects,
  assertThrows,
} from "./asserts.ts";
import {
  DataFormatError,
  referenceBackend,
  Rng,
  Som,
  type SomBackend,
  somNeighbourhood,
  somSchedule,
  torusD2,
} from "../mod.ts";
import { loadGolden, replayGolden } from "./som_golden.ts";

function randn(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

Deno.test("reference backend replays the QuickSOM test vector: same BMUs and losses, weights within 1e-6", async () => {
  const worst = await replayGolden(referenceBackend(), 1e-6, 1e-6);
  // Reached: weights 2.4e-7 (float32 storage of the float64 reference), losses 1e-8.
  assert(worst.weight <= 3e-7, `worst weight difference ${worst.weight}`);
});

Deno.test("cpu backend replays the QuickSOM test vector: same BMUs and losses, weights within 1e-6", async () => {
  const { cpuBackend } = await import("../lib/som/cpu_backend.ts");
  const be = await cpuBackend();
  try {
    const worst = await replayGolden(be, 1e-6, 1e-6);
    // Reached: weights 4.8e-7 (float32 MLAS arithmetic), losses 3.3e-8.
    assert(worst.weight <= 1e-6, `worst weight difference ${worst.weight}`);
  } finally {
    be.dispose();
  }
});

Deno.test("Som on the cpu backend replays the test vector and matches the reference's BMUs", async () => {
  const g = await loadGolden();
  const mk = (backend: "cpu" | "reference") =>
    new Som({ m: g.m, n: g.n, dim: g.dim, epochs: 1, init: g.w0, shuffle: false, backend });
  const cpu = mk("cpu"), ref = mk("reference");
  try {
    const losses = await cpu.train(g.x);
    await ref.train(g.x);
    assertEquals(cpu.backendName, "cpu");
    assertArrayClose(losses, g.steps.map((s) => s.loss), 1e-6, 0, "losses");
    assertArrayClose(cpu.weights, g.steps.at(-1)!.wAfter, 1e-6, 0, "weights");
    assertEquals(await cpu.bmus(g.x), await ref.bmus(g.x));
  } finally {
    cpu.dispose();
  }
});

Deno.test("Som with explicit W0 and shuffle=false replays the test vector end to end", async () => {
  const g = await loadGolden();
  const som = new Som({
    m: g.m,
    n: g.n,
    dim: g.dim,
    sigma0: g.sigma0,
    alpha0: g.alpha0,
    batchSize: g.batchSize,
    epochs: 1,
    init: g.w0,
    shuffle: false,
    backend: "reference",
  });
  const losses = await som.train(g.x);
  assertArrayClose(losses, g.steps.map((s) => s.loss), 1e-6, 0, "losses");
  assertArrayClose(som.weights, g.steps.at(-1)!.wAfter, 1e-6, 0, "final weights");
  assertEquals(som.step, 40);
  assertEquals(som.backendName, "reference");
});

Deno.test("somSchedule is exp(−5t/T) times α₀ and σ₀, with no floor, matching the test vector", async () => {
  const g = await loadGolden();
  for (const s of g.steps) {
    const v = somSchedule(s.step, g.totalSteps, g.alpha0, g.sigma0);
    assertAlmostEquals(v.factor, s.factor, 1e-15);
  }
  const end = somSchedule(199_990, 200_000, 0.1, 10);
  assertAlmostEquals(end.sigma, 10 * Math.exp(-5 * 199_990 / 200_000), 1e-15);
  assert(end.sigma < 0.07 && end.sigma > 0.06, "σ ends near 0.067, unfloored");
  assertAlmostEquals(end.alpha, 0.1 * Math.exp(-5 * 0.99995), 1e-15);
});

Deno.test("somNeighbourhood is exp(−D2/(2σ²+1e-5)) and finite at σ = 0", () => {
  assertEquals(somNeighbourhood(0, 5), 1);
  assertAlmostEquals(somNeighbourhood(2, 1.5), Math.exp(-2 / (2 * 2.25 + 1e-5)), 1e-16);
  assertEquals(somNeighbourhood(1, 0), Math.exp(-1 / 1e-5));
  assertEquals(somNeighbourhood(0, 0), 1);
});

Deno.test("one reference batch equals W + (α/b)(HᵀX − diag(Hᵀ1)W) on a non-square flat and toroidal grid", async () => {
  for (const periodic of [true, false]) {
    const m = 3, n = 5, K = m * n, d = 7, b = 4;
    const w0 = randn(K * d, 1), x = randn(6 * d, 2);
    const w = w0.slice();
    const order = new Int32Array([5, 0, 3, 2]);
    const res = await referenceBackend().trainEpoch({ m, n, periodic }, {
      weights: w,
      dim: d,
      data: x,
      order,
      batchSize: 10, // nominal B larger than the batch: one short batch
      step: 7,
      totalSteps: 50,
      alpha0: 0.3,
      sigma0: 2,
      returnBmus: true,
    });
    assertEquals(res.step, 17, "t grows by the nominal batch size");
    const f = Math.exp(-5 * 7 / 50), alpha = 0.3 * f, sigma = 2 * f;
    // BMUs by brute force.
    const cos = (r: number, k: number) => {
      let dot = 0, nx = 0, nw = 0;
      for (let j = 0; j < d; j++) {
        dot += x[order[r] * d + j] * w0[k * d + j];
        nx += x[order[r] * d + j] ** 2;
        nw += w0[k * d + j] ** 2;
      }
      return 1 - dot / (Math.max(Math.sqrt(nx), 1e-8) * Math.max(Math.sqrt(nw), 1e-8));
    };
    const bmu: number[] = [];
    let loss = 0;
    for (let r = 0; r < b; r++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (cos(r, k) < cos(r, best)) best = k;
      bmu.push(best);
      loss += cos(r, best) / b;
    }
    assertEquals(Array.from(res.bmus!), bmu);
    assertAlmostEquals(res.losses[0], loss, 1e-6);
    for (let k = 0; k < K; k++) {
      let hs = 0;
      const htx = new Float64Array(d);
      for (let r = 0; r < b; r++) {
        const h = Math.exp(-torusD2(k, bmu[r], m, n, periodic) / (2 * sigma * sigma + 1e-5));
        hs += h;
        for (let j = 0; j < d; j++) htx[j] += h * x[order[r] * d + j];
      }
      for (let j = 0; j < d; j++) {
        const want = w0[k * d + j] + (alpha / b) * (htx[j] - hs * w0[k * d + j]);
        assertAlmostEquals(w[k * d + j], want, 1e-6, `unit ${k} coordinate ${j}`);
      }
    }
  }
});

Deno.test("same seed and backend give bit-identical maps; another seed gives another map", async () => {
  const data = randn(45 * 6, 3);
  const run = async (seed: number) => {
    const som = new Som({ m: 4, n: 3, dim: 6, epochs: 2, seed, backend: "reference" });
    const losses = await som.train(data);
    return { w: som.weights.slice(), losses };
  };
  const a = await run(5), b = await run(5), c = await run(6);
  assertEquals(a.w, b.w);
  assertEquals(a.losses, b.losses);
  assertNotEquals(a.w, c.w);
});

Deno.test("normal init draws K×d standard normals from stream som-init of the seed", () => {
  const som = new Som({ m: 2, n: 3, dim: 4, seed: 9, backend: "reference" });
  const rng = new Rng(9).stream("som-init");
  assertEquals(som.weights, Float32Array.from({ length: 24 }, () => rng.normal()));
  assertEquals(som.init, "normal");
});

Deno.test("sample init copies training rows and pca init centres the map on the data mean", async () => {
  const data = randn(30 * 5, 4);
  for (let i = 0; i < 30; i++) data[i * 5] += 3; // a non-zero mean on coordinate 0
  const s = new Som({
    m: 2,
    n: 3,
    dim: 5,
    init: "sample",
    epochs: 1,
    alpha0: 0,
    backend: "reference",
  });
  assertThrows(() => s.weights, RangeError, "not initialised until train()");
  await s.train(data);
  for (let k = 0; k < 6; k++) {
    const row = s.weights.subarray(k * 5, k * 5 + 5);
    let found = false;
    for (let i = 0; i < 30 && !found; i++) {
      found = row.every((v, j) => v === data[i * 5 + j]);
    }
    assert(found, `unit ${k} is a training row (α₀ = 0 keeps it)`);
  }
  const p = new Som({
    m: 3,
    n: 3,
    dim: 5,
    init: "pca",
    epochs: 1,
    alpha0: 0,
    backend: "reference",
  });
  await p.train(data);
  const centre = p.weights.subarray(4 * 5, 5 * 5); // unit (1,1): c1 = c2 = 0
  const mean = new Float64Array(5);
  for (let i = 0; i < 30; i++) for (let j = 0; j < 5; j++) mean[j] += data[i * 5 + j] / 30;
  assertArrayClose(centre, mean, 1e-5, 0, "centre unit = mean");
});

Deno.test("explicit per-epoch order is replayed; shuffle=false visits rows in order", async () => {
  const data = randn(20 * 3, 5);
  const w0 = randn(4 * 3, 6);
  const mk = (o: Partial<ConstructorParameters<typeof Som>[0]>) =>
    new Som({ m: 2, n: 2, dim: 3, epochs: 2, batchSize: 7, init: w0, backend: "reference", ...o });
  const id = Int32Array.from({ length: 20 }, (_, i) => i);
  const a = mk({ shuffle: false }), b = mk({ order: id }), c = mk({ order: [id, id] });
  await a.train(data);
  await b.train(data);
  await c.train(data);
  assertEquals(a.weights, b.weights);
  assertEquals(a.weights, c.weights);
  assertEquals(a.losses.length, 2 * 3, "3 batches (7+7+6) per epoch");
  const rev = id.slice().reverse();
  const d = mk({ order: [id, rev] });
  await d.train(data);
  assertNotEquals(d.weights, a.weights);
  await assertRejects(
    () => mk({ order: new Int32Array([0, 20]) }).train(data),
    RangeError,
    "has row 20 at position 1 but the codes have 20 rows",
  );
});

Deno.test("save() and Som.load() round-trip weights, losses and hyper-parameters bit-identically", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const som = new Som({
      m: 3,
      n: 4,
      dim: 5,
      epochs: 2,
      batchSize: 4,
      sigma0: 1.7,
      alpha0: 0.33,
      seed: 12,
      periodic: false,
      layer: "block3/relu",
      backend: "reference",
    });
    const data = randn(17 * 5, 7);
    await som.train(data);
    await som.save(dir);
    const back = await Som.load(dir, { backend: "reference" });
    assertEquals(new Uint8Array(back.weights.buffer), new Uint8Array(som.weights.buffer));
    assertEquals(new Uint8Array(back.losses.buffer), new Uint8Array(som.losses.buffer));
    for (
      const f of [
        "m",
        "n",
        "dim",
        "periodic",
        "sigma0",
        "alpha0",
        "batchSize",
        "epochs",
        "seed",
        "shuffle",
        "layer",
        "step",
        "init",
      ] as const
    ) {
      assertEquals(back[f], som[f], f);
    }
    assertEquals(back.toJSON(), som.toJSON());
    assertEquals(await back.bmus(data), await som.bmus(data));
    // A second save of the loaded map is byte-identical.
    const dir2 = await Deno.makeTempDir();
    await back.save(dir2);
    assertEquals(
      await Deno.readFile(`${dir2}/weights.npy`),
      await Deno.readFile(`${dir}/weights.npy`),
    );
    assertEquals(
      await Deno.readTextFile(`${dir2}/som.json`),
      await Deno.readTextFile(`${dir}/som.json`),
    );
    await Deno.remove(dir2, { recursive: true });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Som.load() rejects a foreign header, a missing file and weights of the wrong shape", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assertRejects(() => Som.load(dir), DataFormatError, "som.json is unreadable");
    const som = new Som({ m: 2, n: 2, dim: 3, backend: "reference" });
    await som.save(dir);
    const head = JSON.parse(await Deno.readTextFile(`${dir}/som.json`));
    await Deno.writeTextFile(`${dir}/som.json`, JSON.stringify({ ...head, format: "pickle" }));
    await assertRejects(() => Som.load(dir), DataFormatError, 'but expected "somscope-som"');
    await Deno.writeTextFile(`${dir}/som.json`, JSON.stringify({ ...head, dim: 4 }));
    await assertRejects(
      () => Som.load(dir),
      DataFormatError,
      "expected Float32Array of shape [4,4]",
    );
    await Deno.writeTextFile(`${dir}/som.json`, JSON.stringify({ ...head, weights: "../x.npy" }));
    await assertRejects(() => Som.load(dir), DataFormatError, "expected a name inside");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad arguments raise errors in the house message shape", async () => {
  const ok = { m: 2, n: 2, dim: 512, backend: "reference" as const };
  const som = new Som(ok);
  await assertRejects(
    () => som.train(new Float32Array(3 * 510), 3),
    RangeError,
    "Cannot train SOM: codes have 510 columns but the map has 512",
  );
  await assertRejects(() => som.train(new Float32Array(0)), RangeError, "codes are empty");
  await assertRejects(() => som.train(new Float32Array(700)), RangeError, "not a whole number");
  const bad = new Float32Array(3 * 512).fill(1);
  bad[2 * 512 + 7] = NaN;
  await assertRejects(() => som.train(bad), RangeError, "row 2 has NaN at column 7");
  bad[2 * 512 + 7] = Infinity;
  await assertRejects(() => som.topk(bad, 2), RangeError, "Cannot query SOM: row 2 has Infinity");
  assert(som.weights.every(Number.isFinite), "no silent NaN map after a rejected train()");
  await assertRejects(
    () => som.train([1, 2] as unknown as Float32Array),
    TypeError,
    "expected a Float32Array",
  );
  assertThrows(() => new Som({ ...ok, m: 0 }), RangeError, "grid is 0×2 but both sides");
  assertThrows(() => new Som({ ...ok, batchSize: 0 }), RangeError, "batchSize is 0");
  assertThrows(() => new Som({ ...ok, sigma0: -1 }), RangeError, "sigma0 (σ₀) is -1");
  assertThrows(() => new Som({ ...ok, epochs: 1.5 }), RangeError, "epochs is 1.5");
  assertThrows(
    () => new Som({ ...ok, backend: "gpu" as "webgpu" }),
    RangeError,
    'backend is "gpu" but expected one of auto, webgpu, cpu, reference',
  );
  assertThrows(
    () => new Som({ ...ok, init: "zeros" as "normal" }),
    RangeError,
    "expected one of normal, pca, sample",
  );
  assertThrows(
    () => new Som({ ...ok, init: new Float32Array(7) }),
    RangeError,
    "initial weights have 7 values",
  );
  await assertRejects(() => som.topk(new Float32Array(512), 0), RangeError, "k is 0");
  await assertRejects(() => som.topk(new Float32Array(512), 5), RangeError, "1..4");
});

Deno.test("quantization and torus topographic error count wrap-around neighbours as adjacent", async () => {
  // 4×4 torus, d = 4: unit 0 = e0, unit 3 (row 0, col 3, a wrap neighbour of 0) = e0 + 0.1 e1,
  // unit 5 (diagonal of 0) = e0 + 0.05 e2 (used when unit 3 is worse), everything else far away.
  const K = 16, d = 4;
  const w = new Float32Array(K * d);
  for (let k = 0; k < K; k++) w[k * d + 3] = -1; // far from the inputs below
  w.set([1, 0, 0, 0], 0);
  w.set([1, 0.1, 0, 0], 3 * d);
  w.set([1, 0, 0.05, 0], 5 * d);
  const som = new Som({ m: 4, n: 4, dim: d, init: w, backend: "reference" });
  // x1: BMU 0, second 5 (diagonal → error); x2: BMU 3, second 0 (wrap neighbours → fine).
  const x = new Float32Array([1, 0, 0.01, 0, 1, 0.2, 0, 0]);
  const top = await som.topk(x, 2);
  assertEquals(Array.from(top.index), [0, 5, 3, 0]);
  assertEquals(await som.topographicError(x), 0.5);
  const qe = await som.quantizationError(x);
  assertAlmostEquals(qe, (top.distance[0] + top.distance[2]) / 2, 1e-7);
  const flat = new Som({ m: 4, n: 4, dim: d, init: w, periodic: false, backend: "reference" });
  assertEquals(await flat.topographicError(x), 1, "without wrap-around, units 0 and 3 are apart");
});

Deno.test("uMatrix() is the mean cosine distance to the 8 torus neighbours", () => {
  const m = 3, n = 4, d = 3;
  const w = randn(m * n * d, 11);
  const som = new Som({ m, n, dim: d, init: w, backend: "reference" });
  const u = som.uMatrix();
  const cd = (a: number, b: number) => {
    let dot = 0, na = 0, nb = 0;
    for (let j = 0; j < d; j++) {
      dot += w[a * d + j] * w[b * d + j];
      na += w[a * d + j] ** 2;
      nb += w[b * d + j] ** 2;
    }
    return 1 - dot / Math.sqrt(na * nb);
  };
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (
        const [di, dj] of [[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1]]
      ) {
        s += cd(i * n + j, ((i + di + m) % m) * n + ((j + dj + n) % n));
      }
      assertAlmostEquals(u[i * n + j], s / 8, 1e-6, `unit (${i},${j})`);
    }
  }
  const flat = new Som({ m, n, dim: d, init: w, periodic: false, backend: "reference" });
  const corner = (cd(0, 1) + cd(0, n) + cd(0, n + 1)) / 3;
  assertAlmostEquals(flat.uMatrix()[0], corner, 1e-6, "flat corner has 3 neighbours");
});

Deno.test("topk() never asks a backend for more than 2^24 distances at once", async () => {
  const ref = referenceBackend();
  let most = 0, calls = 0;
  const spy: SomBackend = {
    name: "reference",
    trainEpoch: (g, a) => ref.trainEpoch(g, a),
    topk(w, d, x, k) {
      const rows = x.length / d;
      most = Math.max(most, rows * (w.length / d));
      calls++;
      return Promise.resolve({
        index: new Int32Array(rows * k),
        distance: new Float32Array(rows * k),
      });
    },
    dispose() {},
  };
  const som = new Som({ m: 40, n: 40, dim: 2, backend: spy });
  const N = 30_000;
  const r = await som.topk(new Float32Array(N * 2).fill(1), 10);
  assertEquals(r.index.length, N * 10);
  assert(most <= 1 << 24, `largest call ${most} distances`);
  assertEquals(calls, Math.ceil(N / Math.floor((1 << 24) / 1600)));
});

Deno.test("auto backend follows the GPU policy: never webgpu on a software adapter or without a context", async () => {
  const { GpuContext } = await import("../mod.ts");
  const { ctx, policy } = await GpuContext.auto();
  try {
    const som = new Som({ m: 2, n: 2, dim: 3, ctx });
    await som.backend();
    if (policy.wgsl) assertEquals(som.backendName, "webgpu");
    else {
      assert(som.backendName === "cpu" || som.backendName === "reference", som.backendName!);
      assert(som.backendNote?.startsWith(policy.reason), som.backendNote);
    }
    assert(som.backendName !== "reference" || som.backendNote?.includes("cpu backend unavailable"));
    som.dispose();
    const alone = new Som({ m: 2, n: 2, dim: 3 });
    await alone.backend();
    assert(alone.backendName !== "webgpu", "a map without a context never makes one");
    assert(alone.backendNote?.startsWith("no GPU context"), alone.backendNote);
    alone.dispose();
    await assertRejects(
      () => new Som({ m: 2, n: 2, dim: 3, backend: "webgpu" }).backend(),
      TypeError,
      "options.ctx",
    );
  } finally {
    ctx?.dispose();
  }
});

Deno.test("onProgress reports every epoch's end on every backend kind", async () => {
  const data = randn(25 * 3, 21);
  for (const backend of ["reference", "cpu"] as const) {
    const seen: string[] = [];
    const som = new Som({
      m: 2,
      n: 2,
      dim: 3,
      epochs: 2,
      backend,
      onProgress: (p) => seen.push(`${p.epoch}/${p.epochs}:${p.batch}/${p.batches}`),
    });
    await som.train(data);
    assert(seen.includes("0/2:3/3") && seen.at(-1) === "1/2:3/3", `${backend}: ${seen}`);
    som.dispose();
  }
});

Deno.test("quality() gives the same QE and TE as the two separate calls, from one top-2 pass", async () => {
  const data = randn(300 * 6, 31);
  for (const backend of ["reference", "cpu"] as const) {
    const som = new Som({ m: 4, n: 5, dim: 6, epochs: 1, backend });
    await som.train(data);
    let calls = 0;
    const be = await som.backend();
    const topk = be.topk.bind(be);
    be.topk = (w, d, x, k) => (calls++, topk(w, d, x, k));
    const q = await som.quality(data);
    assertEquals(calls, 1, "one backend pass");
    assertEquals(q, {
      quantizationError: await som.quantizationError(data),
      topographicError: await som.topographicError(data),
    });
    som.dispose();
  }
  const one = new Som({ m: 1, n: 1, dim: 2, init: new Float32Array([1, 0]), backend: "reference" });
  assertEquals(await one.quality(new Float32Array([0, 1])), {
    quantizationError: 1,
    topographicError: 0,
  });
});
