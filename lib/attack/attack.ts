/**
 * The paper's perturbation experiment (SPEC §5, Table 2): PGD on n seeded validation images,
 * the random-noise control (uniform [0, ε] per pixel, the paper's), and a norm-matched control
 * (random ±L∞ sign noise with each adversarial example's own L∞ norm); accuracy, success and
 * norms, and the files that record them.
 *
 * @module
 */

import * as aq from "npm:arquero@8.0.3";
import sharp from "npm:sharp@0.35.5";
import { Rng } from "../rng.ts";
import { encodeNpy } from "../npy.ts";
import { writeFileAtomic, writeJsonAtomic } from "../fs_atomic.ts";
import type { Normalize } from "../model/surgery.ts";
import { argmaxRows, PgdAttack, resolvePgdSettings } from "./pgd.ts";
import type { GraphRuntime } from "../model/ort.ts";

/** The part of a dataset the attack needs (lib/data's `Dataset` satisfies it). */
export interface AttackDataset {
  /** Number of examples. */
  size: number;
  /** Channels per image. */
  channels: number;
  /** Image height. */
  height: number;
  /** Image width. */
  width: number;
  /** Label per example. */
  labels: ArrayLike<number>;
  /** Loads images (pixels in [0,1], `k × C × H × W`). */
  load(indices: number[]): Promise<Float32Array>;
}

/** Options for {@linkcode runAttack}. */
export interface AttackOptions {
  /** Images to attack, drawn with the `"attack-sample"` stream (default 500, at most the data size). */
  n?: number;
  /** Root seed (default 0); streams `"attack-sample"`, `"attack-start"`, `"noise"`. */
  seed?: number;
  /** L∞ budget (default 4/255). */
  eps?: number;
  /** PGD iterations (default 50). */
  steps?: number;
  /** Step size or `"auto"` = ε·2/100 (default). */
  stepSize?: number | "auto";
  /** Batch size of the graphs (default 16). */
  batch?: number;
  /** Normalisation folded into the graphs (default `"none"`). */
  normalize?: Normalize;
  /** `node` (default) or `wasm`. */
  runtime?: GraphRuntime;
  /** Intra-op threads (default: all cores). */
  threads?: number;
  /** Progress callback over PGD batch-iterations. */
  onProgress?: (done: number, total: number) => void;
  /** Model name for messages. */
  name?: string;
}

/** L∞ and L2 norm statistics. */
export interface NormStats {
  /** Mean over examples. */
  mean: number;
  /** Maximum over examples. */
  max: number;
}

/** One attacked example. */
export interface AttackExample {
  /** Index in the dataset. */
  id: number;
  /** True label. */
  label: number;
  /** Prediction on the clean image. */
  clean: number;
  /** Prediction on the adversarial image. */
  adversarial: number;
  /** Prediction on the uniform-noise image. */
  noise: number;
  /** Prediction on the norm-matched sign-noise image. */
  matched: number;
  /** Prediction on the adversarial image quantised to 8 bits. */
  quantized: number;
  /** The adversarial prediction differs from the label. */
  success: boolean;
  /** ‖x_adv − x0‖∞. */
  advLinf: number;
  /** ‖x_adv − x0‖₂. */
  advL2: number;
  /** ‖x_noise − x0‖∞. */
  noiseLinf: number;
  /** ‖x_noise − x0‖₂. */
  noiseL2: number;
  /** ‖x_matched − x0‖∞. */
  matchedLinf: number;
  /** ‖x_matched − x0‖₂. */
  matchedL2: number;
}

/** The summary written to `attack.json`. */
export interface AttackSummary {
  /** Images attacked. */
  n: number;
  /** Settings used. */
  settings: {
    eps: number;
    steps: number;
    stepSize: number;
    seed: number;
    batch: number;
    normalize: unknown;
    runtime: string;
  };
  /** Top-1 accuracy per condition. */
  accuracy: {
    clean: number;
    adversarial: number;
    noise: number;
    matched: number;
    quantized: number;
  };
  /** Fraction of all attacked images misclassified after the attack. */
  successRate: number;
  /** Fraction of the clean-correct images that the attack flips. */
  successRateOnCorrect: number;
  /** Norm statistics per perturbation. */
  norms: Record<"adversarial" | "noise" | "matched", { linf: NormStats; l2: NormStats }>;
  /** After quantising adversarial images to 8 bits (as for PNG): successes that survive. */
  quantized: { stillSucceed: number; of: number; linf: NormStats };
}

/** Everything {@linkcode runAttack} computes. */
export interface AttackResult {
  /** Summary. */
  summary: AttackSummary;
  /** Per-example table rows. */
  examples: AttackExample[];
  /** Shape of the image arrays `[n, C, H, W]`. */
  shape: number[];
  /** Clean images. */
  clean: Float32Array;
  /** Adversarial images. */
  adversarial: Float32Array;
  /** Uniform-noise images. */
  noise: Float32Array;
  /** Norm-matched sign-noise images. */
  matched: Float32Array;
}

function _stats(v: number[]): NormStats {
  return {
    mean: v.reduce((a, b) => a + b, 0) / Math.max(1, v.length),
    max: v.reduce((a, b) => Math.max(a, b), 0),
  };
}

function _norms(x: Float32Array, x0: Float32Array, n: number): { linf: number[]; l2: number[] } {
  const e = x.length / n, linf: number[] = [], l2: number[] = [];
  for (let i = 0; i < n; i++) {
    let mi = 0, s = 0;
    for (let j = i * e; j < (i + 1) * e; j++) {
      const d = Math.abs(x[j] - x0[j]);
      if (d > mi) mi = d;
      s += d * d;
    }
    linf.push(mi);
    l2.push(Math.sqrt(s));
  }
  return { linf, l2 };
}

/**
 * Runs the attack and both controls on `n` seeded images of `data`.
 *
 * @param model ONNX classifier bytes.
 * @param data The (validation) dataset.
 * @param options n, seed, ε, steps, step size, batch, normalisation, runtime.
 * @returns Summary, per-example rows and the image arrays.
 * @throws {RangeError} For bad settings, n larger than the data, labels outside the model's
 *   classes, or images whose shape differs from the model input.
 * @throws {ModelFormatError} If the model cannot be differentiated.
 * @example
 * ```ts
 * import { runAttack } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const model = await Deno.readFile("tests/data/models/toy_cnn.onnx");
 * const pixels = new Float32Array(4 * 28 * 28).fill(0.5);
 * const dataset = {
 *   size: 4,
 *   channels: 1,
 *   height: 28,
 *   width: 28,
 *   labels: [0, 1, 2, 3],
 *   load: (ids: number[]) => Promise.resolve(pixels.slice(0, ids.length * 28 * 28)),
 * };
 * const r = await runAttack(model, dataset, { n: 2, steps: 2, batch: 2 });
 * assertEquals(r.examples.length, 2);
 * assertEquals(r.shape, [2, 1, 28, 28]);
 * ```
 */
export async function runAttack(
  model: Uint8Array,
  data: AttackDataset,
  options: AttackOptions = {},
): Promise<AttackResult> {
  const { eps, steps, stepSize } = resolvePgdSettings(options);
  const seed = options.seed ?? 0;
  const n = options.n ?? Math.min(500, data.size);
  if (!Number.isInteger(n) || n < 1 || n > data.size) {
    throw new RangeError(
      `Cannot attack: n is ${n} but must be an integer in 1..${data.size} (the data size)`,
    );
  }
  const batch = Math.min(options.batch ?? 16, n);
  const pgd = await PgdAttack.create(model, {
    batch,
    normalize: options.normalize,
    runtime: options.runtime,
    threads: options.threads,
    name: options.name,
  });
  try {
    const [C, H, W] = pgd.shape;
    if (C !== data.channels || H !== data.height || W !== data.width) {
      throw new RangeError(
        `Cannot attack: data images are ${data.channels}×${data.height}×${data.width} but the model ` +
          `expects ${C}×${H}×${W}`,
      );
    }
    const rng = new Rng(seed);
    const ids = Array.from(rng.stream("attack-sample").permutation(data.size).subarray(0, n));
    const labels = ids.map((i) => data.labels[i]);
    const x0 = await data.load(ids);
    const { logits: cl, classes: K } = await pgd.logits(x0);
    const bad = labels.findIndex((y) => !Number.isInteger(y) || y < 0 || y >= K);
    if (bad >= 0) {
      throw new RangeError(
        `Cannot attack: label ${labels[bad]} of example ${
          ids[bad]
        } is outside the model's ${K} classes (0..${K - 1})`,
      );
    }
    const xAdv = await pgd.attack(x0, labels, {
      eps,
      steps,
      stepSize,
      rng: rng.stream("attack-start"),
      onIteration: options.onProgress,
    });
    const adv = _norms(xAdv, x0, n);
    const { noise: xNoise, matched: xMatched } = _controls(x0, adv.linf, eps, rng.stream("noise"));
    const xQuant = Float32Array.from(xAdv, (v) => Math.round(v * 255) / 255);
    const pred = async (x: Float32Array) => argmaxRows((await pgd.logits(x)).logits, K);
    const p: _Predictions = {
      clean: argmaxRows(cl, K),
      adversarial: await pred(xAdv),
      noise: await pred(xNoise),
      matched: await pred(xMatched),
      quantized: await pred(xQuant),
    };
    const norms = {
      adversarial: adv,
      noise: _norms(xNoise, x0, n),
      matched: _norms(xMatched, x0, n),
      quantized: _norms(xQuant, x0, n),
    };
    const examples = _examples(ids, labels, p, norms);
    const settings = {
      eps,
      steps,
      stepSize,
      seed,
      batch,
      normalize: options.normalize ?? "none",
      runtime: options.runtime ?? "node",
    };
    return {
      summary: _summary(examples, p, norms, settings),
      examples,
      shape: [n, C, H, W],
      clean: x0,
      adversarial: xAdv,
      noise: xNoise,
      matched: xMatched,
    };
  } finally {
    await pgd.dispose();
  }
}

/** Top-1 predictions per condition. */
type _Predictions = Record<keyof AttackSummary["accuracy"], Int32Array>;

/** Per-example L∞/L2 norms per perturbation. */
type _Norms = Record<
  "adversarial" | "noise" | "matched" | "quantized",
  { linf: number[]; l2: number[] }
>;

/**
 * The two controls, drawn from the `"noise"` stream in this order: uniform [0, ε] per pixel,
 * then random ±L∞ sign noise with each adversarial example's own L∞ norm.
 */
function _controls(
  x0: Float32Array,
  advLinf: number[],
  eps: number,
  nz: Rng,
): { noise: Float32Array; matched: Float32Array } {
  const noise = Float32Array.from(
    x0,
    (v) => Math.min(Math.max(Math.fround(v + Math.fround(nz.float() * eps)), 0), 1),
  );
  const n = advLinf.length, e = x0.length / n;
  const matched = new Float32Array(x0.length);
  for (let i = 0; i < n; i++) {
    const a = advLinf[i];
    for (let j = i * e; j < (i + 1) * e; j++) {
      const d = nz.float() < 0.5 ? -a : a;
      matched[j] = Math.min(Math.max(Math.fround(x0[j] + d), 0), 1);
    }
  }
  return { noise, matched };
}

function _examples(ids: number[], labels: number[], p: _Predictions, nm: _Norms): AttackExample[] {
  return ids.map((id, i) => ({
    id,
    label: labels[i],
    clean: p.clean[i],
    adversarial: p.adversarial[i],
    noise: p.noise[i],
    matched: p.matched[i],
    quantized: p.quantized[i],
    success: p.adversarial[i] !== labels[i],
    advLinf: nm.adversarial.linf[i],
    advL2: nm.adversarial.l2[i],
    noiseLinf: nm.noise.linf[i],
    noiseL2: nm.noise.l2[i],
    matchedLinf: nm.matched.linf[i],
    matchedL2: nm.matched.l2[i],
  }));
}

function _summary(
  examples: AttackExample[],
  p: _Predictions,
  nm: _Norms,
  settings: AttackSummary["settings"],
): AttackSummary {
  const n = examples.length;
  const acc = (q: Int32Array) =>
    q.reduce((s, v, i) => s + (v === examples[i].label ? 1 : 0), 0) / n;
  const correct = examples.filter((r) => r.clean === r.label);
  const succ = examples.filter((r) => r.success);
  const both = (k: "adversarial" | "noise" | "matched") => ({
    linf: _stats(nm[k].linf),
    l2: _stats(nm[k].l2),
  });
  return {
    n,
    settings,
    accuracy: {
      clean: acc(p.clean),
      adversarial: acc(p.adversarial),
      noise: acc(p.noise),
      matched: acc(p.matched),
      quantized: acc(p.quantized),
    },
    successRate: succ.length / n,
    successRateOnCorrect: correct.length
      ? correct.filter((r) => r.success).length / correct.length
      : 0,
    norms: { adversarial: both("adversarial"), noise: both("noise"), matched: both("matched") },
    quantized: {
      stillSucceed: succ.filter((r) => r.quantized !== r.label).length,
      of: succ.length,
      linf: _stats(nm.quantized.linf),
    },
  };
}

/**
 * The per-example table as an Arquero table (columns as in {@linkcode AttackExample}).
 *
 * @param examples Rows.
 * @returns The table.
 */
export function attackTable(examples: AttackExample[]): ReturnType<typeof aq.table> {
  const column = ([, k, kind]: (typeof _COLUMNS)[number]) => {
    const v = examples.map((r) => r[k]);
    return kind === "int"
      ? Int32Array.from(v as number[])
      : kind === "float"
      ? Float64Array.from(v as number[])
      : v;
  };
  return aq.table(Object.fromEntries(_COLUMNS.map((c) => [c[0], column(c)])));
}

/** `examples.csv` columns: name, field of {@linkcode AttackExample}, storage. */
const _COLUMNS: readonly [string, keyof AttackExample, "int" | "float" | "bool"][] = [
  ["id", "id", "int"],
  ["label", "label", "int"],
  ["clean", "clean", "int"],
  ["adversarial", "adversarial", "int"],
  ["noise", "noise", "int"],
  ["matched", "matched", "int"],
  ["quantized", "quantized", "int"],
  ["success", "success", "bool"],
  ["adv_linf", "advLinf", "float"],
  ["adv_l2", "advL2", "float"],
  ["noise_linf", "noiseLinf", "float"],
  ["noise_l2", "noiseL2", "float"],
  ["matched_linf", "matchedLinf", "float"],
  ["matched_l2", "matchedL2", "float"],
];

/**
 * Renders a contact sheet: one row per example, columns clean | adversarial | amplified
 * difference (`0.5 + (x_adv − x0)·0.5/ε`), each image scaled up by an integer factor.
 *
 * @param r The attack result.
 * @param count Examples to show (default 8).
 * @returns PNG bytes.
 * @example
 * ```ts
 * import { contactSheet, runAttack } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const model = await Deno.readFile("tests/data/models/toy_cnn.onnx");
 * const pixels = new Float32Array(4 * 28 * 28).fill(0.5);
 * const dataset = {
 *   size: 4,
 *   channels: 1,
 *   height: 28,
 *   width: 28,
 *   labels: [0, 1, 2, 3],
 *   load: (ids: number[]) => Promise.resolve(pixels.slice(0, ids.length * 28 * 28)),
 * };
 * const r = await runAttack(model, dataset, { n: 2, steps: 1, batch: 2 });
 * const png = await contactSheet(r, 2);
 * assertEquals(Array.from(png.subarray(1, 4)), [80, 78, 71]); // "PNG"
 * ```
 */
export async function contactSheet(r: AttackResult, count = 8): Promise<Uint8Array> {
  const [n, C, H, W] = r.shape;
  const k = Math.min(count, n), s = Math.max(1, Math.ceil(112 / Math.max(H, W))), gap = 4;
  const tw = W * s, th = H * s, width = 3 * tw + 4 * gap, height = k * th + (k + 1) * gap;
  const img = new Uint8Array(width * height * 3).fill(255);
  const eps = r.summary.settings.eps || 1;
  const e = C * H * W;
  const px = (v: number) => Math.max(0, Math.min(255, Math.round(v * 255)));
  for (let i = 0; i < k; i++) {
    for (let col = 0; col < 3; col++) {
      const ox = gap + col * (tw + gap), oy = gap + i * (th + gap);
      for (let y = 0; y < th; y++) {
        for (let x = 0; x < tw; x++) {
          const sy = Math.floor(y / s), sx = Math.floor(x / s);
          for (let ch = 0; ch < 3; ch++) {
            const c = C === 1 ? 0 : ch;
            const j = i * e + c * H * W + sy * W + sx;
            const v = col === 0
              ? r.clean[j]
              : col === 1
              ? r.adversarial[j]
              : 0.5 + ((r.adversarial[j] - r.clean[j]) * 0.5) / eps;
            img[((oy + y) * width + ox + x) * 3 + ch] = px(v);
          }
        }
      }
    }
  }
  const buf = await sharp(img, { raw: { width, height, channels: 3 } }).png().toBuffer();
  return new Uint8Array(buf);
}

/**
 * Writes an attack's files into `dir` (each atomically): `attack.json`, `examples.csv`,
 * `examples.arrow`, `clean.npy`, `adversarial.npy`, `noise.npy`, `matched_noise.npy`,
 * `ids.npy`, `labels.npy` (float32 images `n×C×H×W`, int32 ids/labels) and `contact_sheet.png`.
 *
 * @param dir Output directory (created).
 * @param r The attack result.
 * @param options Examples on the contact sheet (default 8).
 * @returns The written file names.
 * @example
 * ```ts
 * import { runAttack, writeAttackOutputs } from "../../mod.ts";
 * import { ok } from "node:assert";
 * const model = await Deno.readFile("tests/data/models/toy_cnn.onnx");
 * const pixels = new Float32Array(4 * 28 * 28).fill(0.5);
 * const dataset = {
 *   size: 4,
 *   channels: 1,
 *   height: 28,
 *   width: 28,
 *   labels: [0, 1, 2, 3],
 *   load: (ids: number[]) => Promise.resolve(pixels.slice(0, ids.length * 28 * 28)),
 * };
 * const r = await runAttack(model, dataset, { n: 2, steps: 1, batch: 2 });
 * const files = await writeAttackOutputs(await Deno.makeTempDir(), r);
 * ok(files.includes("attack.json") && files.includes("contact_sheet.png"));
 * ```
 */
export async function writeAttackOutputs(
  dir: string,
  r: AttackResult,
  options: { sheet?: number } = {},
): Promise<string[]> {
  // Render everything before the first write, so a failure leaves no partial set of files.
  const table = attackTable(r.examples);
  const files: [string, Uint8Array | string][] = [
    ["examples.csv", table.toCSV()],
    ["examples.arrow", aq.toArrowIPC(table)],
    ["clean.npy", encodeNpy({ data: r.clean, shape: r.shape })],
    ["adversarial.npy", encodeNpy({ data: r.adversarial, shape: r.shape })],
    ["noise.npy", encodeNpy({ data: r.noise, shape: r.shape })],
    ["matched_noise.npy", encodeNpy({ data: r.matched, shape: r.shape })],
    [
      "ids.npy",
      encodeNpy({ data: Int32Array.from(r.examples.map((e) => e.id)), shape: [r.shape[0]] }),
    ],
    [
      "labels.npy",
      encodeNpy({ data: Int32Array.from(r.examples.map((e) => e.label)), shape: [r.shape[0]] }),
    ],
    ["contact_sheet.png", await contactSheet(r, options.sheet ?? 8)],
  ];
  await Deno.mkdir(dir, { recursive: true });
  for (const [f, d] of files) await writeFileAtomic(`${dir}/${f}`, d);
  await writeJsonAtomic(`${dir}/attack.json`, r.summary);
  return ["attack.json", ...files.map(([f]) => f)];
}
