import {
  createRuntime,
  DT,
  encodeModel,
  listLayers,
  loadModel,
  prepareModel,
  readNpy,
  relErr,
} from "./model_helpers.ts";
import { gpuPolicy, reduceFeatureMapsCpu, reduceFeatureMapsGpu } from "../mod.ts";
import { assert, assertEquals, assertRejects } from "./asserts.ts";
import { gpuContextOrSkip } from "./gpu_helper.ts";
import { model as buildModel, node, tensor, valueInfo } from "../lib/onnx/proto.ts";

const DIR = "tests/data/models";

/** Runs a toy model with its automatic taps on the torch inputs. */
async function _run(name: string, kind: "node" | "wasm" | "webgpu", ctx?: unknown) {
  const m = await loadModel(`${DIR}/${name}.onnx`);
  const list = await listLayers(m);
  const p = prepareModel(m, {
    taps: list.auto.map((l) => ({ tensor: l.tensor, token0: l.token0 })),
  });
  const x = await readNpy(`${DIR}/${name}_input.npy`);
  const rt = await createRuntime(kind, p.bytes, {
    threads: 2,
    ...(ctx ? { ctx: ctx as never } : {}),
  });
  const r = await rt.run(x.data as Float32Array, x.shape);
  return { rt, r, p, list };
}

for (const kind of ["node", "wasm"] as const) {
  for (const name of ["toy_cnn", "toy_vit"]) {
    Deno.test(`${kind} runtime: ${name} taps and logits match torch forward hooks (rel ≤ 1e-5)`, async () => {
      const { rt, r, p } = await _run(name, kind);
      try {
        assertEquals(rt.kind, kind);
        const logits = await readNpy(`${DIR}/${name}_logits.npy`);
        assertEquals(r.logitsDims, logits.shape);
        const e0 = relErr(r.logits, logits.data as Float32Array);
        assert(e0 <= 1e-5, `logits relative error ${e0}`);
        for (let i = 0; i < p.taps.length; i++) {
          const ref = await readNpy(`${DIR}/${name}_tap${i}.npy`);
          const tap = r.taps[p.taps[i].output];
          assertEquals(tap.dims, ref.shape);
          const e = relErr(tap.data!, ref.data as Float32Array);
          assert(e <= 1e-5, `tap ${i} relative error ${e}`);
          const codes = reduceFeatureMapsCpu(tap.data!, tap.dims);
          const refCodes = await readNpy(`${DIR}/${name}_tap${i}_codes.npy`);
          const ec = relErr(codes, refCodes.data as Float64Array);
          assert(ec <= 1e-5, `codes ${i} relative error ${ec}`);
        }
      } finally {
        await rt.dispose();
      }
    });
  }
}

Deno.test("webgpu runtime on the shared device: taps and GPU-reduced codes match node (rel ≤ 1e-4)", async () => {
  const ctx = await gpuContextOrSkip();
  if (!ctx) return;
  const gpu = await _run("toy_cnn", "webgpu", ctx);
  const cpu = await _run("toy_cnn", "node");
  try {
    assertEquals(gpu.rt.kind, "webgpu");
    assert(gpu.rt.ctx === ctx, "the runtime uses the given context");
    const e0 = relErr(gpu.r.logits, cpu.r.logits);
    assert(e0 <= 1e-4, `logits relative error ${e0}`);
    for (const t of gpu.p.taps) {
      const g = gpu.r.taps[t.output];
      assert(g.gpuBuffer !== undefined && g.data === undefined, "taps stay on the GPU");
      const c = cpu.r.taps[t.output];
      assertEquals(g.dims, c.dims);
      const codes = await reduceFeatureMapsGpu(ctx, g.gpuBuffer!, g.dims);
      const e = relErr(codes, reduceFeatureMapsCpu(c.data!, c.dims));
      assert(e <= 1e-4, `codes of ${t.tensor}: relative error ${e}`);
    }
  } finally {
    gpu.r.dispose();
    await gpu.rt.dispose();
    await cpu.rt.dispose();
    ctx.dispose();
  }
});

Deno.test("auto runtime follows the context's GPU policy: node on a software adapter, and says why", async () => {
  const ctx = await gpuContextOrSkip();
  if (!ctx) return;
  const m = await loadModel(`${DIR}/toy_cnn.onnx`);
  const rt = await createRuntime("auto", m.bytes, { ctx });
  try {
    if (ctx.adapter.isFallbackAdapter) {
      assertEquals(rt.kind, "node");
      assertEquals(rt.reason, `auto: ${gpuPolicy(ctx).reason}`);
      assert(rt.reason.includes("software adapter"), rt.reason);
    } else {
      assertEquals(rt.kind, "webgpu");
    }
  } finally {
    await rt.dispose();
    ctx.dispose();
  }
});

Deno.test("createRuntime() rejects an unknown runtime name, listing the valid ones", async () => {
  const m = await loadModel(`${DIR}/toy_cnn.onnx`);
  await assertRejects(
    () => createRuntime("cuda" as never, m.bytes),
    RangeError,
    '"auto", "node", "webgpu", "wasm"',
  );
});

Deno.test("prepareModel() normalisation equals normalising the pixels beforehand", async () => {
  const m = await loadModel(`${DIR}/toy_cnn.onnx`);
  const x = await readNpy(`${DIR}/toy_cnn_input.npy`);
  const px = x.data as Float32Array;
  const before = encodeModel(m.proto);
  const prepared = prepareModel(m, {
    normalize: { mean: [0.5], std: [0.25] },
    taps: [{ tensor: "/stage1/Relu_1_output_0" }],
  });
  // Surgery shares the initializers but never edits the loaded model.
  assertEquals(encodeModel(m.proto), before);
  assertEquals(
    prepareModel(m, { normalize: { mean: [0.5], std: [0.25] }, taps: prepared.taps }).bytes,
    prepared.bytes,
  );
  const inside = await createRuntime("node", prepared.bytes);
  const plain = await createRuntime("node", m.bytes);
  try {
    const a = await inside.run(px, x.shape);
    const b = await plain.run(px.map((v) => (v - 0.5) / 0.25), x.shape);
    const e = relErr(a.logits, b.logits);
    assert(e <= 1e-6, `relative error ${e}`);
    assert(relErr(a.logits, (await plain.run(px, x.shape)).logits) > 1e-3, "normalisation acts");
  } finally {
    await inside.dispose();
    await plain.dispose();
  }
  let err: unknown;
  try {
    prepareModel(m, { normalize: "imagenet" });
  } catch (e) {
    err = e;
  }
  assert(err instanceof RangeError && err.message.includes("3 channel means"), String(err));
});

Deno.test("prepareModel() drops nodes that no requested output needs", async () => {
  const bytes = encodeModel(buildModel({
    name: "two-heads",
    node: [
      node("Relu", ["x"], ["a"]),
      node("Flatten", ["a"], ["logits"]),
      node("Sigmoid", ["a"], ["s"]),
      node("Mul", ["s", "k"], ["aux"]),
    ],
    initializer: [tensor("k", [1], Float32Array.of(2))],
    input: [valueInfo("x", DT.FLOAT, ["N", 1, 2, 2])],
    output: [valueInfo("logits", DT.FLOAT, ["N", 4]), valueInfo("aux", DT.FLOAT)],
  }));
  const m = await loadModel(bytes);
  const p = prepareModel(m);
  assertEquals(p.nodes, 2);
  const withTap = prepareModel(m, { taps: [{ tensor: "s" }] });
  assertEquals(withTap.nodes, 3);
  const rt = await createRuntime("node", withTap.bytes);
  const r = await rt.run(Float32Array.of(-1, 0, 1, 2), [1, 1, 2, 2]);
  await rt.dispose();
  assertEquals(Object.keys(r.taps), ["s"]);
  assertEquals(Array.from(r.logits), [0, 0, 1, 2]);
  let err: unknown;
  try {
    prepareModel(m, { taps: [{ tensor: "nope" }] });
  } catch (e) {
    err = e;
  }
  assert(err instanceof RangeError && err.message.includes('"nope"'), String(err));
});

Deno.test("auto runtime falls back to wasm when onnxruntime-node cannot load", async () => {
  // Without --allow-ffi the native addon cannot be loaded: the same as a missing binary.
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-net",
      "--allow-sys",
      "--allow-write",
      "tests/model_runtime_child.ts",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const r = JSON.parse(text.trim().split("\n").pop()!);
  assertEquals([r.kind, r.logits], ["wasm", [1, 10]]);
  assert(r.reason.includes("onnxruntime-node cannot load"), r.reason);
});
