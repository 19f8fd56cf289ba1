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
 * Kernel sizes (`WG`, `ROWS`, `COLS`) are WGSL `override` constants without defaults, set from
 * {@linkcode SOM_KERNEL_SIZES}, so the shaders and the dispatch arithmetic cannot disagree; the
 * `Dims` and `Batch` layouts are the tables {@linkcode SOM_DIMS} and {@linkcode SOM_BATCH}
 * (checked against `shaders/som_common.wgsl` by a test).
 *
 * @module
 */

import commonSrc from "../../shaders/som_common.wgsl" with { type: "text" };
import bmuSrc from "../../shaders/som_bmu.wgsl" with { type: "text" };
import updateSrc from "../../shaders/som_update.wgsl" with { type: "text" };
import type { EpochArgs, EpochResult, SomBackend, SomGeometry, TopK } from "./backend.ts";
import type { GpuContext, GpuLease } from "../gpu/context.ts";
import { packStructs, type StructLayout, structLayout } from "../gpu/layout.ts";
import { somSchedule } from "./reference.ts";

const _BMU_WGSL = `${commonSrc}\n${bmuSrc}`;
const _UPDATE_WGSL = `${commonSrc}\n${updateSrc}`;

/** The `Dims` uniform of `shaders/som_common.wgsl`. */
export const SOM_DIMS: StructLayout = structLayout("Dims", [
  ["K", "u32"],
  ["d", "u32"],
  ["m", "u32"],
  ["n", "u32"],
  ["periodic", "u32"],
  ["k", "u32"],
  ["nrows", "u32"],
  ["B", "u32"],
]);

/** One entry of the `Batch` table of `shaders/som_common.wgsl` (storage, 16-byte stride). */
export const SOM_BATCH: StructLayout = structLayout("Batch", [
  ["row0", "u32"],
  ["rows", "u32"],
  ["scale", "f32"],
  ["denom", "f32"],
]);

/**
 * Kernel sizes, the values of the SOM shaders' `override` constants: `WG` invocations per
 * workgroup (every entry point but `advance`), `ROWS` rows per `dist` invocation (1..8: the
 * kernel keeps 8 rows in named registers) and `COLS` coordinates per `update` invocation (4 or
 * 8, likewise).
 */
export const SOM_KERNEL_SIZES: Readonly<{ WG: number; ROWS: number; COLS: number }> = Object
  .freeze({ WG: 64, ROWS: 8, COLS: 8 });
const { WG: _WG, ROWS: _ROWS, COLS: _COLS } = SOM_KERNEL_SIZES;
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

function _dims(v: _Dims): Uint8Array {
  return new Uint8Array(packStructs(SOM_DIMS, [{ ...v }]));
}

/** The batch table: per batch `row0, rows` (u32) and `α/b, 2σ²+1e-5` (f32). */
function _schedule(
  entries: { row0: number; rows: number; scale: number; denom: number }[],
): Uint8Array {
  return new Uint8Array(packStructs(SOM_BATCH, entries));
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

interface _Pipelines {
  norms: GPUComputePipeline;
  dist: GPUComputePipeline;
  topk: GPUComputePipeline;
  neigh: GPUComputePipeline;
  update: GPUComputePipeline;
  advance: GPUComputePipeline;
}

async function _pipelines(ctx: GpuContext): Promise<_Pipelines> {
  const bmu = (entry: string, c: Record<string, number>) =>
    ctx.pipeline("som_bmu", _BMU_WGSL, c, entry);
  const upd = (entry: string, c: Record<string, number>) =>
    ctx.pipeline("som_update", _UPDATE_WGSL, c, entry);
  return {
    norms: await bmu("norms", { WG: _WG }),
    dist: await bmu("dist", { WG: _WG, ROWS: _ROWS }),
    topk: await bmu("topk", { WG: _WG }),
    neigh: await upd("neigh", { WG: _WG }),
    update: await upd("update", { WG: _WG, COLS: _COLS }),
    advance: await upd("advance", {}),
  };
}

/** The buffers of the BMU search (norms → distance tile → top-k), shared by train and query. */
interface _BmuBuffers {
  dims: GPUBuffer;
  sched: GPUBuffer;
  ctl: GPUBuffer;
  x: GPUBuffer;
  xnorm: GPUBuffer;
  wt: GPUBuffer;
  dist: GPUBuffer;
  outIdx: GPUBuffer;
  outDist: GPUBuffer;
}

interface _BmuGroups {
  norms: GPUBindGroup;
  dist: GPUBindGroup;
  topk: GPUBindGroup;
}

function _bmuGroups(ctx: GpuContext, p: _Pipelines, b: _BmuBuffers): _BmuGroups {
  const { dims, sched, ctl, x, xnorm, wt, dist } = b;
  return {
    norms: _bind(ctx, "som norms", p.norms, { 0: dims, 3: x, 5: xnorm }),
    dist: _bind(ctx, "som dist", p.dist, {
      0: dims,
      1: sched,
      2: ctl,
      3: x,
      4: xnorm,
      6: wt,
      7: dist,
    }),
    topk: _bind(ctx, "som topk", p.topk, {
      0: dims,
      1: sched,
      2: ctl,
      8: dist,
      9: b.outIdx,
      10: b.outDist,
    }),
  };
}

/** Records distances and top-k of one batch of up to `rows` rows against `Kp` padded units. */
function _recordBmu(
  pass: GPUComputePassEncoder,
  p: _Pipelines,
  g: _BmuGroups,
  Kp: number,
  rows: number,
): void {
  pass.setPipeline(p.dist);
  pass.setBindGroup(0, g.dist);
  pass.dispatchWorkgroups(Math.ceil(Kp / 4 / _WG), Math.ceil(rows / _ROWS));
  pass.setPipeline(p.topk);
  pass.setBindGroup(0, g.topk);
  pass.dispatchWorkgroups(rows);
}

function _recordNorms(pass: GPUComputePassEncoder, p: _Pipelines, g: _BmuGroups, n: number) {
  pass.setPipeline(p.norms);
  pass.setBindGroup(0, g.norms);
  pass.dispatchWorkgroups(Math.ceil(n / _WG));
}

/** Checks the sizes of an epoch against the device; returns the rows per upload. */
function _epochPlan(ctx: GpuContext, g: SomGeometry, a: EpochArgs, chunkBytes: number) {
  const d = a.dim, K = g.m * g.n, B = a.batchSize, L = a.order.length;
  const dp = _pad4(d), Kp = _pad4(K);
  const limit = ctx.limits.maxStorageBufferBindingSize;
  const sizes = [["weights", Kp * dp * 4], ["one batch", B * dp * 4], ["distance tile", B * K * 4]];
  for (const [what, bytes] of sizes) {
    if ((bytes as number) > limit) {
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
  // Rows per upload: whole batches, within the binding limit and a 64 MB staging budget. With a
  // progress callback, also submit at most 256 batches at a time so that progress is reported
  // (and the queue drained) at least that often.
  const chunkBatches = Math.min(
    a.onProgress ? 256 : Infinity,
    Math.max(1, Math.floor(Math.min(limit, chunkBytes) / (B * dp * 4))),
  );
  const nb = Math.ceil(L / B);
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
  return {
    d,
    K,
    B,
    L,
    dp,
    Kp,
    nb,
    chunkBatches,
    chunkRows: Math.min(L, chunkBatches * B),
    entries,
  };
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
  return {
    name: "webgpu",
    trainEpoch: (g, a) => _trainEpoch(ctx, g, a, chunkBytes),
    topk: (w, d, x, k) => _topk(ctx, w, d, x, k, chunkBytes, tileFloats),
    dispose() {},
  };
}

async function _trainEpoch(
  ctx: GpuContext,
  g: SomGeometry,
  a: EpochArgs,
  chunkBytes: number,
): Promise<EpochResult> {
  const p = await _pipelines(ctx);
  const plan = _epochPlan(ctx, g, a, chunkBytes);
  const { d, K, B, L, dp, Kp, nb, chunkBatches, chunkRows } = plan;
  const geo = { K, d, m: g.m, n: g.n, periodic: g.periodic, k: 1, B };
  using own = ctx.lease();
  const dimsBuf = own.uniform(_dims({ ...geo, nrows: chunkRows }), "som dims");
  const b: _BmuBuffers = {
    dims: dimsBuf,
    sched: own.upload(_schedule(plan.entries), "som schedule"),
    ctl: own.upload(new Uint32Array(4), "som batch counter"),
    x: own.acquire(chunkRows * dp * 4, "som x chunk"),
    xnorm: own.acquire(chunkRows * 4, "som x norms"),
    wt: own.upload(_toGpu(a.weights, K, d), "som weights (dp×Kp)"),
    dist: own.acquire(B * K * 4, "som distance tile"),
    outIdx: own.acquire(B * 4, "som bmu"),
    outDist: own.acquire(B * 4, "som bmu distance"),
  };
  const h = own.acquire(B * Kp * 4, "som neighbourhood");
  const losses = own.acquire(nb * 4, "som losses");
  const bmusAll = own.acquire(nb * B * 4, "som bmus");
  const bg = _bmuGroups(ctx, p, b);
  const { sched, ctl, x, wt, outIdx: bmu, outDist: bmuDist } = b;
  const neigh = _bind(ctx, "som neigh", p.neigh, { 0: dimsBuf, 1: sched, 2: ctl, 4: bmu, 5: h });
  const update = _bind(ctx, "som update", p.update, {
    0: dimsBuf,
    1: sched,
    2: ctl,
    3: x,
    6: h,
    7: wt,
  });
  const advance = _bind(ctx, "som advance", p.advance, {
    0: dimsBuf,
    1: sched,
    4: bmu,
    8: bmuDist,
    9: losses,
    10: ctl,
    11: bmusAll,
  });
  const staging = new Float32Array(chunkRows * dp);
  for (let b0 = 0; b0 < nb; b0 += chunkBatches) {
    const b1 = Math.min(nb, b0 + chunkBatches);
    const r0 = b0 * B, r1 = Math.min(L, b1 * B);
    ctx.write(x, _rows(a.data, d, dp, a.order, r0, r1, staging));
    ctx.write(dimsBuf, _dims({ ...geo, nrows: r1 - r0 }));
    await ctx.scoped("train SOM batches on WebGPU", () => {
      const enc = ctx.device.createCommandEncoder({ label: "som epoch" });
      const pass = enc.beginComputePass({ label: "som epoch" });
      _recordNorms(pass, p, bg, r1 - r0);
      for (let i = b0; i < b1; i++) {
        _recordBmu(pass, p, bg, Kp, B);
        pass.setPipeline(p.neigh);
        pass.setBindGroup(0, neigh);
        pass.dispatchWorkgroups(Math.ceil(Kp / _WG), B);
        pass.setPipeline(p.update);
        pass.setBindGroup(0, update);
        pass.dispatchWorkgroups(Math.ceil(Kp / 4 / _WG), Math.ceil(dp / _COLS));
        pass.setPipeline(p.advance);
        pass.setBindGroup(0, advance);
        pass.dispatchWorkgroups(1);
      }
      pass.end();
      ctx.device.queue.submit([enc.finish()]);
    });
    if (b1 < nb || a.onProgress) await ctx.sync();
    a.onProgress?.(b1, nb);
  }
  const [wOut, lossOut, bmuOut] = await ctx.readMany([
    { buffer: wt, byteLength: Kp * dp * 4 },
    { buffer: losses, byteLength: nb * 4 },
    ...(a.returnBmus ? [{ buffer: bmusAll, byteLength: L * 4 }] : []),
  ]);
  _fromGpu(new Float32Array(wOut), K, d, a.weights);
  const bmus = bmuOut ? new Int32Array(bmuOut) : undefined;
  return { losses: new Float32Array(lossOut), step: a.step + nb * B, ...(bmus ? { bmus } : {}) };
}

function _checkQuery(ctx: GpuContext, K: number, dp: number, k: number): void {
  if (!Number.isInteger(k) || k < 1 || k > Math.min(16, K)) {
    throw new RangeError(
      `Cannot query SOM on WebGPU: k is ${k} but must be an integer in 1..${Math.min(16, K)}`,
    );
  }
  const limit = ctx.limits.maxStorageBufferBindingSize;
  if (_pad4(K) * dp * 4 > limit) {
    throw new RangeError(
      `Cannot query SOM on WebGPU: weights need ${_pad4(K) * dp * 4} bytes but the device binds ` +
        `at most ${limit}`,
    );
  }
}

async function _topk(
  ctx: GpuContext,
  weights: Float32Array,
  d: number,
  data: Float32Array,
  k: number,
  chunkBytes: number,
  tileFloats: number,
): Promise<TopK> {
  const p = await _pipelines(ctx);
  const K = weights.length / d, N = data.length / d;
  const dp = _pad4(d), Kp = _pad4(K);
  _checkQuery(ctx, K, dp, k);
  const limit = ctx.limits.maxStorageBufferBindingSize;
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
  const geo = { K, d, m: 1, n: K, periodic: false, k, B: R };
  using own: GpuLease = ctx.lease();
  const b: _BmuBuffers = {
    dims: own.uniform(_dims({ ...geo, nrows: R }), "som query dims"),
    sched: own.acquire(16, "som query batch"),
    ctl: own.upload(new Uint32Array(4), "som batch counter"),
    x: own.acquire(R * dp * 4, "som query rows"),
    xnorm: own.acquire(R * 4, "som query norms"),
    wt: own.upload(_toGpu(weights, K, d), "som weights (dp×Kp)"),
    dist: own.acquire(R * K * 4, "som distance tile"),
    outIdx: own.acquire(R * k * 4, "som top-k index"),
    outDist: own.acquire(R * k * 4, "som top-k distance"),
  };
  const staging = new Float32Array(R * dp);
  const bg = _bmuGroups(ctx, p, b);
  for (let r0 = 0; r0 < N; r0 += R) {
    const rows = Math.min(R, N - r0);
    ctx.write(
      b.x,
      dp === d
        ? data.subarray(r0 * d, (r0 + rows) * d)
        : _rows(data, d, dp, null, r0, r0 + rows, staging),
    );
    ctx.write(b.dims, _dims({ ...geo, nrows: rows }));
    ctx.write(b.sched, _schedule([{ row0: 0, rows, scale: 0, denom: 1 }]));
    await ctx.scoped("query SOM on WebGPU", () => {
      const enc = ctx.device.createCommandEncoder({ label: "som query" });
      const pass = enc.beginComputePass({ label: "som query" });
      _recordNorms(pass, p, bg, rows);
      _recordBmu(pass, p, bg, Kp, rows);
      pass.end();
      ctx.device.queue.submit([enc.finish()]);
    });
    const [idx, dist] = await ctx.readMany([
      { buffer: b.outIdx, byteLength: rows * k * 4 },
      { buffer: b.outDist, byteLength: rows * k * 4 },
    ]);
    index.set(new Int32Array(idx), r0 * k);
    distance.set(new Float32Array(dist), r0 * k);
  }
  return { index, distance };
}
