/**
 * The paper's claims (SPEC §6), evaluated on an analysed model: each claim gets a statistic, its
 * value per layer, a seeded percentile-bootstrap 95 % interval (resampling classes, images,
 * units or batches, and SOM seeds where there are several) and a verdict decided by the interval
 * alone. Nothing here knows what the paper found; a claim that fails on a model is reported as
 * failing.
 *
 * @module
 */

import { Rng } from "../rng.ts";
import type { LayerAnalysis, ModelAnalysis } from "./analyze.ts";
import { quantileSorted } from "./box_stats.ts";
import { bootstrapInterval } from "./bootstrap.ts";
import { type GridShape, unitDist } from "../geometry/torus.ts";

/** A verdict: the interval excludes the "no effect" value on the claimed side, the other side, or neither. */
export type Verdict = true | false | "inconclusive";

/** A statistic of one layer. */
export interface LayerValue {
  /** Layer name. */
  layer: string;
  /** The per-layer statistic. */
  value: number | null;
  /** Its bootstrap interval. */
  interval: [number | null, number | null];
  /** Extra per-layer numbers (e.g. per map size). */
  detail?: Record<string, number | null>;
}

/** One claim's evaluation. */
export interface ClaimResult {
  /** Stable id, e.g. `dclass-shrinks-train`. */
  id: string;
  /** Model analysed. */
  model: string;
  /** The paper figure(s) the claim comes from. */
  figure: string;
  /** The paper's claim in words. */
  statement: string;
  /** The statistic tested. */
  statistic: string;
  /** How the verdict follows from the interval. */
  rule: string;
  /** The statistic's value (null when it could not be computed). */
  value: number | null;
  /** Percentile-bootstrap interval of the statistic. */
  interval: [number | null, number | null];
  /** Confidence level of the interval. */
  level: number;
  /** The verdict. */
  holds: Verdict;
  /** Per-layer values and intervals. */
  perLayer: LayerValue[];
  /** What the bootstrap resampled. */
  resampled: string;
  /** Bootstrap replicates. */
  resamples: number;
  /** Why a claim could not be evaluated, or other remarks. */
  note?: string;
}

/** Options for {@linkcode evaluateClaims}. */
export interface ClaimOptions {
  /** Bootstrap replicates. Default 1000. */
  resamples?: number;
  /** Root seed of the bootstrap streams. Default 0. */
  seed?: number | string;
  /** Interval level. Default 0.95. */
  level?: number;
  /**
   * "Noise barely moves BMUs" holds when the largest per-layer mean noise shift is below this
   * fraction of the mean distance between two random units of the grid. Default 0.1.
   */
  noiseFraction?: number;
  /** Paper figures per claim id, when the model mirrors different figures (e.g. ViT). */
  figures?: Partial<Record<string, string>>;
}

function _fin(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function _verdictAbove(iv: [number, number], threshold = 0): Verdict {
  if (!Number.isFinite(iv[0]) || !Number.isFinite(iv[1])) return "inconclusive";
  if (iv[0] > threshold) return true;
  if (iv[1] < threshold) return false;
  return "inconclusive";
}

function _median(xs: number[]): number {
  const f = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return quantileSorted(f, 0.5);
}

/** Mean of one bootstrap resample of `xs` (drawn with replacement, `xs.length` draws). */
function _resampledMean(r: Rng, xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[r.int(xs.length)];
  return s / xs.length;
}

/** One bootstrap resample of `xs` (drawn with replacement, `xs.length` draws). */
function _resample<T>(r: Rng, xs: readonly T[]): T[] {
  return Array.from(xs, () => xs[r.int(xs.length)]);
}

function _mean(xs: ArrayLike<number>): number {
  let s = 0, c = 0;
  for (let i = 0; i < xs.length; i++) {
    if (Number.isFinite(xs[i])) {
      s += xs[i];
      c++;
    }
  }
  return c ? s / c : NaN;
}

/** Mean torus distance between two independent uniformly random units. */
function _randomUnitDistance(g: GridShape): number {
  const K = g.m * g.n;
  let s = 0;
  for (let v = 0; v < K; v++) s += unitDist(0, v, g);
  return s / K; // translation invariance: unit 0 stands for every unit
}

const PAPER = {
  loss: "SOM loss is higher in the last layer (CL4) than in earlier layers.",
  dtr:
    "D_class (distance of SOM-tr BMUs to their class centre) shrinks from the first to the last layer.",
  dval:
    "D_class of unseen SOM-val examples (centres from SOM-tr) shrinks from the first to the last layer.",
  wcd:
    "Weights of SOMs of shallow layers (CL1/CL2) are much more similar to each other (smaller cosine distance) than those of deep layers (CL3/CL4).",
  ccd: "Cosine distances between class-centre weights grow with depth, for every SOM size.",
  noise: "Random noise barely moves BMUs in any layer.",
  pgd: "PGD moves BMUs little in the first layer and much more in the last layer.",
  advnoise:
    "Adversarial perturbations move BMUs more than random noise of the same budget, in every layer.",
  corr:
    "The distance between SOM-val BMUs and their label's centre is larger when the model is wrong.",
};

const FIGURES: Record<string, string> = {
  "loss-last-layer-highest": "Fig. 3",
  "dclass-shrinks-train": "Fig. 6A,B (SOM-tr)",
  "dclass-shrinks-val": "Fig. 6A,B (SOM-val)",
  "weight-cd-grows": "Fig. 6C,D",
  "centre-cd-grows": "Fig. 7",
  "noise-barely-moves": "Fig. 11A,B",
  "pgd-shift-grows": "Fig. 11C,D",
  "adversarial-beats-noise": "Fig. 11",
  "incorrect-farther": "Supp. Fig. 3",
};

/**
 * Paper figures for ViT models (the same claims, other figures).
 *
 * @example
 * ```ts
 * import { VIT_FIGURES } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(VIT_FIGURES["weight-cd-grows"], "Fig. 9");
 * ```
 */
export const VIT_FIGURES: Readonly<Record<string, string>> = Object.freeze({
  "loss-last-layer-highest": "Fig. 3 (ViT: not in the paper)",
  "dclass-shrinks-train": "Fig. 6A,B (ViT: not in the paper)",
  "dclass-shrinks-val": "Fig. 6A,B (ViT: not in the paper)",
  "weight-cd-grows": "Fig. 9",
  "centre-cd-grows": "Fig. 10",
  "noise-barely-moves": "Fig. 12",
  "pgd-shift-grows": "Fig. 12",
  "adversarial-beats-noise": "Fig. 12",
  "incorrect-farther": "Supp. Fig. 3 (ViT: not in the paper)",
});

/**
 * Evaluates every SPEC §6 claim on one analysed model.
 *
 * Verdicts: for a claim "X is larger than Y" the statistic is `X − Y` and the claim holds when
 * the whole interval is above 0, fails when it is wholly below 0, and is inconclusive otherwise.
 * Claims about "every layer" or "every size" use the minimum over layers or sizes, bootstrapped
 * jointly. Claims that lack their inputs (no perturbations, one layer) are inconclusive with a
 * note.
 *
 * @param a The model's analyses.
 * @param options Bootstrap size, seed, level and the noise threshold.
 * @returns One result per claim.
 *
 * @example A planted model where D_class shrinks with depth
 * ```ts
 * import { evaluateClaims, type ModelAnalysis } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const dc = (d: number) =>
 *   Array.from({ length: 20 }, (_, i) => ({ label: i, count: 5, dClass: d + (i % 3) * 0.1 }));
 * const layer = (name: string, d: number) => ({
 *   layer: name, grid: { m: 10, n: 10 }, dClassTrain: dc(d), dClassVal: dc(d),
 * });
 * const a = { model: "toy", classes: [], featuredClasses: [], layers: [layer("CL1", 5), layer("CL4", 1)] };
 * const claims = evaluateClaims(a as unknown as ModelAnalysis, { resamples: 200 });
 * assertEquals(claims.find((c) => c.id === "dclass-shrinks-train")?.holds, true);
 * ```
 */
export function evaluateClaims(a: ModelAnalysis, options: ClaimOptions = {}): ClaimResult[] {
  const B = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  const root = new Rng(options.seed ?? 0).stream(`claims/${a.model}`);
  const ctx: _Ctx = {
    a,
    L: a.layers,
    first: a.layers[0],
    last: a.layers[a.layers.length - 1],
    twoLayers: a.layers.length >= 2,
    level,
    resamples: B,
    figures: { ...FIGURES, ...(options.figures ?? {}) } as Record<string, string>,
    options,
    iv: (f, name) => bootstrapInterval(f, root.stream(name), { resamples: B, level }),
  };
  return EVALUATORS.map((evaluate) => evaluate(ctx));
}

/** What every evaluator sees: the model, its layers, the bootstrap and the options. */
interface _Ctx {
  a: ModelAnalysis;
  L: LayerAnalysis[];
  first: LayerAnalysis;
  last: LayerAnalysis;
  twoLayers: boolean;
  level: number;
  resamples: number;
  figures: Record<string, string>;
  options: ClaimOptions;
  /** Bootstrap interval of a replicate on the named stream. */
  iv: (f: (r: Rng) => number, name: string) => [number, number];
}

/** The fields of a claim that an evaluator computes (the rest come from the context). */
interface _Found {
  statistic: string;
  rule: string;
  value: number;
  interval: [number, number];
  holds?: Verdict;
  perLayer: LayerValue[];
  resampled: string;
  note?: string;
}

const NO_LAYERS = "needs at least two layers";

function _base(c: _Ctx, id: string, statement: string) {
  return {
    id,
    model: c.a.model,
    figure: c.figures[id] ?? "",
    statement,
    level: c.level,
    resamples: c.resamples,
  };
}

/** A claim that lacks its inputs: inconclusive, with the reason. */
function _missing(
  c: _Ctx,
  id: string,
  statement: string,
  statistic: string,
  note: string,
): ClaimResult {
  return {
    ..._base(c, id, statement),
    statistic,
    rule: "not evaluated",
    value: null,
    interval: [null, null],
    holds: "inconclusive",
    perLayer: [],
    resampled: "nothing",
    note,
  };
}

/** A claim evaluated: non-finite numbers become null; the verdict defaults to "interval above 0". */
function _claim(c: _Ctx, id: string, statement: string, f: _Found): ClaimResult {
  const out: ClaimResult = {
    ..._base(c, id, statement),
    statistic: f.statistic,
    rule: f.rule,
    value: _fin(f.value),
    interval: _finPair(f.interval),
    holds: f.holds ?? _verdictAbove(f.interval),
    perLayer: f.perLayer,
    resampled: f.resampled,
  };
  if (f.note !== undefined) out.note = f.note;
  return out;
}

/** One layer's value with its bootstrap interval on the stream `${id}/${layer}`. */
function _layerValue(
  c: _Ctx,
  id: string,
  layer: string,
  value: number,
  replicate: (r: Rng) => number,
  detail?: Record<string, number | null>,
): LayerValue {
  const out: LayerValue = {
    layer,
    value: _fin(value),
    interval: _finPair(c.iv(replicate, `${id}/${layer}`)),
  };
  if (detail) out.detail = detail;
  return out;
}

function _finPair(iv: [number, number]): [number | null, number | null] {
  return [_fin(iv[0]), _fin(iv[1])];
}

/** Fig. 3: the last layer's final loss exceeds every earlier layer's. */
function _lossClaim(c: _Ctx): ClaimResult {
  const id = "loss-last-layer-highest";
  const stat =
    "final loss (mean of the last 10 % of batches) of the last layer minus the largest final loss of the earlier layers";
  const { L } = c;
  const useSeeds = L.every((l) =>
    l.ensemble && l.ensemble.finalLossBySeed.filter(Number.isFinite).length >= 2
  );
  const tails = L.map((l) => {
    const losses = l.losses ?? new Float64Array(0);
    const n = losses.length, from = Math.max(0, n - Math.max(1, Math.ceil(n * 0.1)));
    return Array.from(losses.subarray(from));
  });
  if (!c.twoLayers || tails.some((t) => t.length === 0)) {
    return _missing(c, id, PAPER.loss, stat, c.twoLayers ? "no loss curve" : NO_LAYERS);
  }
  const pools = useSeeds
    ? L.map((l) => l.ensemble!.finalLossBySeed.filter(Number.isFinite))
    : tails;
  const vals = pools.map((p) => _mean(p));
  const diff = (v: number[]) => v[v.length - 1] - Math.max(...v.slice(0, -1));
  return _claim(c, id, PAPER.loss, {
    statistic: stat,
    rule: "holds if the interval is above 0",
    value: diff(vals),
    interval: c.iv((r) => diff(pools.map((p) => _resampledMean(r, p))), id),
    perLayer: L.map((l, i) =>
      _layerValue(c, id, l.layer, vals[i], (r) => _resampledMean(r, pools[i]))
    ),
    resampled: useSeeds
      ? "SOM seeds (final loss of each seed's map)"
      : "batches of the last 10 % of training",
  });
}

/** Fig. 6A,B: D_class (SOM-tr or SOM-val) shrinks from the first to the last layer. */
function _dClassClaim(c: _Ctx, split: "train" | "val"): ClaimResult {
  const id = split === "train" ? "dclass-shrinks-train" : "dclass-shrinks-val";
  const statement = split === "train" ? PAPER.dtr : PAPER.dval;
  const stat = `median D_class over classes (${
    split === "train" ? "SOM-tr" : "SOM-val"
  }) in the first layer minus the last layer, grid units`;
  if (!c.twoLayers) return _missing(c, id, statement, stat, NO_LAYERS);
  // Per layer: one D_class-by-label map per seed (the main map first).
  const bySeed = (l: LayerAnalysis) => {
    const main = split === "train" ? l.dClassTrain : l.dClassVal;
    const ens = split === "train" ? l.ensemble?.dClassTrainBySeed : l.ensemble?.dClassValBySeed;
    const list = ens && ens.length >= 2 ? ens : [main];
    return list.map((ds) => new Map(ds.map((d) => [d.label, d.dClass])));
  };
  const seedsF = bySeed(c.first), seedsL = bySeed(c.last);
  const S = Math.min(seedsF.length, seedsL.length);
  const labels = [...seedsF[0].keys()].filter((x) => seedsL[0].has(x));
  const medianOf = (m: Map<number, number>, idx: ArrayLike<number>) =>
    _median(Array.from(idx, (i) => m.get(labels[i]) ?? NaN));
  const all = labels.map((_, i) => i);
  const statOn = (seeds: number[], idx: ArrayLike<number>) =>
    _mean(seeds.map((s) => medianOf(seedsF[s], idx) - medianOf(seedsL[s], idx)));
  const drawLabels = (r: Rng) => Array.from(labels, () => r.int(labels.length));
  return _claim(c, id, statement, {
    statistic: stat,
    rule: "holds if the interval is above 0",
    value: statOn(Array.from({ length: S }, (_, i) => i), all),
    interval: c.iv((r) => {
      const seeds = S >= 2 ? Array.from({ length: S }, () => r.int(S)) : [0];
      return statOn(seeds, drawLabels(r));
    }, id),
    perLayer: c.L.map((l) => {
      const seeds = bySeed(l);
      return _layerValue(c, id, l.layer, medianOf(seeds[0], all), (r) => {
        const s = seeds.length >= 2 ? r.int(seeds.length) : 0;
        return medianOf(seeds[s], drawLabels(r));
      });
    }),
    resampled: S >= 2
      ? `classes (${labels.length}) and SOM seeds (${S})`
      : `classes (${labels.length})`,
  });
}

/** Fig. 6C,D, Fig. 9: weight cosine distances grow with depth. */
function _weightCdClaim(c: _Ctx): ClaimResult {
  const id = "weight-cd-grows";
  const stat =
    "mean pairwise cosine distance of SOM weights, deeper half of the layers minus shallower half";
  const { L } = c;
  if (!c.twoLayers || L.some((l) => !l.weightCdUnitMeans)) {
    return _missing(c, id, PAPER.wcd, stat, NO_LAYERS);
  }
  const h = Math.floor(L.length / 2);
  // With a seed ensemble every layer has one unit-mean vector per seed; a replicate draws a
  // seed per layer, then units.
  const useSeeds = L.every((l) => (l.ensemble?.weightCdUnitMeansBySeed?.length ?? 0) >= 2);
  const pools = L.map((l) =>
    useSeeds ? l.ensemble!.weightCdUnitMeansBySeed : [l.weightCdUnitMeans]
  );
  const means = pools.map((p) => _mean(p.map((u) => _mean(u))));
  const resample = (r: Rng, p: Float64Array[]) => _resampledMean(r, p[r.int(p.length)]);
  const diff = (v: number[]) => _mean(v.slice(L.length - h)) - _mean(v.slice(0, h));
  return _claim(c, id, PAPER.wcd, {
    statistic: stat,
    rule: "holds if the interval is above 0",
    value: diff(means),
    interval: c.iv((r) => diff(pools.map((p) => resample(r, p))), id),
    perLayer: L.map((l, i) => _layerValue(c, id, l.layer, means[i], (r) => resample(r, pools[i]))),
    resampled: useSeeds
      ? `SOM seeds (${
        pools[0].length
      }) and units of each map (their mean distance to all other units)`
      : "units of each map (their mean distance to all other units)",
  });
}

/** Fig. 7, Fig. 10: class-centre cosine distances grow with depth, for every SOM size. */
function _centreCdClaim(c: _Ctx): ClaimResult {
  const id = "centre-cd-grows";
  const stat =
    "smallest, over SOM sizes, of the median class-centre cosine distance in the last layer minus the first layer";
  const { L, first, last } = c;
  const sizes = c.twoLayers
    ? (first.centreCd ?? []).map((x) => x.size).filter((s) =>
      (last.centreCd ?? []).some((x) => x.size === s)
    )
    : [];
  if (sizes.length === 0) {
    return _missing(
      c,
      id,
      PAPER.ccd,
      stat,
      c.twoLayers ? "no class-centre distances" : NO_LAYERS,
    );
  }
  const lookup = (l: LayerAnalysis, size: string) => {
    const cc = l.centreCd.find((x) => x.size === size);
    const m = new Map<string, number>();
    for (const [x, y, d] of cc?.pairs ?? []) {
      m.set(`${x},${y}`, d);
      m.set(`${y},${x}`, d);
    }
    return m;
  };
  const labels = [...new Set(first.centreCd[0].labels)];
  const medOn = (m: Map<string, number>, lab: number[]) => {
    const v: number[] = [];
    for (let i = 0; i < lab.length; i++) {
      for (let j = i + 1; j < lab.length; j++) {
        if (lab[i] === lab[j]) continue;
        const d = m.get(`${lab[i]},${lab[j]}`);
        if (d !== undefined) v.push(d);
      }
    }
    return _median(v);
  };
  const tables = new Map(L.map((l) => [l.layer, new Map(sizes.map((s) => [s, lookup(l, s)]))]));
  const diffOn = (lab: number[]) =>
    Math.min(
      ...sizes.map((s) =>
        medOn(tables.get(last.layer)!.get(s)!, lab) - medOn(tables.get(first.layer)!.get(s)!, lab)
      ),
    );
  return _claim(c, id, PAPER.ccd, {
    statistic: stat,
    rule: "holds if the interval is above 0 (i.e. for every size)",
    value: diffOn(labels),
    interval: c.iv((r) => diffOn(_resample(r, labels)), id),
    perLayer: L.map((l) => {
      const t = tables.get(l.layer)!;
      const main = l.centreCd.find((x) => x.grid.m === l.grid.m && x.grid.n === l.grid.n)?.size ??
        sizes[0];
      return _layerValue(
        c,
        id,
        l.layer,
        medOn(t.get(main)!, labels),
        (r) => medOn(t.get(main)!, _resample(r, labels)),
        Object.fromEntries(sizes.map((s) => [s, _fin(medOn(t.get(s)!, labels))])),
      );
    }),
    resampled: `classes (${labels.length})`,
    note: `sizes: ${sizes.join(", ")}; per-layer value is the median at the main size`,
  });
}

/** The attacked images' per-image mean shifts, and how to resample them. */
function _images(c: _Ctx) {
  const L = c.L;
  const N = L[0]?.shifts?.noise?.perImage.length ?? L[0]?.shifts?.adversarial?.perImage.length ??
    0;
  return {
    N,
    hasNoise: L.every((l) => l.shifts?.noise),
    hasAdv: L.every((l) => l.shifts?.adversarial),
    draw: (r: Rng) => Array.from({ length: N }, () => r.int(N)),
    all: Array.from({ length: N }, (_, i) => i),
    meanOn: (v: Float64Array, idx: number[]) => _mean(idx.map((i) => v[i])),
  };
}

/** Fig. 11A,B, Fig. 12: random noise barely moves BMUs in any layer. */
function _noiseClaim(c: _Ctx): ClaimResult {
  const id = "noise-barely-moves";
  const frac = c.options.noiseFraction ?? 0.1;
  const stat =
    `largest per-layer mean BMU shift under random noise, as a fraction of the mean distance between two random units`;
  const im = _images(c);
  if (!im.hasNoise) return _missing(c, id, PAPER.noise, stat, "no random-noise BMUs were given");
  const L = c.L;
  const norm = L.map((l) => _randomUnitDistance(l.grid));
  const perLayer = (idx: number[]) =>
    L.map((l, i) => im.meanOn(l.shifts!.noise!.perImage, idx) / norm[i]);
  const interval = c.iv((r) => Math.max(...perLayer(im.draw(r))), id);
  const holds: Verdict = !Number.isFinite(interval[1])
    ? "inconclusive"
    : interval[1] < frac
    ? true
    : interval[0] > frac
    ? false
    : "inconclusive";
  return _claim(c, id, PAPER.noise, {
    statistic: stat,
    rule: `holds if the interval is below ${frac}; fails if above`,
    value: Math.max(...perLayer(im.all)),
    interval,
    holds,
    perLayer: L.map((l, i) =>
      _layerValue(
        c,
        id,
        l.layer,
        im.meanOn(l.shifts!.noise!.perImage, im.all),
        (r) => im.meanOn(l.shifts!.noise!.perImage, im.draw(r)),
        { randomUnitDistance: norm[i] },
      )
    ),
    resampled: `attacked images (${im.N})`,
    note: "per-layer values are mean shifts in grid units",
  });
}

/** Fig. 11C,D, Fig. 12: PGD moves BMUs more in the last layer than in the first. */
function _pgdClaim(c: _Ctx): ClaimResult {
  const id = "pgd-shift-grows";
  const stat = "mean BMU shift under PGD in the last layer minus the first layer, grid units";
  const im = _images(c);
  if (!im.hasAdv || !c.twoLayers) {
    return _missing(
      c,
      id,
      PAPER.pgd,
      stat,
      im.hasAdv ? NO_LAYERS : "no adversarial BMUs were given",
    );
  }
  const adv = (l: LayerAnalysis) => l.shifts!.adversarial!.perImage;
  const d = (idx: number[]) => im.meanOn(adv(c.last), idx) - im.meanOn(adv(c.first), idx);
  return _claim(c, id, PAPER.pgd, {
    statistic: stat,
    rule: "holds if the interval is above 0",
    value: d(im.all),
    interval: c.iv((r) => d(im.draw(r)), id),
    perLayer: c.L.map((l) =>
      _layerValue(c, id, l.layer, im.meanOn(adv(l), im.all), (r) => im.meanOn(adv(l), im.draw(r)))
    ),
    resampled: `attacked images (${im.N})`,
  });
}

/** Fig. 11, Fig. 12: PGD moves BMUs more than same-budget noise, in every layer. */
function _advNoiseClaim(c: _Ctx): ClaimResult {
  const id = "adversarial-beats-noise";
  const stat = "smallest, over layers, of the mean BMU shift under PGD minus under random noise";
  const im = _images(c);
  if (!im.hasAdv || !im.hasNoise) {
    return _missing(c, id, PAPER.advnoise, stat, "needs both adversarial and noise BMUs");
  }
  const gap = (l: LayerAnalysis, idx: number[]) =>
    im.meanOn(l.shifts!.adversarial!.perImage, idx) - im.meanOn(l.shifts!.noise!.perImage, idx);
  const d = (idx: number[]) => Math.min(...c.L.map((l) => gap(l, idx)));
  return _claim(c, id, PAPER.advnoise, {
    statistic: stat,
    rule: "holds if the interval is above 0 (i.e. in every layer)",
    value: d(im.all),
    interval: c.iv((r) => d(im.draw(r)), id),
    perLayer: c.L.map((l) =>
      _layerValue(c, id, l.layer, gap(l, im.all), (r) => gap(l, im.draw(r)))
    ),
    resampled: `attacked images (${im.N})`,
  });
}

/** Supp. Fig. 3: wrong predictions lie farther from their label's centre, in every layer. */
function _correctnessClaim(c: _Ctx): ClaimResult {
  const id = "incorrect-farther";
  const stat =
    "smallest, over layers, of the mean over classes of (label-centre distance when wrong − when right), grid units";
  const usable = c.L.map((l) =>
    new Map(
      (l.correctness ?? []).filter((x) => x.nCorrect > 0 && x.nIncorrect > 0).map((
        x,
      ) => [x.label, x.incorrect - x.correct]),
    )
  );
  const labels = [...(usable[0]?.keys() ?? [])].filter((x) => usable.every((u) => u.has(x)));
  if (labels.length < 2) {
    return _missing(
      c,
      id,
      PAPER.corr,
      stat,
      `only ${labels.length} class(es) have both right and wrong predictions in every layer`,
    );
  }
  const layerMean = (i: number, lab: number[]) => _mean(lab.map((x) => usable[i].get(x)!));
  const d = (lab: number[]) => Math.min(...c.L.map((_, i) => layerMean(i, lab)));
  return _claim(c, id, PAPER.corr, {
    statistic: stat,
    rule: "holds if the interval is above 0 (i.e. in every layer)",
    value: d(labels),
    interval: c.iv((r) => d(_resample(r, labels)), id),
    perLayer: c.L.map((l, i) =>
      _layerValue(c, id, l.layer, layerMean(i, labels), (r) => layerMean(i, _resample(r, labels)))
    ),
    resampled: `classes with both right and wrong predictions (${labels.length})`,
  });
}

/** The claims in report order, one evaluator each. */
const EVALUATORS: readonly ((c: _Ctx) => ClaimResult)[] = [
  _lossClaim,
  (c) => _dClassClaim(c, "train"),
  (c) => _dClassClaim(c, "val"),
  _weightCdClaim,
  _centreCdClaim,
  _noiseClaim,
  _pgdClaim,
  _advNoiseClaim,
  _correctnessClaim,
];
