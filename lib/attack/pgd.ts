/**
 * L∞ projected gradient descent, exactly as SPEC §5 / advertorch's `LinfPGDAttack`
 * (`rand_init=True`, summed cross-entropy, untargeted, clip to [0,1]): start from
 * `clip(x0 + U[−ε, ε])`, then `x ← clip_[0,1](clip_[x0−ε, x0+ε](x + α·sign(∇ₓ Σ CE)))`, each
 * iteration one `run()` of the fused step graph from {@linkcode derivePgdStepGraph}.
 *
 * @module
 */

import { deriveForwardGraph, derivePgdStepGraph } from "../grad/derive.ts";
import type { Normalize } from "../model/surgery.ts";
import type { Rng } from "../rng.ts";
import { decodeModel } from "../onnx/proto.ts";
import { type GraphRuntime, type GraphSession, openGraphSession } from "../model/ort.ts";

/**
 * The default PGD step size: ε·2/100 (the paper's `eps_iter`).
 *
 * @param eps The L∞ budget.
 * @returns `eps * 2 / 100`.
 * @example
 * ```ts
 * import { defaultStepSize } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(defaultStepSize(4 / 255), (4 / 255) * 2 / 100);
 * ```
 */
export function defaultStepSize(eps: number): number {
  return (eps * 2) / 100;
}

/** Options for {@linkcode PgdAttack.create}. */
export interface PgdAttackOptions {
  /** Images per run (the graphs are specialised to it; default 8). */
  batch?: number;
  /** Normalisation folded into the graph (default `"none"`). */
  normalize?: Normalize;
  /** `node` (default) or `wasm`. */
  runtime?: GraphRuntime;
  /** Intra-op threads (default: all cores). */
  threads?: number;
  /** Model name for messages. */
  name?: string;
}

/** Options for one attack. */
export interface PgdRunOptions {
  /** L∞ budget (default 4/255). */
  eps?: number;
  /** Iterations (default 50). */
  steps?: number;
  /** Step size, or `"auto"` for ε·2/100 (default). */
  stepSize?: number | "auto";
  /** Random start in [−ε, ε] (default true, as advertorch's `rand_init`). */
  randInit?: boolean;
  /** Source of the random start (use the `"attack-start"` stream). Required with randInit. */
  rng?: Rng;
  /** Called after each batch-iteration with (iterations done, total). */
  onIteration?: (done: number, total: number) => void;
}

/**
 * Validates PGD settings and resolves their defaults (ε 4/255, 50 steps, step ε·2/100).
 *
 * @param options The settings.
 * @returns ε, steps and the step size.
 * @throws {RangeError} If ε < 0, steps < 1 or the step size is not a number ≥ 0.
 * @example
 * ```ts
 * import { resolvePgdSettings } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(resolvePgdSettings({ eps: 0.5 }), { eps: 0.5, steps: 50, stepSize: 0.01 });
 * ```
 */
export function resolvePgdSettings(
  options: PgdRunOptions,
): { eps: number; steps: number; stepSize: number } {
  const eps = options.eps ?? 4 / 255;
  const steps = options.steps ?? 50;
  if (!Number.isFinite(eps) || eps < 0) {
    throw new RangeError(`Cannot run PGD: eps is ${eps} but must be a finite number ≥ 0`);
  }
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`Cannot run PGD: steps is ${steps} but must be an integer ≥ 1`);
  }
  const s = options.stepSize ?? "auto";
  const stepSize = s === "auto" ? defaultStepSize(eps) : s;
  if (!Number.isFinite(stepSize) || stepSize < 0) {
    throw new RangeError(`Cannot run PGD: step size is ${s} but must be "auto" or a number ≥ 0`);
  }
  return { eps, steps, stepSize };
}

/**
 * A PGD attack bound to one model: the fused step graph and the forward graph, both specialised to
 * one batch size and loaded on one runtime.
 *
 * @example
 * ```ts
 * import { PgdAttack, Rng } from "../../mod.ts";
 * import { ok } from "node:assert";
 * const model = await Deno.readFile("tests/data/models/toy_cnn.onnx");
 * const pgd = await PgdAttack.create(model, { batch: 2 });
 * const x0 = new Float32Array(2 * 28 * 28).fill(0.5), eps = 8 / 255;
 * const rng = new Rng(0).stream("attack-start");
 * const xAdv = await pgd.attack(x0, [0, 1], { eps, steps: 2, rng });
 * await pgd.dispose();
 * ok(xAdv.every((v, i) => Math.abs(v - x0[i]) <= eps + 1e-6)); // stays in the ε-ball
 * ```
 */
export class PgdAttack {
  #step: GraphSession;
  #fwd: GraphSession;
  /** Batch size of the graphs. */
  readonly batch: number;
  /** Input shape of one example `[C, H, W]`. */
  readonly shape: number[];

  private constructor(step: GraphSession, fwd: GraphSession, batch: number, shape: number[]) {
    this.#step = step;
    this.#fwd = fwd;
    this.batch = batch;
    this.shape = shape;
  }

  /**
   * Derives and loads the step and forward graphs.
   *
   * @param model ONNX model bytes.
   * @param options Batch, normalisation, runtime.
   * @returns The attack.
   * @throws {ModelFormatError} If the model cannot be differentiated.
   */
  static async create(model: Uint8Array, options: PgdAttackOptions = {}): Promise<PgdAttack> {
    const batch = options.batch ?? 8;
    const opts = { batch, normalize: options.normalize, name: options.name };
    const stepBytes = derivePgdStepGraph(model, opts);
    const fwdBytes = deriveForwardGraph(model, opts);
    const session = { runtime: options.runtime, threads: options.threads };
    const step = await openGraphSession(stepBytes, session);
    const fwd = await openGraphSession(fwdBytes, session);
    // The derived graph records the specialised input shape.
    const dims = decodeModel(fwdBytes).graph!.input![0].type!.tensorType!.shape!.dim!.map((d) =>
      Number(d.dimValue)
    );
    return new PgdAttack(step, fwd, batch, dims.slice(1));
  }

  /** Elements of one example. */
  get exampleSize(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  #pad(x: Float32Array, n: number): Float32Array {
    if (n === this.batch) return x;
    const e = this.exampleSize, out = new Float32Array(this.batch * e);
    out.set(x);
    for (let i = n; i < this.batch; i++) out.set(x.subarray((n - 1) * e, n * e), i * e);
    return out;
  }

  #padLabels(labels: ArrayLike<number>, n: number): BigInt64Array {
    const out = new BigInt64Array(this.batch);
    for (let i = 0; i < this.batch; i++) out[i] = BigInt(labels[Math.min(i, n - 1)]);
    return out;
  }

  /**
   * Attacks `n` examples (any n; processed in batches).
   *
   * @param x0 Clean images in [0,1], `n × C × H × W` flattened.
   * @param labels True labels (n).
   * @param options ε, steps, step size, random start.
   * @returns The adversarial images (same layout).
   * @throws {RangeError} For bad settings or sizes.
   */
  async attack(
    x0: Float32Array,
    labels: ArrayLike<number>,
    options: PgdRunOptions = {},
  ): Promise<Float32Array> {
    const { eps, steps, stepSize } = resolvePgdSettings(options);
    const e = this.exampleSize, n = labels.length;
    if (x0.length !== n * e) {
      throw new RangeError(
        `Cannot run PGD: images have ${x0.length} values but ${n} labels × [${this.shape}] need ${
          n * e
        }`,
      );
    }
    const randInit = options.randInit ?? true;
    if (randInit && !options.rng) throw new RangeError("Cannot run PGD: randInit needs an rng");
    const out = new Float32Array(x0.length);
    const batches = Math.ceil(n / this.batch);
    let done = 0;
    for (let b = 0; b < batches; b++) {
      const lo = b * this.batch, m = Math.min(this.batch, n - lo);
      const xb0 = x0.subarray(lo * e, (lo + m) * e);
      const x = new Float32Array(xb0);
      if (randInit) {
        for (let i = 0; i < x.length; i++) {
          const d = Math.fround((options.rng!.float() * 2 - 1) * eps);
          x[i] = Math.min(Math.max(Math.fround(xb0[i] + d), 0), 1);
        }
      }
      const dims = [this.batch, ...this.shape];
      const feeds = {
        x0: { data: this.#pad(xb0, m), dims },
        labels: {
          data: this.#padLabels(Array.from(labels).slice(lo, lo + m), m),
          dims: [this.batch],
        },
        eps: { data: Float32Array.of(eps), dims: [] },
        step: { data: Float32Array.of(stepSize), dims: [] },
      };
      let xp = this.#pad(x, m);
      for (let it = 0; it < steps; it++) {
        const r = await this.#step.run({ ...feeds, x_adv: { data: xp, dims } }, ["x_next"]);
        xp = r.x_next;
        options.onIteration?.(++done, batches * steps);
      }
      out.set(xp.subarray(0, m * e), lo * e);
    }
    return out;
  }

  /**
   * Logits for `n` examples (batched, padded).
   *
   * @param x Images, `n × C × H × W` flattened.
   * @returns Logits `n × K` flattened and K.
   */
  async logits(x: Float32Array): Promise<{ logits: Float32Array; classes: number }> {
    const e = this.exampleSize, n = x.length / e;
    const parts: Float32Array[] = [];
    let k = 0;
    for (let lo = 0; lo < n; lo += this.batch) {
      const m = Math.min(this.batch, n - lo);
      const r = await this.#fwd.run({
        input: {
          data: this.#pad(x.subarray(lo * e, (lo + m) * e), m),
          dims: [this.batch, ...this.shape],
        },
      }, ["logits"]);
      k = r.logits.length / this.batch;
      parts.push(r.logits.slice(0, m * k));
    }
    const out = new Float32Array(n * k);
    parts.reduce((off, p) => (out.set(p, off), off + p.length), 0);
    return { logits: out, classes: k };
  }

  /** Releases both sessions. */
  async dispose(): Promise<void> {
    await this.#step.release();
    await this.#fwd.release();
  }
}

/**
 * Top-1 predictions from flattened logits.
 *
 * @param logits `n × k` row-major.
 * @param k Classes.
 * @returns Arg-max per row (first maximum on ties).
 * @example
 * ```ts
 * import { argmaxRows } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(Array.from(argmaxRows(Float32Array.of(0, 2, 1, 5, 5, 0), 3)), [1, 0]);
 * ```
 */
export function argmaxRows(logits: Float32Array, k: number): Int32Array {
  const n = logits.length / k, out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[i * k + j] > logits[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}
