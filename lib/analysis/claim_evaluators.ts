/**
 * One small evaluator per paper claim (SPEC §6). Each turns a model's analyses into a *draft*:
 * the statistic, how its interval is made (bootstrap replicates or per-seed values), the
 * threshold and direction, the null requirement, per-layer values, effect, trend and sign line.
 * `evaluateClaims` (claims.ts) then applies the guards, the multiple-comparison adjustment and
 * the verdict rule to every draft alike. Wording uses the model's own layer names.
 *
 * @module
 */

import { Rng } from "../rng.ts";
import type { LayerAnalysis, ModelAnalysis } from "./analyze.ts";
import type { ClassStatistic } from "./class_stats.ts";
import type {
  CLAIM_DEFAULTS,
  EffectSummary,
  Interval,
  LayerValue,
  NullSummary,
  SecondaryLine,
  TrendSummary,
  Verdict,
} from "./claim_types.ts";
import { type GridShape, unitDist } from "../geometry/torus.ts";
import {
  finiteMean,
  kendallTau,
  normalCdf,
  percentileInterval,
  sampleSd,
  tQuantile,
} from "./stats.ts";

/** What every evaluator sees. */
export interface ClaimContext {
  /** The model's analyses. */
  a: ModelAnalysis;
  /** Its layers, shallow to deep. */
  L: LayerAnalysis[];
  /** Layer names. */
  names: string[];
  /** Nominal level of per-layer intervals. */
  level: number;
  /** Image-bootstrap replicates. */
  resamples: number;
  /** Root seed of the image bootstraps. */
  seed: number | string;
  /** Thresholds. */
  o: Omit<typeof CLAIM_DEFAULTS, "level" | "adjust">;
}

/** How a claim's interval is made: percentile bootstrap, or over per-seed values. */
export type ClaimTest =
  | { kind: "bootstrap"; replicates: Float64Array; units: number }
  | { kind: "seeds"; values: number[] };

/** An evaluator's result, before guards, adjustment and verdict. */
export interface ClaimDraft {
  /** Claim id. */
  id: string;
  /** The paper's claim with this model's layer names. */
  statement: string;
  /** What the statistic measures. */
  measures: string;
  /** Its definition. */
  statistic: string;
  /** Holds when above / below the threshold. */
  direction: "above" | "below";
  /** The threshold. */
  threshold: number;
  /** Natural scale of the statistic, for the numerical-noise rule (±1e-9 · scale). */
  scale: number;
  /** The statistic on the full sample. */
  point: number;
  /** How its interval is made. */
  test: ClaimTest;
  /** A null the claim must beat to hold: its one-sided p and summary. */
  nullReq?: { p: number; summary: NullSummary };
  /** Per-layer values. */
  perLayer: LayerValue[];
  /** Effect size. */
  effect: EffectSummary | null;
  /** Trend. */
  trend: TrendSummary | null;
  /** Sign line. */
  secondary: SecondaryLine | null;
  /** What was resampled. */
  resampled: string;
  /** Replicates or seeds. */
  resamples: number;
  /** Remarks. */
  note?: string;
  /** Why the claim could not be evaluated (inputs missing). */
  missing?: string;
}

const PERM_METHOD =
  "SOM-tr and SOM-val labels shuffled (class sizes kept), class centres re-estimated from the " +
  "shuffled SOM-tr labels, statistic recomputed on the same maps and BMUs";

function _fin(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function _ivl(iv: [number, number]): Interval {
  return [_fin(iv[0]), _fin(iv[1])];
}

function _sorted(xs: ArrayLike<number>): Float64Array {
  return Float64Array.from(Array.from(xs).filter(Number.isFinite)).sort();
}

/**
 * Hesterberg's expanded percentile interval of bootstrap replicates: with `units` independent
 * units resampled, the percentile level is widened so that its normal quantile equals
 * `sqrt(n/(n−1)) · t_{n−1}` (the plain percentile interval is too narrow for small n, by the
 * variance factor (n−1)/n and the normal-versus-t quantile).
 *
 * @param reps Replicates.
 * @param level Nominal level.
 * @param units Independent units resampled (classes or images); omitted: plain percentile.
 * @returns `[low, high]`.
 */
export function replicateInterval(
  reps: ArrayLike<number>,
  level: number,
  units?: number,
): [number, number] {
  let lv = level;
  if (units !== undefined && units >= 2) {
    const z = Math.sqrt(units / (units - 1)) * tQuantile((1 + level) / 2, units - 1);
    lv = 2 * normalCdf(z) - 1;
  }
  return percentileInterval(_sorted(reps), lv);
}

/**
 * Interval over per-seed values: Student t for the mean with at least `minSeeds` values, else
 * the range.
 */
export function seedInterval(
  values: readonly number[],
  level: number,
  minSeeds: number,
): [number, number] {
  const v = values.filter(Number.isFinite);
  if (v.length === 0) return [NaN, NaN];
  if (v.length < minSeeds) return [Math.min(...v), Math.max(...v)];
  const m = finiteMean(v), se = sampleSd(v) / Math.sqrt(v.length);
  const t = tQuantile((1 + level) / 2, v.length - 1);
  return [m - t * se, m + t * se];
}

/** Interval of a test at a level. */
export function testInterval(t: ClaimTest, level: number, minSeeds: number): [number, number] {
  return t.kind === "bootstrap"
    ? replicateInterval(t.replicates, level, t.units)
    : seedInterval(t.values, level, minSeeds);
}

/**
 * The verdict an interval gives against a threshold, never decided by rounding: an interval
 * within ±1e-9·scale of the threshold, or a non-finite one, is inconclusive.
 */
export function intervalVerdict(
  iv: [number, number],
  threshold: number,
  direction: "above" | "below",
  scale: number,
): { holds: Verdict; noise: boolean } {
  if (!Number.isFinite(iv[0]) || !Number.isFinite(iv[1])) {
    return { holds: "inconclusive", noise: false };
  }
  const tol = 1e-9 * Math.abs(scale);
  if (iv[0] >= threshold - tol && iv[1] <= threshold + tol) {
    return { holds: "inconclusive", noise: true };
  }
  const above = iv[0] > threshold + tol, below = iv[1] < threshold - tol;
  if (direction === "above") {
    return { holds: above ? true : below ? false : "inconclusive", noise: false };
  }
  return { holds: below ? true : above ? false : "inconclusive", noise: false };
}

/** One-sided p of a class statistic against its null (normal approximation, else empirical). */
function _nullP(st: ClassStatistic, larger: boolean): number {
  if (!(st.nullSd > 0) || !Number.isFinite(st.observed)) return st.p;
  const z = (st.observed - st.nullMean) / st.nullSd;
  return larger ? normalCdf(-z) : normalCdf(z);
}

function _nullRow(layer: string, st: ClassStatistic, size?: string): NullSummary["perLayer"][0] {
  const r = percentileInterval(_sorted(st.null), 0.95);
  return {
    layer,
    ...(size ? { size } : {}),
    observed: _fin(st.observed),
    mean: _fin(st.nullMean),
    sd: _fin(st.nullSd),
    range: _ivl(r),
    p: _fin(st.p),
  };
}

/** A label-permutation null requirement (same shape for every class-structure claim). */
function _nullReq(
  c: ClaimContext,
  method: string,
  requirement: string,
  p: number,
  permutations: number,
  rows: NullSummary["perLayer"],
): NonNullable<ClaimDraft["nullReq"]> {
  return {
    p,
    summary: {
      method,
      permutations,
      stream: `label-permutation/${c.a.model}`,
      requirement,
      p: _fin(p),
      met: null,
      perLayer: rows,
    },
  };
}

/** A class statistic's per-layer line: raw value and interval, effect and interval, null. */
function _classRow(
  c: ClaimContext,
  layer: string,
  st: ClassStatistic,
  units: number,
  effect: number,
  effectReps?: ArrayLike<number>,
): LayerValue {
  return {
    layer,
    value: _fin(st.observed),
    interval: _ivl(replicateInterval(st.replicates, c.level, units)),
    effect: _fin(effect),
    ...(effectReps ? { effectInterval: _ivl(replicateInterval(effectReps, c.level, units)) } : {}),
    null: { mean: _fin(st.nullMean), sd: _fin(st.nullSd), p: _fin(st.p) },
  };
}

/** Per-layer effects with intervals. */
function _effectRows(
  c: ClaimContext,
  values: number[],
  reps: ArrayLike<number>[],
  units: number,
): NonNullable<EffectSummary["perLayer"]> {
  return c.L.map((l, i) => ({
    layer: l.layer,
    value: _fin(values[i]),
    interval: _ivl(replicateInterval(reps[i], c.level, units)),
  }));
}

/** Mean torus distance between two uniformly random units (unit 0 stands for all). */
function _randomUnitDistance(g: GridShape): number {
  const K = g.m * g.n;
  let s = 0;
  for (let v = 0; v < K; v++) s += unitDist(0, v, g);
  return s / K;
}

/** Kendall's τ on each replicate of per-layer series (same replicate index in every layer). */
function _tauReplicates(series: Float64Array[]): Float64Array {
  const B = series[0]?.length ?? 0,
    out = new Float64Array(B),
    row = new Float64Array(series.length);
  for (let b = 0; b < B; b++) {
    for (let l = 0; l < series.length; l++) row[l] = series[l][b];
    out[b] = kendallTau(row);
  }
  return out;
}

function _bootTrend(
  c: ClaimContext,
  measure: string,
  expected: "increasing" | "decreasing",
  point: number[],
  series: Float64Array[],
  units: number,
): TrendSummary {
  return {
    measure: `Kendall's τ between layer order (${c.names[0]} … ${
      c.names[c.names.length - 1]
    }) and ${measure}`,
    expected,
    tau: _fin(kendallTau(point)),
    interval: _ivl(replicateInterval(_tauReplicates(series), c.level, units)),
    layers: point.length,
  };
}

/** Image-bootstrap replicates: `f` fills `out` (one value per output) for resampled indices. */
function _imageReplicates(
  c: ClaimContext,
  N: number,
  outputs: number,
  f: (idx: Int32Array, out: Float64Array) => void,
): Float64Array[] {
  const r = new Rng(c.seed).stream(`claims/${c.a.model}/attacked-images`);
  const reps = Array.from({ length: outputs }, () => new Float64Array(c.resamples));
  const idx = new Int32Array(N), out = new Float64Array(outputs);
  for (let b = 0; b < c.resamples; b++) {
    for (let i = 0; i < N; i++) idx[i] = r.int(N);
    f(idx, out);
    for (let k = 0; k < outputs; k++) reps[k][b] = out[k];
  }
  return reps;
}

function _meanAt(v: ArrayLike<number>, idx: Int32Array): number {
  let s = 0;
  for (let i = 0; i < idx.length; i++) s += v[idx[i]];
  return idx.length ? s / idx.length : NaN;
}

function _identity(N: number): Int32Array {
  return Int32Array.from({ length: N }, (_, i) => i);
}

function _missing(
  id: string,
  statement: string,
  measures: string,
  statistic: string,
  direction: "above" | "below",
  threshold: number,
  why: string,
): ClaimDraft {
  return {
    id,
    statement,
    measures,
    statistic,
    direction,
    threshold,
    scale: 1,
    point: NaN,
    test: { kind: "bootstrap", replicates: new Float64Array(0), units: 0 },
    perLayer: [],
    effect: null,
    trend: null,
    secondary: null,
    resampled: "nothing",
    resamples: 0,
    missing: why,
  };
}

function _signLine(
  statistic: string,
  value: number,
  iv: [number, number],
  scale: number,
  pct: string,
): SecondaryLine {
  return {
    statistic,
    value: _fin(value),
    interval: _ivl(iv),
    holds: intervalVerdict(iv, 0, "above", scale).holds,
    rule: `sign test: above 0 if the ${pct} interval is above 0 (not the verdict)`,
  };
}

function _pct(level: number): string {
  return `${+(level * 100).toFixed(2)} %`;
}

const NEEDS_TWO = "needs at least two layers";

/** Per-layer lines of a seed-level statistic: mean over seeds and its seed interval. */
function _seedRows(
  c: ClaimContext,
  bySeed: readonly (readonly number[])[],
  means: number[],
  S: number,
): LayerValue[] {
  return c.L.map((l, i) => ({
    layer: l.layer,
    value: _fin(means[i]),
    interval: _ivl(seedInterval(bySeed[i].slice(0, S), c.level, c.o.minSeeds)),
  }));
}

/** Kendall's τ of a seed-level statistic: per seed over the layers, then over the seeds. */
function _seedTrend(c: ClaimContext, what: string, seeds: number[][]): TrendSummary {
  const taus = seeds.map((v) => kendallTau(v));
  return {
    measure: `Kendall's τ between layer order (${c.names[0]} … ${
      c.names[c.names.length - 1]
    }) and ${what}, mean over SOM seeds`,
    expected: "increasing",
    tau: _fin(finiteMean(taus)),
    interval: _ivl(seedInterval(taus, c.level, c.o.minSeeds)),
    layers: c.L.length,
  };
}

/** Fig. 3: the last layer's final SOM loss is above every earlier layer's (SOM seeds). */
function lossClaim(c: ClaimContext): ClaimDraft {
  const { L, names } = c, last = names[names.length - 1];
  const id = "loss-last-layer-highest";
  const statement = `SOM loss is higher in the last layer (${last}) than in earlier layers (${
    names.slice(0, -1).join(", ")
  }).`;
  const measures = "how much higher the last layer's final SOM loss is than the highest final " +
    "loss of the earlier layers, per SOM seed";
  const stat = "final loss (mean of the last 10 % of batches) of the last layer minus the " +
    "largest final loss of the earlier layers, mean over SOM seeds";
  if (L.length < 2) return _missing(id, statement, measures, stat, "above", 0, NEEDS_TWO);
  const bySeed = L.map((
    l,
  ) => (l.ensemble?.finalLossBySeed.length ? l.ensemble.finalLossBySeed : [l.finalLoss]));
  const S = Math.min(...bySeed.map((v) => v.length));
  const seeds = Array.from({ length: S }, (_, j) => bySeed.map((v) => v[j]));
  const diffs = seeds.map((v) => v[v.length - 1] - Math.max(...v.slice(0, -1)));
  const means = bySeed.map((v) => finiteMean(v.slice(0, S)));
  const scale = Math.max(...means.map(Math.abs).filter(Number.isFinite), 1e-300);
  return {
    id,
    statement,
    measures,
    statistic: stat,
    direction: "above",
    threshold: 0,
    scale,
    point: finiteMean(diffs),
    test: { kind: "seeds", values: diffs },
    perLayer: _seedRows(c, bySeed, means, S),
    effect: {
      measure: "last layer's final loss / highest earlier final loss (means over seeds)",
      noEffect: 1,
      value: _fin(means[means.length - 1] / Math.max(...means.slice(0, -1))),
      interval: _ivl(
        seedInterval(
          seeds.map((v) => v[v.length - 1] / Math.max(...v.slice(0, -1))),
          c.level,
          c.o.minSeeds,
        ),
      ),
    },
    trend: _seedTrend(c, "the final SOM loss", seeds),
    secondary: null,
    resampled: `SOM seeds (${S}; the final loss of each seed's maps)`,
    resamples: S,
  };
}

/** Fig. 6A,B: D_class, relative to its label-permutation null, shrinks from first to last layer. */
function dClassClaim(c: ClaimContext, split: "train" | "val"): ClaimDraft {
  const { L, names } = c, first = names[0], last = names[names.length - 1];
  const id = split === "train" ? "dclass-shrinks-train" : "dclass-shrinks-val";
  const tag = split === "train" ? "SOM-tr" : "SOM-val";
  const statement = split === "train"
    ? `D_class (distance of SOM-tr BMUs to their class centre) shrinks from ${first} to ${last}.`
    : `D_class of unseen SOM-val examples (centres from SOM-tr) shrinks from ${first} to ${last}.`;
  const measures = `how much tighter ${tag} examples sit around their class centre in ${last} ` +
    `than in ${first}, each layer's D_class taken relative to what the same map gives with ` +
    "shuffled labels";
  const stat = `D_class / null D_class (${tag}; D_class = mean over classes of the mean ` +
    `distance of an example's BMUs to its class centre) in ${first} minus in ${last}`;
  if (L.length < 2) return _missing(id, statement, measures, stat, "above", 0, NEEDS_TWO);
  const U = c.a.classes.length;
  const st = L.map((l) => (split === "train" ? l.classStats.dClassTrain : l.classStats.dClassVal));
  if (st.some((s) => !(s.nullMean > 0))) {
    return _missing(
      id,
      statement,
      measures,
      stat,
      "above",
      0,
      "the label-permutation null D_class is 0 in some layer: every example shares its BMUs",
    );
  }
  const eff = st.map((s) => s.replicates.map((v) => v / s.nullMean));
  const e = st.map((s) => s.observed / s.nullMean);
  const nL = L.length - 1;
  const reps = eff[0].map((v, b) => v - eff[nL][b]);
  const raw = st[0].replicates.map((v, b) => v - st[nL].replicates[b]);
  const pLast = _nullP(st[nL], false);
  const C = c.a.classes.length;
  return {
    id,
    statement,
    measures,
    statistic: stat,
    direction: "above",
    threshold: 0,
    scale: 1,
    point: e[0] - e[nL],
    test: { kind: "bootstrap", replicates: reps, units: U },
    nullReq: _nullReq(
      c,
      PERM_METHOD,
      `${last}'s D_class is below its null (one-sided p at most the adjusted α)`,
      pLast,
      st[0].null.length,
      L.map((l, i) => _nullRow(l.layer, st[i])),
    ),
    perLayer: L.map((l, i) => _classRow(c, l.layer, st[i], U, e[i], eff[i])),
    effect: {
      measure: `D_class / null D_class (${tag}); 1 = no class structure, smaller = tighter classes`,
      noEffect: 1,
      value: _fin(e[nL]),
      interval: _ivl(replicateInterval(eff[nL], c.level, U)),
      perLayer: _effectRows(c, e, eff, U),
    },
    trend: _bootTrend(c, `D_class / null D_class (${tag})`, "decreasing", e, eff, U),
    secondary: _signLine(
      `raw D_class (${tag}) in ${first} minus ${last}, grid units`,
      st[0].observed - st[nL].observed,
      replicateInterval(raw, c.level, U),
      _randomUnitDistance(L[0].grid),
      _pct(c.level),
    ),
    resampled: `classes (${C}), then each class's ${tag} examples (two-stage, class effects ` +
      "shrunk to their between-class variance)",
    resamples: reps.length,
  };
}

/** Fig. 5: SOM-val BMUs of a class fall where its SOM-tr BMUs do, in every layer. */
function overlapClaim(c: ClaimContext): ClaimDraft {
  const { L } = c;
  const id = "val-bmus-match-train";
  const statement = "SOM-val BMUs of a class fall where its SOM-tr BMUs do: unseen examples " +
    `elicit a similar set of units, in every layer (${c.names.join(", ")}).`;
  const measures = "how much more the SOM-val BMUs of a class overlap its own SOM-tr BMUs than " +
    "those of a random set of examples, in the layer where this is weakest";
  const stat = "smallest, over layers, of the mean over classes of the overlap (histogram " +
    "intersection over units, all k BMUs) of a class's SOM-tr and SOM-val BMUs, minus its " +
    "label-permutation null";
  const st = L.map((l) => l.classStats.overlap);
  const U = c.a.classes.length;
  const ex = st.map((s) => s.replicates.map((v) => v - s.nullMean));
  const x = st.map((s) => s.observed - s.nullMean);
  const reps = ex[0].map((_, b) => Math.min(...ex.map((r) => r[b])));
  const pMax = Math.max(...st.map((s) => _nullP(s, true)));
  const ratio = st.map((v) => v.observed / v.nullMean);
  return {
    id,
    statement,
    measures,
    statistic: stat,
    direction: "above",
    threshold: 0,
    scale: 1,
    point: Math.min(...x),
    test: { kind: "bootstrap", replicates: reps, units: U },
    nullReq: _nullReq(
      c,
      "SOM-val labels shuffled (class sizes kept); overlap with the true classes' SOM-tr BMUs " +
        "recomputed",
      "in every layer the overlap is above its null (largest one-sided p at most the adjusted α)",
      pMax,
      st[0].null.length,
      L.map((l, i) => _nullRow(l.layer, st[i])),
    ),
    perLayer: L.map((l, i) => _classRow(c, l.layer, st[i], U, ratio[i])),
    effect: {
      measure: "overlap / null overlap; 1 = SOM-val BMUs no closer to their class than chance",
      noEffect: 1,
      value: _fin(Math.min(...ratio)),
      interval: [null, null],
      perLayer: _effectRows(c, ratio, st.map((v) => v.replicates.map((x) => x / v.nullMean)), U),
    },
    trend: null,
    secondary: null,
    resampled: `classes (${c.a.classes.length}; each class's overlap as measured)`,
    resamples: reps.length,
  };
}

/** Fig. 6C,D, Fig. 9: shallow layers' SOM weights are much more similar than deep layers'. */
function weightCdClaim(c: ClaimContext): ClaimDraft {
  const { L, names } = c;
  const id = "weight-cd-grows";
  const h = Math.floor(L.length / 2);
  const shallow = names.slice(0, h), deep = names.slice(L.length - h);
  const r = c.o.muchMoreSimilarRatio;
  const statement = `Weights of SOMs of shallow layers (${
    shallow.join("/")
  }) are much more similar to each other (smaller cosine distance) than those of deep layers (${
    deep.join("/")
  }).`;
  const measures = `whether the deep layers' SOM weights are at least ${r}× as far apart ` +
    "(cosine distance) as the shallow layers', per SOM seed";
  const stat = `mean pairwise weight cosine distance of the deep half (${deep.join(", ")}) ` +
    `minus ${r} × that of the shallow half (${shallow.join(", ")}), mean over SOM seeds`;
  if (L.length < 2) return _missing(id, statement, measures, stat, "above", 0, NEEDS_TWO);
  const bySeed = L.map((l) =>
    (l.ensemble?.weightCdUnitMeansBySeed.length
      ? l.ensemble.weightCdUnitMeansBySeed
      : [l.weightCdUnitMeans]).map((u) => finiteMean(u))
  );
  const S = Math.min(...bySeed.map((v) => v.length));
  const seeds = Array.from({ length: S }, (_, j) => bySeed.map((v) => v[j]));
  const halves = seeds.map((v) => [finiteMean(v.slice(0, h)), finiteMean(v.slice(L.length - h))]);
  const vals = halves.map(([s, d]) => d - r * s);
  const ratios = halves.map(([s, d]) => d / s);
  const means = bySeed.map((v) => finiteMean(v.slice(0, S)));
  const pct = _pct(c.level);
  const diffs = halves.map(([s, d]) => d - s);
  return {
    id,
    statement,
    measures,
    statistic: stat,
    direction: "above",
    threshold: 0,
    scale: 1,
    point: finiteMean(vals),
    test: { kind: "seeds", values: vals },
    perLayer: _seedRows(c, bySeed, means, S),
    effect: {
      measure: "deep-half / shallow-half mean weight cosine distance",
      noEffect: 1,
      threshold: r,
      value: _fin(finiteMean(ratios)),
      interval: _ivl(seedInterval(ratios, c.level, c.o.minSeeds)),
    },
    trend: _seedTrend(c, "the mean weight cosine distance", seeds),
    secondary: {
      ..._signLine(
        "deep-half minus shallow-half mean weight cosine distance",
        finiteMean(diffs),
        seedInterval(diffs, c.level, c.o.minSeeds),
        1,
        pct,
      ),
    },
    resampled: `SOM seeds (${S}; each seed's maps' mean pairwise weight cosine distance)`,
    resamples: S,
  };
}

/** Fig. 7, Fig. 10: class-centre cosine distances (over their null) grow with depth, every size. */
function centreCdClaim(c: ClaimContext): ClaimDraft {
  const { L, names, a } = c, first = names[0], last = names[names.length - 1];
  const id = "centre-cd-grows";
  const sub = a.centreSubset;
  const U = sub.labels.length;
  const sizesOf = (l: LayerAnalysis) => Object.keys(l.classStats.centreCd);
  const sizes = L.length >= 2
    ? sizesOf(L[0]).filter((s) => sizesOf(L[L.length - 1]).includes(s))
    : [];
  const statement =
    `Cosine distances between class-centre weights grow with depth (${first} to ${last}), ` +
    `for every SOM size (${sizes.map((s) => s.replace("x", "×")).join(", ")}); ` +
    `${sub.labels.length} classes, ${sub.pairs.toLocaleString("en")} pairs.`;
  const measures = "how much farther apart the weights of class-centre units are in the last " +
    "layer than in the first, beyond what shuffled labels give, at the SOM size where this is " +
    "smallest";
  const stat = "smallest, over SOM sizes, of (mean class-centre cosine distance − its null) in " +
    `${last} minus in ${first}`;
  if (sizes.length === 0) {
    return _missing(
      id,
      statement,
      measures,
      stat,
      "above",
      0,
      L.length < 2 ? NEEDS_TWO : "no class-centre distances",
    );
  }
  const nL = L.length - 1;
  const st = (l: LayerAnalysis, s: string) => l.classStats.centreCd[s];
  const ex = (l: LayerAnalysis, s: string) => st(l, s).replicates.map((v) => v - st(l, s).nullMean);
  const x = (l: LayerAnalysis, s: string) => st(l, s).observed - st(l, s).nullMean;
  const perSize = sizes.map((s) => {
    const a0 = ex(L[0], s), a1 = ex(L[nL], s);
    return a1.map((v, b) => v - a0[b]);
  });
  const reps = perSize[0].map((_, b) => Math.min(...perSize.map((r) => r[b])));
  const main = L.map((l) =>
    sizes.includes(`${l.grid.m}x${l.grid.n}`) ? `${l.grid.m}x${l.grid.n}` : sizes[0]
  );
  const raw = sizes.map((s) =>
    st(L[nL], s).replicates.map((v, b) => v - st(L[0], s).replicates[b])
  );
  const pMax = Math.max(...sizes.map((s) => _nullP(st(L[nL], s), true)));
  const tauBySize = Object.fromEntries(
    sizes.map((s) => [s, _fin(kendallTau(L.map((l) => x(l, s))))]),
  );
  return {
    id,
    statement,
    measures,
    statistic: stat,
    direction: "above",
    threshold: 0,
    scale: 1,
    point: Math.min(...sizes.map((s) => x(L[nL], s) - x(L[0], s))),
    test: { kind: "bootstrap", replicates: reps, units: U },
    nullReq: _nullReq(
      c,
      PERM_METHOD,
      `at every size, ${last}'s class-centre cosine distance is above its null (largest ` +
        "one-sided p at most the adjusted α)",
      pMax,
      st(L[0], sizes[0]).null.length,
      L.flatMap((l) => sizes.map((s) => _nullRow(l.layer, st(l, s), s))),
    ),
    perLayer: L.map((l, i) => ({
      ..._classRow(c, l.layer, st(l, main[i]), U, x(l, main[i]), ex(l, main[i])),
      detail: Object.fromEntries(
        sizes.flatMap((z) => [[z, _fin(st(l, z).observed)], [`${z} excess`, _fin(x(l, z))]]),
      ),
    })),
    effect: {
      measure: "mean class-centre cosine distance minus its label-permutation null (excess; 0 = " +
        "no class structure)",
      noEffect: 0,
      value: _fin(x(L[nL], main[nL])),
      interval: _ivl(replicateInterval(ex(L[nL], main[nL]), c.level, U)),
      perLayer: _effectRows(c, L.map((l, i) => x(l, main[i])), L.map((l, i) => ex(l, main[i])), U),
    },
    trend: {
      ..._bootTrend(
        c,
        `the class-centre cosine distance over its null at ${main[nL].replace("x", "×")}`,
        "increasing",
        L.map((l, i) => x(l, main[i])),
        L.map((l, i) => ex(l, main[i])),
        U,
      ),
      bySize: tauBySize,
    },
    secondary: _signLine(
      `smallest, over sizes, of the raw mean class-centre cosine distance in ${last} minus ${first}`,
      Math.min(...sizes.map((s) => st(L[nL], s).observed - st(L[0], s).observed)),
      replicateInterval(raw[0].map((_, b) => Math.min(...raw.map((r) => r[b]))), c.level, U),
      1,
      _pct(c.level),
    ),
    resampled: `classes of the subset (${sub.labels.length}), then their SOM-tr examples ` +
      "(two-stage; centres re-estimated)",
    resamples: reps.length,
    note:
      `${sub.labels.length} of ${sub.of} classes (${
        sub.stream ? `drawn once from stream ${sub.stream}` : "all"
      }), ${sub.pairs} pairs, the same in every layer and size; sizes ${sizes.join(", ")}; ` +
      "per-layer values at the main size",
  };
}

/** The attacked images' per-image mean shifts of every layer, or why they are missing. */
function _shifts(c: ClaimContext, kind: "adversarial" | "noise"): Float64Array[] | null {
  const v = c.L.map((l) => l.shifts?.[kind]?.perImage);
  return v.every((x) => x && x.length > 0 && x.length === v[0]!.length)
    ? v as Float64Array[]
    : null;
}

/** Fig. 11A,B, Fig. 12: random noise barely moves BMUs in any layer. */
function noiseClaim(c: ClaimContext): ClaimDraft {
  const id = "noise-barely-moves", f = c.o.noiseFraction;
  const statement = `Random noise of the attack's budget barely moves BMUs in any layer ` +
    `(${c.names.join(", ")}).`;
  const measures = "how far same-budget random noise moves an image's BMUs, relative to the " +
    "distance between two random units, in the layer where it moves them most";
  const stat = "largest per-layer mean BMU shift under random noise, as a fraction of the mean " +
    "distance between two random units of the grid";
  const sh = _shifts(c, "noise");
  if (!sh) {
    return _missing(
      id,
      statement,
      measures,
      stat,
      "below",
      f,
      "no random-noise BMUs were given",
    );
  }
  const norm = c.L.map((l) => _randomUnitDistance(l.grid)), N = sh[0].length;
  const U = N;
  const reps = _imageReplicates(c, N, c.L.length, (idx, out) => {
    for (let l = 0; l < sh.length; l++) out[l] = _meanAt(sh[l], idx) / norm[l];
  });
  const all = _identity(N), y = sh.map((v, l) => _meanAt(v, all) / norm[l]);
  return {
    id,
    statement,
    measures,
    statistic: stat,
    direction: "below",
    threshold: f,
    scale: 1,
    point: Math.max(...y),
    test: {
      kind: "bootstrap",
      replicates: reps[0].map((_, b) => Math.max(...reps.map((r) => r[b]))),
      units: U,
    },
    perLayer: c.L.map((l, i) => ({
      layer: l.layer,
      value: _fin(_meanAt(sh[i], all)),
      interval: _ivl(replicateInterval(reps[i].map((v) => v * norm[i]), c.level, U)),
      effect: _fin(y[i]),
      effectInterval: _ivl(replicateInterval(reps[i], c.level, U)),
      detail: { randomUnitDistance: norm[i] },
    })),
    effect: {
      measure: 'mean noise shift / mean distance between two random units ("barely" below ' +
        `${f})`,
      noEffect: 0,
      threshold: f,
      value: _fin(Math.max(...y)),
      interval: _ivl(
        replicateInterval(reps[0].map((_, b) => Math.max(...reps.map((r) => r[b]))), c.level, U),
      ),
    },
    trend: null,
    secondary: null,
    resampled: `attacked images (${N})`,
    resamples: c.resamples,
    note: "per-layer values are mean shifts in grid units; effects are fractions of the " +
      "random-unit distance",
  };
}

/** Fig. 11C,D, Fig. 12: PGD moves BMUs little in the first layer and much more in the last. */
function pgdClaim(c: ClaimContext): ClaimDraft {
  const { L, names } = c, first = names[0], last = names[names.length - 1];
  const id = "pgd-shift-grows", r = c.o.muchMoreRatio;
  const statement = `PGD moves BMUs little in ${first} and much more in ${last}.`;
  const measures = `whether PGD moves an image's BMUs at least ${r}× as far in ${last} as in ` +
    first;
  const stat = `mean BMU shift under PGD in ${last} minus ${r} × that in ${first}, grid units`;
  const sh = _shifts(c, "adversarial");
  if (!sh || L.length < 2) {
    return _missing(
      id,
      statement,
      measures,
      stat,
      "above",
      0,
      sh ? NEEDS_TWO : "no adversarial BMUs were given",
    );
  }
  const N = sh[0].length, nL = L.length - 1;
  const U = N;
  const reps = _imageReplicates(c, N, L.length, (idx, out) => {
    for (let l = 0; l < sh.length; l++) out[l] = _meanAt(sh[l], idx);
  });
  const all = _identity(N), m = sh.map((v) => _meanAt(v, all));
  const d = reps[0].map((v, b) => reps[nL][b] - r * v);
  const ratio = reps[0].map((v, b) => reps[nL][b] / v);
  const scale = _randomUnitDistance(L[nL].grid);
  return {
    id,
    statement,
    measures,
    statistic: stat,
    direction: "above",
    threshold: 0,
    scale,
    point: m[nL] - r * m[0],
    test: { kind: "bootstrap", replicates: d, units: U },
    perLayer: L.map((l, i) => ({
      layer: l.layer,
      value: _fin(m[i]),
      interval: _ivl(replicateInterval(reps[i], c.level, U)),
    })),
    effect: {
      measure: `mean PGD shift in ${last} / in ${first} ("much more" at least ${r})`,
      noEffect: 1,
      threshold: r,
      value: _fin(m[nL] / m[0]),
      interval: _ivl(replicateInterval(ratio, c.level, U)),
    },
    trend: _bootTrend(c, "the mean BMU shift under PGD", "increasing", m, reps, U),
    secondary: _signLine(
      `mean PGD shift in ${last} minus ${first}, grid units`,
      m[nL] - m[0],
      replicateInterval(reps[0].map((v, b) => reps[nL][b] - v), c.level, U),
      scale,
      _pct(c.level),
    ),
    resampled: `attacked images (${N})`,
    resamples: c.resamples,
  };
}

/** Fig. 11, Fig. 12: PGD moves BMUs more than same-budget noise, in every layer. */
function advNoiseClaim(c: ClaimContext): ClaimDraft {
  const id = "adversarial-beats-noise";
  const statement = "Adversarial perturbations move BMUs more than random noise of the same " +
    `budget, in every layer (${c.names.join(", ")}).`;
  const measures = "how much farther PGD moves an image's BMUs than same-budget noise, in the " +
    "layer where the gap is smallest";
  const stat = "smallest, over layers, of the mean BMU shift under PGD minus under random noise, " +
    "grid units";
  const adv = _shifts(c, "adversarial"), noi = _shifts(c, "noise");
  if (!adv || !noi || adv[0].length !== noi[0].length) {
    return _missing(
      id,
      statement,
      measures,
      stat,
      "above",
      0,
      "needs both adversarial and noise BMUs of the same images",
    );
  }
  const N = adv[0].length, L = c.L.length;
  const U = N;
  const reps = _imageReplicates(c, N, 2 * L, (idx, out) => {
    for (let l = 0; l < L; l++) {
      out[l] = _meanAt(adv[l], idx);
      out[L + l] = _meanAt(noi[l], idx);
    }
  });
  const all = _identity(N);
  const gap = adv.map((v, l) => _meanAt(v, all) - _meanAt(noi[l], all));
  const gapReps = Array.from({ length: L }, (_, l) => reps[l].map((v, b) => v - reps[L + l][b]));
  return {
    id,
    statement,
    measures,
    statistic: stat,
    direction: "above",
    threshold: 0,
    scale: _randomUnitDistance(c.L[L - 1].grid),
    point: Math.min(...gap),
    test: {
      kind: "bootstrap",
      replicates: gapReps[0].map((_, b) => Math.min(...gapReps.map((r) => r[b]))),
      units: U,
    },
    perLayer: c.L.map((l, i) => ({
      layer: l.layer,
      value: _fin(gap[i]),
      interval: _ivl(replicateInterval(gapReps[i], c.level, U)),
      effect: _fin(_meanAt(adv[i], all) / _meanAt(noi[i], all)),
      effectInterval: _ivl(
        replicateInterval(reps[i].map((v, b) => v / reps[L + i][b]), c.level, U),
      ),
    })),
    effect: {
      measure: "mean PGD shift / mean noise shift, in the layer where the gap is smallest",
      noEffect: 1,
      value: _fin(
        _meanAt(adv[gap.indexOf(Math.min(...gap))], all) /
          _meanAt(noi[gap.indexOf(Math.min(...gap))], all),
      ),
      interval: [null, null],
    },
    trend: null,
    secondary: null,
    resampled: `attacked images (${N})`,
    resamples: c.resamples,
  };
}

/** Table 2: PGD collapses accuracy while same-budget random noise does not. */
function collapseClaim(c: ClaimContext): ClaimDraft {
  const id = "pgd-collapses-accuracy", cr = c.o.collapseRatio, kr = c.o.keepRatio;
  const statement = "PGD collapses top-1 accuracy while random noise of the same budget does not.";
  const measures = `whether adversarial accuracy falls to at most ${cr}× the clean accuracy ` +
    `while noise accuracy stays at least ${kr}× the clean accuracy`;
  const stat = `smaller of (${cr} × clean − adversarial accuracy) and (noise − ${kr} × clean ` +
    "accuracy)";
  const im = c.a.attackImages;
  if (!im || im.label.length === 0) {
    return _missing(id, statement, measures, stat, "above", 0, "no attack was run");
  }
  const N = im.label.length;
  const U = N;
  const acc = (pred: Int32Array, idx: Int32Array) => {
    let s = 0;
    for (let i = 0; i < idx.length; i++) if (pred[idx[i]] === im.label[idx[i]]) s++;
    return s / idx.length;
  };
  const reps = _imageReplicates(c, N, 3, (idx, out) => {
    out[0] = acc(im.clean, idx);
    out[1] = acc(im.adversarial, idx);
    out[2] = acc(im.noise, idx);
  });
  const all = _identity(N);
  const [cl, ad, no] = [acc(im.clean, all), acc(im.adversarial, all), acc(im.noise, all)];
  const stOf = (x: number, y: number, z: number) => Math.min(cr * x - y, z - kr * x);
  const o = c.a.attack;
  return {
    id,
    statement,
    measures,
    statistic: stat,
    direction: "above",
    threshold: 0,
    scale: 1,
    point: stOf(cl, ad, no),
    test: {
      kind: "bootstrap",
      replicates: reps[0].map((x, b) => stOf(x, reps[1][b], reps[2][b])),
      units: U,
    },
    perLayer: (["clean", "adversarial", "noise"] as const).map((k, i) => ({
      layer: k,
      value: _fin([cl, ad, no][i]),
      interval: _ivl(replicateInterval(reps[i], c.level, U)),
    })),
    effect: {
      measure: `adversarial / clean accuracy ("collapses" at most ${cr}); noise / clean in the ` +
        "sign line",
      noEffect: 1,
      threshold: cr,
      value: _fin(ad / cl),
      interval: _ivl(replicateInterval(reps[1].map((v, b) => v / reps[0][b]), c.level, U)),
    },
    trend: null,
    secondary: {
      statistic: `noise / clean accuracy (kept if at least ${kr})`,
      value: _fin(no / cl),
      interval: _ivl(replicateInterval(reps[2].map((v, b) => v / reps[0][b]), c.level, U)),
      holds: intervalVerdict(
        replicateInterval(reps[2].map((v, b) => v / reps[0][b]), c.level, U),
        kr,
        "above",
        1,
      ).holds,
      rule: `above ${kr} if the ${_pct(c.level)} interval is above ${kr} (part of the verdict)`,
    },
    resampled: `attacked images (${N})`,
    resamples: c.resamples,
    note: o
      ? `ε = ${o.parameters.eps.toPrecision(4)}, ${o.parameters.steps} steps, step ${
        o.parameters.stepSize.toPrecision(3)
      }; success vs label ${(o.success.vsLabel.value * 100).toFixed(1)} %, vs clean prediction ${
        (o.success.vsCleanPrediction.value * 100).toFixed(1)
      } %`
      : undefined,
  };
}

/** Supp. Fig. 3: wrong predictions lie farther from their label's centre, in every layer. */
function correctnessClaim(c: ClaimContext): ClaimDraft {
  const { L } = c;
  const id = "incorrect-farther";
  const statement = "The distance between SOM-val BMUs and their label's centre is larger when " +
    `the model is wrong, in every layer (${c.names.join(", ")}).`;
  const measures = "how much farther from their label's centre the wrongly predicted SOM-val " +
    "examples sit than the right ones, beyond what shuffled right/wrong flags give, in the layer " +
    "where the gap is smallest";
  const stat = "smallest, over layers, of the mean over classes of (label-centre distance when " +
    "wrong − when right) minus its null, grid units";
  const st = L.map((l) => l.classStats.correctness);
  if (st.some((s) => !s || !Number.isFinite(s.observed))) {
    return _missing(
      id,
      statement,
      measures,
      stat,
      "above",
      0,
      "no class has both right and wrong SOM-val predictions",
    );
  }
  const s = st as ClassStatistic[];
  const U = c.a.classes.length;
  const ex = s.map((v) => v.replicates.map((x) => x - v.nullMean));
  const x = s.map((v) => v.observed - v.nullMean);
  const pMax = Math.max(...s.map((v) => _nullP(v, true)));
  return {
    id,
    statement,
    measures,
    statistic: stat,
    direction: "above",
    threshold: 0,
    scale: _randomUnitDistance(L[0].grid),
    point: Math.min(...x),
    test: {
      kind: "bootstrap",
      replicates: ex[0].map((_, b) => Math.min(...ex.map((r) => r[b]))),
      units: U,
    },
    nullReq: _nullReq(
      c,
      "right/wrong flags shuffled within each class (distances kept)",
      "in every layer the gap is above its null (largest one-sided p at most the adjusted α)",
      pMax,
      s[0].null.length,
      L.map((l, i) => _nullRow(l.layer, s[i])),
    ),
    perLayer: L.map((l, i) => _classRow(c, l.layer, s[i], U, x[i], ex[i])),
    effect: {
      measure: "wrong − right label-centre distance minus its null, grid units (0 = no effect)",
      noEffect: 0,
      value: _fin(Math.min(...x)),
      interval: [null, null],
      perLayer: _effectRows(c, x, ex, U),
    },
    trend: null,
    secondary: null,
    resampled: `classes (${c.a.classes.length}), then their right and their wrong SOM-val ` +
      "examples (two-stage, class effects shrunk)",
    resamples: ex[0].length,
  };
}

/** The claims in report order, one evaluator each. */
export const EVALUATORS: readonly ((c: ClaimContext) => ClaimDraft)[] = Object.freeze([
  lossClaim,
  overlapClaim,
  (c: ClaimContext) => dClassClaim(c, "train"),
  (c: ClaimContext) => dClassClaim(c, "val"),
  weightCdClaim,
  centreCdClaim,
  noiseClaim,
  pgdClaim,
  advNoiseClaim,
  collapseClaim,
  correctnessClaim,
]);

/** Paper figures of the claims for CNNs. */
export const CNN_FIGURES: Readonly<Record<string, string>> = Object.freeze({
  "loss-last-layer-highest": "Fig. 3",
  "val-bmus-match-train": "Fig. 5",
  "dclass-shrinks-train": "Fig. 6A,B (SOM-tr)",
  "dclass-shrinks-val": "Fig. 6A,B (SOM-val)",
  "weight-cd-grows": "Fig. 6C,D",
  "centre-cd-grows": "Fig. 7",
  "noise-barely-moves": "Fig. 11A,B",
  "pgd-shift-grows": "Fig. 11C,D",
  "adversarial-beats-noise": "Fig. 11",
  "pgd-collapses-accuracy": "Table 2",
  "incorrect-farther": "Supp. Fig. 3",
});
