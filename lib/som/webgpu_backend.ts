/**
 * The WebGPU backend of the SOM: the kernels of `shaders/som_bmu.wgsl` (norms, cosine distance
 * tile, top-k selection) and `shaders/som_update.wgsl` (neighbourhood, batch update, loss and
 * batch advance).
 *
 * A whole epoch (or, for data larger than one storage binding, a chunk of it) is recorded into
 * one command buffer: the per-batch α/b and 2σ²+1e-5 sit in a storage table indexed by a
 * counter that the `advance` kernel increments, so the CPU neither waits for nor rewrites
 * anything between batches. The weights stay on the GPU, transposed (`d×K`) so that neighbouring
 * invocations read neighbouring addresses, for the whole epoch.
 *
 * @module
 */

import commonSrc from "../../shaders/som_common.wgsl" with { type: "text" };
import bmuSrc from "../../shaders/som_bmu.wgsl" with { type: "text" };
import updateSrc from "../../shaders/som_update.wgsl" with { type: "text" };
import type { EpochArgs, EpochResult, SomBackend, SomGeometry, TopK } from "./backend.ts";
import type { GpuContext } from "../gpu/context.ts";
import { somSchedule } from "./reference.ts";

const _BMU_WGSL = `${commonSrc}\n${bmuSrc}`;
const _UPDATE_WGSL = `${commonSrc}\n${updateSrc}`;

/** Words per `Batch` entry and per `Dims` uniform (layouts in shaders/som_common.wgsl). */
const _BATCH_WORDS = 4, _DIMS_WORDS = 8;
const _WG = 64, _ROWS = 8, _COLS = 8;
/** Largest x chunk uploaded at once, in bytes (also bounded by the binding limit). */
const _CHUNK_BYTES = 64 << 20;
/** Largest distance tile of a top-k query, in floats. */
const _TILE_FLOATS = 1 << 24;

interface _Dims {
  K: number;
  d: number;
  m: number;
  n: number;
  periodic: boolean;
  k: number;
  nrows: number;
  B: number;
}

function _dims(v: _Dims): Uint32Array {
  const a = new Uint32Array(_DIMS_WORDS);
  a.set([v.K, v.d, v.m, v.n, v.periodic ? 1 : 0, v.k, v.nrows, v.B]);
  return a;
}

/** The batch table: per batch `row0, rows` (u32) and `α/b, 2σ²+1e-5` (f32). */
function _schedule(
  entries: { row0: number; rows: number; scale: number; denom: number }[],
): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(1, entries.length) * _BATCH_WORDS * 4);
  const u = new Uint32Array(buf), f = new Float32Array(buf);
  entries.forEach((e, i) => {
    u[i * 4] = e.row0;
    u[i * 4 + 1] = e.rows;
    f[i * 4 + 2] = e.scale;
    f[i * 4 + 3] = e.denom;
  });
  return buf;
}

/** `K×d` weights → the GPU layout `dp×Kp` (transposed, zero-padded to multiples of 4). */
function _toGpu(w: Float32Array, K: number, d: number): Float32Array {
  const Kp = _pad4(K), out = new Float32Array(_pad4(d) * Kp);
  for (let k = 0; k < K; k++) {
    const o = k * d;
    for (let j = 0; j < d; j++) out[j * Kp + k] = w[o + j];
  }
  return out;
}

/** The GPU layout back into `K×d` weights. */
function _fromGpu(g: Float32Array, K: number, d: number, out: Float32Array): void {
  const Kp = _pad4(K);
  for (let k = 0; k < K; k++) {
    const o = k * d;
    for (let j = 0; j < d; j++) out[o + j] = g[j * Kp + k];
  }
}

function _pad4(v: number): number {
  return Math.ceil(v / 4) * 4;
}

/** Copies rows `order[from..to)` (or rows `from..to` when `order` is null) with row stride `dp`. */
function _rows(
  data: Float32Array,
  d: number,
  dp: number,
  order: ArrayLike<number> | null,
  from: number,
  to: number,
  out: Float32Array,
): Float32Array {
  for (let i = from; i < to; i++) {
    const src = (order ? order[i] : i) * d;
    out.set(data.subarray(src, src + d), (i - from) * dp);
  }
  return out.subarray(0, (to - from) * dp);
}

function _bind(
  ctx: GpuContext,
  label: string,
  pipeline: GPUComputePipeline,
  buffers: Record<number, GPUBuffer>,
): GPUBindGroup {
  return ctx.device.createBindGroup({
    label,
    layout: pipeline.getBindGroupLayout(0),
    entries: Object.entries(buffers).map(([b, buffer]) => ({
      binding: Number(b),
      resource: { buffer },
    })),
  });
}

/** Tuning options of {@linkcode webgpuBackend}. */
export interface WebgpuBackendOptions {
  /**
   * Largest block of training or query rows uploaded at once, in bytes (also bounded by the
   * device's storage binding limit). Default 64 MiB.
   */
  chunkBytes?: number;
  /** Largest distance tile of a top-k query, in floats. Default 2^24. */
  tileFloats?: number;
}

/**
 * The WebGPU SOM backend on a context.
 *
 * @param ctx The GPU context (owned by the caller; `dispose()` releases only this backend's
 * pooled buffers).
 * @param options Chunk sizes (for tests and tuning).
 * @returns A {@linkcode SomBackend} named `"webgpu"`.
 * @example Top-2 BMUs on the GPU (GPU-only)
 * ```ts ignore
 * import { GpuContext, webgpuBackend } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const ctx = await GpuContext.create();
 * const be = webgpuBackend(ctx);
 * const w = new Float32Array([1, 0, 0, 1, -1, 0, 0, -1]); // 4 units, d = 2
 * const r = await be.topk(w, 2, new Float32Array([0.9, 0.1]), 2);
 * assertEquals(Array.from(r.index), [0, 1]);
 * be.dispose();
 * ctx.dispose();
 * ```
 */
export function webgpuBackend(ctx: GpuContext, options: WebgpuBackendOptions = {}): SomBackend {
  const chunkBytes = options.chunkBytes ?? _CHUNK_BYTES;
  const tileFloats = options.tileFloats ?? _TILE_FLOATS;
  const pipes = async () => ({
    norms: await ctx.pipeline("som_bmu", _BMU_WGSL, {}, "norms"),
    dist: await ctx.pipeline("som_bmu", _BMU_WGSL, {}, "dist"),
    topk: await ctx.pipeline("som_bmu", _BMU_WGSL, {}, "topk"),
    neigh: await ctx.pipeline("som_update", _UPDATE_WGSL, {}, "neigh"),
    update: await ctx.pipeline("som_update", _UPDATE_WGSL, {}, "update"),
    advance: await ctx.pipeline("som_update", _UPDATE_WGSL, {}, "advance"),
  });
  const maxBinding = () => ctx.limits.maxStorageBufferBindingSize;

  async function trainEpoch(g: SomGeometry, a: EpochArgs): Promise<EpochResult> {
    const p = await pipes();
    const d = a.dim, K = g.m * g.n, B = a.batchSize, L = a.order.length;
    const dp = _pad4(d), Kp = _pad4(K);
    const nb = Math.ceil(L / B);
    const limit = maxBinding();
    for (
      const [what, bytes] of [["weights", Kp * dp * 4], ["one batch", B * dp * 4], [
        "distance tile",
        B * K * 4,
      ]] as const
    ) {
      if (bytes > limit) {
        throw new RangeError(
          `Cannot train SOM on WebGPU: ${what} need ${bytes} bytes but the device binds at most ` +
            `${limit}`,
        );
      }
    }
    if (B > ctx.adapter.maxComputeWorkgroupsPerDimension) {
      throw new RangeError(
        `Cannot train SOM on WebGPU: batch size is ${B} but the device dispatches at most ` +
          `${ctx.adapter.maxComputeWorkgroupsPerDimension} rows per batch`,
      );
    }
    // Rows per upload: whole batches, within the binding limit and a 64 MB staging budget.
    // With a progress callback, also submit at most 256 batches at a time so that progress is
    // reported (and the queue drained) at least that often.
    const chunkBatches = Math.min(
      a.onProgress ? 256 : Infinity,
      Math.max(1, Math.floor(Math.min(limit, chunkBytes) / (B * dp * 4))),
    );
    const chunkRows = Math.min(L, chunkBatches * B);
    const entries = [];
    let t = a.step;
    for (let i = 0; i < nb; i++) {
      const rows = Math.min(B, L - i * B);
      const s = somSchedule(t, a.totalSteps, a.alpha0, a.sigma0);
      entries.push({
        row0: (i * B) % (chunkBatches * B),
        rows,
        scale: s.alpha / rows,
        denom: 2 * s.sigma * s.sigma + 1e-5,
      });
      t += B;
    }
    const owned: GPUBuffer[] = [];
    const get = (bytes: number, label: string) => {
      const b = ctx.acquire(bytes, label);
      owned.push(b);
      return b;
    };
    const dimsBuf = ctx.uniform(
      _dims({ K, d, m: g.m, n: g.n, periodic: g.periodic, k: 1, nrows: chunkRows, B }),
      "som dims",
    );
    try {
      const sched = get(nb * 16, "som schedule");
      ctx.write(sched, new Uint8Array(_schedule(entries)));
      const ctl = get(16, "som batch counter");
      ctx.write(ctl, new Uint32Array(4));
      const x = get(chunkRows * dp * 4, "som x chunk");
      const xnorm = get(chunkRows * 4, "som x norms");
      const wt = get(Kp * dp * 4, "som weights (dp×Kp)");
      ctx.write(wt, _toGpu(a.weights, K, d));
      const dist = get(B * K * 4, "som distance tile");
      const bmu = get(B * 4, "som bmu");
      const bmuDist = get(B * 4, "som bmu distance");
      const h = get(B * Kp * 4, "som neighbourhood");
      const losses = get(nb * 4, "som losses");
      const bmusAll = get(nb * B * 4, "som bmus");
      const bg = {
        norms: _bind(ctx, "som norms", p.norms, { 0: dimsBuf, 3: x, 5: xnorm }),
        dist: _bind(ctx, "som dist", p.dist, {
          0: dimsBuf,
          1: sched,
          2: ctl,
          3: x,
          4: xnorm,
          6: wt,
          7: dist,
        }),
        topk: _bind(ctx, "som topk", p.topk, {
          0: dimsBuf,
          1: sched,
          2: ctl,
          8: dist,
          9: bmu,
          10: bmuDist,
        }),
        neigh: _bind(ctx, "som neigh", p.neigh, { 0: dimsBuf, 1: sched, 2: ctl, 4: bmu, 5: h }),
        update: _bind(ctx, "som update", p.update, {
          0: dimsBuf,
          1: sched,
          2: ctl,
          3: x,
          6: h,
          7: wt,
        }),
        advance: _bind(ctx, "som advance", p.advance, {
          0: dimsBuf,
          1: sched,
          4: bmu,
          8: bmuDist,
          9: losses,
          10: ctl,
          11: bmusAll,
        }),
      };
      const staging = new Float32Array(chunkRows * dp);
      const kq = Math.ceil(Kp / 4 / _WG), kp = Math.ceil(Kp / _WG);
      for (let b0 = 0; b0 < nb; b0 += chunkBatches) {
        const b1 = Math.min(nb, b0 + chunkBatches);
        const r0 = b0 * B, r1 = Math.min(L, b1 * B);
        ctx.write(x, _rows(a.data, d, dp, a.order, r0, r1, staging));
        ctx.write(
          dimsBuf,
          _dims({ K, d, m: g.m, n: g.n, periodic: g.periodic, k: 1, nrows: r1 - r0, B }),
        );
        await ctx.scoped("train SOM batches on WebGPU", () => {
          const enc = ctx.device.createCommandEncoder({ label: "som epoch" });
          const pass = enc.beginComputePass({ label: "som epoch" });
          pass.setPipeline(p.norms);
          pass.setBindGroup(0, bg.norms);
          pass.dispatchWorkgroups(Math.ceil((r1 - r0) / _WG));
          for (let i = b0; i < b1; i++) {
            pass.setPipeline(p.dist);
            pass.setBindGroup(0, bg.dist);
            pass.dispatchWorkgroups(kq, Math.ceil(B / _ROWS));
            pass.setPipeline(p.topk);
            pass.setBindGroup(0, bg.topk);
            pass.dispatchWorkgroups(B);
            pass.setPipeline(p.neigh);
            pass.setBindGroup(0, bg.neigh);
            pass.dispatchWorkgroups(kp, B);
            pass.setPipeline(p.update);
            pass.setBindGroup(0, bg.update);
            pass.dispatchWorkgroups(kq, Math.ceil(dp / _COLS));
            pass.setPipeline(p.advance);
            pass.setBindGroup(0, bg.advance);
            pass.dispatchWorkgroups(1);
          }
          pass.end();
          ctx.device.queue.submit([enc.finish()]);
        });
        if (b1 < nb || a.onProgress) await ctx.sync();
        a.onProgress?.(b1, nb);
      }
      _fromGpu(new Float32Array(await ctx.read(wt, Kp * dp * 4)), K, d, a.weights);
      const lossOut = new Float32Array(await ctx.read(losses, nb * 4));
      let bmus: Int32Array | undefined;
      if (a.returnBmus) {
        const all = new Int32Array(await ctx.read(bmusAll, nb * B * 4));
        bmus = L === nb * B ? all : all.slice(0, L);
      }
      return { losses: lossOut, step: a.step + nb * B, ...(bmus ? { bmus } : {}) };
    } finally {
      ctx.release(...owned);
      dimsBuf.destroy();
    }
  }

  async function topk(
    weights: Float32Array,
    d: number,
    data: Float32Array,
    k: number,
  ): Promise<TopK> {
    const p = await pipes();
    const K = weights.length / d, N = data.length / d;
    const dp = _pad4(d), Kp = _pad4(K);
    if (!Number.isInteger(k) || k < 1 || k > Math.min(16, K)) {
      throw new RangeError(
        `Cannot query SOM on WebGPU: k is ${k} but must be an integer in 1..${Math.min(16, K)}`,
      );
    }
    const limit = maxBinding();
    if (Kp * dp * 4 > limit) {
      throw new RangeError(
        `Cannot query SOM on WebGPU: weights need ${Kp * dp * 4} bytes but the device binds at ` +
          `most ${limit}`,
      );
    }
    const R = Math.max(
      1,
      Math.min(
        N,
        Math.floor(tileFloats / K),
        Math.floor(limit / (K * 4)),
        Math.floor(Math.min(limit, chunkBytes) / (dp * 4)),
        ctx.adapter.maxComputeWorkgroupsPerDimension,
      ),
    );
    const index = new Int32Array(N * k), distance = new Float32Array(N * k);
    const owned: GPUBuffer[] = [];
    const get = (bytes: number, label: string) => {
      const b = ctx.acquire(bytes, label);
      owned.push(b);
      return b;
    };
    const dimsBuf = ctx.uniform(
      _dims({ K, d, m: 1, n: K, periodic: false, k, nrows: R, B: R }),
      "som query dims",
    );
    try {
      const wt = get(Kp * dp * 4, "som weights (dp×Kp)");
      ctx.write(wt, _toGpu(weights, K, d));
      const sched = get(16, "som query batch");
      const ctl = get(16, "som batch counter");
      ctx.write(ctl, new Uint32Array(4));
      const x = get(R * dp * 4, "som query rows");
      const staging = new Float32Array(R * dp);
      const xnorm = get(R * 4, "som query norms");
      const dist = get(R * K * 4, "som distance tile");
      const outIdx = get(R * k * 4, "som top-k index");
      const outDist = get(R * k * 4, "som top-k distance");
      const bgNorms = _bind(ctx, "som norms", p.norms, { 0: dimsBuf, 3: x, 5: xnorm });
      const bgDist = _bind(ctx, "som dist", p.dist, {
        0: dimsBuf,
        1: sched,
        2: ctl,
        3: x,
        4: xnorm,
        6: wt,
        7: dist,
      });
      const bgTopk = _bind(ctx, "som topk", p.topk, {
        0: dimsBuf,
        1: sched,
        2: ctl,
        8: dist,
        9: outIdx,
        10: outDist,
      });
      for (let r0 = 0; r0 < N; r0 += R) {
        const rows = Math.min(R, N - r0);
        ctx.write(
          x,
          dp === d
            ? data.subarray(r0 * d, (r0 + rows) * d)
            : _rows(data, d, dp, null, r0, r0 + rows, staging),
        );
        ctx.write(dimsBuf, _dims({ K, d, m: 1, n: K, periodic: false, k, nrows: rows, B: R }));
        ctx.write(sched, new Uint8Array(_schedule([{ row0: 0, rows, scale: 0, denom: 1 }])));
        await ctx.scoped("query SOM on WebGPU", () => {
          const enc = ctx.device.createCommandEncoder({ label: "som query" });
          const pass = enc.beginComputePass({ label: "som query" });
          pass.setPipeline(p.norms);
          pass.setBindGroup(0, bgNorms);
          pass.dispatchWorkgroups(Math.ceil(rows / _WG));
          pass.setPipeline(p.dist);
          pass.setBindGroup(0, bgDist);
          pass.dispatchWorkgroups(Math.ceil(Kp / 4 / _WG), Math.ceil(rows / _ROWS));
          pass.setPipeline(p.topk);
          pass.setBindGroup(0, bgTopk);
          pass.dispatchWorkgroups(rows);
          pass.end();
          ctx.device.queue.submit([enc.finish()]);
        });
        index.set(new Int32Array(await ctx.read(outIdx, rows * k * 4)), r0 * k);
        distance.set(new Float32Array(await ctx.read(outDist, rows * k * 4)), r0 * k);
      }
      return { index, distance };
    } finally {
      ctx.release(...owned);
      dimsBuf.destroy();
    }
  }

  return {
    name: "webgpu",
    trainEpoch,
    topk,
    dispose() {},
  };
}
