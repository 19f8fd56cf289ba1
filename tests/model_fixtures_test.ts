import {
  assertRuntimesAgree,
  createRuntime,
  extractCodes,
  listLayers,
  loadModel,
  prepareModel,
  readNpy,
  relErr,
} from "./model_helpers.ts";
import { openDataset, reduceFeatureMapsReference } from "../mod.ts";
import { assert, assertEquals } from "./asserts.ts";
import { gpuContextOrSkip } from "./gpu_helper.ts";

const REF = "fixtures/reference";
const FIXTURES = {
  resnet: {
    file: "fixtures/models/fmnist_resnet.onnx",
    family: "cnn",
    auto: [
      ["CL1", [1, 16, 14, 14]],
      ["CL2", [1, 32, 7, 7]],
      ["CL3", [1, 64, 4, 4]],
      ["CL4", [1, 128, 2, 2]],
    ],
    refs: ["resnet_layer1", "resnet_layer2", "resnet_layer3", "resnet_layer4"],
  },
  vit: {
    file: "fixtures/models/fmnist_vit.onnx",
    family: "vit",
    auto: [0, 1, 2, 3, 4, 5].map((i) => [`cls${i}`, [1, 64]]),
    refs: [0, 1, 2, 3, 4, 5].map((i) => `vit_block${i}_cls`),
  },
};

for (const [name, f] of Object.entries(FIXTURES)) {
  Deno.test(`listLayers() finds the composite layers of the built-in ${name} fixture`, async () => {
    const list = await listLayers(await loadModel(f.file));
    assertEquals(list.family, f.family);
    assertEquals(list.auto.map((l) => [l.label, l.shape]), f.auto);
  });

  for (const kind of ["node", "wasm"] as const) {
    Deno.test(`${kind}: ${name} fixture taps and logits match torch's reference (rel ≤ 1e-5)`, async () => {
      const m = await loadModel(f.file);
      const list = await listLayers(m);
      const p = prepareModel(m, {
        taps: list.auto.map((l) => ({ tensor: l.tensor, token0: l.token0 })),
      });
      const x = await readNpy(`${REF}/${name}_input.npy`);
      const rt = await createRuntime(kind, p.bytes, { threads: 2 });
      try {
        const r = await rt.run(x.data as Float32Array, x.shape);
        const logits = await readNpy(`${REF}/${name}_logits.npy`);
        const el = relErr(r.logits, logits.data as Float32Array);
        assert(el <= 1e-5, `logits relative error ${el}`);
        for (let i = 0; i < f.refs.length; i++) {
          const ref = await readNpy(`${REF}/${f.refs[i]}.npy`);
          const tap = r.taps[p.taps[i].output];
          assertEquals(tap.dims, ref.shape);
          const e = relErr(tap.data!, ref.data as Float32Array);
          assert(e <= 1e-5, `${f.refs[i]}: relative error ${e}`);
        }
      } finally {
        await rt.dispose();
      }
    });
  }
}

Deno.test("extractCodes() on the built-in data gives the fixture's reference codes and predictions", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "somscope_fixture_" });
  try {
    const data = await openDataset("builtin:fashion-mnist", { split: "val" });
    const meta = JSON.parse(await Deno.readTextFile(`${REF}/reference.json`));
    const x = await readNpy(`${REF}/resnet_input.npy`);
    // The reference images are the first four of the test split.
    assertEquals(Array.from(await data.load([0, 1, 2, 3])), Array.from(x.data as Float32Array));
    for (const [name, f] of Object.entries(FIXTURES)) {
      const r = await extractCodes(await loadModel(f.file), data, [0, 1, 2, 3], {
        runtime: "node",
        cacheDir,
        progress: false,
      });
      assertEquals(Array.from(r.labels), meta.labels);
      assertEquals(Array.from(r.predictions), meta.models[name].predicted);
      for (let i = 0; i < f.refs.length; i++) {
        const ref = await readNpy(`${REF}/${f.refs[i]}.npy`);
        const want = reduceFeatureMapsReference(ref.data as Float32Array, ref.shape);
        const e = relErr(r.layers[i].codes, want);
        assert(e <= 1e-5, `${name} ${r.layers[i].label}: relative error ${e}`);
      }
    }
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("fixture codes agree across runtimes: wasm vs node ≤ 1e-5, webgpu vs node ≤ 1e-4", async () => {
  const ctx = await gpuContextOrSkip();
  const cacheDir = await Deno.makeTempDir({ prefix: "somscope_fixture_" });
  try {
    const data = await openDataset("builtin:fashion-mnist", { split: "val" });
    const ix = Array.from({ length: 16 }, (_, i) => 100 + 7 * i);
    for (const [name, f] of Object.entries(FIXTURES)) {
      const model = await loadModel(f.file);
      const run = (runtime: "node" | "wasm" | "webgpu") =>
        extractCodes(model, data, ix, {
          runtime,
          ctx,
          batchSize: 8,
          progress: false,
          cacheDir: `${cacheDir}/${name}_${runtime}`,
        });
      const others: ["wasm" | "webgpu", number][] = [["wasm", 1e-5]];
      if (ctx) others.push(["webgpu", 1e-4]);
      await assertRuntimesAgree(name, run, others);
    }
  } finally {
    ctx?.dispose();
    await Deno.remove(cacheDir, { recursive: true });
  }
});
