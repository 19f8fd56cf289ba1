/**
 * Small-graph builder and finite-difference checker for the gradient tests.
 *
 * Finite differences run the derived graph's own forward part (its `loss` output) on
 * onnxruntime-node in float32, with central differences of step h. Tolerance, justified: the
 * summed loss is O(5) so one float32 evaluation carries a rounding error of about
 * 5·2⁻²³·(a few ops) ≈ 2e-6; divided by 2h = 0.04 that is ≈ 5e-5, and the truncation error
 * h²/6·f‴ is ≈ 1e-4 for our O(1) third derivatives. We accept |g − fd| ≤ 1e-3 + 1e-2·|g|max; a
 * wrong rule (missing term, wrong axis, unreduced broadcast) is off by O(|g|).
 * Coordinates whose ±h interval crosses a kink (Relu, MaxPool, Clip) are detected by comparing
 * the one-sided differences and skipped; tied maxima are tested against exact expectations.
 */

import * as ort from "npm:onnxruntime-node@1.30.0";
import { DT, encodeModel, model, node, tensor, valueInfo } from "../lib/onnx/proto.ts";
import type { AttrValue, NodeLike, TensorLike } from "../lib/onnx/proto.ts";
import { deriveGradientGraph } from "../lib/grad/derive.ts";
import { Rng } from "../lib/rng.ts";

/** Builds a small classifier graph. */
export class GraphBuilder {
  nodes: NodeLike[] = [];
  inits: TensorLike[] = [];
  #k = 0;
  rng: Rng;
  constructor(seed = 1) {
    this.rng = new Rng(seed);
  }
  /** A random float constant in [-s, s]. */
  w(dims: number[], s = 0.5): string {
    const name = `w${this.#k++}`;
    const n = dims.reduce((a, b) => a * b, 1);
    this.inits.push(
      tensor(name, dims, Float32Array.from({ length: n }, () => (this.rng.float() * 2 - 1) * s)),
    );
    return name;
  }
  /** A constant with given values. */
  c(dims: number[], values: number[] | Float32Array, int = false): string {
    const name = `c${this.#k++}`;
    this.inits.push(
      int ? tensor(name, dims, values as number[]) : tensor(name, dims, Float32Array.from(values)),
    );
    return name;
  }
  /** Adds a node; returns its outputs. */
  n(op: string, ins: string[], attrs: Record<string, AttrValue> = {}, nout = 1): string[] {
    const outs = Array.from({ length: nout }, () => `t${this.#k++}`);
    this.nodes.push(node(op, ins, outs, attrs));
    return outs;
  }
  /** One output. */
  o(op: string, ins: string[], attrs: Record<string, AttrValue> = {}): string {
    return this.n(op, ins, attrs)[0];
  }
  /** Flatten + Gemm to K logits from a tensor of `features` elements per example. */
  head(t: string, features: number, k = 3): string {
    const f = this.o("Flatten", [t]);
    return this.o("Gemm", [f, this.w([k, features], 0.8), this.w([k], 0.1)], { transB: 1 });
  }
  /** The model bytes, input `x` [N, ...shape]. */
  build(logits: string, shape: number[], k = 3, opset = 17): Uint8Array {
    const out = logits === "logits" ? logits : "logits";
    if (logits !== out) this.nodes.push(node("Identity", [logits], [out]));
    const m = model({
      node: this.nodes,
      initializer: this.inits,
      input: [valueInfo("x", DT.FLOAT, ["N", ...shape])],
      output: [valueInfo(out, DT.FLOAT, ["N", k])],
    }, { opset });
    return encodeModel(m);
  }
}

/** Runs a gradient graph once. */
export async function runGrad(
  session: ort.InferenceSession,
  x: Float32Array,
  shape: number[],
  labels: number[],
): Promise<{ loss: Float32Array; grad: Float32Array; logits: Float32Array }> {
  const out = await session.run({
    input: new ort.Tensor("float32", x, shape),
    labels: new ort.Tensor("int64", BigInt64Array.from(labels.map(BigInt)), [labels.length]),
  });
  return {
    loss: out.loss.data as Float32Array,
    grad: out.input_grad.data as Float32Array,
    logits: out.logits.data as Float32Array,
  };
}

/** Result of a finite-difference check. */
export interface FdResult {
  maxErr: number;
  gMax: number;
  checked: number;
  skipped: number;
  worst: number;
}

/**
 * Compares the derived input gradient against central differences, coordinate by coordinate.
 */
export async function fdCheck(
  bytes: Uint8Array,
  shape: number[],
  options: { seed?: number; h?: number; target?: "cpu" | "webgpu"; x?: Float32Array; k?: number } =
    {},
): Promise<FdResult> {
  const rng = new Rng(options.seed ?? 3);
  const n = shape.reduce((a, b) => a * b, 1);
  const x = options.x ?? Float32Array.from({ length: n }, () => rng.float() * 2 - 1);
  const labels = Array.from({ length: shape[0] }, () => rng.int(options.k ?? 3));
  const g = deriveGradientGraph(bytes, { batch: shape[0], target: options.target ?? "cpu" });
  const s = await ort.InferenceSession.create(g, { intraOpNumThreads: 1 });
  try {
    const base = await runGrad(s, x, shape, labels);
    const sum = (a: Float32Array) => a.reduce((p, q) => p + q, 0);
    const h = options.h ?? 2e-2;
    const f0 = sum(base.loss);
    let gMax = 0;
    for (const v of base.grad) gMax = Math.max(gMax, Math.abs(v));
    const tol = 1e-3 + 1e-2 * gMax;
    let maxErr = 0, checked = 0, skipped = 0, worst = -1;
    const xp = x.slice();
    for (let i = 0; i < n; i++) {
      xp[i] = x[i] + h;
      const fp = sum((await runGrad(s, xp, shape, labels)).loss);
      xp[i] = x[i] - h;
      const fm = sum((await runGrad(s, xp, shape, labels)).loss);
      xp[i] = x[i];
      const fwd = (fp - f0) / h, bwd = (f0 - fm) / h;
      if (Math.abs(fwd - bwd) > 4 * tol + 0.05 * Math.abs(fwd + bwd)) {
        skipped++; // a kink inside [x − h, x + h]
        continue;
      }
      const fd = (fp - fm) / (2 * h);
      const e = Math.abs(fd - base.grad[i]);
      if (e > maxErr) {
        maxErr = e;
        worst = i;
      }
      checked++;
    }
    return { maxErr, gMax, checked, skipped, worst };
  } finally {
    await s.release();
  }
}

/** The tolerance used by {@linkcode fdCheck}'s callers. */
export function fdTolerance(r: FdResult): number {
  return 1e-3 + 1e-2 * r.gMax;
}
