/**
 * Whole-graph gradient checks: the models helper's toy exports (torchvision-style CNN and ViT,
 * exported by torch with dynamic batch, so the ViT carries an integer shape sub-graph) against
 * directional central differences, and the Fashion-MNIST fixtures against
 * torch autograd references.
 */
import * as ort from "npm:onnxruntime-node@1.30.0";
import { assert, assertEquals } from "./asserts.ts";
import { deriveGradientGraph } from "../lib/grad/derive.ts";
import { readNpy } from "../lib/npy.ts";
import { decodeModel } from "../lib/onnx/proto.ts";
import { Rng } from "../lib/rng.ts";

async function directional(path: string, shape: number[], normalize: "none" | "imagenet" = "none") {
  const bytes = await Deno.readFile(path);
  const g = deriveGradientGraph(bytes, { batch: shape[0], normalize });
  const s = await ort.InferenceSession.create(g, { intraOpNumThreads: 1 });
  const n = shape.reduce((a, b) => a * b, 1);
  const rng = new Rng(11);
  const x = Float32Array.from({ length: n }, () => 0.1 + 0.8 * rng.float());
  const labels = new ort.Tensor(
    "int64",
    BigInt64Array.from({ length: shape[0] }, (_, i) => BigInt(i % 10)),
    [shape[0]],
  );
  const run = async (v: Float32Array) => {
    const o = await s.run({ input: new ort.Tensor("float32", v, shape), labels });
    return {
      loss: (o.loss.data as Float32Array).reduce((a, b) => a + b, 0),
      grad: o.input_grad.data as Float32Array,
    };
  };
  const base = await run(x);
  const results: { analytic: number; fd: number }[] = [];
  for (let d = 0; d < 4; d++) {
    // A random ±1 direction scaled so that the loss moves measurably but stays locally linear.
    const v = Float32Array.from({ length: n }, () => (rng.float() < 0.5 ? -1 : 1));
    let analytic = 0;
    for (let i = 0; i < n; i++) analytic += base.grad[i] * v[i];
    const h = 1e-3;
    const xp = Float32Array.from(x, (a, i) => a + h * v[i]),
      xm = Float32Array.from(x, (a, i) => a - h * v[i]);
    const fd = ((await run(xp)).loss - (await run(xm)).loss) / (2 * h);
    results.push({ analytic, fd });
  }
  await s.release();
  return results;
}

for (const name of ["toy_cnn", "toy_vit"]) {
  Deno.test(`whole-graph gradient of ${name} matches directional finite differences`, async () => {
    const path = `tests/data/models/${name}.onnx`;
    const dims = decodeModel(await Deno.readFile(path)).graph!.input![0].type!.tensorType!.shape!
      .dim!;
    const sh = [2, ...dims.slice(1).map((d) => Number(d.dimValue))];
    const r = await directional(path, sh);
    for (const { analytic, fd } of r) {
      // Float32 loss O(10) over 2h = 2e-3: rounding ≈ 10·1e-7/2e-3 = 5e-4 absolute; the directional
      // derivative is O(1–100), so 2% relative + 5e-3 absolute separates right from wrong.
      assert(Math.abs(analytic) > 1e-3, `non-trivial directional derivative (${analytic})`);
      assert(
        Math.abs(analytic - fd) <= 5e-3 + 0.02 * Math.abs(fd),
        `${name}: g·v ${analytic} vs fd ${fd}`,
      );
    }
  });
}

for (const arch of ["resnet", "vit"]) {
  const model = `fixtures/models/fmnist_${arch}.onnx`;
  const ref = `fixtures/reference/${arch}_input_grad.npy`;
  Deno.test({
    name: `fmnist_${arch} fixture: input gradients match torch autograd to 1e-4 relative`,
    async fn() {
      const x = await readNpy(`fixtures/reference/${arch}_input.npy`);
      const gRef = await readNpy(ref);
      const lRef = await readNpy(`fixtures/reference/${arch}_logits.npy`);
      const labelsNpy = await readNpy(`fixtures/reference/${arch}_labels.npy`).catch(() =>
        readNpy("fixtures/reference/labels.npy")
      );
      const labels = BigInt64Array.from(
        Array.from(labelsNpy.data as ArrayLike<number | bigint>, BigInt),
      );
      const s = await ort.InferenceSession.create(
        deriveGradientGraph(await Deno.readFile(model), { batch: x.shape[0] }),
      );
      const o = await s.run({
        input: new ort.Tensor("float32", x.data as Float32Array, x.shape),
        labels: new ort.Tensor("int64", labels, [labels.length]),
      });
      await s.release();
      const rel = (a: Float32Array, b: Float32Array) => {
        let d = 0, m = 0;
        for (let i = 0; i < b.length; i++) {
          d = Math.max(d, Math.abs(a[i] - b[i]));
          m = Math.max(m, Math.abs(b[i]));
        }
        return { rel: d / m, m };
      };
      const g = rel(o.input_grad.data as Float32Array, gRef.data as Float32Array);
      const l = rel(o.logits.data as Float32Array, lRef.data as Float32Array);
      assertEquals(o.input_grad.dims, x.shape);
      assert(g.m > 0, "the reference gradient is not all zero");
      assert(l.rel <= 1e-4, `logits relative error ${l.rel}`);
      assert(g.rel <= 1e-4, `input_grad relative error ${g.rel}`);
    },
  });
}

Deno.test("the gradient graph gives the same result on onnxruntime-web wasm as on node (both MaxPool forms)", async () => {
  const { openGraphSession } = await import("../lib/model/ort.ts");
  const bytes = await Deno.readFile("tests/data/models/toy_cnn.onnx");
  const rng = new Rng(2);
  const x = Float32Array.from({ length: 2 * 28 * 28 }, () => rng.float());
  const feeds = {
    input: { data: x, dims: [2, 1, 28, 28] },
    labels: { data: BigInt64Array.of(1n, 4n), dims: [2] },
  };
  const out: Float32Array[] = [];
  for (const target of ["cpu", "webgpu"] as const) {
    const g = deriveGradientGraph(bytes, { batch: 2, target });
    for (const runtime of ["node", "wasm"] as const) {
      const s = await openGraphSession(g, { runtime, threads: 1 });
      out.push((await s.run(feeds)).input_grad);
      await s.release();
    }
  }
  let m = 0;
  for (const v of out[0]) m = Math.max(m, Math.abs(v));
  assert(m > 0, "non-zero gradient");
  for (const o of out.slice(1)) {
    let d = 0;
    for (let i = 0; i < o.length; i++) d = Math.max(d, Math.abs(o[i] - out[0][i]));
    assert(d <= 1e-5 * m, `max difference ${d} (|g|max ${m})`);
  }
});

Deno.test("somscope grad writes a loadable gradient graph and fails cleanly on bad input", async () => {
  const { runCommand } = await import("../tasks/cli.ts");
  const { command } = await import("../tasks/cmd_grad.ts");
  const { GraphBuilder } = await import("./grad_helpers.ts");
  const dir = await Deno.makeTempDir();
  try {
    const m = "tests/data/models/toy_cnn.onnx";
    assertEquals(
      await runCommand(command, [
        m,
        "-o",
        `${dir}/g.onnx`,
        "--batch",
        "3",
        "--normalize",
        "0.5/0.25",
      ]),
      0,
    );
    const g = decodeModel(await Deno.readFile(`${dir}/g.onnx`));
    assertEquals(g.graph!.input!.map((v) => v.name), ["input", "labels"]);
    assertEquals(g.graph!.output!.map((v) => v.name), ["logits", "loss", "input_grad"]);
    assertEquals(Number(g.graph!.input![0].type!.tensorType!.shape!.dim![0].dimValue), 3);
    assertEquals(await runCommand(command, [m, "-o", `${dir}/p.onnx`, "--pgd"]), 0);
    const p = decodeModel(await Deno.readFile(`${dir}/p.onnx`));
    assertEquals(p.graph!.input!.map((v) => v.name), ["x_adv", "labels", "x0", "eps", "step"]);
    assertEquals(await runCommand(command, [m, "-o", `${dir}/b.onnx`, "--normalize", "x"]), 2);
    assertEquals(await runCommand(command, [m, "-o", `${dir}/b.onnx`, "--batch", "0"]), 2);
    assertEquals(await runCommand(command, [m]), 2);
    const gb = new GraphBuilder(1);
    await Deno.writeFile(`${dir}/u.onnx`, gb.build(gb.head(gb.o("Hardmax", ["x"]), 4), [1, 2, 2]));
    assertEquals(await runCommand(command, [`${dir}/u.onnx`, "-o", `${dir}/u.grad.onnx`]), 1);
    let written = true;
    await Deno.stat(`${dir}/u.grad.onnx`).catch(() => (written = false));
    assert(!written, "nothing written for an unsupported op");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the webgpu-target gradient graph runs on onnxruntime-web's WebGPU EP and matches node", async () => {
  const { gpuContextOrSkip } = await import("./gpu_helper.ts");
  const { openGraphSession } = await import("../lib/model/ort.ts");
  const ctx = await gpuContextOrSkip();
  if (!ctx) return;
  try {
    // deno-lint-ignore no-explicit-any
    const ort: any = await import("npm:onnxruntime-web@1.30.0/webgpu").then((m) => m.default ?? m);
    ort.env.wasm.numThreads = 1;
    const bytes = await Deno.readFile("tests/data/models/toy_cnn.onnx");
    const x = Float32Array.from({ length: 2 * 784 }, (_, i) => (i * 0.618) % 1);
    const labels = BigInt64Array.of(1n, 4n);
    const ref = await openGraphSession(deriveGradientGraph(bytes, { batch: 2 }), {
      threads: 1,
    });
    const want = (await ref.run({
      input: { data: x, dims: [2, 1, 28, 28] },
      labels: { data: labels, dims: [2] },
    })).input_grad;
    await ref.release();
    const s = await ort.InferenceSession.create(
      deriveGradientGraph(bytes, { batch: 2, target: "webgpu" }),
      {
        executionProviders: [{ name: "webgpu", device: ctx.device }],
        logSeverityLevel: 3,
      },
    );
    const o = await s.run({
      input: new ort.Tensor("float32", x, [2, 1, 28, 28]),
      labels: new ort.Tensor("int64", labels, [2]),
    });
    const g = o.input_grad.data as Float32Array;
    await s.release();
    let d = 0, m = 0;
    for (let i = 0; i < g.length; i++) {
      d = Math.max(d, Math.abs(g[i] - want[i]));
      m = Math.max(m, Math.abs(want[i]));
    }
    assert(m > 0 && d <= 1e-5 * m, `WebGPU vs node: max difference ${d} (|g|max ${m})`);
  } finally {
    ctx.dispose();
  }
});
