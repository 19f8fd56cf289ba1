/**
 * BMU density (paper Fig. 4, Supp. Fig. 1): a Gaussian kernel density estimate of BMU positions
 * on the toroidal grid, with kernels that wrap around the seams.
 *
 * @module
 */

import { checkTopk, type GridShape, wrap } from "../geometry/torus.ts";

/** Options for {@linkcode bmuDensity}. */
export interface DensityOptions {
  /** Which BMU rank(s) to use: the first `ranks` of each row's top-k. Default 1 (the BMU). */
  ranks?: number;
  /**
   * Kernel standard deviation in grid units, `[rows, columns]` or one number for both.
   * Default: Scott's rule per axis, `σ̂ · N^(−1/6)` (d = 2), where `σ̂` is the circular standard
   * deviation of the positions on that axis in grid units, `(size/2π)·sqrt(−2 ln R̄)`, capped at
   * the uniform value `size/√12`.
   */
  bandwidth?: number | [number, number];
  /** Smallest bandwidth used, in grid units (a narrower kernel is below the grid's resolution). Default 0.5. */
  minBandwidth?: number;
}

/** A BMU density over the grid. */
export interface BmuDensity extends GridShape {
  /** `m×n` density per unit area at each unit centre (integrates to ≈ 1 over the torus). */
  density: Float64Array;
  /** Kernel standard deviations `[rows, columns]` in grid units. */
  bandwidth: [number, number];
  /** BMU counts per unit (of the ranks used). */
  counts: Int32Array;
  /** Number of positions estimated from. */
  points: number;
  /** The unit with the highest density (lowest index on ties). */
  peak: number;
}

function _circStd(xs: number[], size: number): number {
  let c = 0, s = 0;
  for (const x of xs) {
    c += Math.cos((2 * Math.PI * x) / size);
    s += Math.sin((2 * Math.PI * x) / size);
  }
  const R = Math.min(1, Math.hypot(c, s) / xs.length);
  const sd = R <= 0 ? Infinity : (size / (2 * Math.PI)) * Math.sqrt(-2 * Math.log(R));
  return Math.min(sd, size / Math.sqrt(12));
}

/**
 * Periodic Gaussian KDE of BMU positions: each position contributes a 2-D Gaussian with
 * per-axis bandwidths, summed over all its images on the tiling of the plane that lie within
 * 6 bandwidths, so the density wraps across the torus seams.
 *
 * @param topk `N×k` top-k BMU unit indices (row-major units).
 * @param k BMUs per row.
 * @param grid The grid shape.
 * @param options Ranks used and bandwidth.
 * @returns The density at every unit centre, the bandwidth and the peak unit.
 * @throws {RangeError} On a bad grid, top-k array, ranks or bandwidth.
 *
 * @example A single cluster on the seam peaks at the seam
 * ```ts
 * import { bmuDensity } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * // BMUs at (0,0), (0,9), (9,0), (9,9) on a 10×10 torus: all neighbours of unit 0.
 * const d = bmuDensity(Int32Array.from([0, 9, 90, 99]), 1, { m: 10, n: 10 });
 * assertEquals(d.counts[0], 1);
 * assertEquals([0, 9, 90, 99].includes(d.peak), true);
 * ```
 */
export function bmuDensity(
  topk: ArrayLike<number>,
  k: number,
  grid: GridShape,
  options: DensityOptions = {},
): BmuDensity {
  const N = checkTopk("estimate BMU density", topk, k, grid);
  const ranks = options.ranks ?? 1;
  if (!Number.isInteger(ranks) || ranks < 1 || ranks > k) {
    throw new RangeError(
      `Cannot estimate BMU density: ranks is ${ranks} but must be an integer in [1, ${k}]`,
    );
  }
  if (N === 0) {
    throw new RangeError("Cannot estimate BMU density: no BMUs given but expected at least one");
  }
  const { m, n } = grid;
  const rows: number[] = [], cols: number[] = [];
  const counts = new Int32Array(m * n);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < ranks; j++) {
      const u = topk[i * k + j];
      rows.push(Math.floor(u / n));
      cols.push(u % n);
      counts[u]++;
    }
  }
  const P = rows.length;
  const minBw = options.minBandwidth ?? 0.5;
  let bw: [number, number];
  if (options.bandwidth !== undefined) {
    bw = typeof options.bandwidth === "number"
      ? [options.bandwidth, options.bandwidth]
      : [options.bandwidth[0], options.bandwidth[1]];
    if (!(bw[0] > 0) || !(bw[1] > 0) || !Number.isFinite(bw[0]) || !Number.isFinite(bw[1])) {
      throw new RangeError(
        `Cannot estimate BMU density: bandwidth is ${bw} but must be positive and finite`,
      );
    }
  } else {
    const f = Math.pow(P, -1 / 6);
    bw = [Math.max(minBw, _circStd(rows, m) * f), Math.max(minBw, _circStd(cols, n) * f)];
  }
  const [hr, hc] = bw;
  // Kernel profiles along each axis at every integer offset: the 2-D Gaussian is separable, so
  // the density is a 2-D periodic convolution of the counts with an outer product of two 1-D
  // wrapped kernels — exact, and O(m·n·(m+n)) instead of O(P·m·n).
  const kr = _wrappedKernel(m, hr), kc = _wrappedKernel(n, hc);
  const tmp = new Float64Array(m * n);
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) {
      let s = 0;
      for (let c2 = 0; c2 < n; c2++) s += counts[r * n + c2] * kc[wrap(c - c2, n)];
      tmp[r * n + c] = s;
    }
  }
  const density = new Float64Array(m * n);
  let peak = 0;
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) {
      let s = 0;
      for (let r2 = 0; r2 < m; r2++) s += tmp[r2 * n + c] * kr[wrap(r - r2, m)];
      const v = s / P;
      density[r * n + c] = v;
      if (v > density[peak]) peak = r * n + c;
    }
  }
  return { m, n, density, bandwidth: bw, counts, points: P, peak };
}

/** 1-D Gaussian density (std `h`) at integer offsets 0..size−1, summed over periodic images. */
function _wrappedKernel(size: number, h: number): Float64Array {
  const out = new Float64Array(size);
  const reach = Math.ceil((6 * h) / size) + 1;
  const norm = 1 / (Math.sqrt(2 * Math.PI) * h);
  for (let d = 0; d < size; d++) {
    let s = 0;
    for (let t = -reach; t <= reach; t++) {
      const x = d + t * size;
      s += Math.exp(-(x * x) / (2 * h * h));
    }
    out[d] = s * norm;
  }
  return out;
}
