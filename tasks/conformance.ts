/**
 * `deno task conformance`: checks layer detection, taps and vector codes against real torchvision
 * exports and torch forward hooks (issue 3 §5). CI-only: needs Python with torch, torchvision and
 * onnx (Debian's python3-torch / python3-torchvision / python3-onnx); it takes minutes and is not
 * part of `deno task test`.
 *
 * For each of resnet18, resnet50, densenet121, vgg19 (shrunken classifier) and vit_b_16 (random
 * weights, randomised BatchNorm statistics, re-initialised ViT head), the Python script
 * `tools/conformance/export_torchvision.py` writes the ONNX export, random inputs, the logits
 * and the forward-hook outputs of the expected composite layers (ResNet `layer1..4`, DenseNet
 * `denseblock1..4`, VGG19 the last ReLU of blocks 3–5 and pool5, ViT `encoder_layer_0..11`'s CLS
 * token) with their float64 vector codes. This task then checks, on every runtime it can run:
 *
 * - the automatic layers are exactly those modules: as many as torch hooks, each tap equal to its
 *   hook output (relative error ≤ 1e-5: max |ours − torch| / max |torch|);
 * - the vector codes of each tap equal the codes of the hook output (≤ 1e-5; max/mean/std
 *   relative to their block's largest magnitude, the centre of mass within 1e-5 plus the shift
 *   the tap difference can cause on a channel with little positive mass — see `codesErr`), and
 *   the logits agree (≤ 1e-5).
 *
 * Usage: deno task conformance [--models a,b] [--runtimes node,wasm] [--out DIR] [--fresh] [--no-grad]
 *
 * Also checks input gradients of resnet18, resnet50, densenet121 and vit_b_16 against torch
 * autograd (relative error ≤ 1e-4) unless `--no-grad`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { GRADIENT_CONFORMANCE_ARCHS, runGradientConformance } from "../lib/grad/conformance.ts";
import { loadModel } from "../lib/model/load.ts";
import { listLayers } from "../lib/model/layers.ts";
import { prepareModel } from "../lib/model/surgery.ts";
import { createRuntime, type RuntimeKind } from "../lib/model/runtime.ts";
import { readNpy } from "../lib/npy.ts";
import { reduceFeatureMapsCpu, reduceFeatureMapsGpu } from "../lib/codes/feature_map_reduce.ts";
import { GpuContext } from "../lib/gpu/context.ts";
import { codesErr, relErr } from "./conformance_util.ts";
import { exists } from "../lib/fs_atomic.ts";
import { checkZooResults, runZoo, ZOO_FAMILIES } from "./conformance_zoo.ts";

/** The model zoo (issue 12 §3): every family's layers, codes and gradients; returns failures. */
async function _zoo(out: string, python: string, families: string): Promise<number> {
  console.log("| family | arch | px | layers | codes | gradient vs torch float64 | PGD L∞ |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  try {
    const results = await runZoo(`${out}/zoo`, python, families.split(",").filter(Boolean));
    const problems = checkZooResults(results);
    for (const p of problems) console.log(`  FAIL ${p}`);
    return problems.length;
  } catch (e) {
    console.log(`  FAIL zoo: ${(e as Error).message}`);
    return 1;
  }
}

const ALL = ["resnet18", "resnet50", "densenet121", "vgg19", "vit_b_16"];
const TOL = 1e-5;

/** Layers, taps, codes and logits of one torchvision export on every active runtime. */
async function _checkModel(
  out: string,
  name: string,
  active: RuntimeKind[],
  ctx: GpuContext | undefined,
  fail: (msg: string) => void,
): Promise<void> {
  const meta = JSON.parse(await Deno.readTextFile(`${out}/${name}.json`)) as {
    taps: { module: string; kind: string }[];
  };
  const t0 = performance.now();
  const model = await loadModel(`${out}/${name}.onnx`);
  const list = await listLayers(model);
  console.log(
    `${name}: ${list.family}, auto = ${list.auto.map((l) => `${l.label}:${l.tensor}`).join(" ")}`,
  );
  if (list.auto.length !== meta.taps.length) {
    fail(`${name}: ${list.auto.length} automatic layers but torch has ${meta.taps.length}`);
    return;
  }
  const x = await readNpy(`${out}/${name}_input.npy`);
  const logitsRef = await readNpy(`${out}/${name}_logits.npy`);
  const prepared = prepareModel(model, {
    taps: list.auto.map((l) => ({
      tensor: l.tensor,
      token0: l.token0,
      channelsLast: l.channelsLast,
    })),
  });
  for (const kind of active) {
    const rt = await createRuntime(kind, prepared.bytes, { ctx });
    try {
      const r = await rt.run(x.data as Float32Array, x.shape);
      const el = relErr(r.logits, logitsRef.data as Float32Array);
      if (!(el <= TOL)) fail(`${name}/${kind}: logits relative error ${el.toExponential(2)}`);
      const errs: string[] = [];
      for (let i = 0; i < prepared.taps.length; i++) {
        const hook = await readNpy(`${out}/${name}_tap${i}.npy`);
        const codesRef = await readNpy(`${out}/${name}_tap${i}_codes.npy`);
        const tap = r.taps[prepared.taps[i].output];
        const label = `${list.auto[i].label}=${meta.taps[i].module}`;
        if (tap.dims.join() !== hook.shape.join()) {
          fail(`${name}/${kind}: ${label} shape ${tap.dims} but torch ${hook.shape}`);
          return;
        }
        let data = tap.data;
        let codes: Float32Array;
        if (tap.gpuBuffer) {
          codes = await reduceFeatureMapsGpu(ctx!, tap.gpuBuffer, tap.dims);
          data = new Float32Array(
            await ctx!.read(tap.gpuBuffer, tap.dims.reduce((a, b) => a * b, 4)),
          );
        } else codes = reduceFeatureMapsCpu(data!, tap.dims);
        const et = relErr(data!, hook.data as Float32Array);
        const { err: ec, skipped } = codesErr(
          codes,
          codesRef.data as Float64Array,
          hook.data as Float32Array,
          data!,
          tap.dims,
        );
        errs.push(
          `${label} ${et.toExponential(1)}/${ec.toExponential(1)}` +
            (skipped ? ` (${skipped} ill-conditioned com)` : ""),
        );
        if (!(et <= TOL)) fail(`${name}/${kind}: ${label} tap relative error ${et}`);
        if (!(ec <= TOL)) fail(`${name}/${kind}: ${label} codes relative error ${ec}`);
      }
      r.dispose();
      console.log(`  ${kind}: logits ${el.toExponential(1)}; tap/codes ${errs.join(", ")}`);
    } finally {
      await rt.dispose();
    }
  }
  console.log(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      models: { type: "string", default: ALL.join(",") },
      runtimes: { type: "string", default: "node,wasm,webgpu" },
      out: { type: "string", default: ".cache/conformance" },
      python: { type: "string", default: Deno.env.get("SOMSCOPE_PYTHON") ?? "/usr/bin/python3" },
      fresh: { type: "boolean", default: false },
      "no-grad": { type: "boolean", default: false },
      "no-zoo": { type: "boolean", default: false },
      "zoo-only": { type: "boolean", default: false },
      families: { type: "string", default: ZOO_FAMILIES.join(",") },
    },
  });
  const models = values["zoo-only"] ? [] : values.models!.split(",").filter(Boolean);
  const out = values.out!;
  await Deno.mkdir(out, { recursive: true });

  const missing: string[] = [];
  for (const m of models) {
    if (values.fresh || !(await exists(`${out}/${m}.json`))) missing.push(m);
  }
  if (missing.length) {
    console.log(`exporting ${missing.join(", ")} with ${values.python} (torch) into ${out} …`);
    const p = await new Deno.Command(values.python!, {
      args: [
        "tools/conformance/export_torchvision.py",
        "--out",
        out,
        "--models",
        missing.join(","),
      ],
      stdout: "inherit",
      stderr: "inherit",
    }).output().catch((e) => {
      console.error(`conformance: cannot run ${values.python}: ${e.message}`);
      return null;
    });
    if (!p || !p.success) {
      console.error(
        "conformance: the torch export failed; it needs python3 with torch, torchvision and onnx " +
          "(Debian: apt-get install python3-torch python3-torchvision python3-onnx)",
      );
      return 1;
    }
  }

  // WebGPU only on a real adapter: on llvmpipe these models take minutes per image.
  let ctx: GpuContext | undefined;
  const runtimes = values.runtimes!.split(",").filter(Boolean) as RuntimeKind[];
  if (runtimes.includes("webgpu")) {
    try {
      ctx = await GpuContext.create({ requireHardware: true });
    } catch (e) {
      console.log(`webgpu: skipped (${(e as Error).message})`);
    }
  }
  const active = runtimes.filter((r) => r !== "webgpu" || ctx);
  let failures = 0;
  const fail = (msg: string) => {
    failures++;
    console.log(`  FAIL ${msg}`);
  };
  for (const name of models) await _checkModel(out, name, active, ctx, fail);
  ctx?.dispose();
  // Input gradients (issue 4): the derived gradient graph against torch autograd, ≤ 1e-4.
  if (!values["no-grad"]) {
    const archs = models.filter((m) => GRADIENT_CONFORMANCE_ARCHS.includes(m));
    try {
      const g = await runGradientConformance({ archs, out: `${out}/grad`, python: values.python });
      for (const r of g) {
        if (!r.pass) fail(`${r.model}: input_grad relative error ${r.relError.toExponential(2)}`);
      }
    } catch (e) {
      fail(`gradient conformance: ${(e as Error).message}`);
    }
  }
  if (!values["no-zoo"]) failures += await _zoo(out, values.python!, values.families!);
  console.log(failures ? `conformance: ${failures} failure(s)` : "conformance: all checks passed");
  return failures ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
