// The plain reference for tests/analysis_fast_test.ts: the three functions of
// lib/analysis/alignment.ts that the issue-14 speed-up rewrote, as they were at baa0161 (bodies
// unchanged; the types and the symmetry helpers they use, which the speed-up left alone, are
// imported from the library). Not library code.

import { type GridShape, torusDist } from "../../lib/geometry/torus.ts";
import { rowNorms } from "../../lib/geometry/cosine.ts";
import {
  type Alignment,
  applySymmetry,
  invertSymmetry,
  type PlacementStability,
  type SeedMap,
  type SeedPairComparison,
  torusSymmetries,
} from "../../lib/analysis/alignment.ts";
import { quantileSorted } from "../../lib/analysis/box_stats.ts";

/** {@linkcode alignMaps} of lib/analysis/alignment.ts before the speed-up. */
export function alignMaps(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  d: number,
  grid: GridShape,
): Alignment {
  const K = grid.m * grid.n;
  for (const [name, w] of [["a", a], ["b", b]] as const) {
    if (w.length !== K * d) {
      throw new RangeError(
        `Cannot align maps: map ${name} has ${w.length} weights but expected m·n·d = ${K * d}`,
      );
    }
  }
  const na = rowNorms(a, K, d), nb = rowNorms(b, K, d);
  const A = new Float32Array(K * d), B = new Float32Array(K * d);
  for (let k = 0; k < K; k++) {
    for (let t = 0; t < d; t++) {
      A[k * d + t] = a[k * d + t] / na[k];
      B[k * d + t] = b[k * d + t] / nb[k];
    }
  }
  const C = new Float32Array(K * K);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += A[i * d + t] * B[j * d + t];
      C[i * K + j] = 1 - s;
    }
  }
  // Unit images under each point symmetry (no translation), then translations by integer
  // arithmetic: |G|·K lookups without allocating per unit.
  const { m, n } = grid;
  const group = torusSymmetries(grid);
  const baseRow = new Int32Array(K), baseCol = new Int32Array(K);
  let best = group[0], bestCost = Infinity, identityCost = NaN;
  let lastKey = "";
  for (const g of group) {
    const key = `${g.transpose}${g.flipRows}${g.flipCols}`;
    if (key !== lastKey) {
      const g0 = { ...g, dr: 0, dc: 0 };
      for (let u = 0; u < K; u++) {
        const [r, c] = applySymmetry(g0, Math.floor(u / n), u % n, grid);
        baseRow[u] = r;
        baseCol[u] = c;
      }
      lastKey = key;
    }
    let s = 0;
    for (let u = 0; u < K; u++) {
      let r = baseRow[u] + g.dr, c = baseCol[u] + g.dc;
      if (r >= m) r -= m;
      if (c >= n) c -= n;
      s += C[u * K + r * n + c];
    }
    const v = s / K;
    if (Number.isNaN(identityCost)) identityCost = v;
    if (v < bestCost - 1e-9) {
      best = g;
      bestCost = v;
    }
  }
  return { symmetry: best, cost: bestCost, identityCost };
}

/** {@linkcode placementStability} of lib/analysis/alignment.ts before the speed-up. */
export function placementStability(
  maps: readonly SeedMap[],
  d: number,
  grid: GridShape,
): PlacementStability {
  if (maps.length < 2) {
    throw new RangeError(
      `Cannot measure placement stability: ${maps.length} map(s) but expected at least 2 seeds`,
    );
  }
  const pairs: SeedPairComparison[] = [];
  for (let i = 0; i < maps.length; i++) {
    for (let j = i + 1; j < maps.length; j++) {
      const a = maps[i], b = maps[j];
      const alignment = alignMaps(a.weights, b.weights, d, grid);
      const bc = new Map(b.centres.map((c) => [c.label, c]));
      const moved = a.centres.map((ca) => {
        const cb = bc.get(ca.label);
        if (!cb) {
          throw new RangeError(
            `Cannot measure placement stability: class ${ca.label} has a centre on seed ` +
              `${a.seed} but not on seed ${b.seed}`,
          );
        }
        return [ca, invertSymmetry(alignment.symmetry, cb.row, cb.col, grid)] as const;
      });
      const C = moved.length, cross = new Float64Array(C * C);
      moved.forEach(([ca], i) =>
        moved.forEach(([, [r, c]], j) => {
          cross[i * C + j] = torusDist(ca.row, ca.col, r, c, grid);
        })
      );
      const displacement: [number, number][] = moved.map((
        [ca, [r, c]],
      ) => [ca.label, torusDist(ca.row, ca.col, r, c, grid)]);
      let ns = 0, nc = 0;
      for (const [ca] of moved) {
        for (const [cb, [r, c]] of moved) {
          if (cb.label === ca.label) continue;
          ns += torusDist(ca.row, ca.col, r, c, grid);
          nc++;
        }
      }
      const md = displacement.reduce((s, x) => s + x[1], 0) / Math.max(1, displacement.length);
      pairs.push({
        seedA: a.seed,
        seedB: b.seed,
        alignment,
        displacement,
        meanDisplacement: md,
        nullDisplacement: nc ? ns / nc : NaN,
        cross,
      });
    }
  }
  const meanDisplacement = pairs.reduce((s, p) => s + p.meanDisplacement, 0) / pairs.length;
  const nullDisplacement = pairs.reduce((s, p) => s + p.nullDisplacement, 0) / pairs.length;
  return {
    pairs,
    meanDisplacement,
    nullDisplacement,
    stability: 1 - meanDisplacement / nullDisplacement,
  };
}

/** {@linkcode stabilityInterval} of lib/analysis/alignment.ts before the speed-up. */
export function stabilityInterval(
  ps: PlacementStability,
  rng: { int(n: number): number },
  resamples = 1000,
): [number, number] {
  const vals: number[] = [];
  const P = ps.pairs.length;
  const rowMeans = ps.pairs.map((pair) => {
    const C = pair.displacement.length, out = new Float64Array(C);
    for (let i = 0; i < C; i++) {
      let s = 0;
      for (let j = 0; j < C; j++) if (j !== i) s += pair.cross[i * C + j];
      out[i] = C > 1 ? s / (C - 1) : NaN;
    }
    return out;
  });
  const maxC = Math.max(...ps.pairs.map((p) => p.displacement.length));
  const counts = new Int32Array(maxC), idx = new Int32Array(maxC);
  for (let b = 0; b < resamples; b++) {
    let disp = 0, nul = 0;
    for (let q = 0; q < P; q++) {
      const pi = rng.int(P), pair = ps.pairs[pi], C = pair.displacement.length;
      for (let t = 0; t < C; t++) counts[idx[t] = rng.int(C)]++;
      let d = 0, n = 0, nc = 0;
      for (let t = 0; t < C; t++) d += pair.cross[idx[t] * C + idx[t]];
      if (C <= 200) {
        for (let i = 0; i < C; i++) {
          if (!counts[i]) continue;
          for (let j = 0; j < C; j++) {
            if (j === i || !counts[j]) continue;
            n += counts[i] * counts[j] * pair.cross[i * C + j];
            nc += counts[i] * counts[j];
          }
        }
      } else {
        for (let i = 0; i < C; i++) {
          if (!counts[i]) continue;
          const others = C - counts[i];
          n += counts[i] * others * rowMeans[pi][i];
          nc += counts[i] * others;
        }
      }
      for (let t = 0; t < C; t++) counts[idx[t]] = 0;
      disp += d / C;
      nul += nc ? n / nc : NaN;
    }
    const v = 1 - disp / nul;
    if (Number.isFinite(v)) vals.push(v);
  }
  vals.sort((a, b) => a - b);
  return [quantileSorted(vals, 0.025), quantileSorted(vals, 0.975)];
}
