/**
 * The SOM's fast CPU backend: QuickSOM's mini-batch update and top-k BMU search expressed as
 * ONNX graphs and run by onnxruntime-node, whose MLAS SGEMM runs at native speed. It is the
 * backend `auto` picks on a software WebGPU adapter (llvmpipe), where WGSL reaches only a few
 * GFLOP/s.
 *
 * A `trainEpoch` call runs its batches as `Scan`s (one onnxruntime call per up to 512
 * batches, plus one for a short last batch), so the per-call overhead is not paid per batch;
 * each scan step handles 8 batches with one pass over the weights for their distances and one
 * for their updates (see `_cpu_graphs.ts`). Semantics are `shared/SOM.md`'s exactly; see
 * {@linkcode SomBackend}. Float32 arithmetic with a different summation order than the
 * reference: weights agree with the float64 reference to about 1e-6.
 *
 * @module
 */

import type { EpochArgs, EpochResult, SomBackend, SomGeometry, TopK } from "./backend.ts";
import { epochGraph, topkGraph } from "./_cpu_graphs.ts";
import { gridD2Table } from "../geometry/torus.ts";
import { unitRows } from "../geometry/cosine.ts";
import { checkThreads, createSession, loadOrt, type Ort, type OrtSession } from "../model/ort.ts";

/** Options of {@linkcode cpuBackend}. */
export interface CpuBackendOptions {
  /** onnxruntime intra-op threads (default: `navigator.hardwareConcurrency`). */
  threads?: number;
  /**
   * Let idle onnxruntime worker threads spin-wait for work (default `false`). Faster on an
   * otherwise idle machine; much slower when other processes compete for the cores.
   */
  spin?: boolean;
}

/** Rows per top-k chunk are chosen so that a chunk's `rows×K` distance tile stays this small. */
const TOPK_TILE = 1 << 19;
/**
 * Batches per onnxruntime call. Each call recomputes the unit norms exactly (the graph tracks
 * them in closed form between batches); over 2,000 batches the tracked squared norms drifted by
 * 3e-6 relative (BMUs and weights still bit-identical to exact norms on 20,000 rows), so calls
 * are capped to keep the drift near float32 rounding. The exact recomputation is one float64
 * pass over the weights in TypeScript per call.
 */
const MAX_RUN = 512;
/**
 * Batches per `Scan` step in the scaled form: they share one pass over the weights for their
 * distances and one for their updates. Measured (one thread, CPU time, 20×20): 8 beats 1 by
 * 1.3× at d = 512, 1.4× at 2048 and 2.4× at 8192, and 4 or 16 by less than the noise.
 */
const UNROLL = 8;

/**
 * Creates the fast CPU backend (onnxruntime-node). Sessions are built lazily and cached per
 * grid shape and code dimension; call `dispose()` to release them.
 *
 * @param options Thread count and spinning.
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
  const threads = checkThreads("create CPU backend", options.threads);
  return loadOrt("node").then((ort) => new CpuBackend(ort, threads, options.spin ?? false));
}

class CpuBackend implements SomBackend {
  readonly name = "cpu" as const;
  #threads: number;
  #spin: boolean;
  #sessions = new Map<string, Promise<OrtSession>>();
  #ort: Ort;

  constructor(ort: Ort, threads: number, spin: boolean) {
    this.#ort = ort;
    this.#threads = threads;
    this.#spin = spin;
  }

  #session(key: string, build: () => Uint8Array): Promise<OrtSession> {
    let s = this.#sessions.get(key);
    if (!s) {
      // Spinning workers win on an idle machine and lose badly on a shared one (measured:
      // 2.5× slower with 2 threads under load), so they are opt-in.
      s = createSession(build(), {
        threads: this.#threads,
        spinning: this.#spin,
        what: "the SOM's CPU graphs",
      }).then((o) => o.session);
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
    // Exact squared unit norms for the first run; a non-finite one names the bad unit.
    let nsq0 = squaredNorms(weights, dim);
    for (let k = 0; k < K; k++) {
      if (!Number.isFinite(nsq0[k])) {
        checkFinite("train SOM", "weights", "unit", weights, dim);
        throw new RangeError(
          `Cannot train SOM: weights unit ${k} has a squared norm of ${nsq0[k]} but expected a ` +
            "finite float64",
        );
      }
    }

    const { m, n, periodic } = geometry;
    const d2 = () => gridD2Table(m, n, periodic);
    // The scaled form needs g = 1 − (α/b)·ΣH > 0; it holds for α < 1, with room to spare here.
    const scaled = args.alpha0 < 0.5;
    const session = (b: number, U: number) =>
      this.#session(
        `epoch:${m}x${n}:${periodic}:${dim}:${b}:${scaled}:${U}`,
        () => epochGraph(K, dim, b, d2(), { scaled, unroll: U }),
      );
    const dataT = new this.#ort.Tensor("float32", data, [N, dim]);
    const nFull = Math.floor(L / B);
    // Runs of full batches, then the short last batch with its own b (in α/b and the loss
    // mean). A run ends after MAX_RUN batches or, in the scaled form, once the weight scale
    // a = Πg could have shrunk below e^-30 (g ≥ 1 − α per batch), so that V = W/a stays
    // within 1e13·|W| and V·Xᵀ far from float32 overflow for any sane code scale.
    const runs: { first: number; count: number; b: number; U: number }[] = [];
    const U = scaled ? UNROLL : 1;
    for (let first = 0, t = args.step; first < nFull;) {
      let count = 0, budget = 0;
      while (first + count < nFull && count < MAX_RUN) {
        const cost = -Math.log1p(-args.alpha0 * Math.exp(-5 * t / args.totalSteps));
        if (scaled && count > 0 && budget + cost > 30) break;
        budget += cost;
        t += B;
        count++;
      }
      // Groups of U batches per scan step, the leftovers one per step.
      const grouped = count - count % U;
      if (grouped > 0) runs.push({ first, count: grouped, b: B, U });
      if (count > grouped) {
        runs.push({ first: first + grouped, count: count - grouped, b: B, U: 1 });
      }
      first += count;
    }
    if (L > nFull * B) runs.push({ first: nFull, count: 1, b: L - nFull * B, U: 1 });
    let W = weights;
    let step = args.step;
    for (const run of runs) {
      const { count, b } = run;
      const negInv = new Float32Array(count), c = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        const f = Math.exp(-5 * step / args.totalSteps);
        const sigma = args.sigma0 * f;
        negInv[i] = -1 / (2 * sigma * sigma + 1e-5);
        c[i] = args.alpha0 * f / b;
        step += B;
      }
      const rows = order.subarray(run.first * B, run.first * B + count * b);
      const S = count / run.U, ub = run.U * b;
      const out = await (await session(b, run.U)).run({
        W0: new this.#ort.Tensor("float32", W, [K, dim]),
        nsq0: new this.#ort.Tensor("float64", nsq0, [1, K]),
        data: dataT,
        idx: new this.#ort.Tensor("int32", rows, [S, ub]),
        negInv: new this.#ort.Tensor("float32", negInv, [S, run.U]),
        c: new this.#ort.Tensor("float32", c, [S, run.U]),
      });
      const dmin = out.dmin.data as Float32Array;
      for (let i = 0; i < count; i++) {
        let sum = 0;
        for (let r = i * b; r < (i + 1) * b; r++) {
          // A NaN or infinity in a row makes BMU distances in its batch NaN: name the row.
          if (Number.isNaN(dmin[r])) {
            checkFinite("train SOM", "data", "row", data, dim, rows.subarray(i * b, (i + 1) * b));
            throw new RangeError(
              `Cannot train SOM: batch ${run.first + i} gave a NaN distance from finite rows; ` +
                "expected values small enough for float32 norms",
            );
          }
          sum += dmin[r];
        }
        losses[run.first + i] = sum / b;
      }
      if (bmus) {
        const bm = out.bmu.data as BigInt64Array;
        for (let i = 0; i < bm.length; i++) bmus[run.first * B + i] = Number(bm[i]);
      }
      W = out.W.data as Float32Array;
      if (run !== runs[runs.length - 1]) nsq0 = squaredNorms(W, dim);
      args.onProgress?.(run.first + count, nb);
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
    const wn = unitRows(weights, K, dim);
    const wT = new this.#ort.Tensor("float32", wn, [K, dim]);
    const R = Math.max(1, Math.min(N, Math.floor(TOPK_TILE / K)));
    for (let r0 = 0; r0 < N; r0 += R) {
      const r = Math.min(R, N - r0);
      const out = await session.run({
        X: new this.#ort.Tensor("float32", data.subarray(r0 * dim, (r0 + r) * dim), [r, dim]),
        Wn: wT,
      });
      const dist = out.dist.data as Float32Array, idx = out.index.data as BigInt64Array;
      for (let row = 0; row < r; row++) {
        const o = row * k, g = (r0 + row) * k;
        for (let i = 0; i < k; i++) {
          if (Number.isNaN(dist[o + i])) {
            checkFinite("query SOM", "data", "row", data, dim, Int32Array.of(r0 + row));
          }
          // Distances ascend as x·ŵ descends, but two different x·ŵ can round to the same
          // distance: keep such ties in index order (insertion sort; k ≤ 16).
          let j = i;
          const dv = dist[o + i], iv = Number(idx[o + i]);
          while (j > 0 && distance[g + j - 1] === dv && index[g + j - 1] > iv) {
            distance[g + j] = distance[g + j - 1];
            index[g + j] = index[g + j - 1];
            j--;
          }
          distance[g + j] = dv;
          index[g + j] = iv;
        }
      }
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

/** `‖w‖²` of every row, in float64. */
function squaredNorms(w: Float32Array, dim: number): Float64Array {
  const out = new Float64Array(w.length / dim);
  for (let k = 0; k < out.length; k++) {
    let s = 0;
    for (let j = k * dim, e = j + dim; j < e; j++) s += w[j] * w[j];
    out[k] = s;
  }
  return out;
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
