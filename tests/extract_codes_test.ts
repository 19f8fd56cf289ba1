import {
  assertRuntimesAgree,
  assertSameCodes,
  type DatasetLike,
  extractCodes,
  extractQuiet,
  loadModel,
  readNpy,
  relErr,
  syntheticDataset,
  TOY_CNN,
  withToyCnn,
} from "./model_helpers.ts";
import { DataFormatError, decodeNpy, writeCodes } from "../mod.ts";
import { tableFromIPC } from "npm:@uwdata/flechette@2.6.0";
import { assert, assertEquals, assertRejects, assertThrows } from "./asserts.ts";
import { gpuContextOrSkip } from "./gpu_helper.ts";
import { inTempDir } from "./temp_dir.ts";

const DIR = "tests/data/models";

async function _tmp(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "somscope_extract_" });
}

/** A test body run in a fresh cache folder, removed afterwards. */
function _inCache(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return inTempDir(fn, { prefix: "somscope_extract_" });
}

/** The torch reference inputs as a data set. */
async function _torchInputs(name: string): Promise<DatasetLike> {
  const x = await readNpy(`${DIR}/${name}_input.npy`);
  const [N, C, H, W] = x.shape;
  const per = C * H * W;
  const px = x.data as Float32Array;
  return {
    size: N,
    channels: C,
    height: H,
    width: W,
    labels: Int32Array.from({ length: N }, (_, i) => i),
    load: (ix) => {
      const out = new Float32Array(ix.length * per);
      ix.forEach((i, k) => out.set(px.subarray(i * per, (i + 1) * per), k * per));
      return Promise.resolve(out);
    },
    identity: () => Promise.resolve(`torch-inputs-${name}`),
  };
}

for (const name of ["toy_cnn", "toy_vit"]) {
  Deno.test(
    `extractCodes() gives torch's vector codes and predictions for ${name} (rel ≤ 1e-5)`,
    _inCache(async (cacheDir) => {
      const data = await _torchInputs(name);
      const r = await extractQuiet(await loadModel(`${DIR}/${name}.onnx`), data, [2, 0, 1], {
        cacheDir,
        batchSize: 2,
      });
      const logits = await readNpy(`${DIR}/${name}_logits.npy`);
      const L = logits.data as Float32Array;
      const argmax = (i: number) => {
        let b = 0;
        for (let k = 1; k < 10; k++) if (L[i * 10 + k] > L[i * 10 + b]) b = k;
        return b;
      };
      assertEquals(Array.from(r.predictions), [2, 0, 1].map(argmax));
      assertEquals(Array.from(r.labels), [2, 0, 1]);
      for (let t = 0; t < r.layers.length; t++) {
        const ref = await readNpy(`${DIR}/${name}_tap${t}_codes.npy`);
        const d = ref.shape[1];
        assertEquals(r.layers[t].dim, d);
        const want = new Float64Array(3 * d);
        [2, 0, 1].forEach((i, k) =>
          want.set((ref.data as Float64Array).subarray(i * d, (i + 1) * d), k * d)
        );
        const e = relErr(r.layers[t].codes, want);
        assert(e <= 1e-5, `${r.layers[t].label}: relative error ${e}`);
      }
    }),
  );
}

Deno.test(
  "extractCodes() cache hit runs no model and loads no pixels",
  withToyCnn(async (model, cacheDir) => {
    const data = syntheticDataset(20);
    const ix = Array.from({ length: 20 }, (_, i) => 19 - i);
    const first = await extractQuiet(model, data, ix, { cacheDir, batchSize: 8 });
    assertEquals([first.computed, first.batches, first.runtime?.kind], [20, 3, "node"]);
    assertEquals(data.loaded, 20);
    const again = await extractQuiet(model, data, ix, { cacheDir, batchSize: 5 });
    assertEquals([again.computed, again.batches, again.runtime, data.loaded], [0, 0, null, 20]);
    assert(again.layers.every((l) => l.cached));
    assertSameCodes(again, first);
    // A subset of the layers is a hit too.
    const sub = await extractQuiet(model, data, ix, { cacheDir, layers: "CL2" });
    assertEquals([sub.computed, sub.layers.length], [0, 1]);
    assertEquals(sub.layers[0].codes, first.layers[1].codes);
  }),
);

Deno.test(
  "extractCodes() misses on changed preprocessing, data identity, indices or com",
  withToyCnn(async (model, cacheDir) => {
    const ix = [0, 1, 2, 3];
    const base = await extractQuiet(model, syntheticDataset(4), ix, { cacheDir });
    const norm = await extractQuiet(model, syntheticDataset(4), ix, {
      cacheDir,
      normalize: { mean: [0.5], std: [0.5] },
    });
    assertEquals(norm.computed, 4);
    assert(relErr(norm.layers[2].codes, base.layers[2].codes) > 1e-3, "codes changed");
    const other = syntheticDataset(4, [1, 28, 28], "synthetic-v2");
    assertEquals((await extractQuiet(model, other, ix, { cacheDir })).computed, 4);
    const order = await extractQuiet(model, syntheticDataset(4), [3, 2, 1, 0], {
      cacheDir,
    });
    assertEquals(order.computed, 4);
    const xy = await extractQuiet(model, syntheticDataset(4), ix, {
      cacheDir,
      com: "xy",
    });
    assertEquals([xy.computed, xy.layers[0].dim], [4, 40]);
  }),
);

Deno.test(
  "extractCodes() resumes after the run was killed with SIGKILL",
  _inCache(async (dir) => {
    const cacheDir = `${dir}/cache`, fresh = `${dir}/fresh`;
    const marker = `${cacheDir}/marker`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tests/extract_child.ts", cacheDir, marker, "12", "5"],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const t0 = Date.now();
    while (true) {
      try {
        await Deno.stat(marker);
        break;
      } catch { /* not yet */ }
      if (Date.now() - t0 > 60_000) throw new Error("child never reached batch 5");
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGKILL");
    const status = await child.status;
    await child.stderr.cancel();
    assertEquals(status.signal, "SIGKILL");
    const model = await loadModel(TOY_CNN);
    const ix = Array.from({ length: 12 }, (_, i) => i);
    const resumed = await extractQuiet(model, syntheticDataset(12), ix, { cacheDir });
    assertEquals(resumed.computed, 7);
    const clean = await extractQuiet(model, syntheticDataset(12), ix, {
      cacheDir: fresh,
    });
    assertEquals(clean.computed, 12);
    assertSameCodes(resumed, clean, false);
  }),
);

Deno.test(
  "extractCodes() leaves only whole chunks when killed at arbitrary moments",
  _inCache(async (dir) => {
    const cacheDir = `${dir}/cache`, fresh = `${dir}/fresh`;
    await Deno.mkdir(cacheDir);
    const n = 120;
    const ix = Array.from({ length: n }, (_, i) => i);
    const model = await loadModel(TOY_CNN);
    // Kill the child at a few moments while it writes chunks: each run starts from what the
    // previous ones left, and the kill lands 0–45 ms after the first new chunk appeared.
    const chunks = () => {
      let k = 0;
      const walk = (d: string) => {
        for (const e of Deno.readDirSync(d)) {
          if (e.isDirectory) walk(`${d}/${e.name}`);
          else if (/^rows_\d+_\d+\.[0-9a-f]{16}\.npy$/.test(e.name)) k++;
        }
      };
      walk(cacheDir);
      return k;
    };
    for (const delay of [0, 15, 30, 45]) {
      const before = chunks();
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "tests/extract_child.ts", cacheDir, `${dir}/m`, String(n), "0"],
        stdout: "null",
        stderr: "null",
      }).spawn();
      const t0 = Date.now();
      while (chunks() === before && Date.now() - t0 < 60_000) {
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, delay));
      try {
        child.kill("SIGKILL");
      } catch { /* already finished */ }
      await child.status;
    }
    const resumed = await extractQuiet(model, syntheticDataset(n), ix, { cacheDir });
    assert(resumed.computed < n, `resumed run recomputed ${resumed.computed} of ${n}`);
    const clean = await extractQuiet(model, syntheticDataset(n), ix, {
      cacheDir: fresh,
    });
    assertSameCodes(resumed, clean);
  }),
);

Deno.test(
  "extractCodes() recomputes a chunk that fails its checksum, with a warning, and removes temp files of the finished entry",
  withToyCnn(async (model, cacheDir) => {
    const ix = [0, 1, 2, 3, 4, 5];
    let stop = false;
    await extractQuiet(model, syntheticDataset(6), ix, {
      cacheDir,
      batchSize: 2,
      chunkImages: 2,
      onBatch: (done) => {
        if (done === 4 && !stop) {
          stop = true;
          throw new Error("interrupted");
        }
      },
    }).catch((e) => assertEquals(e.message, "interrupted"));
    // Damage one finished chunk of one layer and leave a temp file, as a crash might.
    const run = [...Deno.readDirSync(cacheDir)].find((e) => e.name !== "layers")!.name;
    const layerDir = [...Deno.readDirSync(`${cacheDir}/${run}`)].find((e) =>
      e.name.startsWith("layer_")
    )!.name;
    const path = `${cacheDir}/${run}/${layerDir}`;
    const names = [...Deno.readDirSync(path)].map((e) => e.name).sort();
    assertEquals(names.map((n) => n.replace(/\.[0-9a-f]{16}\.npy$/, ".npy")), [
      "rows_0_2.npy",
      "rows_2_4.npy",
    ]);
    await Deno.writeTextFile(`${path}/${names[1]}`, "garbage");
    await Deno.writeTextFile(`${path}/rows_4_6.npy.123.abcd.tmp`, "half");
    await Deno.utime(`${path}/rows_4_6.npy.123.abcd.tmp`, 0, new Date(Date.now() - 3600_000));
    await Deno.writeTextFile(`${path}/rows_4_6.npy.456.ef01.tmp`, "in flight elsewhere");
    const warnings: string[] = [];
    const r = await extractQuiet(model, syntheticDataset(6), ix, {
      cacheDir,
      onWarning: (m) => warnings.push(m),
    });
    assertEquals(r.computed, 2 + 2); // positions 4,5 never ran; 2,3 re-run for the bad chunk
    assertEquals(warnings.length, 1);
    assert(warnings[0].includes(names[1]) && warnings[0].includes("checksum"), warnings[0]);
    const clean = await extractQuiet(model, syntheticDataset(6), ix, {
      cacheDir: `${cacheDir}/fresh`,
    });
    assertSameCodes(r, clean, false);
    // The finished entry is one merged file: every temp file is gone.
    const left = [...Deno.readDirSync(path)].map((e) => e.name);
    assertEquals(left.length, 1);
    assert(/^rows\.[0-9a-f]{16}\.npy$/.test(left[0]), left[0]);
  }),
);

Deno.test(
  "extractCodes() rejects data with the wrong channel count before any work",
  _inCache(async (cacheDir) => {
    const rgb = syntheticDataset(2, [3, 28, 28]);
    const model = await loadModel(TOY_CNN);
    await assertRejects(
      () => extractQuiet(model, rgb, [0, 1], { cacheDir }),
      DataFormatError,
      "the data set has 3 channels but model",
    );
    await assertRejects(
      () => extractQuiet(model, syntheticDataset(2, [1, 32, 32]), [0], { cacheDir }),
      DataFormatError,
      "32×32",
    );
    assertEquals(rgb.loaded, 0);
    assertEquals([...Deno.readDirSync(cacheDir)].length, 0);
  }),
);

Deno.test(
  "extractCodes() rejects unknown layers, bad indices and batch sizes",
  withToyCnn(async (model, cacheDir) => {
    const data = syntheticDataset(3);
    const e = await assertRejects(
      () => extractQuiet(model, data, [0], { cacheDir, layers: "CL1,layer4" }),
      RangeError,
      '"layer4" is not a layer',
    );
    assert(e.message.includes("CL3"), e.message);
    await assertRejects(
      () => extractQuiet(model, data, [0, 3], { cacheDir }),
      RangeError,
      "index 3 at position 1 is outside the data set (0..2)",
    );
    await assertRejects(
      () => extractQuiet(model, data, [0.5], { cacheDir }),
      RangeError,
      "index 0.5",
    );
    await assertRejects(
      () => extractQuiet(model, data, [0], { cacheDir, batchSize: 0 }),
      RangeError,
      "batchSize is 0",
    );
    assertEquals(data.loaded, 0);
  }),
);

Deno.test(
  "writeCodes() writes Arrow tables and .npy files that read back",
  _inCache(async (dir) => {
    const r = await extractQuiet(await loadModel(TOY_CNN), syntheticDataset(5), [4, 3, 2], {
      cacheDir: `${dir}/cache`,
    });
    const written = await writeCodes(`${dir}/out`, r);
    assertEquals(written.map((w) => [w.npy, w.arrow, w.dim]), [
      ["CL1.npy", "CL1.arrow", 32],
      ["CL2.npy", "CL2.arrow", 64],
      ["CL3.npy", "CL3.arrow", 128],
    ]);
    const npy = decodeNpy(await Deno.readFile(`${dir}/out/CL2.npy`));
    assertEquals(npy.shape, [3, 64]);
    assertEquals(npy.data, r.layers[1].codes);
    const t = tableFromIPC(await Deno.readFile(`${dir}/out/CL3.arrow`));
    assertEquals(t.names, ["id", "label", "predicted", "correct", "code"]);
    assertEquals(Array.from(t.getChild("id").toArray() as Int32Array), [4, 3, 2]);
    assertEquals(Array.from(t.getChild("label").toArray() as Int32Array), [4, 3, 2]);
    const code1 = t.getChild("code").at(1) as Float32Array;
    assertEquals(Array.from(code1), Array.from(r.layers[2].codes.subarray(128, 256)));
    const ex = decodeNpy(await Deno.readFile(`${dir}/out/examples.npy`));
    assertEquals(ex.shape, [3, 4]);
    assertEquals(ex.data[0], 4);
    assertEquals(ex.data[2], r.predictions[0]);
  }),
);

Deno.test("extractCodes() codes agree across runtimes: wasm vs node ≤ 1e-5, webgpu vs node ≤ 1e-4", async () => {
  const ctx = await gpuContextOrSkip();
  const cacheDir = await _tmp();
  try {
    for (const name of ["toy_cnn", "toy_vit"]) {
      const model = await loadModel(`${DIR}/${name}.onnx`);
      const ix = [0, 1, 2, 3, 4, 5];
      const run = (runtime: "node" | "wasm" | "webgpu") =>
        extractCodes(model, syntheticDataset(6), ix, {
          runtime,
          ctx,
          threads: 2,
          batchSize: 4,
          progress: false,
          cacheDir: `${cacheDir}/${name}_${runtime}`,
        });
      const others: ["wasm" | "webgpu", number][] = [["wasm", 1e-5]];
      // The WebGPU EP on llvmpipe is slow (MODELS.md): the CNN only.
      if (ctx && name === "toy_cnn") others.push(["webgpu", 1e-4]);
      await assertRuntimesAgree(name, run, others);
    }
  } finally {
    ctx?.dispose();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test(
  "extractCodes() runs CPU sessions in a worker thread with the same codes as the main thread",
  _inCache(async (dir) => {
    const a = `${dir}/a`, b = `${dir}/b`;
    const model = await loadModel(TOY_CNN);
    const ix = Array.from({ length: 9 }, (_, i) => i);
    const off = await extractQuiet(model, syntheticDataset(9), ix, {
      cacheDir: a,
      batchSize: 4,
    });
    const on = await extractQuiet(model, syntheticDataset(9), ix, {
      cacheDir: b,
      batchSize: 4,
      offThread: false,
    });
    assert(off.runtime!.reason.endsWith("; worker thread"), off.runtime!.reason);
    assert(!on.runtime!.reason.includes("worker"), on.runtime!.reason);
    assertSameCodes(off, on);
  }),
);

Deno.test(
  "extractCodes({ lazy: true }) leaves codes in the cache; read() verifies and recomputes",
  withToyCnn(async (model, cacheDir) => {
    const ix = [3, 1, 4, 1, 5];
    const eager = await extractQuiet(model, syntheticDataset(6), ix, { cacheDir });
    const warnings: string[] = [];
    const lazy = await extractQuiet(model, syntheticDataset(6), ix, {
      cacheDir,
      lazy: true,
      onWarning: (m) => warnings.push(m),
    });
    assertEquals([lazy.computed, Array.from(lazy.predictions)], [0, Array.from(eager.predictions)]);
    assertThrows(() => lazy.layers[0].codes, TypeError, "lazy: true");
    for (let i = 0; i < eager.layers.length; i++) {
      assertEquals(await lazy.layers[i].read(), eager.layers[i].codes);
    }
    // Damage a layer's file after extraction: read() warns, recomputes, returns the same codes.
    const dir = `${cacheDir}/${lazy.runKey.slice(0, 32)}/layer_${lazy.layers[1].key}`;
    const file = [...Deno.readDirSync(dir)][0].name;
    const bytes = Deno.readFileSync(`${dir}/${file}`);
    bytes[bytes.length - 1] ^= 1;
    Deno.writeFileSync(`${dir}/${file}`, bytes);
    assertEquals(await lazy.layers[1].read(), eager.layers[1].codes);
    assertEquals(warnings.length, 1);
    assert(warnings[0].includes("failed its checksum"), warnings[0]);
  }),
);
