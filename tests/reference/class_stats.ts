// The plain reference for tests/analysis_fast_test.ts: lib/analysis/class_stats.ts as of baa0161,
// before the issue-14 speed-up (function bodies unchanged; the exported types, which the
// speed-up left alone, are imported from the library). Not library code.

import { Rng } from "../../lib/rng.ts";
import { cosineDist, unitRows } from "../../lib/geometry/cosine.ts";
import { type GridShape, nearestUnit, torusDist, wrap } from "../../lib/geometry/torus.ts";
import type {
  ClassStatistic,
  ClassStatsLayer,
  ClassStatsOptions,
  LayerClassStats,
} from "../../lib/analysis/class_stats.ts";

/** Examples grouped by class: members of class c are `mem[off[c]..off[c+1])`, ascending. */
interface _Groups {
  off: Int32Array;
  mem: Int32Array;
}

function _groups(cls: Int32Array, C: number): _Groups {
  const off = new Int32Array(C + 1);
  for (let i = 0; i < cls.length; i++) off[cls[i] + 1]++;
  for (let c = 0; c < C; c++) off[c + 1] += off[c];
  const pos = off.slice(0, C), mem = new Int32Array(cls.length);
  for (let i = 0; i < cls.length; i++) mem[pos[cls[i]]++] = i;
  return { off, mem };
}

/** BMU coordinates of one split on one map. */
interface _Bmus {
  grid: GridShape;
  k: number;
  row: Int32Array;
  col: Int32Array;
  /** Unit index of each BMU. */
  unit: Int32Array;
  /** Per axis, the unfolded coordinate of `r` seen from `r0`: `unfR[r * m + r0]`. */
  unfR: Int32Array;
  unfC: Int32Array;
}

/** SPEC §4.4's unfolding per axis: of r − s, r, r + s the one nearest r0 (ties: r, then r − s). */
function _unfoldTable(s: number): Int32Array {
  const t = new Int32Array(s * s);
  for (let r = 0; r < s; r++) {
    for (let r0 = 0; r0 < s; r0++) {
      let best = r, bd = Math.abs(r - r0);
      for (const a of [-1, 1]) {
        const d = Math.abs(r + a * s - r0);
        if (d < bd) {
          bd = d;
          best = r + a * s;
        }
      }
      t[r * s + r0] = best;
    }
  }
  return t;
}

function _bmus(topk: ArrayLike<number>, k: number, grid: GridShape): _Bmus {
  const row = new Int32Array(topk.length), col = new Int32Array(topk.length);
  for (let i = 0; i < topk.length; i++) {
    row[i] = Math.floor(topk[i] / grid.n);
    col[i] = topk[i] % grid.n;
  }
  const unit = Int32Array.from(topk);
  return { grid, k, row, col, unit, unfR: _unfoldTable(grid.m), unfC: _unfoldTable(grid.n) };
}

/** Scratch space for centre estimation on a map with K units. */
interface _Scratch {
  counts: Int32Array;
  touched: Int32Array;
}

function _scratch(K: number, maxBmus: number): _Scratch {
  return { counts: new Int32Array(K), touched: new Int32Array(Math.min(K, maxBmus) + 1) };
}

/**
 * Class centres (SPEC §4.4) of the groups `classes` from `mem[off[c]..off[c+1])`: writes each
 * class's mode unit, continuous centre and centre unit at index `c` of the outputs; with `dMean`,
 * also the class's D_class (mean torus distance of its BMUs to the centre). Works on the class's
 * unit histogram, so the cost per class is its BMUs plus the units they touch.
 */
function _centres(
  b: _Bmus,
  g: _Groups,
  classes: ArrayLike<number>,
  sc: _Scratch,
  out: { mode: Int32Array; row: Float64Array; col: Float64Array; unit?: Int32Array },
  dMean?: Float64Array,
): void {
  const { k, unit, unfR, unfC, grid } = b;
  const { m, n } = grid;
  const { counts, touched } = sc;
  for (let q = 0; q < classes.length; q++) {
    const c = classes[q];
    const from = g.off[c], to = g.off[c + 1];
    let nt = 0, mode = -1, best = -1;
    for (let t = from; t < to; t++) {
      const base = g.mem[t] * k;
      for (let j = 0; j < k; j++) {
        const u = unit[base + j];
        if (counts[u]++ === 0) touched[nt++] = u;
        const cu = counts[u];
        if (cu > best || (cu === best && u < mode)) {
          best = cu;
          mode = u;
        }
      }
    }
    const mr = Math.floor(mode / n), mc = mode % n;
    // Integer sums of unfolded coordinates: exact, so the centre equals classCentres' bit for bit.
    let sr = 0, scol = 0;
    for (let t = 0; t < nt; t++) {
      const u = touched[t], w = counts[u];
      sr += w * unfR[Math.floor(u / n) * m + mr];
      scol += w * unfC[(u % n) * n + mc];
    }
    const cnt = (to - from) * k;
    const r = wrap(sr / cnt, m), cc = wrap(scol / cnt, n);
    if (dMean) {
      let sd = 0;
      for (let t = 0; t < nt; t++) {
        const u = touched[t];
        sd += counts[u] * _dist(Math.floor(u / n), u % n, r, cc, m, n);
      }
      dMean[c] = sd / cnt;
    }
    for (let t = 0; t < nt; t++) counts[touched[t]] = 0;
    out.mode[c] = mode;
    out.row[c] = r;
    out.col[c] = cc;
    if (out.unit) out.unit[c] = nearestUnit(r, cc, grid);
  }
}

/**
 * Torus distance between grid point (r, c) and a point (R, C) inside the grid: `torusDist`
 * without the modulo (both coordinates are already in `[0, m)×[0, n)`), same value.
 */
function _dist(r: number, c: number, R: number, C: number, m: number, n: number): number {
  let dr = Math.abs(r - R), dc = Math.abs(c - C);
  if (m - dr < dr) dr = m - dr;
  if (n - dc < dc) dc = n - dc;
  return Math.sqrt(dr * dr + dc * dc);
}

/** Mean over an example's k BMUs of the torus distance to a point. */
function _exampleDist(b: _Bmus, i: number, r: number, c: number): number {
  let s = 0;
  const base = i * b.k;
  for (let j = 0; j < b.k; j++) s += torusDist(b.row[base + j], b.col[base + j], r, c, b.grid);
  return s / b.k;
}

/**
 * Mean over classes (with members) of D_class of the groups measured against the given centres,
 * through each class's unit histogram.
 */
function _meanDClass(
  b: _Bmus,
  g: _Groups,
  C: number,
  centres: { row: Float64Array; col: Float64Array },
  sc: _Scratch,
): number {
  const { k, unit } = b, { m, n } = b.grid, { counts, touched } = sc;
  let s = 0, nc = 0;
  for (let c = 0; c < C; c++) {
    const from = g.off[c], to = g.off[c + 1];
    if (to === from) continue;
    let nt = 0;
    for (let t = from; t < to; t++) {
      const base = g.mem[t] * k;
      for (let j = 0; j < k; j++) {
        if (counts[unit[base + j]]++ === 0) touched[nt++] = unit[base + j];
      }
    }
    let sd = 0;
    const R = centres.row[c], Cc = centres.col[c];
    for (let t = 0; t < nt; t++) {
      const u = touched[t];
      sd += counts[u] * _dist(Math.floor(u / n), u % n, R, Cc, m, n);
      counts[u] = 0;
    }
    s += sd / ((to - from) * k);
    nc++;
  }
  return nc ? s / nc : NaN;
}

/**
 * Mean cosine distance between the weights of class-centre units, over pairs of entries with
 * different labels.
 *
 * `exact` is the pairwise float64 definition (each distance clamped to [0, 2]), for reported
 * values. `fast` (replicates and permutations) uses
 * `Σ_{a<b} cos(w_a, w_b) = (‖Σ ŵ‖² − Σ_groups ‖Σ_group ŵ‖²) / 2` over unit rows
 * `ŵ = w / max(‖w‖, 1e-8)` grouped by label: O(S·d) per call instead of S²/2 random lookups.
 */
class _PairCd {
  readonly unit: Float32Array;
  #acc: Float64Array;
  #group: Float64Array;
  #slot: Int32Array;
  #sizes: Int32Array;
  constructor(
    readonly w: Float32Array,
    readonly K: number,
    readonly d: number,
    S: number,
    C: number,
  ) {
    this.unit = unitRows(w, K, d);
    this.#acc = new Float64Array(d);
    this.#group = new Float64Array(S * d);
    this.#slot = new Int32Array(C).fill(-1);
    this.#sizes = new Int32Array(S);
  }
  /** Pairwise, float64, clamped. */
  exact(units: Int32Array, labelOf: ArrayLike<number>, S: number): number {
    let s = 0, np = 0;
    const { w, d } = this;
    for (let a = 0; a < S; a++) {
      for (let b = a + 1; b < S; b++) {
        if (labelOf[a] === labelOf[b]) continue;
        s += Math.min(2, Math.max(0, cosineDist(w, units[a] * d, w, units[b] * d, d)));
        np++;
      }
    }
    return np ? s / np : NaN;
  }
  /** Through sums of unit rows (see the class doc). */
  fast(units: Int32Array, labelOf: ArrayLike<number>, S: number): number {
    const { unit, d } = this, acc = this.#acc, group = this.#group;
    const slot = this.#slot, sizes = this.#sizes;
    acc.fill(0);
    let groups = 0;
    for (let a = 0; a < S; a++) {
      let gi = slot[labelOf[a]];
      if (gi < 0) {
        gi = slot[labelOf[a]] = groups++;
        group.fill(0, gi * d, gi * d + d);
        sizes[gi] = 0;
      }
      sizes[gi]++;
      const base = units[a] * d, gb = gi * d;
      for (let t = 0; t < d; t++) {
        const x = unit[base + t];
        acc[t] += x;
        group[gb + t] += x;
      }
    }
    let tot = 0, within = 0, same = 0;
    for (let t = 0; t < d; t++) tot += acc[t] * acc[t];
    for (let g = 0; g < groups * d; g++) within += group[g] * group[g];
    for (let g = 0; g < groups; g++) same += (sizes[g] * (sizes[g] - 1)) / 2;
    for (let a = 0; a < S; a++) slot[labelOf[a]] = -1;
    const np = (S * (S - 1)) / 2 - same;
    return np > 0 ? 1 - (tot - within) / 2 / np : NaN;
  }
}

/** Scratch space for a histogram intersection on a map with K units. */
interface _PairScratch {
  a: Int32Array;
  b: Int32Array;
  touched: Int32Array;
}

/**
 * Counts the k BMUs of each member of group `c` into `mine`; a unit seen for the first time (zero
 * in `mine` and `other`) is appended to `touched` from `nt` on. Returns the new length of `touched`.
 */
function _tally(
  unit: Int32Array,
  g: _Groups,
  c: number,
  k: number,
  mine: Int32Array,
  other: Int32Array,
  touched: Int32Array,
  nt: number,
): number {
  for (let t = g.off[c]; t < g.off[c + 1]; t++) {
    const base = g.mem[t] * k;
    for (let j = 0; j < k; j++) {
      const u = unit[base + j];
      if (mine[u] === 0 && other[u] === 0) touched[nt++] = u;
      mine[u]++;
    }
  }
  return nt;
}

/**
 * Histogram intersection `Σ_u min(p(u), q(u))` of the BMU distribution of train group `c`
 * (all k BMUs) and that of val group `cv`; NaN when either group is empty.
 */
function _overlap(
  tr: _Bmus,
  gTr: _Groups,
  va: _Bmus,
  gVa: _Groups,
  c: number,
  cv: number,
  sc: _PairScratch,
): number {
  const k = tr.k;
  const { a, b, touched } = sc;
  const nTr = (gTr.off[c + 1] - gTr.off[c]) * k, nVa = (gVa.off[cv + 1] - gVa.off[cv]) * k;
  if (nTr === 0 || nVa === 0) return NaN;
  let nt = _tally(tr.unit, gTr, c, k, a, b, touched, 0);
  nt = _tally(va.unit, gVa, cv, k, b, a, touched, nt);
  let inter = 0;
  for (let t = 0; t < nt; t++) {
    const u = touched[t];
    inter += Math.min(a[u] / nTr, b[u] / nVa);
    a[u] = 0;
    b[u] = 0;
  }
  return inter;
}

/** One map of the class-centre analysis, prepared. */
interface _CentreMap {
  key: string;
  bmus: _Bmus;
  cd: _PairCd;
  /** Per example: the sums over its k BMUs of the unfolded row / column around its class's mode. */
  exR: Float64Array;
  exC: Float64Array;
  scratch: _Scratch;
}

/** One layer, prepared. */
interface _Layer {
  tr: _Bmus;
  va: _Bmus;
  /** Per example: mean distance of its BMUs to its class's SOM-tr centre. */
  dTr: Float64Array;
  dVa: Float64Array;
  overlapByClass: Float64Array;
  maps: _CentreMap[];
  scratch: _Scratch;
  /** Class-level values for the shrunken two-stage bootstrap. */
  lvTr: _ClassLevel;
  lvVa: _ClassLevel;
  lvCorr: _ClassLevel;
}

/**
 * Per-class values θ_c of a class-level statistic, their mean m and the shrinkage α of the
 * two-stage bootstrap (see {@linkcode _shrunk}).
 */
interface _ClassLevel {
  theta: Float64Array;
  /**
   * Per class, `sqrt(v_c / v*_c)`: resampling n examples with replacement gives a mean whose
   * variance is (n − 1)/n of the sampling variance v_c; the within-class deviation is scaled back.
   */
  f: Float64Array;
  m: number;
  alpha: number;
}

function _sizeKey(g: GridShape): string {
  return `${g.m}x${g.n}`;
}

function _prepareCentreMap(
  grid: GridShape,
  weights: Float32Array,
  dim: number,
  topk: ArrayLike<number>,
  k: number,
  gTr: _Groups,
  C: number,
  S: number,
): _CentreMap {
  const bmus = _bmus(topk, k, grid), K = grid.m * grid.n;
  const scratch = _scratch(K, topk.length);
  const fixed = { mode: new Int32Array(C), row: new Float64Array(C), col: new Float64Array(C) };
  _centres(bmus, gTr, Array.from({ length: C }, (_, c) => c), scratch, fixed);
  const N = topk.length / k;
  const exR = new Float64Array(N), exC = new Float64Array(N);
  for (let c = 0; c < C; c++) {
    const mr = Math.floor(fixed.mode[c] / grid.n), mc = fixed.mode[c] % grid.n;
    for (let t = gTr.off[c]; t < gTr.off[c + 1]; t++) {
      const i = gTr.mem[t];
      let sr = 0, sc = 0;
      for (let j = 0; j < k; j++) {
        sr += bmus.unfR[bmus.row[i * k + j] * grid.m + mr];
        sc += bmus.unfC[bmus.col[i * k + j] * grid.n + mc];
      }
      exR[i] = sr;
      exC[i] = sc;
    }
  }
  return {
    key: _sizeKey(grid),
    bmus,
    cd: new _PairCd(weights, K, dim, S, C),
    exR,
    exC,
    scratch,
  };
}

function _prepareLayer(
  L: ClassStatsLayer,
  gTr: _Groups,
  gVa: _Groups,
  gVs: _Groups,
  C: number,
  S: number,
): _Layer {
  const tr = _bmus(L.train.topk, L.k, L.grid), va = _bmus(L.val.topk, L.k, L.grid);
  const K = L.grid.m * L.grid.n;
  const scratch = _scratch(K, Math.max(L.train.topk.length, L.val.topk.length));
  const centres = { mode: new Int32Array(C), row: new Float64Array(C), col: new Float64Array(C) };
  _centres(tr, gTr, Array.from({ length: C }, (_, c) => c), scratch, centres);
  const dist = (b: _Bmus, g: _Groups) => {
    const out = new Float64Array(b.row.length / b.k);
    for (let c = 0; c < C; c++) {
      for (let t = g.off[c]; t < g.off[c + 1]; t++) {
        out[g.mem[t]] = _exampleDist(b, g.mem[t], centres.row[c], centres.col[c]);
      }
    }
    return out;
  };
  const ps: _PairScratch = {
    a: new Int32Array(K),
    b: new Int32Array(K),
    touched: new Int32Array(K + 1),
  };
  const overlapByClass = Float64Array.from(
    { length: C },
    (_, c) => _overlap(tr, gTr, va, gVa, c, c, ps),
  );
  const maps = [
    { grid: L.grid, weights: L.weights, train: L.train },
    ...(L.sizes ?? []).filter((s) => _sizeKey(s.grid) !== _sizeKey(L.grid)),
  ].sort((a, b) => a.grid.m * a.grid.n - b.grid.m * b.grid.n)
    .map((s) => _prepareCentreMap(s.grid, s.weights, L.dim, s.train.topk, L.k, gTr, C, S));
  const dTr = dist(tr, gTr), dVa = dist(va, gVa);
  return {
    tr,
    va,
    dTr,
    dVa,
    overlapByClass,
    maps,
    scratch,
    lvTr: _meanLevel(dTr, gTr, C),
    lvVa: _meanLevel(dVa, gVa, C),
    lvCorr: _corrLevel(dVa, gVs, C),
  };
}

/**
 * Class-level summary for the shrunken two-stage bootstrap: `θ_c`, their mean `m`, and
 * `α = sqrt(max(0, s²_θ − v̄) / s²_θ)` where `s²_θ` is the variance of the θ_c over classes and
 * `v̄` the mean within-class sampling variance of θ_c (its examples' variance over their number).
 */
function _level(theta: Float64Array, v: Float64Array, f: Float64Array): _ClassLevel {
  let s = 0, n = 0, vs = 0;
  for (let c = 0; c < theta.length; c++) {
    if (theta[c] !== theta[c]) continue;
    s += theta[c];
    vs += v[c];
    n++;
  }
  const m = n ? s / n : NaN;
  let q = 0;
  for (let c = 0; c < theta.length; c++) if (theta[c] === theta[c]) q += (theta[c] - m) ** 2;
  const s2 = n >= 2 ? q / (n - 1) : 0, vbar = n ? vs / n : 0;
  return { theta, f, m, alpha: s2 > 0 ? Math.sqrt(Math.max(0, s2 - vbar) / s2) : 0 };
}

/** Mean of `d[mem[t]]` over `t ∈ [from, to)` and the variance of that mean (NaN/0 when empty). */
function _meanVar(d: Float64Array, mem: Int32Array, from: number, to: number): [number, number] {
  const n = to - from;
  if (n === 0) return [NaN, 0];
  let s = 0;
  for (let t = from; t < to; t++) s += d[mem[t]];
  const mean = s / n;
  if (n < 2) return [mean, 0];
  let q = 0;
  for (let t = from; t < to; t++) q += (d[mem[t]] - mean) ** 2;
  return [mean, q / (n - 1) / n];
}

/** Mean of `d[mem[t]]` over `t ∈ [from, to)`, NaN when empty (no allocation). */
function _rangeMean(d: Float64Array, mem: Int32Array, from: number, to: number): number {
  if (to === from) return NaN;
  let s = 0;
  for (let t = from; t < to; t++) s += d[mem[t]];
  return s / (to - from);
}

/** θ_c = mean of `d` over the members of class c (NaN when none), with its sampling variance. */
function _meanLevel(d: Float64Array, g: _Groups, C: number): _ClassLevel {
  const theta = new Float64Array(C), v = new Float64Array(C), f = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    [theta[c], v[c]] = _meanVar(d, g.mem, g.off[c], g.off[c + 1]);
    const n = g.off[c + 1] - g.off[c];
    f[c] = n >= 2 ? Math.sqrt(n / (n - 1)) : 1;
  }
  return _level(theta, v, f);
}

/**
 * θ_c = mean `d` of the wrong minus the right predictions of class c, from SOM-val strata
 * (stratum 2c: wrong, 2c + 1: right); NaN unless both are present.
 */
function _corrLevel(d: Float64Array, gVs: _Groups, C: number): _ClassLevel {
  const theta = new Float64Array(C), v = new Float64Array(C), f = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const nw = gVs.off[2 * c + 1] - gVs.off[2 * c], nr = gVs.off[2 * c + 2] - gVs.off[2 * c + 1];
    const [mw, vw] = _meanVar(d, gVs.mem, gVs.off[2 * c], gVs.off[2 * c + 1]);
    const [mr, vr] = _meanVar(d, gVs.mem, gVs.off[2 * c + 1], gVs.off[2 * c + 2]);
    theta[c] = mw - mr;
    v[c] = vw + vr;
    const vb = (nw >= 2 ? (vw * (nw - 1)) / nw : 0) + (nr >= 2 ? (vr * (nr - 1)) / nr : 0);
    f[c] = vb > 0 ? Math.sqrt(v[c] / vb) : 1;
  }
  return _level(theta, v, f);
}

/** Mean over classes (with members) of the mean of `d` over the class's members. */
function _groupMean(d: Float64Array, off: Int32Array, mem: Int32Array, G: number): number {
  return _meanSkippingNaN(G, (c) => _rangeMean(d, mem, off[c], off[c + 1]));
}

/** Mean over classes with both of (mean d of wrong − mean d of right), from strata offsets. */
function _correctnessMean(d: Float64Array, sOff: Int32Array, mem: Int32Array, C: number): number {
  return _meanSkippingNaN(
    C,
    (c) =>
      _rangeMean(d, mem, sOff[2 * c], sOff[2 * c + 1]) -
      _rangeMean(d, mem, sOff[2 * c + 1], sOff[2 * c + 2]),
  );
}

/** Mean of `at(c)` over c = 0 … n−1, leaving out the NaN values (NaN when all are). */
function _meanSkippingNaN(n: number, at: (c: number) => number): number {
  let s = 0, m = 0;
  for (let c = 0; c < n; c++) {
    const v = at(c);
    if (v !== v) continue;
    s += v;
    m++;
  }
  return m ? s / m : NaN;
}

/**
 * One replicate of the shrunken two-stage bootstrap (Davison & Hinkley 1997, §3.8): the mean
 * over drawn classes j of `m + α(θ_{c_j} − m) + f_{c_j}(θ*_j − θ_{c_j})`, where θ*_j is the
 * statistic of class c_j on its resampled examples and f the with-replacement variance correction. Resampling classes and then examples with replacement
 * counts the within-class variance twice (once inside the spread of the θ_c); shrinking the class
 * effects by α removes the double count, so the replicates' variance matches the estimator's.
 */
function _shrunk(lv: _ClassLevel, drawn: Int32Array, star: Float64Array, J: number): number {
  let s = 0, n = 0;
  for (let j = 0; j < J; j++) {
    const t = lv.theta[drawn[j]], st = star[j];
    if (t !== t || st !== st) continue;
    s += lv.m + lv.alpha * (t - lv.m) + lv.f[drawn[j]] * (st - t);
    n++;
  }
  return n ? s / n : NaN;
}

/** Mean class-centre cosine distance of groups `classes` (their centres re-estimated). */
function _centreMean(
  mp: _CentreMap,
  g: _Groups,
  classes: Int32Array,
  S: number,
  units: Int32Array,
  tmp: { mode: Int32Array; row: Float64Array; col: Float64Array; unit: Int32Array },
  exact = false,
): number {
  _centres(mp.bmus, g, classes.subarray(0, S), mp.scratch, tmp);
  for (let a = 0; a < S; a++) units[a] = tmp.unit[classes[a]];
  return exact ? mp.cd.exact(units, classes, S) : mp.cd.fast(units, classes, S);
}

function _classIndex(labels: number[], values: ArrayLike<number>, what: string): Int32Array {
  const index = new Map(labels.map((l, i) => [l, i]));
  return Int32Array.from(values, (l) => {
    const c = index.get(l);
    if (c === undefined) {
      throw new RangeError(
        `Cannot compute class statistics: ${what} class ${l} is not a SOM-tr class; expected ` +
          `one of the ${labels.length} SOM-tr classes`,
      );
    }
    return c;
  });
}

/**
 * The class statistics of every layer with their bootstrap replicates and label-permutation
 * nulls (see the module doc for the schemes and streams).
 *
 * @param layers Per-layer inputs in depth order (the same examples and labels in every layer).
 * @param options Model name, seed, resamples, permutations and the class-centre subset.
 * @returns One entry per layer.
 * @throws {RangeError} If the layers disagree on the examples, or a SOM-val or subset class is
 *   not a SOM-tr class.
 *
 * @example Planted classes are tighter than their permutation null
 * ```ts
 * import { classStatistics } from "../../lib/analysis/class_stats.ts";
 * import { ok } from "node:assert";
 * const grid = { m: 10, n: 10 }, k = 1;
 * const labels = Array.from({ length: 40 }, (_, i) => i % 4);
 * const topk = Int32Array.from(labels, (c, i) => c * 25 + (i % 3)); // each class near its own unit
 * const split = { topk, labels };
 * const layer = { grid, dim: 2, weights: new Float32Array(200).fill(1), k, train: split, val: split };
 * const [s] = classStatistics([layer], { model: "toy", resamples: 50, permutations: 50 });
 * ok(s.dClassTrain.observed < s.dClassTrain.nullMean && s.dClassTrain.p < 0.05);
 * ```
 */
export function classStatistics(
  layers: readonly ClassStatsLayer[],
  options: ClassStatsOptions,
): LayerClassStats[] {
  const B = options.resamples ?? 1000, P = options.permutations ?? 200;
  for (const [name, v] of [["resamples", B], ["permutations", P]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`Cannot compute class statistics: ${name} is ${v} but must be ≥ 1`);
    }
  }
  const L0 = layers[0];
  for (const L of layers) {
    if (
      L.train.labels.length !== L0.train.labels.length ||
      L.val.labels.length !== L0.val.labels.length
    ) {
      throw new RangeError(
        `Cannot compute class statistics: layers have different examples (${L.train.labels.length} ` +
          `vs ${L0.train.labels.length} SOM-tr rows); expected the same examples in every layer`,
      );
    }
  }
  const labels = [...new Set(Array.from(L0.train.labels))].sort((a, b) => a - b);
  const C = labels.length;
  const gTr = _groups(_classIndex(labels, L0.train.labels, "SOM-tr"), C);
  const vaCls = _classIndex(labels, L0.val.labels, "SOM-val");
  // SOM-val strata: 2c = wrong (or all, without flags), 2c + 1 = right; class c is [2c, 2c + 2).
  const correct = L0.val.correct;
  const gVs = _groups(Int32Array.from(vaCls, (c, i) => 2 * c + (correct?.[i] ? 1 : 0)), 2 * C);
  const gVa: _Groups = {
    off: Int32Array.from({ length: C + 1 }, (_, c) => gVs.off[2 * c]),
    mem: gVs.mem,
  };
  const subset = _classIndex(labels, options.centreClasses ?? labels, "centre");
  const D: _Design = { gTr, gVa, gVs, C, subset, flags: !!correct };
  const prep = layers.map((L) => _prepareLayer(L, gTr, gVa, gVs, C, subset.length));
  // The class-centre subset has its own stream, so that its size changes nothing else.
  const boot = _bootstrap(
    prep,
    D,
    B,
    _stream(options, "class-bootstrap"),
    _stream(options, "class-bootstrap/centres"),
  );
  const nul = _nulls(prep, D, P, _stream(options, "label-permutation"));
  const units = new Int32Array(subset.length), tmp = _tmpCentres(C);
  return prep.map((p, l) => {
    const b = boot[l], n = nul[l];
    const out: LayerClassStats = {
      dClassTrain: _summarise(_groupMean(p.dTr, gTr.off, gTr.mem, C), b.dTr, n.dTr, false),
      dClassVal: _summarise(_groupMean(p.dVa, gVa.off, gVa.mem, C), b.dVa, n.dVa, false),
      overlap: _summarise(_nanMean(p.overlapByClass), b.ov, n.ov, true),
      overlapByClass: labels.map((lab, c) => [lab, p.overlapByClass[c]]),
      centreCd: Object.fromEntries(p.maps.map((mp, s) => [
        mp.key,
        _summarise(
          _centreMean(mp, gTr, subset, subset.length, units, tmp, true),
          b.cd[s],
          n.cd[s],
          true,
        ),
      ])),
    };
    if (correct) {
      out.correctness = _summarise(
        _correctnessMean(p.dVa, gVs.off, gVs.mem, C),
        b.corr,
        n.corr,
        true,
      );
    }
    return out;
  });
}

function _stream(o: ClassStatsOptions, name: string): Rng {
  return new Rng(o.seed ?? 0).stream(`${name}/${o.model}`);
}

function _nanMean(xs: Float64Array): number {
  return _meanSkippingNaN(xs.length, (i) => xs[i]);
}

function _tmpCentres(C: number) {
  return {
    mode: new Int32Array(C),
    row: new Float64Array(C),
    col: new Float64Array(C),
    unit: new Int32Array(C),
  };
}

/** What the bootstrap and the null share about the examples. */
interface _Design {
  gTr: _Groups;
  gVa: _Groups;
  /** SOM-val strata (see {@linkcode classStatistics}). */
  gVs: _Groups;
  C: number;
  subset: Int32Array;
  /** Whether right/wrong flags were given. */
  flags: boolean;
}

interface _Series {
  dTr: Float64Array;
  dVa: Float64Array;
  ov: Float64Array;
  corr: Float64Array;
  cd: Float64Array[];
}

function _series(prep: _Layer[], n: number): _Series[] {
  return prep.map((p) => ({
    dTr: new Float64Array(n),
    dVa: new Float64Array(n),
    ov: new Float64Array(n),
    corr: new Float64Array(n).fill(NaN),
    cd: p.maps.map(() => new Float64Array(n)),
  }));
}

/** Draws `n` members of group `c` with replacement into `buf` at `at`; returns the new end. */
function _drawMembers(r: Rng, g: _Groups, c: number, buf: Int32Array, at: number): number {
  const from = g.off[c], n = g.off[c + 1] - from;
  for (let t = 0; t < n; t++) buf[at++] = g.mem[from + r.int(n)];
  return at;
}

function _maxGroup(g: _Groups, G: number): number {
  let m = 0;
  for (let c = 0; c < G; c++) m = Math.max(m, g.off[c + 1] - g.off[c]);
  return m;
}

/** Buffers of one bootstrap replicate's draws. */
interface _Draws {
  drawn: Int32Array;
  /** SOM-tr draws: class j's examples are `tr[trOff[j]..trOff[j+1])`. */
  tr: Int32Array;
  trOff: Int32Array;
  /** SOM-val draws by stratum: class j's wrong `[vsOff[2j], vsOff[2j+1])`, right up to `vsOff[2j+2]`. */
  va: Int32Array;
  vsOff: Int32Array;
  /** The same, as class offsets (every other stratum offset). */
  vaOff: Int32Array;
  star: Float64Array;
}

function _draws(D: _Design): _Draws {
  const { gTr, gVa, C } = D;
  return {
    drawn: new Int32Array(C),
    tr: new Int32Array(C * _maxGroup(gTr, C)),
    trOff: new Int32Array(C + 1),
    va: new Int32Array(C * _maxGroup(gVa, C)),
    vsOff: new Int32Array(2 * C + 1),
    vaOff: new Int32Array(C + 1),
    star: new Float64Array(C),
  };
}

/** Draws classes, then each drawn class's SOM-tr examples and (per stratum) SOM-val examples. */
function _drawClasses(r: Rng, D: _Design, w: _Draws): void {
  const { gTr, gVs, C } = D;
  let at = 0, av = 0;
  for (let j = 0; j < C; j++) {
    const c = r.int(C);
    w.drawn[j] = c;
    w.trOff[j] = at;
    at = _drawMembers(r, gTr, c, w.tr, at);
    w.vaOff[j] = av;
    w.vsOff[2 * j] = av;
    av = _drawMembers(r, gVs, 2 * c, w.va, av);
    w.vsOff[2 * j + 1] = av;
    av = _drawMembers(r, gVs, 2 * c + 1, w.va, av);
  }
  w.trOff[C] = at;
  w.vaOff[C] = av;
  w.vsOff[2 * C] = av;
}

/** θ*_j per drawn class: the mean of `d` over its drawn examples. */
function _starMeans(
  d: Float64Array,
  mem: Int32Array,
  off: Int32Array,
  J: number,
  out: Float64Array,
): void {
  for (let j = 0; j < J; j++) out[j] = _rangeMean(d, mem, off[j], off[j + 1]);
}

/** Two-stage bootstrap replicates of every statistic, shared by all layers and sizes. */
function _bootstrap(prep: _Layer[], D: _Design, B: number, r: Rng, rc: Rng): _Series[] {
  const { gTr, C, subset } = D, S = subset.length;
  const out = _series(prep, B), w = _draws(D);
  const subBuf = new Int32Array(S * _maxGroup(gTr, C)), subOff = new Int32Array(S + 1);
  const lab = new Int32Array(S), units = new Int32Array(S), ov = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    _drawClasses(r, D, w);
    for (let l = 0; l < prep.length; l++) {
      const p = prep[l], o = out[l];
      _starMeans(p.dTr, w.tr, w.trOff, C, w.star);
      o.dTr[b] = _shrunk(p.lvTr, w.drawn, w.star, C);
      _starMeans(p.dVa, w.va, w.vaOff, C, w.star);
      o.dVa[b] = _shrunk(p.lvVa, w.drawn, w.star, C);
      for (let j = 0; j < C; j++) ov[j] = p.overlapByClass[w.drawn[j]];
      o.ov[b] = _nanMean(ov);
      if (D.flags) {
        for (let j = 0; j < C; j++) {
          w.star[j] = _rangeMean(p.dVa, w.va, w.vsOff[2 * j], w.vsOff[2 * j + 1]) -
            _rangeMean(p.dVa, w.va, w.vsOff[2 * j + 1], w.vsOff[2 * j + 2]);
        }
        o.corr[b] = _shrunk(p.lvCorr, w.drawn, w.star, C);
      }
    }
    // The class-centre subset: classes, then their SOM-tr examples; centres re-estimated
    // around each class's full-sample mode from the drawn examples' unfolded sums.
    let as = 0;
    for (let j = 0; j < S; j++) {
      lab[j] = subset[rc.int(S)];
      subOff[j] = as;
      as = _drawMembers(rc, gTr, lab[j], subBuf, as);
    }
    subOff[S] = as;
    for (let l = 0; l < prep.length; l++) {
      prep[l].maps.forEach((mp, s) => {
        const k = mp.bmus.k, g = mp.bmus.grid;
        for (let j = 0; j < S; j++) {
          let sr = 0, sc = 0;
          for (let t = subOff[j]; t < subOff[j + 1]; t++) {
            sr += mp.exR[subBuf[t]];
            sc += mp.exC[subBuf[t]];
          }
          const cnt = (subOff[j + 1] - subOff[j]) * k;
          units[j] = nearestUnit(wrap(sr / cnt, g.m), wrap(sc / cnt, g.n), g);
        }
        out[l].cd[s][b] = mp.cd.fast(units, lab, S);
      });
    }
  }
  return out;
}

/** Label-permutation nulls of every statistic, shared by all layers and sizes. */
function _nulls(prep: _Layer[], D: _Design, P: number, r: Rng): _Series[] {
  const { gTr, gVa, gVs, C, subset } = D, S = subset.length;
  const out = _series(prep, P);
  const pTr: _Groups = { off: gTr.off, mem: gTr.mem.slice() };
  const pVa: _Groups = { off: gVa.off, mem: gVa.mem.slice() };
  const cMem = gVs.mem.slice();
  const tmp = _tmpCentres(C), units = new Int32Array(S), dMean = new Float64Array(C);
  const allClasses = Int32Array.from({ length: C }, (_, c) => c);
  const ps = prep.map((p) => {
    const K = p.tr.grid.m * p.tr.grid.n;
    return { a: new Int32Array(K), b: new Int32Array(K), touched: new Int32Array(K + 1) };
  });
  for (let q = 0; q < P; q++) {
    r.shuffle(pTr.mem);
    r.shuffle(pVa.mem);
    if (D.flags) {
      // Right/wrong shuffled within each class: its examples keep their distances, only which
      // of them count as right changes (class c's members span strata 2c and 2c + 1).
      cMem.set(gVs.mem);
      for (let c = 0; c < C; c++) r.shuffle(cMem.subarray(gVs.off[2 * c], gVs.off[2 * c + 2]));
    }
    for (let l = 0; l < prep.length; l++) {
      const p = prep[l], o = out[l];
      _centres(p.tr, pTr, allClasses, p.scratch, tmp, dMean);
      o.dTr[q] = _nanMean(dMean);
      o.dVa[q] = _meanDClass(p.va, pVa, C, tmp, p.scratch);
      let s = 0, n = 0;
      for (let c = 0; c < C; c++) {
        const v = _overlap(p.tr, gTr, p.va, pVa, c, c, ps[l]);
        if (v === v) {
          s += v;
          n++;
        }
      }
      o.ov[q] = n ? s / n : NaN;
      if (D.flags) o.corr[q] = _correctnessMean(p.dVa, gVs.off, cMem, C);
      p.maps.forEach((mp, s2) => {
        o.cd[s2][q] = _centreMean(mp, pTr, subset, S, units, tmp);
      });
    }
  }
  return out;
}

function _summarise(
  observed: number,
  replicates: Float64Array,
  nul: Float64Array,
  larger: boolean,
): ClassStatistic {
  let s = 0, c = 0, extreme = 0;
  for (const v of nul) {
    if (!Number.isFinite(v)) continue;
    s += v;
    c++;
    if (larger ? v >= observed : v <= observed) extreme++;
  }
  const mean = c ? s / c : NaN;
  let q = 0;
  for (const v of nul) if (Number.isFinite(v)) q += (v - mean) ** 2;
  return {
    observed,
    replicates,
    null: nul,
    nullMean: mean,
    nullSd: c >= 2 ? Math.sqrt(q / (c - 1)) : NaN,
    p: Number.isFinite(observed) && c ? (1 + extreme) / (1 + c) : NaN,
  };
}
