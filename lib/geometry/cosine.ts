/**
 * Cosine distances with the SOM's convention (SOM.md "Metric"; SPEC §3), the one implementation
 * used by the SOM and the analyses: `1 − a·b / (max(‖a‖, 1e-8) · max(‖b‖, 1e-8))` for every pair,
 * the diagonal included, so a zero vector has distance 1 to everything, itself too, and a
 * nonzero vector 0 to itself up to rounding.
 *
 * The `K×K` matrix between unit weights (weight similarity, Fig. 6C,D) comes as a plain float64
 * reference (`…Reference`), a fast CPU path, a native path (`…Native`: one onnxruntime-node
 * Gemm, 10× the JavaScript one) and a WGSL kernel (`…Gpu`).
 *
 * @module
 */

import type { GpuContext } from "../gpu/context.ts";
import { checkThreads, createSession } from "../model/ort.ts";
import { packStructs, type StructLayout, structLayout } from "../gpu/layout.ts";
import gridIndexSource from "../../shaders/grid_index.wgsl" with { type: "text" };
import cosineSource from "../../shaders/cosine_matrix.wgsl" with { type: "text" };

/** `Params` of `shaders/cosine_matrix.wgsl`. */
export const COSINE_PARAMS: StructLayout = structLayout("Params", [
  ["k", "u32"],
  ["d4", "u32"],
  ["blocks", "u32"],
  ["_pad", "u32"],
]);

/**
 * Cosine distance between two vectors stored in arrays, with the guarded norms.
 *
 * @param a Array holding the first vector.
 * @param ao Offset of the first vector.
 * @param b Array holding the second vector.
 * @param bo Offset of the second vector.
 * @param d Dimension.
 * @returns `1 − a·b / (max(‖a‖, 1e-8) · max(‖b‖, 1e-8))`; 1 when either is a zero vector.
 *
 * @example
 * ```ts
 * import { cosineDist } from "./cosine.ts";
 * import { strictEqual } from "node:assert";
 * strictEqual(cosineDist([1, 0, 0, 2], 0, [1, 0, 0, 2], 2, 2), 1);
 * ```
 */
export function cosineDist(
  a: ArrayLike<number>,
  ao: number,
  b: ArrayLike<number>,
  bo: number,
  d: number,
): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < d; i++) {
    const x = a[ao + i], y = b[bo + i];
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return 1 - dot / (Math.max(Math.sqrt(na), 1e-8) * Math.max(Math.sqrt(nb), 1e-8));
}

/**
 * Row norms of a `K×d` matrix, floored at 1e-8 (float64).
 *
 * @param w The matrix, row-major.
 * @param K Rows.
 * @param d Columns.
 * @returns The `K` norms.
 *
 * @example
 * ```ts
 * import { rowNorms } from "./cosine.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(Array.from(rowNorms([3, 4, 0, 0], 2, 2)), [5, 1e-8]);
 * ```
 */
export function rowNorms(w: ArrayLike<number>, K: number, d: number): Float64Array {
  const out = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += w[k * d + i] * w[k * d + i];
    out[k] = Math.max(Math.sqrt(s), 1e-8);
  }
  return out;
}

function _checkWeights(what: string, weights: Float32Array, K: number, d: number): void {
  if (!Number.isSafeInteger(K) || K < 1 || !Number.isSafeInteger(d) || d < 1) {
    throw new RangeError(`Cannot ${what}: K=${K}, d=${d} but expected positive integers`);
  }
  if (weights.length !== K * d) {
    throw new RangeError(
      `Cannot ${what}: weights have ${weights.length} values but K×d = ${K}×${d} needs ${K * d}`,
    );
  }
  for (let i = 0; i < weights.length; i++) {
    const v = weights[i];
    if (v - v !== 0) {
      throw new RangeError(
        `Cannot ${what}: weight ${Math.floor(i / d)} component ${i % d} is ${v} but expected ` +
          "a finite number",
      );
    }
  }
}

/**
 * Cosine distances between all pairs of `K` weight vectors, the float64 definition: entry
 * `i·K + j` is `1 − w_i·w_j / (max(‖w_i‖, 1e-8) · max(‖w_j‖, 1e-8))` (SOM.md "Metric"),
 * applied to every pair, the diagonal included. So a zero vector has distance 1 to everything,
 * itself too (SPEC §3: "a zero vector has cosine distance 1 to everything"), and a nonzero
 * vector distance 0 to itself up to rounding.
 *
 * @param weights `K×d` weights, row-major.
 * @param K Number of vectors (units).
 * @param d Dimension.
 * @returns `K×K` distances (float64 results rounded to float32), exactly symmetric.
 * @throws {RangeError} If sizes mismatch or a weight is not finite.
 *
 * @example
 * ```ts
 * import { cosineDistanceMatrixReference } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const w = new Float32Array([1, 0, 0, 2, 0, 0]);
 * assertEquals(Array.from(cosineDistanceMatrixReference(w, 3, 2)), [0, 1, 1, 1, 0, 1, 1, 1, 1]);
 * ```
 */
export function cosineDistanceMatrixReference(
  weights: Float32Array,
  K: number,
  d: number,
): Float32Array {
  _checkWeights("compute cosine distance matrix", weights, K, d);
  const norms = rowNorms(weights, K, d);
  const out = new Float32Array(K * K);
  for (let i = 0; i < K; i++) {
    for (let j = i; j < K; j++) {
      let dot = 0;
      for (let t = 0; t < d; t++) dot += weights[i * d + t] * weights[j * d + t];
      out[i * K + j] = out[j * K + i] = 1 - dot / (norms[i] * norms[j]);
    }
  }
  return out;
}

/**
 * Rows scaled to unit length with the SOM's floor, `w / max(‖w‖, 1e-8)` (float64 norms, float32
 * storage), into `rows×d` (rows past `K` stay zero: padding). Shared by the cosine matrices and
 * the CPU backend's BMU search; not part of `mod.ts`.
 *
 * @param weights `K×d` rows, row-major (not validated).
 * @param K Number of rows.
 * @param d Dimension.
 * @param rows Rows of the result (at least `K`). Default `K`.
 * @returns `rows×d` unit rows.
 */
export function unitRows(weights: Float32Array, K: number, d: number, rows = K): Float32Array {
  const u = new Float32Array(rows * d);
  for (let k = 0; k < K; k++) {
    const base = k * d;
    let s = 0;
    for (let t = base; t < base + d; t++) s += weights[t] * weights[t];
    const inv = 1 / Math.max(Math.sqrt(s), 1e-8);
    for (let t = base; t < base + d; t++) u[t] = weights[t] * inv;
  }
  return u;
}

/**
 * Cosine distances between all pairs of `K` weight vectors, the fast CPU path: rows are scaled
 * by `1/max(‖w‖, 1e-8)` once (float64 norms), then a cache-blocked dot product computes each
 * 4×4 tile of the upper triangle with 16 float64 register accumulators and mirrors it. Same definition as
 * {@linkcode cosineDistanceMatrixReference} (zero vector: distance 1 to everything, itself
 * too); agrees with it within 1e-6.
 *
 * @param weights `K×d` weights, row-major.
 * @param K Number of vectors (units).
 * @param d Dimension.
 * @returns `K×K` distances, exactly symmetric.
 * @throws {RangeError} If sizes mismatch or a weight is not finite.
 *
 * @example Orthogonal, parallel and opposite vectors
 * ```ts
 * import { cosineDistanceMatrix } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const w = new Float32Array([3, 0, 0, 5, -1, 0]);
 * assertEquals(Array.from(cosineDistanceMatrix(w, 3, 2)), [0, 1, 2, 1, 0, 1, 2, 1, 0]);
 * ```
 */
export function cosineDistanceMatrix(weights: Float32Array, K: number, d: number): Float32Array {
  _checkWeights("compute cosine distance matrix", weights, K, d);
  const K4 = Math.ceil(K / 4) * 4;
  // Normalised rows (float64 norms, float32 storage: half the memory traffic), padded with zero
  // rows to a multiple of 4 (their results are dropped).
  const u = unitRows(weights, K, d, K4);
  // Dot products of the upper triangle, accumulated in float64 over slices of the dimension so
  // that a panel of PANEL rows × SLICE coordinates (128 KiB) stays in L2 while every 4-row block
  // of the triangle above it streams past.
  const SLICE = 512, PANEL = 64;
  const acc = new Float64Array(K4 * K4);
  for (let t0 = 0; t0 < d; t0 += SLICE) {
    const t1 = Math.min(d, t0 + SLICE);
    for (let p0 = 0; p0 < K4; p0 += PANEL) {
      const p1 = Math.min(K4, p0 + PANEL);
      for (let i = 0; i < p1; i += 4) {
        const a0 = i * d, a1 = a0 + d, a2 = a1 + d, a3 = a2 + d;
        for (let j = Math.max(i, p0); j < p1; j += 4) {
          const b0 = j * d, b1 = b0 + d, b2 = b1 + d, b3 = b2 + d;
          let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
          let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
          for (let t = t0; t < t1; t++) {
            const x0 = u[a0 + t], x1 = u[a1 + t], x2 = u[a2 + t], x3 = u[a3 + t];
            const y0 = u[b0 + t], y1 = u[b1 + t], y2 = u[b2 + t], y3 = u[b3 + t];
            s00 += x0 * y0, s01 += x0 * y1, s02 += x0 * y2, s03 += x0 * y3;
            s10 += x1 * y0, s11 += x1 * y1, s12 += x1 * y2, s13 += x1 * y3;
            s20 += x2 * y0, s21 += x2 * y1, s22 += x2 * y2, s23 += x2 * y3;
            s30 += x3 * y0, s31 += x3 * y1, s32 += x3 * y2, s33 += x3 * y3;
          }
          let o = i * K4 + j;
          acc[o] += s00, acc[o + 1] += s01, acc[o + 2] += s02, acc[o + 3] += s03;
          o += K4;
          acc[o] += s10, acc[o + 1] += s11, acc[o + 2] += s12, acc[o + 3] += s13;
          o += K4;
          acc[o] += s20, acc[o + 1] += s21, acc[o + 2] += s22, acc[o + 3] += s23;
          o += K4;
          acc[o] += s30, acc[o + 1] += s31, acc[o + 2] += s32, acc[o + 3] += s33;
        }
      }
    }
  }
  const out = new Float32Array(K * K);
  for (let i = 0; i < K; i++) {
    // Entry (i, j ≥ i) of the triangle; the diagonal tile's lower half is taken from its upper.
    for (let j = i; j < K; j++) out[i * K + j] = out[j * K + i] = 1 - acc[i * K4 + j];
  }
  return out;
}

/**
 * Cosine distances between all pairs of `K` weight vectors at native speed: rows are scaled by
 * `1/max(‖w‖, 1e-8)` (float64 norms) and `1 − UUᵀ` is one `Gemm` run by onnxruntime-node (MLAS
 * SGEMM, float32), then the upper triangle is mirrored so the result is exactly symmetric. Same
 * definition as {@linkcode cosineDistanceMatrixReference} (zero vector: distance 1 to
 * everything, itself too); agrees with it within 1e-5. onnxruntime-node is loaded on first use.
 *
 * @param weights `K×d` weights, row-major.
 * @param K Number of vectors (units).
 * @param d Dimension.
 * @param options `threads`: intra-op threads (default `navigator.hardwareConcurrency`).
 * @returns `K×K` distances.
 * @throws {RangeError} If sizes mismatch, a weight is not finite, or `threads` is invalid.
 *
 * @example
 * ```ts
 * import { cosineDistanceMatrixNative } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const w = new Float32Array([3, 0, 0, 5, -1, 0, 0, 0]);
 * const D = await cosineDistanceMatrixNative(w, 4, 2);
 * assertEquals(Array.from(D.subarray(0, 4)), [0, 1, 2, 1]);
 * assertEquals(D[15], 1); // zero vector
 * ```
 */
export async function cosineDistanceMatrixNative(
  weights: Float32Array,
  K: number,
  d: number,
  options: { threads?: number } = {},
): Promise<Float32Array> {
  const what = "compute cosine distance matrix";
  _checkWeights(what, weights, K, d);
  const threads = checkThreads(what, options.threads);
  const u = unitRows(weights, K, d);
  const { DT, encodeModel, F, model, node, tensor, valueInfo } = await import("../onnx/proto.ts");
  const bytes = encodeModel(model({
    name: "cosine_distance_matrix",
    node: [node("Gemm", ["U", "U", "one"], ["D"], { transB: 1, alpha: new F(-1), beta: new F(1) })],
    initializer: [tensor("one", [], new Float32Array([1]))],
    input: [valueInfo("U", DT.FLOAT, ["K", "d"])],
    output: [valueInfo("D", DT.FLOAT, ["K", "K"])],
  }, { opset: 17 }));
  const { ort, session } = await createSession(bytes, {
    threads,
    what: "the cosine distance matrix",
  });
  try {
    const result = await session.run({ U: new ort.Tensor("float32", u, [K, d]) });
    const D = new Float32Array(result.D.data as Float32Array);
    for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) D[j * K + i] = D[i * K + j];
    return D;
  } finally {
    await session.release();
  }
}

/**
 * Cosine distances between all pairs of `K` weight vectors with the WGSL kernel
 * `shaders/cosine_matrix.wgsl` (4×4 register tiles over the upper triangle, float32; same
 * definition as {@linkcode cosineDistanceMatrixReference}, exactly symmetric). Agrees with the
 * reference within 1e-5 (float32 dot products; measured on llvmpipe with SOM-like, nearly
 * parallel rows: 1.2e-6 at d = 2048, 3.0e-6 at d = 8192).
 *
 * @param ctx GPU context.
 * @param weights `K×d` weights, row-major.
 * @param K Number of vectors (units).
 * @param d Dimension.
 * @param options `workgroupSize` (default 64); each invocation computes a 4×4 block.
 * @returns `K×K` distances.
 * @throws {RangeError} If sizes mismatch, a weight is not finite, or the weights or the matrix
 * exceed the device's storage binding limit.
 * @throws {GpuValidationError} If WebGPU reports an error.
 *
 * @example (GPU-only)
 * ```ts ignore
 * import { cosineDistanceMatrixGpu, GpuContext } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const ctx = await GpuContext.create();
 * const d = await cosineDistanceMatrixGpu(ctx, new Float32Array([1, 0, 0, 1]), 2, 2);
 * assertEquals(Array.from(d), [0, 1, 1, 0]);
 * ```
 */
export async function cosineDistanceMatrixGpu(
  ctx: GpuContext,
  weights: Float32Array,
  K: number,
  d: number,
  options: { workgroupSize?: number } = {},
): Promise<Float32Array> {
  const what = "compute cosine distance matrix on the GPU";
  _checkWeights(what, weights, K, d);
  const lim = ctx.limits;
  const WG = options.workgroupSize ?? 64;
  if (!Number.isInteger(WG) || WG < 1 || WG > lim.maxComputeInvocationsPerWorkgroup) {
    throw new RangeError(
      `Cannot ${what}: workgroupSize is ${WG} but expected an integer in ` +
        `1..${lim.maxComputeInvocationsPerWorkgroup}`,
    );
  }
  const B = Math.ceil(K / 4), K4 = 4 * B, d4 = Math.ceil(d / 4);
  for (
    const [name, bytes] of [["weights", K4 * d4 * 16], ["distance matrix", K * K * 4]] as const
  ) {
    if (bytes > lim.maxStorageBufferBindingSize) {
      throw new RangeError(
        `Cannot ${what}: the ${name} take ${bytes} bytes but the device binds at most ` +
          `${lim.maxStorageBufferBindingSize}`,
      );
    }
  }
  // Pad to K4 rows of 4·d4 floats with zeros (no effect on dot products or norms).
  let padded = weights;
  if (K4 !== K || 4 * d4 !== d) {
    padded = new Float32Array(K4 * d4 * 4);
    for (let k = 0; k < K; k++) padded.set(weights.subarray(k * d, (k + 1) * d), k * d4 * 4);
  }
  const src = `${gridIndexSource}\n${cosineSource}`;
  const norms = await ctx.pipeline("cosine_matrix", src, { WG }, "row_norms");
  const matrix = await ctx.pipeline("cosine_matrix", src, { WG }, "matrix");
  using own = ctx.lease();
  const w = own.upload(padded, "cosine_matrix weights");
  const inv = own.acquire(K4 * 4, "cosine_matrix inverse norms");
  const out = own.acquire(K * K * 4, "cosine_matrix out");
  const u = own.uniform(
    new Uint8Array(packStructs(COSINE_PARAMS, [{ k: K, d4, blocks: B }])),
    "cosine_matrix params",
  );
  const groups = Math.ceil((B * B) / WG);
  const gx = Math.min(groups, lim.maxComputeWorkgroupsPerDimension);
  const wBinding = { buffer: w, offset: 0, size: padded.byteLength };
  const invBinding = { buffer: inv, offset: 0, size: K4 * 4 };
  await ctx.dispatch("cosine_matrix", [
    {
      pipeline: norms,
      entries: [
        { binding: 0, resource: wBinding },
        { binding: 1, resource: invBinding },
        { binding: 3, resource: { buffer: u } },
      ],
      workgroups: [Math.ceil(K4 / WG)],
    },
    {
      pipeline: matrix,
      entries: [
        { binding: 0, resource: wBinding },
        { binding: 1, resource: invBinding },
        { binding: 2, resource: { buffer: out, offset: 0, size: K * K * 4 } },
        { binding: 3, resource: { buffer: u } },
      ],
      workgroups: [gx, Math.ceil(groups / gx)],
    },
  ]);
  return new Float32Array(await ctx.read(out, K * K * 4));
}
