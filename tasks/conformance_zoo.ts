/**
 * The model zoo check of `deno task conformance` (issue 12 §3): one architecture per torchvision
 * classification family, exported at random weights and low resolution by
 * `tools/conformance/zoo.py`, checked for
 *
 * - layers: the automatic layers are as many as the torch modules the zoo lists (4 stages for
 *   CNNs, one per block for ViT), each tap equal to that module's forward-hook output, in depth
 *   order, within max(1e-5, 3 × torch float32's own error against its float64 forward);
 * - codes: the vector codes of each tap against the float64 codes of the hook output (the same
 *   bound, centre of mass bounded as in `codesErr`); logits likewise;
 * - gradients: the derived input gradient against torch's float64 gradient on images where
 *   torch's float32 gradient is well conditioned, within max(1e-4, 3 × torch float32's own
 *   error) on every image;
 * - attack: PGD (2 images, 5 steps, ε = 4/255) completes with every L∞ within ε.
 *
 * Results go to `OUT/summary.json` and a table on stdout (the README's zoo table).
 *
 * @module
 */

import { loadModel } from "../lib/model/load.ts";
import { listLayers } from "../lib/model/layers.ts";
import { prepareModel } from "../lib/model/surgery.ts";
import { createRuntime } from "../lib/model/runtime.ts";
import { readNpy } from "../lib/npy.ts";
import { reduceFeatureMapsCpu } from "../lib/codes/feature_map_reduce.ts";
import { deriveGradientGraph } from "../lib/grad/derive.ts";
import { openGraphSession } from "../lib/model/ort.ts";
import { writeJsonAtomic } from "../lib/fs_atomic.ts";
import { codesErr, relErr } from "./conformance_util.ts";
import { exists } from "../lib/fs_atomic.ts";
import { runAttack } from "../lib/attack/attack.ts";
import { Rng } from "../lib/rng.ts";

/** The zoo's families, in the order of `tools/conformance/zoo.py`. */
export const ZOO_FAMILIES: readonly string[] = [
  "alexnet",
  "convnext",
  "densenet",
  "efficientnet",
  "efficientnet_v2",
  "googlenet",
  "inception_v3",
  "maxvit",
  "mnasnet",
  "mobilenet_v2",
  "mobilenet_v3",
  "regnet",
  "resnet",
  "resnext",
  "shufflenet_v2",
  "squeezenet",
  "swin",
  "vgg",
  "vit",
  "wide_resnet",
];

const TOL = 1e-5;

/** One family's results. */
export interface ZooResult {
  /** Family. */
  family: string;
  /** torchvision constructor. */
  arch: string;
  /** Input size. */
  size: number;
  /** Input size of the gradient check. */
  gradSize: number;
  /** Layers: found / expected, worst tap error, or the reason they failed. */
  layers: { ok: boolean; found: number; expected: number; tapErr: number; note?: string };
  /** Codes: worst codes error and logits error. */
  codes: { ok: boolean; err: number; logitsErr: number };
  /** Gradient: per image, ours vs float64 and torch float32 vs float64. */
  grad: { ok: boolean; ours: number[]; torch32: number[]; note?: string };
  /** A short PGD attack (2 images, 5 steps): completes, L∞ within ε, finite images. */
  attack: { ok: boolean; linf: number; eps: number; note?: string };
  /** Seconds for the TypeScript side. */
  seconds: number;
}

interface _Meta {
  arch: string;
  size: number;
  grad_size: number;
  taps: { module: string; kind: string }[];
  tap_rel_f32_f64?: number[];
  codes_rel_f32_f64?: number[];
  logits_rel_f32_f64?: number;
  grad: { kept_rel_f32_f64: number[] };
}

async function _layersAndCodes(dir: string, family: string, meta: _Meta) {
  const model = await loadModel(`${dir}/${family}.onnx`);
  const list = await listLayers(model);
  const x = await readNpy(`${dir}/${family}_input.npy`);
  const logitsRef = (await readNpy(`${dir}/${family}_logits.npy`)).data as Float32Array;
  const expected = meta.taps.length;
  const layers = {
    ok: list.auto.length === expected,
    found: list.auto.length,
    expected,
    tapErr: 0,
  };
  const codes = { ok: true, err: 0, logitsErr: 0 };
  // Allowed: max(1e-5, 3 × torch float32's own error against its float64 forward), per tap.
  const tol = (rel: number[] | undefined, i: number) => Math.max(TOL, 3 * (rel?.[i] ?? 0));
  let tapOk = true, codesOk = true;
  const n = Math.min(list.auto.length, expected);
  const prepared = prepareModel(model, {
    taps: list.auto.slice(0, n).map((l) => ({
      tensor: l.tensor,
      token0: l.token0,
      channelsLast: l.channelsLast,
    })),
  });
  const rt = await createRuntime("node", prepared.bytes, { threads: 2 });
  try {
    const r = await rt.run(x.data as Float32Array, x.shape);
    codes.logitsErr = relErr(r.logits, logitsRef);
    for (let i = 0; i < n; i++) {
      const hook = await readNpy(`${dir}/${family}_tap${i}.npy`);
      const ref = (await readNpy(`${dir}/${family}_tap${i}_codes.npy`)).data as Float64Array;
      const tap = r.taps[prepared.taps[i].output];
      if (tap.dims.join() !== hook.shape.join()) {
        layers.tapErr = Infinity;
        continue;
      }
      const et = relErr(tap.data!, hook.data as Float32Array);
      layers.tapErr = Math.max(layers.tapErr, et);
      tapOk &&= et <= tol(meta.tap_rel_f32_f64, i);
      const c = reduceFeatureMapsCpu(tap.data!, tap.dims);
      const e = codesErr(c, ref, hook.data as Float32Array, tap.data!, tap.dims).err;
      codes.err = Math.max(codes.err, e);
      // Codes inherit their tap's error (max, mean and std are 1-Lipschitz in it).
      codesOk &&= e <= Math.max(tol(meta.codes_rel_f32_f64, i), tol(meta.tap_rel_f32_f64, i));
    }
    r.dispose();
  } finally {
    await rt.dispose();
  }
  layers.ok &&= Number.isFinite(layers.tapErr) && tapOk;
  codes.ok = layers.ok && codesOk &&
    codes.logitsErr <= Math.max(TOL, 3 * (meta.logits_rel_f32_f64 ?? 0));
  return { layers, codes };
}

async function _gradient(dir: string, family: string, meta: _Meta): Promise<ZooResult["grad"]> {
  const torch32 = meta.grad.kept_rel_f32_f64;
  if (!torch32.length) {
    return { ok: false, ours: [], torch32, note: "no well-conditioned image found" };
  }
  const x = await readNpy(`${dir}/${family}_grad_input.npy`);
  const y = await readNpy(`${dir}/${family}_grad_labels.npy`);
  const g64 = (await readNpy(`${dir}/${family}_grad_g64.npy`)).data as Float64Array;
  const file = (meta.grad_size ?? meta.size) !== meta.size
    ? `${family}_grad.onnx`
    : `${family}.onnx`;
  const bytes = deriveGradientGraph((await loadModel(`${dir}/${file}`)).bytes, {
    batch: x.shape[0],
    name: family,
  });
  // "basic": onnxruntime's layout fusions re-round convolutions (the check is about the derived
  // graph's arithmetic, as in checkGradientConformance).
  const s = await openGraphSession(bytes, { optimization: "basic", threads: 2 });
  let g: Float32Array;
  try {
    g = (await s.run({
      input: { data: x.data as Float32Array, dims: x.shape },
      labels: {
        data: BigInt64Array.from(Array.from(y.data as ArrayLike<number | bigint>, BigInt)),
        dims: y.shape,
      },
    }, ["input_grad"])).input_grad;
  } finally {
    await s.release();
  }
  const e = g.length / x.shape[0];
  const ours = torch32.map((_, i) =>
    relErr(g.subarray(i * e, (i + 1) * e), g64.subarray(i * e, (i + 1) * e))
  );
  return { ok: ours.every((v, i) => v <= Math.max(1e-4, 3 * torch32[i])), ours, torch32 };
}

/** PGD on two seeded random images: it must finish with every L∞ ≤ ε (float32 rounding aside). */
async function _attack(dir: string, family: string, meta: _Meta): Promise<ZooResult["attack"]> {
  const eps = 4 / 255, e = 3 * meta.size * meta.size;
  const rng = new Rng(5).stream("zoo-attack");
  const x = Float32Array.from({ length: 2 * e }, () => rng.float());
  const data = {
    size: 2,
    channels: 3,
    height: meta.size,
    width: meta.size,
    labels: [1, 7],
    load: (ids: number[]) =>
      Promise.resolve(Float32Array.from(ids.flatMap((i) => [...x.subarray(i * e, (i + 1) * e)]))),
  };
  const model = (await loadModel(`${dir}/${family}.onnx`)).bytes;
  const r = await runAttack(model, data, {
    n: 2,
    steps: 5,
    batch: 2,
    eps,
    threads: 2,
    name: family,
  });
  const linf = r.summary.norms.adversarial.linf.max;
  const finite = r.adversarial.every((v) => Number.isFinite(v));
  // float32: x0 ± ε rounds to within an ulp of 1 (1.2e-7).
  return { ok: finite && linf <= eps + 1e-6 && linf > 0, linf, eps };
}

/**
 * Exports the zoo where `OUT/FAMILY.json` is missing and checks every family.
 *
 * @param out Folder of the exports.
 * @param python The Python with torch and torchvision.
 * @param families Families to check (default all).
 * @returns One result per family (also written to `OUT/summary.json`).
 * @throws {Error} If the export script fails.
 */
export async function runZoo(
  out: string,
  python: string,
  families: readonly string[] = ZOO_FAMILIES,
): Promise<ZooResult[]> {
  const missing = [];
  for (const f of families) if (!(await exists(`${out}/${f}.json`))) missing.push(f);
  if (missing.length) {
    console.log(`zoo: exporting ${missing.join(", ")} with ${python} into ${out} …`);
    const p = await new Deno.Command(python, {
      args: ["tools/conformance/zoo.py", "--out", out, "--families", missing.join(",")],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!p.success) throw new Error("Cannot build the model zoo: tools/conformance/zoo.py failed");
  }
  const results: ZooResult[] = [];
  for (const family of families) {
    const t0 = performance.now();
    const meta = JSON.parse(await Deno.readTextFile(`${out}/${family}.json`)) as _Meta;
    const lc = await _layersAndCodes(out, family, meta).catch((e) => ({
      layers: { ok: false, found: 0, expected: meta.taps.length, tapErr: NaN, note: String(e) },
      codes: { ok: false, err: NaN, logitsErr: NaN },
    }));
    const grad = await _gradient(out, family, meta).catch((e) => ({
      ok: false,
      ours: [],
      torch32: meta.grad.kept_rel_f32_f64,
      note: (e as Error).message,
    }));
    const attack = await _attack(out, family, meta).catch((e) => ({
      ok: false,
      linf: NaN,
      eps: 4 / 255,
      note: (e as Error).message,
    }));
    const r = {
      family,
      arch: meta.arch,
      size: meta.size,
      gradSize: meta.grad_size ?? meta.size,
      ...lc,
      grad,
      attack,
      seconds: (performance.now() - t0) / 1000,
    };
    results.push(r);
    console.log(_row(r));
  }
  await writeJsonAtomic(`${out}/summary.json`, results);
  return results;
}

/**
 * Checks that are known not to pass yet, as `family/check`. Each must still fail (a fixed one
 * fails the run until its line is removed); nothing may be added without saying why here.
 */
export const ZOO_KNOWN_GAPS: readonly string[] = [];

/**
 * The problems of a zoo run: every failed check outside {@linkcode ZOO_KNOWN_GAPS}, and every
 * known gap that now passes.
 *
 * @param results The zoo's results.
 * @returns One line per problem (empty when the zoo passes).
 */
export function checkZooResults(results: ZooResult[]): string[] {
  const problems: string[] = [];
  for (const r of results) {
    for (const k of ["layers", "codes", "grad", "attack"] as const) {
      const gap = ZOO_KNOWN_GAPS.includes(`${r.family}/${k}`);
      if (!r[k].ok && !gap) problems.push(`zoo ${r.family}: ${k} check failed`);
      if (r[k].ok && gap) {
        problems.push(`zoo ${r.family}: ${k} passes; remove it from ZOO_KNOWN_GAPS`);
      }
    }
  }
  return problems;
}

function _row(r: ZooResult): string {
  const mark = (ok: boolean) => (ok ? "✓" : "✗");
  const e = (v: number) => (Number.isFinite(v) ? v.toExponential(1) : String(v));
  const px = r.gradSize === r.size ? `${r.size}` : `${r.size} (∂: ${r.gradSize})`;
  return `| ${r.family} | ${r.arch} | ${px} | ${mark(r.layers.ok)} ${r.layers.found}/` +
    `${r.layers.expected} (tap ${e(r.layers.tapErr)}) | ${mark(r.codes.ok)} ${e(r.codes.err)} | ` +
    `${mark(r.grad.ok)} ${r.grad.ours.map(e).join(", ")} (torch f32 ` +
    `${r.grad.torch32.map(e).join(", ")})${r.grad.note ? ` ${r.grad.note}` : ""}` +
    `${r.layers.note ? ` ${r.layers.note}` : ""} | ${mark(r.attack.ok)} ${e(r.attack.linf)}` +
    `${r.attack.note ? ` ${r.attack.note}` : ""} |`;
}
