/**
 * Grid geometry of a toroidal SOM, the one implementation used by the SOM and the analyses alike
 * (SPEC §3, §4; SOM.md "Units and grid"): grid shapes and their validation, unit positions,
 * squared grid distances between units (the neighbourhood table), torus distances between
 * continuous positions (BMU sets versus class centres), and the nearest unit to a point.
 *
 * Unit `k` of an `m×n` grid sits at row `floor(k/n)`, column `k mod n` (row-major). On a
 * periodic grid (a torus) the row difference `Δr` is taken modulo `m` and replaced by
 * `min(Δr, m − Δr)`, the column difference likewise with `n`; non-square grids are handled
 * (QuickSOM's own table is wrong for them, ours is not). On a side of length 2 the two
 * neighbours along it are the same unit; on a side of length 1 a unit is its own neighbour.
 *
 * The analyses take plain arrays (top-k unit indices, weights) and a {@linkcode GridShape}, so
 * anything that yields BMUs can be analysed. The pairwise kernel comes as a CPU path (the
 * float64 definition) and a WGSL kernel (`…Gpu`). Cosine distances live in `cosine.ts`.
 *
 * @module
 */

import type { GpuContext } from "../gpu/context.ts";
import { packStructs, type StructLayout, structLayout } from "../gpu/layout.ts";
import gridIndexSource from "../../shaders/grid_index.wgsl" with { type: "text" };
import torusSource from "../../shaders/torus_distances.wgsl" with { type: "text" };

/** `Params` of `shaders/torus_distances.wgsl`. */
export const TORUS_PARAMS: StructLayout = structLayout("Params", [
  ["rows", "u32"],
  ["q", "u32"],
  ["row_start", "u32"],
  ["_pad", "u32"],
  ["m", "f32"],
  ["n", "f32"],
]);

/** Grid shape of a map: `K = m·n` units, unit `k` at row `floor(k/n)`, column `k mod n`. */
export interface GridShape {
  /** Rows. */
  m: number;
  /** Columns. */
  n: number;
  /** Torus (wrap-around) distances. Default true. */
  periodic?: boolean;
}

/**
 * Checks a grid shape.
 *
 * @param what What is being done, for the message.
 * @param g The grid.
 * @returns `K = m·n`.
 * @throws {RangeError} If `m` or `n` is not a positive integer.
 *
 * @example
 * ```ts
 * import { checkGrid } from "./torus.ts";
 * import { strictEqual, throws } from "node:assert";
 * strictEqual(checkGrid("map", { m: 4, n: 5 }), 20);
 * throws(() => checkGrid("map", { m: 0, n: 5 }), RangeError);
 * ```
 */
export function checkGrid(what: string, g: GridShape): number {
  const { m, n } = g;
  if (!Number.isInteger(m) || m < 1 || !Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot ${what}: grid is ${m}×${n} but rows and columns must be positive integers`,
    );
  }
  return m * n;
}

/**
 * Checks that a top-k array has `N·k` entries, all valid unit indices.
 *
 * @param what What is being done, for the message.
 * @param topk `N×k` unit indices.
 * @param k BMUs per row.
 * @param g The grid.
 * @returns N, the number of rows.
 * @throws {RangeError} On a wrong length or an index outside `[0, m·n)`.
 *
 * @example
 * ```ts
 * import { checkTopk } from "./torus.ts";
 * import { strictEqual } from "node:assert";
 * strictEqual(checkTopk("analyse", Int32Array.from([0, 3, 2, 1]), 2, { m: 2, n: 2 }), 2);
 * ```
 */
export function checkTopk(what: string, topk: ArrayLike<number>, k: number, g: GridShape): number {
  const K = checkGrid(what, g);
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`Cannot ${what}: k is ${k} but must be a positive integer`);
  }
  if (topk.length % k !== 0) {
    throw new RangeError(
      `Cannot ${what}: top-k array has ${topk.length} entries but expected a multiple of k = ${k}`,
    );
  }
  for (let i = 0; i < topk.length; i++) {
    const u = topk[i];
    if (!Number.isInteger(u) || u < 0 || u >= K) {
      throw new RangeError(
        `Cannot ${what}: BMU entry ${i} is ${u} but expected a unit index in [0, ${K})`,
      );
    }
  }
  return topk.length / k;
}

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
  const K = checkGrid("compute grid distance", { m, n });
  for (const u of [a, b]) {
    if (!Number.isInteger(u) || u < 0 || u >= K) {
      throw new RangeError(
        `Cannot compute grid distance: unit ${u} is outside the ${m}×${n} grid (0..${K - 1})`,
      );
    }
  }
  return unitD2(a, b, { m, n, periodic });
}

/**
 * Squared grid distance between two units, unchecked (the inner loop of
 * {@linkcode torusD2}, for callers that validated their indices).
 *
 * @param a First unit index.
 * @param b Second unit index.
 * @param g The grid (`periodic` default true).
 * @returns `di² + dj²` with wrapped differences on a torus.
 *
 * @example
 * ```ts
 * import { unitD2 } from "./torus.ts";
 * import { strictEqual } from "node:assert";
 * strictEqual(unitD2(0, 4, { m: 4, n: 5 }), 1);
 * ```
 */
export function unitD2(a: number, b: number, g: GridShape): number {
  const { m, n } = g;
  let di = Math.abs(Math.floor(a / n) - Math.floor(b / n));
  let dj = Math.abs((a % n) - (b % n));
  if (g.periodic !== false) {
    di = Math.min(di, m - di);
    dj = Math.min(dj, n - dj);
  }
  return di * di + dj * dj;
}

/**
 * Torus distance between two units given by index (`sqrt` of {@linkcode unitD2} on a torus).
 *
 * @param u First unit.
 * @param v Second unit.
 * @param g The grid.
 * @returns The distance in grid units.
 *
 * @example
 * ```ts
 * import { unitDist } from "./torus.ts";
 * import { strictEqual } from "node:assert";
 * strictEqual(unitDist(0, 99, { m: 10, n: 10 }), Math.SQRT2);
 * ```
 */
export function unitDist(u: number, v: number, g: GridShape): number {
  return torusDist(Math.floor(u / g.n), u % g.n, Math.floor(v / g.n), v % g.n, g);
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
  checkGrid("compute torus distance", { m, n });
  for (const v of [p[0], p[1], q[0], q[1]]) {
    if (!Number.isFinite(v)) {
      throw new RangeError(
        `Cannot compute torus distance: coordinate is ${v} but expected a finite number`,
      );
    }
  }
  return torusDist(p[0], p[1], q[0], q[1], { m, n });
}

/** `min(|x| mod L, L − |x| mod L)`: the shortest signed-free offset on a circle of length L. */
function _circ(x: number, L: number): number {
  let d = Math.abs(x);
  if (d >= L) d %= L; // float modulo is slow; positions inside the grid never need it
  if (d > L - d) d = L - d;
  return d;
}

/**
 * Torus distance between two continuous points, unchecked (the definition of
 * {@linkcode torusDistance}, for the analyses' inner loops).
 *
 * @param r1 Row of the first point.
 * @param c1 Column of the first point.
 * @param r2 Row of the second point.
 * @param c2 Column of the second point.
 * @param g The grid (always wrapped).
 * @returns The wrap-around distance.
 *
 * @example
 * ```ts
 * import { torusDist } from "./torus.ts";
 * import { strictEqual } from "node:assert";
 * strictEqual(torusDist(0, 0.5, 0, 19.5, { m: 20, n: 20 }), 1);
 * ```
 */
export function torusDist(r1: number, c1: number, r2: number, c2: number, g: GridShape): number {
  const dr = _circ(r1 - r2, g.m), dc = _circ(c1 - c2, g.n);
  return Math.sqrt(dr * dr + dc * dc);
}

/**
 * Wraps a coordinate into `[0, size)`.
 *
 * @param x The coordinate.
 * @param size The period.
 * @returns `x mod size`, non-negative.
 *
 * @example
 * ```ts
 * import { wrap } from "./torus.ts";
 * import { strictEqual } from "node:assert";
 * strictEqual(wrap(-1, 10), 9);
 * ```
 */
export function wrap(x: number, size: number): number {
  const r = x % size;
  return r < 0 ? r + size : r === size ? 0 : r;
}

/**
 * The grid unit nearest (on the torus) to a continuous point; ties go to the lowest unit index.
 *
 * @param r Row coordinate.
 * @param c Column coordinate.
 * @param g The grid.
 * @returns The unit index.
 *
 * @example
 * ```ts
 * import { nearestUnit } from "./torus.ts";
 * import { strictEqual } from "node:assert";
 * strictEqual(nearestUnit(9.8, 0.1, { m: 10, n: 10 }), 0); // across the seam
 * ```
 */
export function nearestUnit(r: number, c: number, g: GridShape): number {
  const rs = [Math.floor(r), Math.floor(r) + 1].map((x) => wrap(x, g.m));
  const cs = [Math.floor(c), Math.floor(c) + 1].map((x) => wrap(x, g.n));
  let best = -1, bestD = Infinity;
  for (const ri of rs) {
    for (const ci of cs) {
      const u = ri * g.n + ci;
      const d = torusDist(r, c, ri, ci, g);
      if (d < bestD || (d === bestD && u < best)) {
        best = u;
        bestD = d;
      }
    }
  }
  return best;
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
  const K = checkGrid("build grid distance table", { m, n });
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
  checkGrid(what, { m, n });
  const P = _checkPositions(what, "a", a), Q = _checkPositions(what, "b", b);
  const out = new Float32Array(P * Q);
  for (let i = 0; i < P; i++) {
    const ar = a[2 * i], ac = a[2 * i + 1];
    const row = i * Q;
    for (let j = 0; j < Q; j++) {
      const dr = _circ(ar - b[2 * j], m), dc = _circ(ac - b[2 * j + 1], n);
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
  checkGrid(what, { m, n });
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
  const src = `${gridIndexSource}\n${torusSource}`;
  const pipeline = await ctx.pipeline("torus_distances", src, { WG });
  using own = ctx.lease();
  const aBuf = own.upload(a, "torus_distances a");
  const bBuf = own.upload(b, "torus_distances b");
  const maxDim = lim.maxComputeWorkgroupsPerDimension;
  for (let r0 = 0; r0 < P; r0 += rowsPer) {
    const rows = Math.min(rowsPer, P - r0);
    using chunk = ctx.lease();
    const u = chunk.uniform(
      new Uint8Array(packStructs(TORUS_PARAMS, [{ rows, q: Q, row_start: r0, m, n }])),
      "torus_distances params",
    );
    const o = chunk.acquire(rows * Q * 4, "torus_distances out");
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
  }
  return out;
}
