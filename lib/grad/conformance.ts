/**
 * Gradient conformance against torch autograd: derive the gradient graph of an exported model,
 * run it on the inputs dumped by `tools/grad/torch_grads.py`, and compare `input_grad` with
 * torch's `∂ Σ CE / ∂ input` (SPEC §5; the models issue's conformance task, tolerance 1e-4).
 *
 * @module
 */

import { readNpy } from "../npy.ts";
import { deriveGradientGraph } from "./derive.ts";
import type { Normalize } from "../model/surgery.ts";
import { type GraphRuntime, openGraphSession } from "../model/ort.ts";

/** Result of {@linkcode checkGradientConformance}. */
export interface GradientConformance {
  /** Model checked. */
  model: string;
  /** `max|g − g_torch| / max|g_torch|`. */
  relError: number;
  /** The same against torch's float64 gradient (`input_grad64.npy`), when the folder has it. */
  relError64?: number;
  /** The same for the logits. */
  logitsRelError: number;
  /** `max|g_torch|` (guards against a vacuous all-zero reference). */
  refMax: number;
  /** Whether `relError ≤ tolerance` and the reference is not all zero. */
  pass: boolean;
  /** Tolerance used. */
  tolerance: number;
  /** Seconds to derive the graph. */
  deriveSeconds: number;
  /** Seconds for one run (batch of the reference). */
  runSeconds: number;
}

function _rel(a: Float32Array, b: Float32Array): { rel: number; max: number } {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return { rel: m > 0 ? d / m : d, max: m };
}

/**
 * Checks a model's derived input gradients against a torch reference folder (`input.npy`,
 * `labels.npy`, `logits.npy`, `input_grad.npy` as written by `tools/grad/torch_grads.py`).
 *
 * @param modelPath The ONNX model (the one the script exported, `REFDIR/model.onnx`).
 * @param refDir The reference folder.
 * @param options Tolerance (default 1e-4), normalisation the reference used (default none),
 *   runtime (default node), onnxruntime optimisation level (default basic).
 * @returns Errors and the verdict.
 * @throws {ModelFormatError} If the model cannot be differentiated.
 * @throws {DataFormatError} If a reference file is missing or malformed.
 * @example Needs references written by torch (not run by the doc tests)
 * ```ts ignore
 * import { checkGradientConformance } from "../../mod.ts";
 * import { ok } from "node:assert";
 * const dir = ".cache/grad/resnet18";
 * const r = await checkGradientConformance(`${dir}/model.onnx`, dir);
 * ok(r.pass, `resnet18: relative error ${r.relError}`);
 * ```
 */
export async function checkGradientConformance(
  modelPath: string,
  refDir: string,
  options: {
    tolerance?: number;
    normalize?: Normalize;
    runtime?: GraphRuntime;
    optimization?: "basic" | "extended" | "all";
  } = {},
): Promise<GradientConformance> {
  const tolerance = options.tolerance ?? 1e-4;
  const x = await readNpy(`${refDir}/input.npy`), y = await readNpy(`${refDir}/labels.npy`);
  const gRef = await readNpy(`${refDir}/input_grad.npy`),
    lRef = await readNpy(`${refDir}/logits.npy`);
  const t0 = performance.now();
  const bytes = deriveGradientGraph(await Deno.readFile(modelPath), {
    batch: x.shape[0],
    normalize: options.normalize,
    name: modelPath,
  });
  const t1 = performance.now();
  // "basic": onnxruntime's layout fusions ("all") re-round convolutions enough to flip a ReLU that
  // sits ~1e-6 from zero (one ResNet50 image: 1.2e-4 instead of 1.8e-6); the check is about the
  // derived graph's arithmetic.
  const s = await openGraphSession(bytes, {
    runtime: options.runtime,
    optimization: options.optimization ?? "basic",
  });
  try {
    const t2 = performance.now();
    const out = await s.run({
      input: { data: x.data as Float32Array, dims: x.shape },
      labels: {
        data: BigInt64Array.from(Array.from(y.data as ArrayLike<number | bigint>, BigInt)),
        dims: y.shape,
      },
    });
    const t3 = performance.now();
    const g = _rel(out.input_grad, gRef.data as Float32Array);
    const l = _rel(out.logits, lRef.data as Float32Array);
    const g64 = await readNpy(`${refDir}/input_grad64.npy`).catch(() => undefined);
    return {
      ...(g64 ? { relError64: _rel(out.input_grad, g64.data as Float32Array).rel } : {}),
      model: modelPath,
      relError: g.rel,
      logitsRelError: l.rel,
      refMax: g.max,
      pass: g.max > 0 && g.rel <= tolerance,
      tolerance,
      deriveSeconds: (t1 - t0) / 1000,
      runSeconds: (t3 - t2) / 1000,
    };
  } finally {
    await s.release();
  }
}

/**
 * The torchvision architectures the gradient conformance covers (issue 4 §4).
 *
 * @example
 * ```ts
 * import { GRADIENT_CONFORMANCE_ARCHS } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(GRADIENT_CONFORMANCE_ARCHS, ["resnet18", "resnet50", "densenet121", "vit_b_16"]);
 * ```
 */
export const GRADIENT_CONFORMANCE_ARCHS: readonly string[] = Object.freeze([
  "resnet18",
  "resnet50",
  "densenet121",
  "vit_b_16",
]);

/**
 * Exports each architecture with torch (random weights) and dumps references with
 * `tools/grad/torch_grads.py` where `OUT/ARCH/refs.json` is missing, then runs
 * {@linkcode checkGradientConformance} on each. Needs Python with torch and torchvision.
 *
 * @param options Architectures (default {@linkcode GRADIENT_CONFORMANCE_ARCHS}), output folder
 *   (default `.cache/grad`), Python (default `/usr/bin/python3`), a log function.
 * @returns One result per architecture.
 * @throws {Error} If the Python script fails.
 * @example Needs Python with torch and torchvision (not run by the doc tests)
 * ```ts ignore
 * import { runGradientConformance } from "../../mod.ts";
 * import { ok } from "node:assert";
 * const results = await runGradientConformance({ archs: ["resnet18"] });
 * ok(results.every((r) => r.pass));
 * ```
 */
export async function runGradientConformance(options: {
  archs?: readonly string[];
  out?: string;
  python?: string;
  log?: (line: string) => void;
} = {}): Promise<GradientConformance[]> {
  const out = options.out ?? ".cache/grad";
  const log = options.log ?? ((s: string) => console.log(s));
  const results: GradientConformance[] = [];
  for (const arch of options.archs ?? GRADIENT_CONFORMANCE_ARCHS) {
    const dir = `${out}/${arch}`;
    const have = await Deno.stat(`${dir}/refs.json`).then(() => true, () => false);
    if (!have) {
      log(`grad conformance: exporting ${arch} and dumping torch gradients into ${dir} …`);
      const p = await new Deno.Command(options.python ?? "/usr/bin/python3", {
        args: ["tools/grad/torch_grads.py", "--arch", arch, "--out", dir],
        stdout: "inherit",
        stderr: "inherit",
      }).output();
      if (!p.success) {
        throw new Error(
          `Cannot dump torch gradients for ${arch}: tools/grad/torch_grads.py failed`,
        );
      }
    }
    const r = await checkGradientConformance(`${dir}/model.onnx`, dir);
    log(
      `grad conformance ${arch}: relative error ${r.relError.toExponential(2)} (float64 ref ` +
        `${r.relError64?.toExponential(2) ?? "–"}), logits ${
          r.logitsRelError.toExponential(2)
        } → ` +
        (r.pass ? "ok" : `FAIL (> ${r.tolerance})`),
    );
    results.push(r);
  }
  return results;
}
