/**
 * Grid geometry of a toroidal SOM, shared by the SOM and the analyses (SPEC §3, §4; SOM.md
 * "Units and grid"): unit positions, squared grid distances between units (the neighbourhood
 * table), torus distances between continuous positions (BMU sets versus class centres), and
 * cosine distance matrices between unit weights (weight similarity, Fig. 6C,D).
 *
 * Unit `k` of an `m×n` grid sits at row `floor(k/n)`, column `k mod n` (row-major). On a
 * periodic grid (a torus) the row difference `Δr` is taken modulo `m` and replaced by
 * `min(Δr, m − Δr)`, the column difference likewise with `n`; non-square grids are handled
 * (QuickSOM's own table is wrong for them, ours is not).
 *
 * The pairwise kernels come as a CPU path and a WGSL kernel (`…Gpu`). The cosine matrix also
 * has a plain float64 reference (`…Reference`) and a native path (`…Native`: one
 * onnxruntime-node Gemm, 10× the JavaScript one); for torus distances the CPU path is the
 * float64 definition itself. The cosine convention everywhere: the SOM's formula with
 * `max(‖·‖, 1e-8)` norms for every pair, the diagonal included, so a zero vector has distance
 * 1 to everything, itself too (SPEC §3), and a nonzero vector 0 to itself up to rounding.
 *
 * @module
 */

import type { GpuContext } from "../gpu/context.ts";
import torusSource from "../../shaders/torus_distances.wgsl" with { type: "text" };
import cosineSource from "../../shaders/cosine_matrix.wgsl" with { type: "text" };

/**
 * Row and column of unit `k` on a grid with `n` columns (row-major).
 *
 * @param k Unit index (`0 ≤ k`).
 * @param n Number of columns.
 * @returns `[row, column]`.
 * @throws {RangeError} If `k` is not a non-negative integer or `n` not a positive integer.
 *
 * @example
 * ```ts
 * import { unitPosition } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(unitPosition(7, 3), [2, 1]);
 * ```
 */
export function unitPosition(k: number, n: number): [number, number] {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot locate unit: grid has ${n} columns but expected a positive integer`,
    );
  }
  if (!Number.isInteger(k) || k < 0) {
    throw new RangeError(`Cannot locate unit: index is ${k} but expected a non-negative integer`);
  }
  return [Math.floor(k / n), k % n];
}

/** Validates an `m×n` grid shape; returns `K = m·n`. */
function _checkGrid(what: string, m: number, n: number): number {
  if (!Number.isInteger(m) || m < 1 || !Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot ${what}: grid is ${m}×${n} but expected positive integer rows and columns`,
    );
  }
  return m * n;
}

/**
 * Squared grid distance between units `a` and `b` of an `m×n` grid (SOM.md): on a torus
 * `di = min(|Δi|, m − |Δi|)`, `dj = min(|Δj|, n − |Δj|)`, `D2 = di² + dj²`; without
 * `periodic` plain `Δi² + Δj²`.
 *
 * @param a First unit index (`0 ≤ a < m·n`).
 * @param b Second unit index.
 * @param m Rows.
 * @param n Columns.
 * @param periodic Wrap around (torus). Default true.
 * @returns The squared distance, an integer.
 * @throws {RangeError} If the grid or a unit index is invalid.
 *
 * @example Wrap-around on a 4×5 torus
 * ```ts
 * import { torusD2 } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(torusD2(0, 4, 4, 5), 1); // columns 0 and 4 are neighbours
 * assertEquals(torusD2(0, 4, 4, 5, false), 16);
 * ```
 */
export function torusD2(a: number, b: number, m: number, n: number, periodic = true): number {
  const K = _checkGrid("compute grid distance", m, n);
  for (const u of [a, b]) {
    if (!Number.isInteger(u) || u < 0 || u >= K) {
      throw new RangeError(
        `Cannot compute grid distance: unit ${u} is outside the ${m}×${n} grid (0..${K - 1})`,
      );
    }
  }
  return _d2(a, b, m, n, periodic);
}

function _d2(a: number, b: number, m: number, n: number, periodic: boolean): number {
  let di = Math.abs(Math.floor(a / n) - Math.floor(b / n));
  let dj = Math.abs((a % n) - (b % n));
  if (periodic) {
    di = Math.min(di, m - di);
    dj = Math.min(dj, n - dj);
  }
  return di * di + dj * dj;
}

/**
 * Torus distance between two continuous grid positions (SPEC §3): the row difference is
 * reduced modulo `m` and replaced by `min(Δr, m − Δr)`, the column difference likewise with
 * `n`, and the result is `sqrt(Δr² + Δc²)`. Positions may lie outside `[0,m)×[0,n)` (e.g.
 * unfolded BMU positions); they are wrapped first.
 *
 * @param p First position `[row, column]`.
 * @param q Second position `[row, column]`.
 * @param m Rows of the torus.
 * @param n Columns of the torus.
 * @returns The wrapped Euclidean distance, at most `sqrt((m/2)² + (n/2)²)`.
 * @throws {RangeError} If the grid is invalid or a coordinate is not finite.
 *
 * @example
 * ```ts
 * import { torusDistance } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(torusDistance([0.5, 0], [19.5, 0], 20, 20), 1);
 * assertEquals(torusDistance([0, 0], [3, 4], 20, 20), 5);
 * ```
 */
export function torusDistance(
  p: readonly [number, number] | ArrayLike<number>,
  q: readonly [number, number] | ArrayLike<number>,
  m: number,
  n: number,
): number {
  _checkGrid("compute torus distance", m, n);
  for (const v of [p[0], p[1], q[0], q[1]]) {
    if (!Number.isFinite(v)) {
      throw new RangeError(
        `Cannot compute torus distance: coordinate is ${v} but expected a finite number`,
      );
    }
  }
  const dr = _wrap(p[0] - q[0], m);
  const dc = _wrap(p[1] - q[1], n);
  return Math.sqrt(dr * dr + dc * dc);
}

/** `min(|x| mod L, L − |x| mod L)`: the shortest signed-free offset on a circle of length L. */
function _wrap(x: number, L: number): number {
  let d = Math.abs(x);
  if (d >= L) d %= L; // float modulo is slow; positions inside the grid never need it
  if (d > L - d) d = L - d;
  return d;
}

/**
 * The `K×K` table of squared grid distances between all units (`K = m·n`, row-major), as used
 * by the SOM neighbourhood `exp(−D2/(2σ²+1e-5))`. Exact integers in float32.
 *
 * @param m Rows.
 * @param n Columns.
 * @param periodic Wrap around (torus). Default true.
 * @returns `Float32Array` of length `K²`; entry `a·K + b` is `D2(a, b)`.
 * @throws {RangeError} If the grid is invalid.
 *
 * @example A 2×3 torus
 * ```ts
 * import { gridD2Table } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const t = gridD2Table(2, 3);
 * assertEquals(Array.from(t.subarray(0, 6)), [0, 1, 1, 1, 2, 2]);
 * ```
 */
export function gridD2Table(m: number, n: number, periodic = true): Float32Array {
  const K = _checkGrid("build grid distance table", m, n);
  // Row and column offsets each take few values; precompute their squares once.
  const rowD2 = new Float64Array(m), colD2 = new Float64Array(n);
  for (let d = 0; d < m; d++) {
    const w = periodic ? Math.min(d, m - d) : d;
    rowD2[d] = w * w;
  }
  for (let d = 0; d < n; d++) {
    const w = periodic ? Math.min(d, n - d) : d;
    colD2[d] = w * w;
  }
  const out = new Float32Array(K * K);
  for (let a = 0; a < K; a++) {
    const ia = Math.floor(a / n), ja = a % n;
    const row = a * K;
    for (let b = 0; b < K; b++) {
      const ib = Math.floor(b / n), jb = b % n;
      out[row + b] = rowD2[Math.abs(ia - ib)] + colD2[Math.abs(ja - jb)];
    }
  }
  return out;
}

function _checkPositions(what: string, name: string, x: ArrayLike<number>): number {
  if (x.length % 2 !== 0) {
    throw new RangeError(
      `Cannot ${what}: ${name} has ${x.length} values but expected (row, column) pairs`,
    );
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new RangeError(
        `Cannot ${what}: ${name} position ${i >> 1} has coordinate ${x[i]} but expected finite`,
      );
    }
  }
  return x.length / 2;
}

/**
 * Torus distances between every position of `a` and every position of `b` on an `m×n` torus
 * (the definition of {@linkcode torusDistance}, in float64, rounded to float32). This is the
 * CPU path and the reference of {@linkcode pairwiseTorusDistancesGpu}.
 *
 * @param a `P×2` positions `(row, column)`, row-major (continuous, any real values).
 * @param b `Q×2` positions.
 * @param m Rows of the torus.
 * @param n Columns of the torus.
 * @returns `P×Q` distances, row-major: entry `i·Q + j` is the distance from `a[i]` to `b[j]`.
 * @throws {RangeError} If the grid is invalid, a length is odd or a coordinate not finite.
 *
 * @example BMUs versus a class centre
 * ```ts
 * import { pairwiseTorusDistances } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const bmus = new Float32Array([0, 0, 19, 0, 3, 4]);
 * assertEquals(Array.from(pairwiseTorusDistances(bmus, new Float32Array([0, 0]), 20, 20)), [0, 1, 5]);
 * ```
 */
export function pairwiseTorusDistances(
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
): Float32Array {
  const what = "compute torus distances";
  _checkGrid(what, m, n);
  const P = _checkPositions(what, "a", a), Q = _checkPositions(what, "b", b);
  const out = new Float32Array(P * Q);
  for (let i = 0; i < P; i++) {
    const ar = a[2 * i], ac = a[2 * i + 1];
    const row = i * Q;
    for (let j = 0; j < Q; j++) {
      const dr = _wrap(ar - b[2 * j], m), dc = _wrap(ac - b[2 * j + 1], n);
      out[row + j] = Math.sqrt(dr * dr + dc * dc);
    }
  }
  return out;
}

/**
 * Torus distances between every position of `a` and every position of `b`, with the WGSL kernel
 * `shaders/torus_distances.wgsl` (float32; rows split so each output binding fits the device's
 * limit). Agrees with {@linkcode pairwiseTorusDistances} within 1e-5 on grids up to 40×40.
 *
 * @param ctx GPU context.
 * @param a `P×2` positions `(row, column)`, row-major.
 * @param b `Q×2` positions.
 * @param m Rows of the torus.
 * @param n Columns of the torus.
 * @param options `maxBindingBytes`: the largest output binding (default the device limit;
 * smaller values test the splitting).
 * @returns `P×Q` distances, row-major.
 * @throws {RangeError} If the grid or positions are invalid or too large for the device.
 * @throws {GpuValidationError} If WebGPU reports an error.
 *
 * @example (GPU-only)
 * ```ts ignore
 * import { GpuContext, pairwiseTorusDistancesGpu } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const ctx = await GpuContext.create();
 * const a = new Float32Array([0, 0]), b = new Float32Array([19, 0]);
 * const d = await pairwiseTorusDistancesGpu(ctx, a, b, 20, 20);
 * assertEquals(d[0], 1); // row 19 is next to row 0 on a 20-row torus
 * ```
 */
export async function pairwiseTorusDistancesGpu(
  ctx: GpuContext,
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  options: { maxBindingBytes?: number } = {},
): Promise<Float32Array> {
  const what = "compute torus distances on the GPU";
  _checkGrid(what, m, n);
  const P = _checkPositions(what, "a", a), Q = _checkPositions(what, "b", b);
  const out = new Float32Array(P * Q);
  if (P === 0 || Q === 0) return out;
  const lim = ctx.limits;
  const limit = options.maxBindingBytes ?? lim.maxStorageBufferBindingSize;
  if (
    a.byteLength > lim.maxStorageBufferBindingSize || b.byteLength > lim.maxStorageBufferBindingSize
  ) {
    throw new RangeError(
      `Cannot ${what}: ${P}+${Q} positions exceed the ${lim.maxStorageBufferBindingSize}-byte ` +
        "storage binding limit",
    );
  }
  const rowsPer = Math.floor(limit / (4 * Q));
  if (!(rowsPer >= 1)) {
    throw new RangeError(
      `Cannot ${what}: one row of ${Q} distances does not fit a ${limit}-byte binding`,
    );
  }
  const WG = 64;
  const pipeline = await ctx.pipeline("torus_distances", torusSource, { WG });
  const aBuf = ctx.upload(a, "torus_distances a");
  const bBuf = ctx.upload(b, "torus_distances b");
  const maxDim = lim.maxComputeWorkgroupsPerDimension;
  try {
    for (let r0 = 0; r0 < P; r0 += rowsPer) {
      const rows = Math.min(rowsPer, P - r0);
      const params = new ArrayBuffer(32);
      new Uint32Array(params, 0, 4).set([rows, Q, r0, 0]);
      new Float32Array(params, 16, 2).set([m, n]);
      const u = ctx.uniform(new Uint8Array(params), "torus_distances params");
      const o = ctx.acquire(rows * Q * 4, "torus_distances out");
      try {
        const groups = Math.ceil((rows * Q) / WG);
        const gx = Math.min(groups, maxDim);
        await ctx.dispatch("torus_distances", [{
          pipeline,
          entries: [
            { binding: 0, resource: { buffer: aBuf, offset: 0, size: a.byteLength } },
            { binding: 1, resource: { buffer: bBuf, offset: 0, size: b.byteLength } },
            { binding: 2, resource: { buffer: o, offset: 0, size: rows * Q * 4 } },
            { binding: 3, resource: { buffer: u } },
          ],
          workgroups: [gx, Math.ceil(groups / gx)],
        }]);
        out.set(new Float32Array(await ctx.read(o, rows * Q * 4)), r0 * Q);
      } finally {
        ctx.release(o);
        u.destroy();
      }
    }
  } finally {
    ctx.release(aBuf, bBuf);
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
  const norm = (k: number) => {
    let s = 0;
    for (let t = 0; t < d; t++) s += weights[k * d + t] ** 2;
    return Math.max(Math.sqrt(s), 1e-8);
  };
  const norms = Array.from({ length: K }, (_, k) => norm(k));
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
  const threads = options.threads ?? Math.max(1, navigator.hardwareConcurrency || 1);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`Cannot ${what}: threads is ${threads} but expected a positive integer`);
  }
  const u = unitRows(weights, K, d);
  const [ort, proto] = await Promise.all([
    import("npm:onnxruntime-node@1.30.0"),
    import("../onnx/proto.ts"),
  ]);
  const { DT, encodeModel, F, model, node, tensor, valueInfo } = proto;
  const bytes = encodeModel(model({
    name: "cosine_distance_matrix",
    node: [node("Gemm", ["U", "U", "one"], ["D"], { transB: 1, alpha: new F(-1), beta: new F(1) })],
    initializer: [tensor("one", [], new Float32Array([1]))],
    input: [valueInfo("U", DT.FLOAT, ["K", "d"])],
    output: [valueInfo("D", DT.FLOAT, ["K", "K"])],
  }, { opset: 17 }));
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    // Spinning workers lose badly on a shared machine.
    extra: { session: { intra_op: { allow_spinning: "0" } } },
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
  const norms = await ctx.pipeline("cosine_matrix", cosineSource, { WG }, "row_norms");
  const matrix = await ctx.pipeline("cosine_matrix", cosineSource, { WG }, "matrix");
  const w = ctx.upload(padded, "cosine_matrix weights");
  const inv = ctx.acquire(K4 * 4, "cosine_matrix inverse norms");
  const out = ctx.acquire(K * K * 4, "cosine_matrix out");
  const u = ctx.uniform(new Uint32Array([K, d4, B, 0]), "cosine_matrix params");
  try {
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
  } finally {
    ctx.release(w, inv, out);
    u.destroy();
  }
}
