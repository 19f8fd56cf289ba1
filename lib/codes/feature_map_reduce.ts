/**
 * Vector codes from feature maps (SPEC §2, paper §2.1): an `N×C×H×W` activation tensor becomes
 * an `N×4C` code matrix `[max(0..C−1) | mean | std | com]`, each statistic taken over the `H·W`
 * activations of one channel of one example. Rank-2 tensors (`N×D`, e.g. a ViT CLS token) are
 * used as they are.
 *
 * Three implementations with one contract:
 * - {@linkcode reduceFeatureMapsReference}: plain float64 TypeScript, the definition.
 * - {@linkcode reduceFeatureMapsCpu}: the fast CPU path (float64 accumulators, typed arrays, no
 *   per-element allocation; each map is read twice but the second read hits L1).
 * - {@linkcode reduceFeatureMapsGpu}: the WGSL kernel `shaders/feature_map_reduce.wgsl` (float32),
 *   taking a `Float32Array` or a `GPUBuffer` (e.g. an onnxruntime-web output kept on the GPU),
 *   split over the device's binding limit.
 *
 * Numerics: mean and std use two passes in every path (the sum, then `Σ(a − mean)²` about the
 * computed mean), which avoids the cancellation of `E[a²] − E[a]²`. The CPU paths accumulate in
 * float64; the GPU accumulates in float32 with per-invocation partial sums and a tree reduction.
 *
 * Non-finite activations (NaN, ±Inf) never yield a silent NaN code: every path throws
 * {@linkcode DataFormatError} naming the first offending example and channel.
 *
 * @module
 */

import { DataFormatError } from "../errors.ts";
import { type GpuContext, gpuPolicy } from "../gpu/context.ts";
import gridIndexSource from "../../shaders/grid_index.wgsl" with { type: "text" };
import shaderSource from "../../shaders/feature_map_reduce.wgsl" with { type: "text" };

/** How the centre-of-mass statistic is formed. */
export type ComMode = "flat" | "xy";

/** Options shared by every feature-map reduction. */
export interface ReduceOptions {
  /**
   * `"flat"` (default): one centre-of-mass block over the row-major flattened map, code
   * dimension `4C` (the paper's). `"xy"`: a row-centre and a column-centre block, `5C`.
   */
  com?: ComMode;
}

/** Options of the WebGPU path. */
export interface GpuReduceOptions extends ReduceOptions {
  /**
   * Largest storage-buffer binding to use, in bytes. Default: the device's
   * `maxStorageBufferBindingSize`. Inputs (and outputs) larger than this are split over maps
   * and bound as sub-ranges; a smaller value is mainly for testing the splitting.
   */
  maxBindingBytes?: number;
  /** Workgroup size (a power of two, 1..256). Default 64. */
  workgroupSize?: number;
  /**
   * Reduce maps of at most this many activations with one invocation per map instead of one
   * workgroup per map. Default 32 on a hardware adapter; unlimited (always one invocation per
   * map) on a fallback adapter, where workgroup barriers are expensive (llvmpipe: 3–6× faster
   * at ResNet18 sizes, see bench/RESULTS.md).
   */
  smallMapThreshold?: number;
}

/** Options of {@linkcode reduceFeatureMaps}. */
export interface ReduceFeatureMapsOptions extends GpuReduceOptions {
  /**
   * `"auto"` (default): `"webgpu"` when `ctx` is given and its adapter is not a fallback
   * (software) adapter, else `"cpu"`. `"webgpu"` needs `ctx`. `"cpu"` is the fast CPU path,
   * `"reference"` the float64 definition.
   */
  backend?: ReduceBackend;
  /** GPU context, for `"webgpu"` and for reading a `GPUBuffer` input on the CPU paths. */
  ctx?: GpuContext;
}

/** Backends of {@linkcode reduceFeatureMaps}. */
export type ReduceBackend = "auto" | "webgpu" | "cpu" | "reference";

const BACKENDS: readonly ReduceBackend[] = ["auto", "webgpu", "cpu", "reference"];

/** Codes left on the GPU by {@linkcode reduceFeatureMapsGpuToBuffer}. */
export interface GpuCodes {
  /**
   * `rows×dim` float32 codes, row-major, at offset 0 (the buffer may be larger). Acquired from
   * the context's pool: give it back with `ctx.release(buffer)`.
   */
  buffer: GPUBuffer;
  /** `[rows, dim]`. */
  shape: [number, number];
}

/**
 * Dimension of the vector code of one example.
 *
 * @param shape Tensor shape, `[N, C, H, W]` or `[N, D]`.
 * @param com Centre-of-mass mode. Default `"flat"`.
 * @returns `4C` (`"flat"`), `5C` (`"xy"`), or `D` for a rank-2 tensor.
 * @throws {RangeError} If the shape is not rank 2 or 4 with positive integer sizes (N may be
 * 0), or `com` is unknown.
 *
 * @example
 * ```ts
 * import { codeDimension } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(codeDimension([8, 512, 7, 7]), 2048);
 * assertEquals(codeDimension([8, 512, 7, 7], "xy"), 2560);
 * assertEquals(codeDimension([8, 768]), 768);
 * ```
 */
export function codeDimension(shape: readonly number[], com: ComMode = "flat"): number {
  const s = _checkShape(shape, com);
  return s.dim;
}

export interface _Shape {
  N: number;
  C: number;
  H: number;
  W: number;
  dim: number;
  rank: 2 | 4;
  xy: boolean;
}

function _checkShape(shape: readonly number[], com: unknown): _Shape {
  if (com !== "flat" && com !== "xy") {
    throw new RangeError(
      `Cannot reduce feature maps: com is "${com}" but expected one of "flat", "xy"`,
    );
  }
  if (!Array.isArray(shape) || (shape.length !== 2 && shape.length !== 4)) {
    throw new RangeError(
      `Cannot reduce feature maps: shape is [${shape}] but expected [N, C, H, W] or [N, D]`,
    );
  }
  shape.forEach((v, i) => {
    if (!Number.isSafeInteger(v) || v < (i === 0 ? 0 : 1)) {
      throw new RangeError(
        `Cannot reduce feature maps: shape [${shape}] has ${v} at axis ${i} but expected a ` +
          `${i === 0 ? "non-negative" : "positive"} integer`,
      );
    }
  });
  const xy = com === "xy";
  if (shape.length === 2) {
    return { N: shape[0], C: shape[1], H: 1, W: 1, dim: shape[1], rank: 2, xy };
  }
  const [N, C, H, W] = shape;
  return { N, C, H, W, dim: (xy ? 5 : 4) * C, rank: 4, xy };
}

function _checkLength(length: number, shape: readonly number[]): void {
  const want = shape.reduce((a, b) => a * b, 1);
  if (length !== want) {
    throw new RangeError(
      `Cannot reduce feature maps: input has ${length} values but shape [${shape}] needs ${want}`,
    );
  }
}

function _nonFiniteError(data: ArrayLike<number>, s: _Shape, map: number, offset = 0) {
  const hw = s.H * s.W;
  let value = NaN;
  for (let i = 0; i < hw; i++) {
    const v = data[offset + i];
    if (!Number.isFinite(v)) {
      value = v;
      break;
    }
  }
  const n = Math.floor(map / s.C), c = map % s.C;
  const what = s.rank === 2 ? "column" : "channel";
  return new DataFormatError(
    `Cannot reduce feature maps: example ${n} ${what} ${c} contains ${value} but expected ` +
      `finite activations`,
  );
}

/** Copies a rank-2 input after checking it is finite (rank-2 codes are used as they are). */
function _passThrough(data: Float32Array, s: _Shape): Float32Array {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) throw _nonFiniteError(data, s, i, i);
  }
  return data.slice();
}

/** Checks a CPU-path input and runs `maps` over it (a rank-2 input is passed through). */
function _reduceOnCpu(
  data: Float32Array,
  shape: readonly number[],
  options: ReduceOptions,
  maps: (data: Float32Array, s: _Shape, out: Float32Array) => void,
): Float32Array {
  const s = _checkShape(shape, options.com ?? "flat");
  _checkLength(data.length, shape);
  if (s.rank === 2) return _passThrough(data, s);
  const out = new Float32Array(s.N * s.dim);
  maps(data, s, out);
  return out;
}

/** Throws unless GPU buffer `input` holds at least `total` float32 values. */
function _checkBufferSize(input: GPUBuffer, shape: readonly number[], total: number): void {
  if (input.size < total * 4) {
    throw new RangeError(
      `Cannot reduce feature maps: buffer "${input.label}" has ${input.size} bytes but shape ` +
        `[${shape}] needs ${total * 4}`,
    );
  }
}

/**
 * Feature maps to vector codes, the float64 definition (SPEC §2): for each example and channel,
 * `max`, `mean`, population `std` and centre of mass `com = Σ w_i (i+0.5) / (HW Σ w_i)` with
 * `w = max(a, 0)` (0.5 when `Σw = 0`); with `com: "xy"` a row centre `Σ w (r+0.5) / (H Σw)`
 * and a column centre `Σ w (c+0.5) / (W Σw)` instead. Blocks are laid out
 * `[max | mean | std | com]` (`[max | mean | std | comRow | comCol]`). Rank-2 input is copied.
 *
 * @param data Activations, row-major.
 * @param shape `[N, C, H, W]` or `[N, D]`.
 * @param options Centre-of-mass mode.
 * @returns `N×dim` codes (float64 results rounded to float32).
 * @throws {RangeError} If the shape is invalid or does not match `data`.
 * @throws {DataFormatError} If an activation is NaN or ±Inf (naming example and channel).
 *
 * @example Two 2×2 maps
 * ```ts
 * import { reduceFeatureMapsReference } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const codes = reduceFeatureMapsReference(new Float32Array([0, 0, 0, 4, -1, -1, -1, -1]), [1, 2, 2, 2]);
 * // [max0, max1, mean0, mean1, std0, std1, com0, com1]
 * assertEquals(Array.from(codes), [4, -1, 1, -1, Math.sqrt(3), 0, 0.875, 0.5].map(Math.fround));
 * ```
 */
export function reduceFeatureMapsReference(
  data: Float32Array,
  shape: readonly number[],
  options: ReduceOptions = {},
): Float32Array {
  return _reduceOnCpu(data, shape, options, _referenceMaps);
}

/** The float64 definition over every map of a rank-4 input, into `out`. */
function _referenceMaps(data: Float32Array, s: _Shape, out: Float32Array): void {
  const { N, C, H, W, dim } = s, hw = H * W;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const map = n * C + c;
      const values = Array.from(data.subarray(map * hw, (map + 1) * hw));
      if (values.some((v) => !Number.isFinite(v))) throw _nonFiniteError(values, s, map);
      const max = values.reduce((a, b) => Math.max(a, b), -Infinity);
      const mean = values.reduce((a, b) => a + b, 0) / hw;
      const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / hw;
      const w = values.map((v) => Math.max(v, 0));
      const sw = w.reduce((a, b) => a + b, 0);
      const row = out.subarray(n * dim, (n + 1) * dim);
      row[c] = max;
      row[C + c] = mean;
      row[2 * C + c] = Math.sqrt(variance);
      if (s.xy) {
        const r = w.reduce((a, wi, i) => a + wi * (Math.floor(i / W) + 0.5), 0);
        const k = w.reduce((a, wi, i) => a + wi * ((i % W) + 0.5), 0);
        row[3 * C + c] = sw > 0 ? r / (H * sw) : 0.5;
        row[4 * C + c] = sw > 0 ? k / (W * sw) : 0.5;
      } else {
        const f = w.reduce((a, wi, i) => a + wi * (i + 0.5), 0);
        row[3 * C + c] = sw > 0 ? f / (hw * sw) : 0.5;
      }
    }
  }
}

/**
 * Feature maps to vector codes on the CPU, fast: one sweep over memory (each map is read twice
 * while it sits in L1: sums first, then `Σ(a − mean)²`), float64 accumulators, no per-element
 * allocation. Same contract and layout as {@linkcode reduceFeatureMapsReference}; agrees with
 * it to float32 rounding.
 *
 * @param data Activations, row-major.
 * @param shape `[N, C, H, W]` or `[N, D]`.
 * @param options Centre-of-mass mode.
 * @returns `N×dim` codes.
 * @throws {RangeError} If the shape is invalid or does not match `data`.
 * @throws {DataFormatError} If an activation is NaN or ±Inf (naming example and channel).
 *
 * @example
 * ```ts
 * import { reduceFeatureMapsCpu } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const codes = reduceFeatureMapsCpu(new Float32Array([1, 3, 0, 0]), [1, 1, 2, 2], { com: "xy" });
 * // [max, mean, std, comRow, comCol]
 * assertEquals(Array.from(codes), [3, 1, Math.sqrt(1.5), 0.25, 0.625].map(Math.fround));
 * ```
 */
export function reduceFeatureMapsCpu(
  data: Float32Array,
  shape: readonly number[],
  options: ReduceOptions = {},
): Float32Array {
  return _reduceOnCpu(data, shape, options, _fastMaps);
}

/** The fast CPU reduction over every map of a rank-4 input, into `out`. */
function _fastMaps(data: Float32Array, s: _Shape, out: Float32Array): void {
  const { N, C, H, W, dim } = s, hw = H * W;
  const C2 = 2 * C, C3 = 3 * C, C4 = 4 * C;
  for (let n = 0; n < N; n++) {
    const rowBase = n * dim;
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * hw;
      const end = base + hw;
      let mx = data[base], sum = 0, sw = 0, swi = 0, swr = 0;
      if (s.xy) {
        // Row sums of w give the row centre; column weights are accumulated per element.
        for (let r = 0, i = base; r < H; r++) {
          let rw = 0;
          for (let col = 0.5; col < W; col++, i++) {
            const a = data[i];
            if (a > mx) mx = a;
            sum += a;
            const w = (a + Math.abs(a)) * 0.5; // max(a, 0) without a data-dependent branch
            rw += w;
            swi += w * col;
          }
          sw += rw;
          swr += rw * (r + 0.5);
        }
      } else {
        for (let i = base, k = 0; i < end; i++, k++) {
          const a = data[i];
          if (a > mx) mx = a;
          sum += a;
          const w = (a + Math.abs(a)) * 0.5; // max(a, 0) exactly, without a data-dependent branch
          sw += w;
          swi += w * k;
        }
      }
      // A float32 sum in float64 is finite iff every term is (no overflow below ~1e300).
      if (sum - sum !== 0) throw _nonFiniteError(data, s, n * C + c, base);
      const mean = sum / hw;
      let ss = 0;
      for (let i = base; i < end; i++) {
        const d = data[i] - mean;
        ss += d * d;
      }
      out[rowBase + c] = mx;
      out[rowBase + C + c] = mean;
      out[rowBase + C2 + c] = Math.sqrt(ss / hw);
      if (s.xy) {
        out[rowBase + C3 + c] = sw > 0 ? swr / (H * sw) : 0.5;
        out[rowBase + C4 + c] = sw > 0 ? swi / (W * sw) : 0.5;
      } else {
        out[rowBase + C3 + c] = sw > 0 ? (swi + 0.5 * sw) / (hw * sw) : 0.5;
      }
    }
  }
}

function _isGpuBuffer(x: unknown): x is GPUBuffer {
  return typeof x === "object" && x !== null && !ArrayBuffer.isView(x) &&
    typeof (x as GPUBuffer).mapAsync === "function" && typeof (x as GPUBuffer).size === "number";
}

/** Params struct of the shader, defined once: ten u32 fields, in this order (exported for the
 * layout test, which checks it against the WGSL struct). */
export const _PARAM_FIELDS = [
  "maps",
  "hw",
  "height",
  "width",
  "channels",
  "dim",
  "inBase",
  "outBase",
  "mapStart",
  "rowStart",
] as const;
type _Params = Record<(typeof _PARAM_FIELDS)[number], number>;

function _params(p: _Params): Uint32Array {
  return Uint32Array.from(_PARAM_FIELDS, (k) => p[k]);
}

/** One dispatch's share of the maps, and the byte ranges it binds. */
export interface _Chunk {
  mapStart: number;
  maps: number;
  inOffset: number;
  inSize: number;
  inBase: number;
  rowStart: number;
  outOffset: number;
  outSize: number;
  outBase: number;
}

/** Splits `N·C` maps so every input and output binding fits `limit` bytes at `align`. */
export function _plan(s: _Shape, limit: number, align: number): _Chunk[] {
  const hw = s.H * s.W, maps = s.N * s.C, rowBytes = s.dim * 4;
  const room = limit - align; // a sub-range starts up to `align − 4` bytes before its data
  const byInput = Math.floor(room / (hw * 4));
  const rows = Math.floor(room / rowBytes); // rows that fit one output binding
  // A chunk of M maps touches at most ceil(M/C) + 1 code rows.
  const byOutput = (rows - 1) * s.C;
  const per = Math.min(byInput, byOutput, 65535 * 65535);
  if (per < 1) {
    throw new RangeError(
      `Cannot reduce feature maps on the GPU: a ${limit}-byte storage binding must hold one ` +
        `map (${hw * 4} bytes) or two code rows (${2 * rowBytes} bytes) after up to ${align} ` +
        "bytes of alignment",
    );
  }
  const chunks: _Chunk[] = [];
  for (let m0 = 0; m0 < maps; m0 += per) {
    const m1 = Math.min(maps, m0 + per);
    const inStart = m0 * hw * 4, inEnd = m1 * hw * 4;
    const inOffset = Math.floor(inStart / align) * align;
    const r0 = Math.floor(m0 / s.C), r1 = Math.floor((m1 - 1) / s.C) + 1;
    const outStart = r0 * rowBytes, outEnd = r1 * rowBytes;
    const outOffset = Math.floor(outStart / align) * align;
    chunks.push({
      mapStart: m0,
      maps: m1 - m0,
      inOffset,
      inSize: inEnd - inOffset,
      inBase: (inStart - inOffset) / 4,
      rowStart: r0,
      outOffset,
      outSize: outEnd - outOffset,
      outBase: (outStart - outOffset) / 4,
    });
  }
  return chunks;
}

function _gpuOptions(ctx: GpuContext, options: GpuReduceOptions) {
  const lim = ctx.limits;
  const wg = options.workgroupSize ?? 64;
  if (!Number.isInteger(wg) || wg < 1 || wg > 256 || (wg & (wg - 1)) !== 0) {
    throw new RangeError(
      `Cannot reduce feature maps on the GPU: workgroupSize is ${wg} but expected a power of ` +
        "two in 1..256",
    );
  }
  const align = lim.minStorageBufferOffsetAlignment;
  const limit = options.maxBindingBytes ?? lim.maxStorageBufferBindingSize;
  if (!Number.isInteger(limit) || limit < 2 * align || limit > lim.maxStorageBufferBindingSize) {
    throw new RangeError(
      `Cannot reduce feature maps on the GPU: maxBindingBytes is ${limit} but expected an ` +
        `integer in ${2 * align}..${lim.maxStorageBufferBindingSize}`,
    );
  }
  const small = options.smallMapThreshold ?? (gpuPolicy(ctx).wgsl ? 32 : Infinity);
  if (!(small >= 0)) {
    throw new RangeError(
      `Cannot reduce feature maps on the GPU: smallMapThreshold is ${small} but expected ≥ 0`,
    );
  }
  return { wg, align, limit: limit - (limit % 4), small };
}

/**
 * Feature maps to vector codes on the GPU, leaving the codes in a GPU buffer (for a consumer
 * that stays on the GPU). Same contract as {@linkcode reduceFeatureMapsGpu}; the non-finite
 * check still reads back 4 bytes.
 *
 * @param ctx GPU context.
 * @param input Activations: a `Float32Array`, or a `GPUBuffer` with STORAGE usage holding them
 * from offset 0 (e.g. `tensor.gpuBuffer` of an onnxruntime-web output on the same device).
 * @param shape `[N, C, H, W]` or `[N, D]`.
 * @param options Centre-of-mass mode, binding limit, workgroup size.
 * @returns The codes buffer and its shape; release the buffer with `ctx.release`.
 * @throws {RangeError} If the shape is invalid, does not match the input, or the codes exceed
 * the device's `maxBufferSize`.
 * @throws {TypeError} If a `GPUBuffer` input lacks STORAGE usage.
 * @throws {DataFormatError} If an activation is NaN or ±Inf (naming example and channel).
 * @throws {GpuValidationError} If WebGPU reports an error.
 *
 * @example Chain on the GPU (GPU-only)
 * ```ts ignore
 * import { GpuContext, reduceFeatureMapsGpuToBuffer } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const ctx = await GpuContext.create();
 * const maps = new Float32Array(2 * 3 * 4 * 4);
 * const { buffer, shape } = await reduceFeatureMapsGpuToBuffer(ctx, maps, [2, 3, 4, 4]);
 * assertEquals(shape, [2, 12]);
 * ctx.release(buffer);
 * ```
 */
export async function reduceFeatureMapsGpuToBuffer(
  ctx: GpuContext,
  input: Float32Array | GPUBuffer,
  shape: readonly number[],
  options: GpuReduceOptions = {},
): Promise<GpuCodes> {
  const r = await _reduceOnGpu(ctx, input, shape, options);
  try {
    if (r.flag) {
      const bad = new Uint32Array(await ctx.read(r.flag, 4))[0];
      await _throwIfFlagged(ctx, input, r.s, bad);
    }
    return { buffer: r.out, shape: [r.s.N, r.s.dim] };
  } catch (e) {
    ctx.release(r.out);
    throw e;
  } finally {
    if (r.flag) ctx.release(r.flag);
  }
}

/** Validates, dispatches, and returns the codes buffer plus the unread non-finite flag. */
async function _reduceOnGpu(
  ctx: GpuContext,
  input: Float32Array | GPUBuffer,
  shape: readonly number[],
  options: GpuReduceOptions,
): Promise<{ out: GPUBuffer; flag: GPUBuffer | null; s: _Shape }> {
  const s = _checkShape(shape, options.com ?? "flat");
  const total = shape.reduce((a, b) => a * b, 1);
  const onGpu = _isGpuBuffer(input);
  if (onGpu) {
    if ((input.usage & 0x80) === 0) {
      throw new TypeError(
        `Cannot reduce feature maps on the GPU: buffer "${input.label}" lacks STORAGE usage`,
      );
    }
    _checkBufferSize(input, shape, total);
  } else _checkLength(input.length, shape);
  const o = _gpuOptions(ctx, options);
  const outBytes = s.N * s.dim * 4;
  if (outBytes > ctx.limits.maxBufferSize) {
    throw new RangeError(
      `Cannot reduce feature maps on the GPU: codes need ${outBytes} bytes but the device's ` +
        `maxBufferSize is ${ctx.limits.maxBufferSize}`,
    );
  }
  const out = ctx.acquire(outBytes, "feature_map_reduce codes");
  try {
    if (s.rank === 2) {
      const data = onGpu ? new Float32Array(await ctx.read(input, total * 4)) : input;
      ctx.write(out, _passThrough(data, s));
      return { out, flag: null, s };
    }
    if (s.N === 0) return { out, flag: null, s };
    return { out, flag: await _dispatchReduce(ctx, input, s, o, out), s };
  } catch (e) {
    ctx.release(out);
    throw e;
  }
}

/** Throws the DataFormatError for flagged map `bad` (no-op for 0xffffffff). */
async function _throwIfFlagged(
  ctx: GpuContext,
  input: Float32Array | GPUBuffer,
  s: _Shape,
  bad: number,
): Promise<void> {
  if (bad === 0xffffffff) return;
  const hw = s.H * s.W;
  const map = _isGpuBuffer(input)
    ? new Float32Array(await ctx.read(input, hw * 4, bad * hw * 4))
    : input.subarray(bad * hw, (bad + 1) * hw);
  throw _nonFiniteError(map, s, bad);
}

/** Reads several buffers' leading bytes with one copy and one map (one round trip). */
async function _readTogether(
  ctx: GpuContext,
  parts: { buffer: GPUBuffer; bytes: number }[],
): Promise<ArrayBuffer[]> {
  const offsets: number[] = [];
  let size = 0;
  for (const p of parts) {
    offsets.push(size);
    size += Math.ceil(p.bytes / 4) * 4;
  }
  const staging = ctx.device.createBuffer({
    label: "feature_map_reduce readback",
    size: Math.max(size, 4),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    await ctx.scoped("read back feature-map codes", () => {
      const enc = ctx.device.createCommandEncoder({ label: "feature_map_reduce readback" });
      parts.forEach((p, i) => {
        const n = Math.ceil(p.bytes / 4) * 4;
        if (n > 0) enc.copyBufferToBuffer(p.buffer, 0, staging, offsets[i], n);
      });
      ctx.device.queue.submit([enc.finish()]);
    });
    await staging.mapAsync(GPUMapMode.READ);
    const all = staging.getMappedRange();
    return parts.map((p, i) => all.slice(offsets[i], offsets[i] + p.bytes));
  } finally {
    staging.destroy();
  }
}

async function _dispatchReduce(
  ctx: GpuContext,
  input: Float32Array | GPUBuffer,
  s: _Shape,
  o: { wg: number; align: number; limit: number; small: number },
  out: GPUBuffer,
): Promise<GPUBuffer> {
  const hw = s.H * s.W;
  const perThread = hw <= o.small;
  const entry = perThread ? "map_per_thread" : "map_per_workgroup";
  const pipeline = await ctx.pipeline(
    "feature_map_reduce",
    `${gridIndexSource}\n${shaderSource}`,
    { WG: o.wg, COM_XY: s.xy ? 1 : 0 },
    entry,
  );
  const chunks = _plan(s, o.limit, o.align);
  const flag = ctx.upload(new Uint32Array([0xffffffff]), "feature_map_reduce flag");
  const temps: GPUBuffer[] = [];
  const uniforms: GPUBuffer[] = [];
  try {
    const passes = [];
    const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
    for (const ch of chunks) {
      let src: GPUBufferBinding;
      let inBase = ch.inBase;
      if (_isGpuBuffer(input)) {
        src = { buffer: input, offset: ch.inOffset, size: ch.inSize };
      } else {
        // Upload just this chunk's maps; its first map is then at element 0.
        const part = input.subarray(ch.mapStart * hw, (ch.mapStart + ch.maps) * hw);
        const buf = ctx.upload(part, "feature_map_reduce input");
        temps.push(buf);
        src = { buffer: buf, offset: 0, size: part.byteLength };
        inBase = 0;
      }
      const u = ctx.uniform(
        _params({
          maps: ch.maps,
          hw,
          height: s.H,
          width: s.W,
          channels: s.C,
          dim: s.dim,
          inBase,
          outBase: ch.outBase,
          mapStart: ch.mapStart,
          rowStart: ch.rowStart,
        }),
        "feature_map_reduce params",
      );
      uniforms.push(u);
      const groups = perThread ? Math.ceil(ch.maps / o.wg) : ch.maps;
      const gx = Math.min(groups, maxDim);
      const gy = Math.ceil(groups / gx);
      passes.push({
        pipeline,
        entries: [
          { binding: 0, resource: src },
          { binding: 1, resource: { buffer: out, offset: ch.outOffset, size: ch.outSize } },
          { binding: 2, resource: { buffer: flag, offset: 0, size: 4 } },
          { binding: 3, resource: { buffer: u } },
        ],
        workgroups: [gx, gy] as [number, number],
      });
    }
    await ctx.dispatch("feature_map_reduce", passes);
    return flag;
  } catch (e) {
    ctx.release(flag);
    throw e;
  } finally {
    ctx.release(...temps);
    for (const u of uniforms) u.destroy();
  }
}

/**
 * Feature maps to vector codes with the WGSL kernel `shaders/feature_map_reduce.wgsl` (float32,
 * two-pass mean/std). Inputs larger than the binding limit are split over maps and bound as
 * sub-ranges; a `GPUBuffer` input is read in place (no round trip through the CPU).
 * Agrees with {@linkcode reduceFeatureMapsReference} within 5e-6 absolute + 5e-6 relative (the
 * tolerance the tests assert; measured worst case on llvmpipe at ResNet18 sizes: 1.2e-7).
 *
 * @param ctx GPU context.
 * @param input Activations: a `Float32Array`, or a `GPUBuffer` with STORAGE usage holding them
 * from offset 0 (e.g. `tensor.gpuBuffer` of an onnxruntime-web output with
 * `preferredOutputLocation: "gpu-buffer"`, on the same device as `ctx`).
 * @param shape `[N, C, H, W]` or `[N, D]`.
 * @param options Centre-of-mass mode, binding limit, workgroup size.
 * @returns `N×dim` codes.
 * @throws {RangeError} If the shape is invalid or does not match the input.
 * @throws {TypeError} If a `GPUBuffer` input lacks STORAGE usage.
 * @throws {DataFormatError} If an activation is NaN or ±Inf (naming example and channel).
 * @throws {GpuValidationError} If WebGPU reports an error.
 *
 * @example (GPU-only)
 * ```ts ignore
 * import { GpuContext, reduceFeatureMapsGpu } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const ctx = await GpuContext.create();
 * const maps = new Float32Array(2 * 3 * 4 * 4).fill(1);
 * const codes = await reduceFeatureMapsGpu(ctx, maps, [2, 3, 4, 4]);
 * assertEquals(codes.length, 24);
 * ```
 */
export async function reduceFeatureMapsGpu(
  ctx: GpuContext,
  input: Float32Array | GPUBuffer,
  shape: readonly number[],
  options: GpuReduceOptions = {},
): Promise<Float32Array> {
  const r = await _reduceOnGpu(ctx, input, shape, options);
  try {
    const bytes = r.s.N * r.s.dim * 4;
    const parts = [{ buffer: r.out, bytes }];
    if (r.flag) parts.push({ buffer: r.flag, bytes: 4 });
    const [codes, flag] = await _readTogether(ctx, parts);
    if (flag) await _throwIfFlagged(ctx, input, r.s, new Uint32Array(flag)[0]);
    return new Float32Array(codes);
  } finally {
    ctx.release(r.out);
    if (r.flag) ctx.release(r.flag);
  }
}

/**
 * Feature maps to vector codes with a chosen backend (see {@linkcode reduceFeatureMapsReference}
 * for the definition).
 *
 * @param input Activations, or a `GPUBuffer` holding them (then `ctx` is required).
 * @param shape `[N, C, H, W]` or `[N, D]`.
 * @param options `backend` (default `"auto"`: webgpu on a non-fallback adapter when `ctx` is
 * given, else cpu), `ctx`, `com`, and the GPU options.
 * @returns `N×dim` codes.
 * @throws {RangeError} If the backend name is unknown, or the shape is invalid.
 * @throws {TypeError} If `ctx` is missing where needed.
 * @throws {DataFormatError} If an activation is NaN or ±Inf (naming example and channel).
 *
 * @example
 * ```ts
 * import { codeDimension, reduceFeatureMaps } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const shape = [2, 3, 5, 5];
 * const codes = await reduceFeatureMaps(new Float32Array(150).fill(2), shape, { backend: "cpu" });
 * assertEquals(codes.length, 2 * codeDimension(shape));
 * assertEquals(Array.from(codes.subarray(0, 12)), [2, 2, 2, 2, 2, 2, 0, 0, 0, 0.5, 0.5, 0.5]);
 * ```
 */
export async function reduceFeatureMaps(
  input: Float32Array | GPUBuffer,
  shape: readonly number[],
  options: ReduceFeatureMapsOptions = {},
): Promise<Float32Array> {
  const requested = options.backend ?? "auto";
  if (!BACKENDS.includes(requested)) {
    throw new RangeError(
      `Cannot reduce feature maps: backend is "${requested}" but expected one of ` +
        BACKENDS.map((b) => `"${b}"`).join(", "),
    );
  }
  const ctx = options.ctx;
  const backend = requested === "auto" ? (gpuPolicy(ctx).wgsl ? "webgpu" : "cpu") : requested;
  if (backend === "webgpu") {
    if (!ctx) {
      throw new TypeError('Cannot reduce feature maps: backend "webgpu" needs options.ctx');
    }
    return await reduceFeatureMapsGpu(ctx, input, shape, options);
  }
  let data: Float32Array;
  if (_isGpuBuffer(input)) {
    if (!ctx) {
      throw new TypeError(
        "Cannot reduce feature maps: a GPUBuffer input needs options.ctx to be read back",
      );
    }
    const s = _checkShape(shape, options.com ?? "flat");
    const total = s.rank === 2 ? s.N * s.C : s.N * s.C * s.H * s.W;
    _checkBufferSize(input, shape, total);
    data = new Float32Array(await ctx.read(input, total * 4));
  } else data = input;
  const opts = { com: options.com };
  return backend === "cpu"
    ? reduceFeatureMapsCpu(data, shape, opts)
    : reduceFeatureMapsReference(data, shape, opts);
}
