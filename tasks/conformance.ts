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

const ALL = ["resnet18", "resnet50", "densenet121", "vgg19", "vit_b_16"];
const TOL = 1e-5;

/** Relative error: max |a − b| / max |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? d : d / m;
}

/**
 * Compares codes with torch's: max, mean and std relative to the largest magnitude of their
 * block (≤ 1e-5 passes); the centre of mass (in (0,1)) against the error the tap difference can
 * cause. For a channel with positive mass `S = Σ max(a_i, 0)`, changing the activations by
 * `Δa` moves the centre of mass by at most `Σ|Δa_i| / S` (ReLU is 1-Lipschitz and positions lie
 * in (0,1)), so a channel whose mass is tiny — a dead ReLU channel with two values of 1e-4 where
 * others reach 10 — can legitimately move far more than 1e-5 while the taps agree to 1e-6. Each
 * centre of mass is therefore scaled by `1e-5 / (1e-5 + 2·Σ|Δa_i| / S)`, so that ≤ 1e-5 passes
 * exactly when `|Δcom| ≤ 1e-5 + 2·Σ|Δa_i| / S`. The number of channels where the propagated
 * bound exceeds 1e-5 is reported as ill-conditioned.
 */
function codesErr(
  ours: Float32Array,
  ref: Float64Array,
  hook: ArrayLike<number>,
  tap: ArrayLike<number>,
  dims: number[],
): { err: number; skipped: number } {
  if (dims.length === 2) return { err: relErr(ours, ref), skipped: 0 };
  const [N, C, H, W] = dims, hw = H * W, dim = 4 * C;
  let err = 0, skipped = 0;
  for (let b = 0; b < 3; b++) {
    let d = 0, m = 0;
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const k = n * dim + b * C + c;
        d = Math.max(d, Math.abs(ours[k] - ref[k]));
        m = Math.max(m, Math.abs(ref[k]));
      }
    }
    err = Math.max(err, m === 0 ? d : d / m);
  }
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      let s = 0, s2 = 0, da = 0;
      for (let i = (n * C + c) * hw, e = i + hw; i < e; i++) {
        if (hook[i] > 0) s += hook[i];
        if (tap[i] > 0) s2 += tap[i];
        da += Math.abs(tap[i] - hook[i]);
      }
      const mass = Math.max(s, s2);
      const bound = mass > 0 ? 2 * da / mass : 0;
      if (bound > 1e-5) skipped++;
      const k = n * dim + 3 * C + c;
      err = Math.max(err, Math.abs(ours[k] - ref[k]) * 1e-5 / (1e-5 + bound));
    }
  }
  return { err, skipped };
}

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
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
    },
  });
  const models = values.models!.split(",").filter(Boolean);
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
  for (const name of models) {
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
      continue;
    }
    const x = await readNpy(`${out}/${name}_input.npy`);
    const logitsRef = await readNpy(`${out}/${name}_logits.npy`);
    const prepared = prepareModel(model, {
      taps: list.auto.map((l) => ({ tensor: l.tensor, token0: l.token0 })),
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
            continue;
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
  console.log(failures ? `conformance: ${failures} failure(s)` : "conformance: all checks passed");
  return failures ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
