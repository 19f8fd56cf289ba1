import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertRejects,
  assertThrows,
} from "./asserts.ts";
import { GraphBuilder } from "./grad_helpers.ts";
import { flags } from "./cli_helper.ts";
import { argmaxRows, defaultStepSize, PgdAttack, resolvePgdSettings } from "../lib/attack/pgd.ts";
import { type AttackDataset, runAttack, writeAttackOutputs } from "../lib/attack/attack.ts";
import { deriveGradientGraph, derivePgdStepGraph } from "../lib/grad/derive.ts";
import { openGraphSession } from "../lib/model/ort.ts";
import { Rng } from "../lib/rng.ts";
import { decodeNpy, encodeNpy } from "../lib/npy.ts";
import { runCommand } from "../tasks/cli.ts";
import { command as attackCommand } from "../tasks/cmd_attack.ts";

/** A small CNN on 1×8×8 images with 4 classes. */
function toyModel(seed = 1): Uint8Array {
  const g = new GraphBuilder(seed);
  const c = g.o("Relu", [
    g.o("Conv", ["x", g.w([4, 1, 3, 3], 1), g.w([4], 0.1)], { pads: [1, 1, 1, 1] }),
  ]);
  const p = g.o("MaxPool", [c], { kernel_shape: [2, 2], strides: [2, 2] });
  return g.build(g.head(p, 4 * 4 * 4, 4), [1, 8, 8], 4);
}

function toyData(n = 24, seed = 2): AttackDataset & { x: Float32Array } {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: n * 64 }, () => rng.float());
  const labels = Array.from({ length: n }, () => rng.int(4));
  return {
    size: n,
    channels: 1,
    height: 8,
    width: 8,
    labels,
    x,
    load: (ids) => {
      const out = new Float32Array(ids.length * 64);
      ids.forEach((i, k) => out.set(x.subarray(i * 64, (i + 1) * 64), k * 64));
      return Promise.resolve(out);
    },
  };
}

Deno.test("default step size is eps·2/100 and is what resolvePgdSettings picks for auto", () => {
  assertEquals(defaultStepSize(4 / 255), (4 / 255) * 0.02);
  assertEquals(resolvePgdSettings({}).stepSize, (4 / 255) * 2 / 100);
  assertEquals(resolvePgdSettings({ eps: 0.1, stepSize: "auto" }).stepSize, 0.1 * 2 / 100);
  assertEquals(resolvePgdSettings({ eps: 0.1, stepSize: 0.05 }).stepSize, 0.05);
});

Deno.test("bad PGD settings are RangeErrors naming the value", () => {
  assertThrows(() => resolvePgdSettings({ eps: -0.01 }), RangeError, "eps is -0.01");
  assertThrows(() => resolvePgdSettings({ steps: 0 }), RangeError, "steps is 0");
  assertThrows(() => resolvePgdSettings({ stepSize: Number.NaN }), RangeError, "step size");
});

Deno.test("one PGD step graph run equals clip(min(max(x + α·sign(g), x0 − ε), x0 + ε), 0, 1)", async () => {
  const m = toyModel();
  const d = toyData(4);
  const rng = new Rng(5);
  const x0 = d.x.slice(0, 4 * 64);
  const x = Float32Array.from(
    x0,
    (v) => Math.min(1, Math.max(0, v + (rng.float() * 2 - 1) * 0.03)),
  );
  const labels = BigInt64Array.from(Array.from(d.labels).slice(0, 4).map(BigInt));
  const gs = await openGraphSession(deriveGradientGraph(m, { batch: 4 }));
  const g =
    (await gs.run({ input: { data: x, dims: [4, 1, 8, 8] }, labels: { data: labels, dims: [4] } }))
      .input_grad;
  await gs.release();
  const ss = await openGraphSession(derivePgdStepGraph(m, { batch: 4 }));
  const eps = 0.03, a = 0.01;
  const r = await ss.run({
    x_adv: { data: x, dims: [4, 1, 8, 8] },
    x0: { data: x0, dims: [4, 1, 8, 8] },
    labels: { data: labels, dims: [4] },
    eps: { data: Float32Array.of(eps), dims: [] },
    step: { data: Float32Array.of(a), dims: [] },
  });
  await ss.release();
  let changed = 0;
  for (let i = 0; i < x.length; i++) {
    const e = Math.fround(eps);
    const want = Math.min(
      Math.max(
        Math.min(Math.max(x[i] + Math.fround(a) * Math.sign(g[i]), x0[i] - e), x0[i] + e),
        0,
      ),
      1,
    );
    assertAlmostEquals(r.x_next[i], want, 1e-6);
    if (r.x_next[i] !== x[i]) changed++;
  }
  assert(changed > x.length / 2, `the step moves most pixels (${changed})`);
});

Deno.test("PGD stays within ε of x0 and inside [0,1], raises the loss, and the same seed gives the same result", async () => {
  const m = toyModel();
  const d = toyData(10);
  const eps = 8 / 255;
  const pgd = await PgdAttack.create(m, { batch: 4 }); // 10 = 4 + 4 + 2 (padded last batch)
  try {
    const labels = Array.from(d.labels);
    const a = await pgd.attack(d.x, labels, {
      eps,
      steps: 10,
      stepSize: eps / 4,
      rng: new Rng(7).stream("attack-start"),
    });
    const b = await pgd.attack(d.x, labels, {
      eps,
      steps: 10,
      stepSize: eps / 4,
      rng: new Rng(7).stream("attack-start"),
    });
    const c = await pgd.attack(d.x, labels, {
      eps,
      steps: 10,
      stepSize: eps / 4,
      rng: new Rng(8).stream("attack-start"),
    });
    assertEquals(Array.from(a), Array.from(b));
    assert(a.some((v, i) => v !== c[i]), "another seed gives another start");
    let maxDev = 0;
    for (let i = 0; i < a.length; i++) {
      maxDev = Math.max(maxDev, Math.abs(a[i] - d.x[i]));
      assert(a[i] >= 0 && a[i] <= 1, `pixel ${i} = ${a[i]} is inside [0,1]`);
    }
    assert(maxDev <= eps + 1e-6, `L∞ ${maxDev} ≤ eps + 1e-6`);
    assert(maxDev > eps * 0.9, `the attack uses its budget (${maxDev})`);
    // Cross-entropy goes up on the adversarial images.
    const ce = (logits: Float32Array) =>
      labels.reduce((s, y, i) => {
        const row = logits.subarray(i * 4, i * 4 + 4);
        const mx = Math.max(...row);
        return s + Math.log(row.reduce((q, v) => q + Math.exp(v - mx), 0)) + mx - row[y];
      }, 0);
    const l0 = ce((await pgd.logits(d.x)).logits), l1 = ce((await pgd.logits(a)).logits);
    assert(l1 > l0, `loss rises from ${l0} to ${l1}`);
    await assertRejects(() => pgd.attack(d.x.subarray(0, 50), labels), RangeError, "need");
    await assertRejects(
      () => pgd.attack(d.x, labels, { steps: 0, rng: new Rng(1) }),
      RangeError,
      "steps is 0",
    );
  } finally {
    await pgd.dispose();
  }
});

Deno.test("argmaxRows takes the first maximum", () => {
  assertEquals(Array.from(argmaxRows(Float32Array.of(1, 3, 3, 0, -1, -1), 3)), [1, 0]);
});

Deno.test("runAttack reports accuracies, norms and 8-bit survival; outputs are written and reproducible", async () => {
  const m = toyModel();
  const d = toyData(24);
  const eps = 16 / 255;
  const opts = { n: 12, seed: 3, eps, steps: 8, stepSize: eps / 4, batch: 5 };
  const r = await runAttack(m, d, opts);
  const s = r.summary;
  assertEquals(s.n, 12);
  assertEquals(r.shape, [12, 1, 8, 8]);
  assert(s.norms.adversarial.linf.max <= eps + 1e-6, "adversarial L∞ within eps");
  assert(s.norms.noise.linf.max <= eps + 1e-6, "uniform noise within eps");
  assert(s.accuracy.adversarial <= s.accuracy.clean, "the attack does not help");
  // Norm-matched noise has each example's adversarial L∞ (unless clipping at 0/1 shrinks it).
  for (const e of r.examples) assert(e.matchedLinf <= e.advLinf + 1e-7);
  assert(s.quantized.stillSucceed <= s.quantized.of);
  assertEquals(new Set(r.examples.map((e) => e.id)).size, 12);
  const again = await runAttack(m, d, opts);
  assertEquals(Array.from(again.adversarial), Array.from(r.adversarial));
  assertEquals(Array.from(again.noise), Array.from(r.noise));
  const dir = await Deno.makeTempDir();
  try {
    const files = await writeAttackOutputs(`${dir}/out`, r);
    for (const f of files) assert((await Deno.stat(`${dir}/out/${f}`)).size > 0, f);
    const adv = decodeNpy(await Deno.readFile(`${dir}/out/adversarial.npy`));
    assertEquals(adv.shape, [12, 1, 8, 8]);
    const csv = await Deno.readTextFile(`${dir}/out/examples.csv`);
    assertEquals(csv.split("\n")[0].split(",").slice(0, 3), ["id", "label", "clean"]);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/out/attack.json`));
    assertEquals(json.accuracy.clean, s.accuracy.clean);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runAttack rejects labels out of range, n too large and image/model shape mismatch", async () => {
  const m = toyModel();
  const d = toyData(6);
  await assertRejects(
    () => runAttack(m, { ...d, labels: [0, 1, 2, 9, 1, 0] }, { n: 6, steps: 1 }),
    RangeError,
    "label 9",
  );
  await assertRejects(() => runAttack(m, d, { n: 7, steps: 1 }), RangeError, "n is 7");
  await assertRejects(
    () => runAttack(m, { ...d, height: 7 }, { n: 2, steps: 1 }),
    RangeError,
    "1×7×8",
  );
  await assertRejects(() => runAttack(m, d, { n: 2, eps: -1 }), RangeError, "eps is -1");
  await assertRejects(() => runAttack(m, d, { n: 2, steps: 0 }), RangeError, "steps is 0");
});

Deno.test("somscope attack writes everything on success and nothing on bad input", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/m.onnx`, toyModel());
    const d = toyData(8);
    await Deno.mkdir(`${dir}/data`);
    await Deno.writeFile(`${dir}/data/images.npy`, encodeNpy({ data: d.x, shape: [8, 1, 8, 8] }));
    await Deno.writeFile(
      `${dir}/data/labels.npy`,
      encodeNpy({ data: Int32Array.from(d.labels), shape: [8] }),
    );
    const base = [`${dir}/m.onnx`, ...flags({ data: `npy:${dir}/data`, n: 4, steps: 2, batch: 4 })];
    assertEquals(await runCommand(attackCommand, [...base, "--out", `${dir}/ok`]), 0);
    // The same attack on onnxruntime-web's wasm EP gives the same adversarial images (to float32
    // rounding of the two builds' kernels).
    assertEquals(
      await runCommand(attackCommand, [...base, "--runtime", "wasm", "--out", `${dir}/wasm`]),
      0,
    );
    const a = decodeNpy(await Deno.readFile(`${dir}/ok/adversarial.npy`)).data as Float32Array;
    const w = decodeNpy(await Deno.readFile(`${dir}/wasm/adversarial.npy`)).data as Float32Array;
    let differ = 0;
    for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - w[i]) > 1e-6) differ++;
    assert(
      differ <= a.length / 100,
      `${differ} of ${a.length} pixels differ between node and wasm`,
    );
    for (
      const f of [
        "attack.json",
        "manifest.json",
        "examples.arrow",
        "contact_sheet.png",
        "noise.npy",
      ]
    ) {
      assert((await Deno.stat(`${dir}/ok/${f}`)).isFile, f);
    }
    const man = JSON.parse(await Deno.readTextFile(`${dir}/ok/manifest.json`));
    assertEquals(man.seeds.streams, ["attack-sample", "attack-start", "noise"]);
    assertEquals(await runCommand(attackCommand, [...base, "--eps=-1", "--out", `${dir}/bad1`]), 2);
    assertEquals(
      await runCommand(attackCommand, [...base, "--steps", "0", "--out", `${dir}/bad2`]),
      2,
    );
    await Deno.writeFile(
      `${dir}/data/labels.npy`,
      encodeNpy({ data: Int32Array.of(0, 1, 2, 3, 4, 5, 6, 7), shape: [8] }),
    );
    assertEquals(await runCommand(attackCommand, [...base, "--n", "8", "--out", `${dir}/bad3`]), 1);
    for (const b of ["bad1", "bad2", "bad3"]) {
      await assertRejects(() => Deno.stat(`${dir}/${b}`), Deno.errors.NotFound);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("PgdAttack equals an advertorch-style loop (δ form: rand init, sign step, clamp δ, clamp x) on the gradient graph", async () => {
  const m = toyModel(3);
  const d = toyData(3, 9);
  const eps = 10 / 255, alpha = eps / 5, steps = 6;
  const labels = Array.from(d.labels);
  const pgd = await PgdAttack.create(m, { batch: 3 });
  const ours = await pgd.attack(d.x, labels, { eps, steps, stepSize: alpha, rng: new Rng(4) });
  await pgd.dispose();
  // advertorch LinfPGDAttack.perturb → perturb_iterative, in float32 arithmetic.
  const gs = await openGraphSession(deriveGradientGraph(m, { batch: 3 }));
  const rng = new Rng(4);
  const f = Math.fround, e = f(eps), a = f(alpha);
  const delta = Float32Array.from(
    d.x,
    (x) => f(Math.min(Math.max(f(x + f((rng.float() * 2 - 1) * eps)), 0), 1) - x),
  );
  for (let it = 0; it < steps; it++) {
    const xa = Float32Array.from(d.x, (x, i) => f(x + delta[i]));
    const g = (await gs.run({
      input: { data: xa, dims: [3, 1, 8, 8] },
      labels: { data: BigInt64Array.from(labels.map(BigInt)), dims: [3] },
    })).input_grad;
    for (let i = 0; i < delta.length; i++) {
      const dl = Math.min(Math.max(f(delta[i] + a * Math.sign(g[i])), -e), e);
      delta[i] = f(Math.min(Math.max(f(d.x[i] + dl), 0), 1) - d.x[i]);
    }
  }
  await gs.release();
  let worst = 0;
  for (let i = 0; i < ours.length; i++) {
    worst = Math.max(worst, Math.abs(ours[i] - Math.min(Math.max(f(d.x[i] + delta[i]), 0), 1)));
  }
  // The x form and δ form differ only by float32 rounding of x0 ± ε (a few ulps of 1).
  assert(worst <= 1e-6, `max |ours − advertorch| = ${worst}`);
});
