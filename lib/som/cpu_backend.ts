/**
 * The SOM's fast CPU backend: QuickSOM's mini-batch update and top-k BMU search expressed as
 * ONNX graphs and run by onnxruntime-node, whose MLAS SGEMM runs at native speed. It is the
 * backend `auto` picks on a software WebGPU adapter (llvmpipe), where WGSL reaches only a few
 * GFLOP/s.
 *
 * One `trainEpoch` call is one `Scan` over its full batches (plus one more call for a short
 * last batch), so onnxruntime's per-call overhead is paid per epoch, not per batch. Semantics
 * are `shared/SOM.md`'s exactly; see {@linkcode SomBackend}.
 *
 * @module
 */

import * as ort from "npm:onnxruntime-node@1.30.0";
import type { EpochArgs, EpochResult, SomBackend, SomGeometry, TopK } from "./backend.ts";
import { epochGraph, gridD2, topkGraph } from "./_cpu_graphs.ts";

/** Options of {@linkcode cpuBackend}. */
export interface CpuBackendOptions {
  /** onnxruntime intra-op threads (default: `navigator.hardwareConcurrency`). */
  threads?: number;
}

/** Rows per top-k chunk are chosen so that a chunk's `rows×K` distance tile stays this small. */
const TOPK_TILE = 1 << 19;

/**
 * Creates the fast CPU backend (onnxruntime-node). Sessions are built lazily and cached per
 * grid shape and code dimension; call `dispose()` to release them.
 *
 * @param options Thread count.
 * @returns The backend, named `"cpu"`.
 * @throws {RangeError} If `threads` is not a positive integer.
 * @example Top-2 BMUs of two rows against a 1×3 map
 * ```ts
 * import { cpuBackend } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const cpu = await cpuBackend({ threads: 1 });
 * const weights = new Float32Array([1, 0, 0, 1, -1, 0]); // 3 units, d = 2
 * const { index } = await cpu.topk(weights, 2, new Float32Array([0.9, 0.1, 0, 2]), 2);
 * assertEquals(Array.from(index), [0, 1, 1, 0]);
 * cpu.dispose();
 * ```
 */
export function cpuBackend(options: CpuBackendOptions = {}): Promise<SomBackend> {
  const threads = options.threads ?? Math.max(1, navigator.hardwareConcurrency || 1);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(
      `Cannot create CPU backend: threads is ${threads} but expected a positive integer`,
    );
  }
  return Promise.resolve(new CpuBackend(threads));
}

class CpuBackend implements SomBackend {
  readonly name = "cpu" as const;
  #threads: number;
  #sessions = new Map<string, Promise<ort.InferenceSession>>();

  constructor(threads: number) {
    this.#threads = threads;
  }

  #session(key: string, build: () => Uint8Array): Promise<ort.InferenceSession> {
    let s = this.#sessions.get(key);
    if (!s) {
      s = ort.InferenceSession.create(build(), {
        intraOpNumThreads: this.#threads,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
      });
      this.#sessions.set(key, s);
    }
    return s;
  }

  async trainEpoch(geometry: SomGeometry, args: EpochArgs): Promise<EpochResult> {
    const { K, N } = checkTrain(geometry, args);
    const { weights, dim, data, order, batchSize: B } = args;
    const L = order.length;
    const nb = Math.ceil(L / B);
    const losses = new Float32Array(nb);
    const bmus = args.returnBmus ? new Int32Array(L) : undefined;
    if (nb === 0) return { losses, step: args.step, ...(bmus ? { bmus } : {}) };
    checkFinite("train SOM", "weights", "unit", weights, dim);

    const { m, n, periodic } = geometry;
    const session = await this.#session(
      `epoch:${m}x${n}:${periodic}:${dim}`,
      () => epochGraph(K, dim, gridD2(m, n, periodic)),
    );
    const dataT = new ort.Tensor("float32", data, [N, dim]);
    let W = weights;
    let step = args.step;
    const nFull = Math.floor(L / B);
    // A full run of batches, then the short last one (its own b in α/b and the loss mean).
    const runs: [first: number, count: number, b: number][] = [];
    if (nFull > 0) runs.push([0, nFull, B]);
    if (L > nFull * B) runs.push([nFull, 1, L - nFull * B]);
    for (const [first, count, b] of runs) {
      const negInv = new Float32Array(count), c = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        const f = Math.exp(-5 * step / args.totalSteps);
        const sigma = args.sigma0 * f;
        negInv[i] = -1 / (2 * sigma * sigma + 1e-5);
        c[i] = args.alpha0 * f / b;
        step += B;
      }
      const idx = order.subarray(first * B, first * B + count * b);
      const out = await session.run({
        W0: new ort.Tensor("float32", W, [K, dim]),
        data: dataT,
        idx: new ort.Tensor("int32", idx, [count, b]),
        negInv: new ort.Tensor("float32", negInv, [count]),
        c: new ort.Tensor("float32", c, [count]),
      });
      const lossOut = out.loss.data as Float32Array;
      losses.set(lossOut, first);
      if (bmus) {
        const bm = out.bmu.data as BigInt64Array;
        for (let i = 0; i < bm.length; i++) bmus[first * B + i] = Number(bm[i]);
      }
      W = out.W.data as Float32Array;
      for (let i = 0; i < count; i++) {
        // A NaN or infinity anywhere in a batch makes its loss NaN; find the row to name it.
        if (Number.isNaN(lossOut[i])) {
          checkFinite(
            "train SOM",
            "data",
            "row",
            data,
            dim,
            order.subarray(
              (first + i) * B,
              (first + i) * B + b,
            ),
          );
          throw new RangeError(
            `Cannot train SOM: batch ${first + i} produced a NaN loss from finite inputs; ` +
              "expected finite values (are the codes too large for float32?)",
          );
        }
      }
    }
    weights.set(W);
    return { losses, step, ...(bmus ? { bmus } : {}) };
  }

  async topk(weights: Float32Array, dim: number, data: Float32Array, k: number): Promise<TopK> {
    if (!Number.isInteger(dim) || dim < 1) {
      throw new RangeError(`Cannot query SOM: dim is ${dim} but expected a positive integer`);
    }
    if (weights.length === 0 || weights.length % dim !== 0) {
      throw new RangeError(
        `Cannot query SOM: weights have ${weights.length} values but expected a positive ` +
          `multiple of dim ${dim}`,
      );
    }
    const K = weights.length / dim;
    if (data.length % dim !== 0) {
      throw new RangeError(
        `Cannot query SOM: data has ${data.length} values but expected a multiple of dim ${dim}`,
      );
    }
    if (!Number.isInteger(k) || k < 1 || k > 16 || k > K) {
      throw new RangeError(
        `Cannot query SOM: k is ${k} but expected an integer in 1..${Math.min(16, K)}`,
      );
    }
    checkFinite("query SOM", "weights", "unit", weights, dim);
    const N = data.length / dim;
    const index = new Int32Array(N * k), distance = new Float32Array(N * k);
    if (N === 0) return { index, distance };
    const session = await this.#session(`topk:${K}:${dim}:${k}`, () => topkGraph(K, dim, k));
    const wT = new ort.Tensor("float32", weights, [K, dim]);
    const R = Math.max(1, Math.min(N, Math.floor(TOPK_TILE / K)));
    for (let r0 = 0; r0 < N; r0 += R) {
      const r = Math.min(R, N - r0);
      const out = await session.run({
        X: new ort.Tensor("float32", data.subarray(r0 * dim, (r0 + r) * dim), [r, dim]),
        W: wT,
      });
      const dist = out.dist.data as Float32Array, idx = out.index.data as BigInt64Array;
      for (let i = 0; i < r * k; i++) {
        if (Number.isNaN(dist[i])) {
          const row = r0 + Math.floor(i / k);
          checkFinite("query SOM", "data", "row", data, dim, Int32Array.of(row));
        }
        index[r0 * k + i] = Number(idx[i]);
      }
      distance.set(dist, r0 * k);
    }
    return { index, distance };
  }

  dispose(): void {
    for (const s of this.#sessions.values()) s.then((x) => x.release()).catch(() => {});
    this.#sessions.clear();
  }
}

function checkTrain(g: SomGeometry, a: EpochArgs): { K: number; N: number } {
  const what = "Cannot train SOM";
  if (!Number.isInteger(g.m) || !Number.isInteger(g.n) || g.m < 1 || g.n < 1) {
    throw new RangeError(`${what}: grid is ${g.m}x${g.n} but expected positive integers`);
  }
  const K = g.m * g.n;
  if (!Number.isInteger(a.dim) || a.dim < 1) {
    throw new RangeError(`${what}: dim is ${a.dim} but expected a positive integer`);
  }
  if (a.weights.length !== K * a.dim) {
    throw new RangeError(
      `${what}: weights have ${a.weights.length} values but expected ${K}×${a.dim} = ${K * a.dim}`,
    );
  }
  if (a.data.length % a.dim !== 0) {
    throw new RangeError(
      `${what}: data has ${a.data.length} values but expected a multiple of dim ${a.dim}`,
    );
  }
  if (!Number.isInteger(a.batchSize) || a.batchSize < 1) {
    throw new RangeError(`${what}: batch size is ${a.batchSize} but expected a positive integer`);
  }
  if (!(a.totalSteps > 0)) {
    throw new RangeError(`${what}: totalSteps is ${a.totalSteps} but expected a positive number`);
  }
  if (!Number.isFinite(a.alpha0) || !Number.isFinite(a.sigma0) || a.sigma0 < 0) {
    throw new RangeError(
      `${what}: alpha0 ${a.alpha0}, sigma0 ${a.sigma0} but expected finite numbers, sigma0 ≥ 0`,
    );
  }
  if (!Number.isFinite(a.step) || a.step < 0) {
    throw new RangeError(`${what}: step is ${a.step} but expected a finite number ≥ 0`);
  }
  const N = a.data.length / a.dim;
  for (let i = 0; i < a.order.length; i++) {
    const r = a.order[i];
    if (r < 0 || r >= N) {
      throw new RangeError(`${what}: order[${i}] is ${r} but expected a row index in 0..${N - 1}`);
    }
  }
  return { K, N };
}

/** Throws naming the first row (of `rows`, or of all rows) that holds a NaN or infinity. */
function checkFinite(
  what: string,
  name: string,
  rowWord: string,
  a: Float32Array,
  dim: number,
  rows?: Int32Array,
): void {
  const n = rows ? rows.length : a.length / dim;
  for (let i = 0; i < n; i++) {
    const r = rows ? rows[i] : i;
    for (let j = r * dim; j < (r + 1) * dim; j++) {
      if (!Number.isFinite(a[j])) {
        throw new RangeError(
          `Cannot ${what}: ${name} ${rowWord} ${r} has ${a[j]} in column ${
            j - r * dim
          } but expected finite values`,
        );
      }
    }
  }
}
