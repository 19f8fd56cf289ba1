/**
 * Torus geometry shared by the analyses: unit positions, wrap-around distances between grid
 * units and continuous points, and the validation of top-k BMU arrays.
 *
 * Kept here (rather than imported from the SOM module) so that the analyses depend only on plain
 * arrays: anything that yields top-k unit indices and weights can be analysed.
 *
 * @module
 */

/** Grid shape of a map: `K = m·n` units, unit `k` at row `floor(k/n)`, column `k mod n`. */
export interface GridShape {
  /** Rows. */
  m: number;
  /** Columns. */
  n: number;
}

/**
 * Checks a grid shape.
 *
 * @param what What is being done, for the message.
 * @param g The grid.
 * @throws {RangeError} If `m` or `n` is not a positive integer.
 */
export function checkGrid(what: string, g: GridShape): void {
  if (!Number.isInteger(g.m) || g.m < 1 || !Number.isInteger(g.n) || g.n < 1) {
    throw new RangeError(
      `Cannot ${what}: grid is ${g.m}×${g.n} but rows and columns must be positive integers`,
    );
  }
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
 */
export function checkTopk(what: string, topk: ArrayLike<number>, k: number, g: GridShape): number {
  checkGrid(what, g);
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`Cannot ${what}: k is ${k} but must be a positive integer`);
  }
  if (topk.length % k !== 0) {
    throw new RangeError(
      `Cannot ${what}: top-k array has ${topk.length} entries but expected a multiple of k = ${k}`,
    );
  }
  const K = g.m * g.n;
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
 * Wraps a coordinate into `[0, size)`.
 *
 * @param x The coordinate.
 * @param size The period.
 * @returns `x mod size`, non-negative.
 */
export function wrap(x: number, size: number): number {
  const r = x % size;
  return r < 0 ? r + size : r === size ? 0 : r;
}

/**
 * Shortest signed-free separation of two coordinates on a circle of length `size`.
 *
 * @param a First coordinate.
 * @param b Second coordinate.
 * @param size The period.
 * @returns `min(|a−b| mod size, size − |a−b| mod size)`.
 */
export function circDelta(a: number, b: number, size: number): number {
  const d = wrap(Math.abs(a - b), size);
  return Math.min(d, size - d);
}

/**
 * Euclidean distance on the torus between two (possibly continuous) grid points.
 *
 * @param r1 Row of the first point.
 * @param c1 Column of the first point.
 * @param r2 Row of the second point.
 * @param c2 Column of the second point.
 * @param g The grid.
 * @returns The wrap-around distance.
 */
export function torusDist(r1: number, c1: number, r2: number, c2: number, g: GridShape): number {
  const dr = circDelta(r1, r2, g.m), dc = circDelta(c1, c2, g.n);
  return Math.sqrt(dr * dr + dc * dc);
}

/**
 * Torus distance between two units given by index.
 *
 * @param u First unit.
 * @param v Second unit.
 * @param g The grid.
 * @returns The distance in grid units.
 */
export function unitDist(u: number, v: number, g: GridShape): number {
  return torusDist(Math.floor(u / g.n), u % g.n, Math.floor(v / g.n), v % g.n, g);
}

/**
 * The grid unit nearest (on the torus) to a continuous point; ties go to the lowest unit index.
 *
 * @param r Row coordinate.
 * @param c Column coordinate.
 * @param g The grid.
 * @returns The unit index.
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
 * Cosine distance with SOM.md's guarded norms (`max(‖·‖, 1e-8)`); a zero vector has distance 1.
 *
 * @param a Array holding the first vector.
 * @param ao Offset of the first vector.
 * @param b Array holding the second vector.
 * @param bo Offset of the second vector.
 * @param d Dimension.
 * @returns `1 − a·b / (‖a‖‖b‖)`.
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
 * Row norms of a `K×d` matrix, floored at 1e-8.
 *
 * @param w The matrix.
 * @param K Rows.
 * @param d Columns.
 * @returns The `K` norms.
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
