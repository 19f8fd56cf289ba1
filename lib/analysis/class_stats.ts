/**
 * The class-structure statistics behind the verdicts, with their label-permutation nulls and
 * two-stage bootstrap replicates (SPEC §7): D_class on SOM-tr and SOM-val, class-centre cosine
 * distances per map size, the SOM-tr/SOM-val BMU overlap per class (Fig. 5) and the
 * label-centre distance of wrong minus right predictions (Supp. Fig. 3).
 *
 * Every layer and map size sees the same resamples and the same permutations, so that
 * differences between layers are paired:
 *
 * - **Bootstrap** (streams `class-bootstrap/<model>` and, for the class-centre subset,
 *   `class-bootstrap/centres/<model>`): a replicate draws classes with replacement,
 *   then, within each drawn class, its SOM-tr and its SOM-val examples with replacement
 *   (two-stage). Centres of the class-centre analysis are re-estimated from the drawn examples
 *   (around the class's mode unit on the full sample); D_class uses each example's distance to
 *   the full-sample centre.
 * - **Null** (stream `label-permutation/<model>`): a permutation shuffles the SOM-tr labels and
 *   the SOM-val labels (class sizes kept), re-estimates every centre from the shuffled SOM-tr
 *   labels and recomputes each statistic; for correctness it shuffles the right/wrong flags within
 *   each class.
 *
 * Inner loops run over flat typed arrays (members of each class as offsets into one index
 * array), with no allocation per class or per replicate.
 *
 * @module
 */

import { Rng } from "../rng.ts";
import { cosineDist, unitRows } from "../geometry/cosine.ts";
import { type GridShape, torusDist, wrap } from "../geometry/torus.ts";

/** One statistic of one layer (or map), with its bootstrap replicates and permutation null. */
export interface ClassStatistic {
  /** Value on the full sample. */
  observed: number;
  /** Bootstrap replicates (same resample index ⇒ same resample in every layer and size). */
  replicates: Float64Array;
  /** Values under label permutation (same permutation index ⇒ same permutation everywhere). */
  null: Float64Array;
  /** Mean of the finite null values. */
  nullMean: number;
  /** Standard deviation of the finite null values. */
  nullSd: number;
  /**
   * One-sided permutation p-value in the direction that indicates class structure:
   * `(1 + #{null at least as extreme}) / (1 + permutations)`.
   */
  p: number;
}

/** The class statistics of one layer. */
export interface LayerClassStats {
  /** Mean over classes of D_class on SOM-tr (grid units); structure = smaller than the null. */
  dClassTrain: ClassStatistic;
  /** Mean over classes of D_class on SOM-val (centres from SOM-tr). */
  dClassVal: ClassStatistic;
  /**
   * Mean over classes of the overlap of the SOM-tr and SOM-val BMU distributions of a class
   * (histogram intersection over units, all k BMUs, in [0, 1]); structure = larger than the null.
   */
  overlap: ClassStatistic;
  /** Per class (ascending label): its overlap. */
  overlapByClass: [number, number][];
  /**
   * Mean over classes with right and wrong predictions of (mean label-centre distance when wrong
   * − when right), SOM-val; absent without correctness flags.
   */
  correctness?: ClassStatistic;
  /** Per map size key (e.g. `20x20`): mean class-centre cosine distance over the subset's pairs. */
  centreCd: Record<string, ClassStatistic>;
}

/** The parts of a layer's inputs the class statistics read (a `LayerInput` has them). */
export interface ClassStatsLayer {
  /** Main grid. */
  grid: GridShape;
  /** Code dimension. */
  dim: number;
  /** Main map weights. */
  weights: Float32Array;
  /** BMUs per example. */
  k: number;
  /** SOM-tr BMUs and labels. */
  train: { topk: ArrayLike<number>; labels: ArrayLike<number> };
  /** SOM-val BMUs, labels and correctness flags. */
  val: {
    topk: ArrayLike<number>;
    labels: ArrayLike<number>;
    correct?: ArrayLike<number | boolean>;
  };
  /** Other map sizes (SOM-tr BMUs). */
  sizes?: readonly {
    grid: GridShape;
    weights: Float32Array;
    train: { topk: ArrayLike<number> };
  }[];
}

/** Options for {@linkcode classStatistics}. */
export interface ClassStatsOptions {
  /** Model name (names the seed streams). */
  model: string;
  /** Root seed. Default 0. */
  seed?: number | string;
  /** Bootstrap replicates. Default 1000. */
  resamples?: number;
  /** Label permutations of the null. Default 200. */
  permutations?: number;
  /** Labels of the class-centre subset (every one must be a SOM-tr class). Default: all. */
  centreClasses?: readonly number[];
}

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
  /** Row and column of each unit of the grid. */
  urow: Int32Array;
  ucol: Int32Array;
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
  const unit = Int32Array.from(topk), K = grid.m * grid.n;
  const urow = new Int32Array(K), ucol = new Int32Array(K);
  for (let u = 0; u < K; u++) {
    urow[u] = Math.floor(u / grid.n);
    ucol[u] = u % grid.n;
  }
  return {
    grid,
    k,
    row,
    col,
    unit,
    urow,
    ucol,
    unfR: _unfoldTable(grid.m),
    unfC: _unfoldTable(grid.n),
  };
}

/** Scratch space for centre estimation on a map with K units. */
interface _Scratch {
  counts: Int32Array;
  touched: Int32Array;
  /** Squared row and column offsets to a class centre (see {@linkcode _squaredOffsets}). */
  dr2: Float64Array;
  dc2: Float64Array;
}

function _scratch(grid: GridShape, maxBmus: number): _Scratch {
  const K = grid.m * grid.n;
  return {
    counts: new Int32Array(K),
    touched: new Int32Array(Math.min(K, maxBmus) + 1),
    dr2: new Float64Array(grid.m),
    dc2: new Float64Array(grid.n),
  };
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
  const { k, unit, unfR, unfC, urow, ucol, grid } = b;
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
    const mr = urow[mode], mc = ucol[mode];
    // Integer sums of unfolded coordinates: exact, so the centre equals classCentres' bit for bit.
    let sr = 0, scol = 0;
    for (let t = 0; t < nt; t++) {
      const u = touched[t], w = counts[u];
      sr += w * unfR[urow[u] * m + mr];
      scol += w * unfC[ucol[u] * n + mc];
    }
    const cnt = (to - from) * k;
    const r = wrap(sr / cnt, m), cc = wrap(scol / cnt, n);
    if (dMean) {
      const { dr2, dc2 } = sc;
      _squaredOffsets(r, m, dr2);
      _squaredOffsets(cc, n, dc2);
      let sd = 0;
      for (let t = 0; t < nt; t++) {
        const u = touched[t];
        sd += counts[u] * Math.sqrt(dr2[urow[u]] + dc2[ucol[u]]);
      }
      dMean[c] = sd / cnt;
    }
    for (let t = 0; t < nt; t++) counts[touched[t]] = 0;
    out.mode[c] = mode;
    out.row[c] = r;
    out.col[c] = cc;
    if (out.unit) out.unit[c] = _nearestUnit(r, cc, grid);
  }
}

/**
 * Per grid line x = 0 … L−1, the squared torus offset to a coordinate X inside `[0, L)`:
 * `min(|x − X|, L − |x − X|)²`. `Math.sqrt(dr2[r] + dc2[c])` is then `torusDist(r, c, R, C)`
 * (the same operations on the same numbers, without the modulo, which positions inside the grid
 * never need), and a class's distances cost two lookups per unit.
 */
function _squaredOffsets(X: number, L: number, out: Float64Array): void {
  for (let x = 0; x < L; x++) {
    let d = Math.abs(x - X);
    if (L - d < d) d = L - d;
    out[x] = d * d;
  }
}

/**
 * `nearestUnit` of lib/geometry/torus.ts without its arrays: the unit nearest to (r, c) among
 * the four around it, in the same order and with the same tie rule (lowest unit index).
 */
function _nearestUnit(r: number, c: number, grid: GridShape): number {
  const { m, n } = grid;
  const r0 = wrap(Math.floor(r), m), r1 = wrap(Math.floor(r) + 1, m);
  const c0 = wrap(Math.floor(c), n), c1 = wrap(Math.floor(c) + 1, n);
  let best = -1, bestD = Infinity;
  for (let a = 0; a < 2; a++) {
    const ri = a === 0 ? r0 : r1;
    for (let b = 0; b < 2; b++) {
      const ci = b === 0 ? c0 : c1;
      const u = ri * n + ci, d = torusDist(r, c, ri, ci, grid);
      if (d < bestD || (d === bestD && u < best)) {
        best = u;
        bestD = d;
      }
    }
  }
  return best;
}

/** Mean over an example's k BMUs of the torus distance to a point. */
function _exampleDist(b: _Bmus, i: number, r: number, c: number): number {
  let s = 0;
  const base = i * b.k;
  for (let j = 0; j < b.k; j++) s += torusDist(b.row[base + j], b.col[base + j], r, c, b.grid);
  return s / b.k;
}

/**
 * Mean cosine distance between the weights of class-centre units, over pairs of entries with
 * different labels.
 *
 * `exact` is the pairwise float64 definition (each distance clamped to [0, 2]), for reported
 * values. Replicates and permutations use {@linkcode _fastMaps}:
 * `Σ_{a<b} cos(w_a, w_b) = (‖Σ ŵ‖² − Σ_groups ‖Σ_group ŵ‖²) / 2` over unit rows
 * `ŵ = w / max(‖w‖, 1e-8)` grouped by label: O(S·d) per call instead of S²/2 random lookups.
 */
class _PairCd {
  readonly unit: Float32Array;
  constructor(
    readonly w: Float32Array,
    readonly K: number,
    readonly d: number,
  ) {
    this.unit = unitRows(w, K, d);
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
}

/** The label groups of S entries (first member, size, next member) and per-lane buffers. */
interface _LabelGroups {
  /** Per label, its group during a call (−1 otherwise). */
  slot: Int32Array;
  first: Int32Array;
  last: Int32Array;
  size: Int32Array;
  next: Int32Array;
  count: number;
  /** Per lane of {@linkcode _fastMaps}: row offsets of the entries' units, and a group's sum. */
  bases: Int32Array[];
  sums: Float64Array[];
}

function _labelGroups(C: number, S: number, maxDim: number): _LabelGroups {
  return {
    slot: new Int32Array(C).fill(-1),
    first: new Int32Array(S),
    last: new Int32Array(S),
    size: new Int32Array(S),
    next: new Int32Array(S),
    count: 0,
    bases: [0, 1, 2, 3].map(() => new Int32Array(S)),
    sums: [0, 1, 2, 3].map(() => new Float64Array(maxDim)),
  };
}

/** Groups entries `0 … S−1` by label in order of first appearance (members ascending). */
function _group(lg: _LabelGroups, labelOf: ArrayLike<number>, S: number): void {
  let groups = 0;
  for (let a = 0; a < S; a++) {
    let gi = lg.slot[labelOf[a]];
    lg.next[a] = -1;
    if (gi < 0) {
      gi = lg.slot[labelOf[a]] = groups++;
      lg.first[gi] = a;
      lg.size[gi] = 0;
    } else lg.next[lg.last[gi]] = a;
    lg.last[gi] = a;
    lg.size[gi]++;
  }
  for (let a = 0; a < S; a++) lg.slot[labelOf[a]] = -1;
  lg.count = groups;
}

/**
 * The mean centre-pair cosine distance (see {@linkcode _PairCd}) on the maps of one layer,
 * `out[s]` for map s with centre units `units[s]`: exactly the sums of the definition, in its
 * order. `‖Σ ŵ‖²`: each component summed over the entries in order, the squares over the
 * components in order; `Σ_groups ‖Σ_group ŵ‖²`: one running sum over the groups in order of
 * first appearance and, within a group, its components in order (a group's component summed
 * over its members in order; a one-member group's is its row). Only the loop nesting differs
 * (components in blocks of four over the entries; up to four maps' running sums side by side,
 * since each is a chain of dependent additions).
 */
function _fastMaps(
  cds: readonly _PairCd[],
  units: readonly Int32Array[],
  labelOf: ArrayLike<number>,
  S: number,
  lg: _LabelGroups,
  out: Float64Array,
): void {
  _group(lg, labelOf, S);
  let same = 0;
  for (let g = 0; g < lg.count; g++) same += (lg.size[g] * (lg.size[g] - 1)) / 2;
  const np = (S * (S - 1)) / 2 - same, d = cds[0].d;
  for (let s = 0; s < cds.length; s += 4) {
    // Lanes past the last map repeat it (their results are dropped).
    const lanes = [0, 1, 2, 3].map((i) => Math.min(s + i, cds.length - 1));
    const U = lanes.map((m) => cds[m].unit);
    lanes.forEach((m, i) => {
      for (let a = 0; a < S; a++) lg.bases[i][a] = units[m][a] * d;
    });
    const w = _withinSums(U, lg, d);
    for (let i = 0; i < 4 && s + i < cds.length; i++) {
      const tot = _sumSquaredNorm(U[i], lg.bases[i], S, d);
      out[s + i] = np > 0 ? 1 - (tot - w[i]) / 2 / np : NaN;
    }
  }
}

/** `Σ_t (Σ_a U[bases[a] + t])²`, each component summed over `a` in order, squares over `t`. */
function _sumSquaredNorm(U: Float32Array, bases: Int32Array, S: number, d: number): number {
  let tot = 0, t = 0;
  for (; t + 4 <= d; t += 4) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let a = 0; a < S; a++) {
      const b = bases[a] + t;
      s0 += U[b];
      s1 += U[b + 1];
      s2 += U[b + 2];
      s3 += U[b + 3];
    }
    tot += s0 * s0;
    tot += s1 * s1;
    tot += s2 * s2;
    tot += s3 * s3;
  }
  for (; t < d; t++) {
    let s0 = 0;
    for (let a = 0; a < S; a++) s0 += U[bases[a] + t];
    tot += s0 * s0;
  }
  return tot;
}

/** `Σ_groups ‖Σ_group ŵ‖²` of four lanes (see {@linkcode _fastMaps}), chains side by side. */
function _withinSums(
  U: Float32Array[],
  lg: _LabelGroups,
  d: number,
): [number, number, number, number] {
  const [U0, U1, U2, U3] = U, [B0, B1, B2, B3] = lg.bases, [G0, G1, G2, G3] = lg.sums;
  let w0 = 0, w1 = 0, w2 = 0, w3 = 0;
  for (let g = 0; g < lg.count; g++) {
    const a0 = lg.first[g];
    if (lg.size[g] === 1) {
      const b0 = B0[a0], b1 = B1[a0], b2 = B2[a0], b3 = B3[a0];
      for (let t = 0; t < d; t++) {
        const x0 = U0[b0 + t], x1 = U1[b1 + t], x2 = U2[b2 + t], x3 = U3[b3 + t];
        w0 += x0 * x0;
        w1 += x1 * x1;
        w2 += x2 * x2;
        w3 += x3 * x3;
      }
      continue;
    }
    _memberSums(U0, B0, lg, a0, d, G0);
    _memberSums(U1, B1, lg, a0, d, G1);
    _memberSums(U2, B2, lg, a0, d, G2);
    _memberSums(U3, B3, lg, a0, d, G3);
    for (let t = 0; t < d; t++) {
      const x0 = G0[t], x1 = G1[t], x2 = G2[t], x3 = G3[t];
      w0 += x0 * x0;
      w1 += x1 * x1;
      w2 += x2 * x2;
      w3 += x3 * x3;
    }
  }
  return [w0, w1, w2, w3];
}

/** Each component of a group's sum over its members (from `a0`, linked by `next`), in order. */
function _memberSums(
  U: Float32Array,
  B: Int32Array,
  lg: _LabelGroups,
  a0: number,
  d: number,
  out: Float64Array,
): void {
  const next = lg.next;
  let t = 0;
  for (; t + 4 <= d; t += 4) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let a = a0; a >= 0; a = next[a]) {
      const b = B[a] + t;
      s0 += U[b];
      s1 += U[b + 1];
      s2 += U[b + 2];
      s3 += U[b + 3];
    }
    out[t] = s0;
    out[t + 1] = s1;
    out[t + 2] = s2;
    out[t + 3] = s3;
  }
  for (; t < d; t++) {
    let s0 = 0;
    for (let a = a0; a >= 0; a = next[a]) s0 += U[B[a] + t];
    out[t] = s0;
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
): _CentreMap {
  const bmus = _bmus(topk, k, grid), K = grid.m * grid.n;
  const scratch = _scratch(grid, topk.length);
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
    cd: new _PairCd(weights, K, dim),
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
): _Layer {
  const tr = _bmus(L.train.topk, L.k, L.grid), va = _bmus(L.val.topk, L.k, L.grid);
  const K = L.grid.m * L.grid.n;
  const scratch = _scratch(L.grid, Math.max(L.train.topk.length, L.val.topk.length));
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
    .map((s) => _prepareCentreMap(s.grid, s.weights, L.dim, s.train.topk, L.k, gTr, C));
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

/** Centre units of groups `classes` on one map (their centres re-estimated) into `units`. */
function _centreUnits(
  mp: _CentreMap,
  g: _Groups,
  classes: Int32Array,
  S: number,
  units: Int32Array,
  tmp: { mode: Int32Array; row: Float64Array; col: Float64Array; unit: Int32Array },
): Int32Array {
  _centres(mp.bmus, g, classes.subarray(0, S), mp.scratch, tmp);
  for (let a = 0; a < S; a++) units[a] = tmp.unit[classes[a]];
  return units;
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
 * import { classStatistics } from "./class_stats.ts";
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
  const subset = _classIndex(labels, options.centreClasses ?? labels, "centre"), S = subset.length;
  const D: _Design = { gTr, gVa, gVs, C, subset, flags: !!correct };
  const prep = layers.map((L) => _prepareLayer(L, gTr, gVa, gVs, C));
  // The class-centre subset has its own stream, so that its size changes nothing else.
  const boot = _bootstrap(
    prep,
    D,
    B,
    _stream(options, "class-bootstrap"),
    _stream(options, "class-bootstrap/centres"),
  );
  const nul = _nulls(prep, D, P, _stream(options, "label-permutation"));
  const units = new Int32Array(S), tmp = _tmpCentres(C);
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
          mp.cd.exact(_centreUnits(mp, gTr, subset, subset.length, units, tmp), subset, S),
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
  const lab = new Int32Array(S), ov = new Float64Array(C);
  const lg = _labelGroups(C, S, Math.max(...prep.map((p) => p.maps[0].cd.d)));
  const units = prep.map((p) => p.maps.map(() => new Int32Array(S)));
  const res = new Float64Array(Math.max(...prep.map((p) => p.maps.length)));
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
      const maps = prep[l].maps;
      maps.forEach((mp, s) => {
        const k = mp.bmus.k, g = mp.bmus.grid, u = units[l][s];
        for (let j = 0; j < S; j++) {
          let sr = 0, sc = 0;
          for (let t = subOff[j]; t < subOff[j + 1]; t++) {
            sr += mp.exR[subBuf[t]];
            sc += mp.exC[subBuf[t]];
          }
          const cnt = (subOff[j + 1] - subOff[j]) * k;
          u[j] = _nearestUnit(wrap(sr / cnt, g.m), wrap(sc / cnt, g.n), g);
        }
      });
      _fastMaps(maps.map((mp) => mp.cd), units[l], lab, S, lg, res);
      for (let s = 0; s < maps.length; s++) out[l].cd[s][b] = res[s];
    }
  }
  return out;
}

/** Per group, its BMU histogram: units in order of first appearance and their counts. */
interface _Histograms {
  off: Int32Array;
  unit: Int32Array;
  count: Int32Array;
  /** BMUs of each group. */
  n: Int32Array;
}

function _histograms(b: _Bmus, g: _Groups, C: number, sc: _Scratch): _Histograms {
  const { counts, touched } = sc;
  const off = new Int32Array(C + 1), n = new Int32Array(C), units: number[] = [], cs: number[] = [];
  for (let c = 0; c < C; c++) {
    const nt = _tally(b.unit, g, c, b.k, counts, counts, touched, 0);
    for (let t = 0; t < nt; t++) {
      units.push(touched[t]);
      cs.push(counts[touched[t]]);
      counts[touched[t]] = 0;
    }
    off[c + 1] = units.length;
    n[c] = (g.off[c + 1] - g.off[c]) * b.k;
  }
  return { off, unit: Int32Array.from(units), count: Int32Array.from(cs), n };
}

/**
 * The SOM-val statistics of one permutation from one tally of each class's permuted SOM-val
 * BMUs: the mean D_class over classes to the (permuted) SOM-tr centres and the mean overlap
 * with the class's SOM-tr histogram (`_overlap`: its sum runs over the SOM-tr units in order of
 * first appearance; the units only one side has add zeros).
 */
function _valNull(
  va: _Bmus,
  g: _Groups,
  C: number,
  centres: { row: Float64Array; col: Float64Array },
  tr: _Histograms,
  sc: _Scratch,
  o: _Series,
  q: number,
): void {
  const { k, unit, urow, ucol } = va, { m, n } = va.grid, { counts, touched } = sc;
  let s = 0, nc = 0, so = 0, no = 0;
  for (let c = 0; c < C; c++) {
    const from = g.off[c], to = g.off[c + 1], nVa = (to - from) * k, nTr = tr.n[c];
    let nt = 0;
    for (let t = from; t < to; t++) {
      const base = g.mem[t] * k;
      for (let j = 0; j < k; j++) {
        if (counts[unit[base + j]]++ === 0) touched[nt++] = unit[base + j];
      }
    }
    if (nVa === 0) continue;
    let sd = 0;
    const { dr2, dc2 } = sc;
    _squaredOffsets(centres.row[c], m, dr2);
    _squaredOffsets(centres.col[c], n, dc2);
    for (let t = 0; t < nt; t++) {
      const u = touched[t];
      sd += counts[u] * Math.sqrt(dr2[urow[u]] + dc2[ucol[u]]);
    }
    s += sd / nVa;
    nc++;
    if (nTr !== 0) {
      let inter = 0;
      for (let e = tr.off[c]; e < tr.off[c + 1]; e++) {
        inter += Math.min(tr.count[e] / nTr, counts[tr.unit[e]] / nVa);
      }
      so += inter;
      no++;
    }
    for (let t = 0; t < nt; t++) counts[touched[t]] = 0;
  }
  o.dVa[q] = nc ? s / nc : NaN;
  o.ov[q] = no ? so / no : NaN;
}

/** Label-permutation nulls of every statistic, shared by all layers and sizes. */
function _nulls(prep: _Layer[], D: _Design, P: number, r: Rng): _Series[] {
  const { gTr, gVa, gVs, C, subset } = D, S = subset.length;
  const out = _series(prep, P);
  const pTr: _Groups = { off: gTr.off, mem: gTr.mem.slice() };
  const pVa: _Groups = { off: gVa.off, mem: gVa.mem.slice() };
  const cMem = gVs.mem.slice();
  const tmp = _tmpCentres(C), dMean = new Float64Array(C);
  const lg = _labelGroups(C, S, Math.max(...prep.map((p) => p.maps[0].cd.d)));
  const units = prep.map((p) => p.maps.map(() => new Int32Array(S)));
  const res = new Float64Array(Math.max(...prep.map((p) => p.maps.length)));
  // The centres of every class need no centre unit (only the subset's, in _centreUnits).
  const noUnit = { mode: tmp.mode, row: tmp.row, col: tmp.col };
  const allClasses = Int32Array.from({ length: C }, (_, c) => c);
  const hist = prep.map((p) => _histograms(p.tr, gTr, C, p.scratch));
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
      _centres(p.tr, pTr, allClasses, p.scratch, noUnit, dMean);
      o.dTr[q] = _nanMean(dMean);
      _valNull(p.va, pVa, C, tmp, hist[l], p.scratch, o, q);
      if (D.flags) o.corr[q] = _correctnessMean(p.dVa, gVs.off, cMem, C);
      p.maps.forEach((mp, s2) => _centreUnits(mp, pTr, subset, S, units[l][s2], tmp));
      _fastMaps(p.maps.map((mp) => mp.cd), units[l], subset, S, lg, res);
      for (let s2 = 0; s2 < p.maps.length; s2++) o.cd[s2][q] = res[s2];
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
