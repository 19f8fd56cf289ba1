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
  const figs = { ...FIGURES, ...(options.figures ?? {}) } as Record<string, string>;
  const L = a.layers;
  const first = L[0], last = L[L.length - 1];
  const iv = (f: (r: Rng) => number, name: string) =>
    bootstrapInterval(f, root.stream(name), { resamples: B, level });
  const out: ClaimResult[] = [];
  const base = (id: string, statement: string) => ({
    id,
    model: a.model,
    figure: figs[id] ?? "",
    statement,
    level,
    resamples: B,
  });
  const missing = (
    id: string,
    statement: string,
    statistic: string,
    note: string,
  ): ClaimResult => ({
    ...base(id, statement),
    statistic,
    rule: "not evaluated",
    value: null,
    interval: [null, null],
    holds: "inconclusive",
    perLayer: [],
    resampled: "nothing",
    note,
  });
  const twoLayers = L.length >= 2;
  const noLayers = "needs at least two layers";

  // 1. Loss (Fig. 3).
  {
    const id = "loss-last-layer-highest";
    const stat =
      "final loss (mean of the last 10 % of batches) of the last layer minus the largest final loss of the earlier layers";
    const useSeeds = L.every((l) =>
      l.ensemble && l.ensemble.finalLossBySeed.filter(Number.isFinite).length >= 2
    );
    const tails = L.map((l) => {
      const losses = l.losses ?? new Float64Array(0);
      const n = losses.length, from = Math.max(0, n - Math.max(1, Math.ceil(n * 0.1)));
      return Array.from(losses.subarray(from));
    });
    const pools = useSeeds
      ? L.map((l) => l.ensemble!.finalLossBySeed.filter(Number.isFinite))
      : tails;
    if (!twoLayers || tails.some((t) => t.length === 0)) {
      out.push(missing(id, PAPER.loss, stat, twoLayers ? "no loss curve" : noLayers));
    } else {
      const vals = pools.map((p) => _mean(p));
      const diff = (v: number[]) => v[v.length - 1] - Math.max(...v.slice(0, -1));
      const interval = iv((r) => diff(pools.map((p) => _resampledMean(r, p))), id);
      out.push({
        ...base(id, PAPER.loss),
        statistic: stat,
        rule: "holds if the interval is above 0",
        value: _fin(diff(vals)),
        interval: [_fin(interval[0]), _fin(interval[1])],
        holds: _verdictAbove(interval),
        perLayer: L.map((l, i) => {
          const li = iv((r) => _resampledMean(r, pools[i]), `${id}/${l.layer}`);
          return { layer: l.layer, value: _fin(vals[i]), interval: [_fin(li[0]), _fin(li[1])] };
        }),
        resampled: useSeeds
          ? "SOM seeds (final loss of each seed's map)"
          : "batches of the last 10 % of training",
      });
    }
  }

  // 2–3. D_class shrinks (Fig. 6A,B).
  for (const split of ["train", "val"] as const) {
    const id = split === "train" ? "dclass-shrinks-train" : "dclass-shrinks-val";
    const statement = split === "train" ? PAPER.dtr : PAPER.dval;
    const stat = `median D_class over classes (${
      split === "train" ? "SOM-tr" : "SOM-val"
    }) in the first layer minus the last layer, grid units`;
    if (!twoLayers) {
      out.push(missing(id, statement, stat, noLayers));
      continue;
    }
    // Per layer: one D_class-by-label map per seed (the main map first).
    const bySeed = (l: LayerAnalysis) => {
      const main = split === "train" ? l.dClassTrain : l.dClassVal;
      const ens = split === "train" ? l.ensemble?.dClassTrainBySeed : l.ensemble?.dClassValBySeed;
      const list = ens && ens.length >= 2 ? ens : [main];
      return list.map((ds) => new Map(ds.map((d) => [d.label, d.dClass])));
    };
    const seedsF = bySeed(first), seedsL = bySeed(last);
    const S = Math.min(seedsF.length, seedsL.length);
    const labels = [...seedsF[0].keys()].filter((c) => seedsL[0].has(c));
    const medianOf = (m: Map<number, number>, idx: ArrayLike<number>) =>
      _median(Array.from(idx, (i) => m.get(labels[i]) ?? NaN));
    const all = labels.map((_, i) => i);
    const statOn = (seeds: number[], idx: ArrayLike<number>) =>
      _mean(seeds.map((s) => medianOf(seedsF[s], idx) - medianOf(seedsL[s], idx)));
    const draw = (r: Rng) => {
      const seeds = S >= 2 ? Array.from({ length: S }, () => r.int(S)) : [0];
      const idx = Array.from(labels, () => r.int(labels.length));
      return { seeds, idx };
    };
    const value = statOn(Array.from({ length: S }, (_, i) => i), all);
    const interval = iv((r) => {
      const { seeds, idx } = draw(r);
      return statOn(seeds, idx);
    }, id);
    out.push({
      ...base(id, statement),
      statistic: stat,
      rule: "holds if the interval is above 0",
      value: _fin(value),
      interval: [_fin(interval[0]), _fin(interval[1])],
      holds: _verdictAbove(interval),
      perLayer: L.map((l) => {
        const seeds = bySeed(l);
        const li = iv((r) => {
          const s = seeds.length >= 2 ? r.int(seeds.length) : 0;
          return medianOf(seeds[s], Array.from(labels, () => r.int(labels.length)));
        }, `${id}/${l.layer}`);
        return {
          layer: l.layer,
          value: _fin(medianOf(seeds[0], all)),
          interval: [_fin(li[0]), _fin(li[1])],
        };
      }),
      resampled: S >= 2
        ? `classes (${labels.length}) and SOM seeds (${S})`
        : `classes (${labels.length})`,
    });
  }

  // 4. Weight cosine distances grow with depth (Fig. 6C,D; Fig. 9).
  {
    const id = "weight-cd-grows";
    const stat =
      "mean pairwise cosine distance of SOM weights, deeper half of the layers minus shallower half";
    if (!twoLayers || L.some((l) => !l.weightCdUnitMeans)) {
      out.push(missing(id, PAPER.wcd, stat, noLayers));
    } else {
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
      const interval = iv((r) => diff(pools.map((p) => resample(r, p))), id);
      out.push({
        ...base(id, PAPER.wcd),
        statistic: stat,
        rule: "holds if the interval is above 0",
        value: _fin(diff(means)),
        interval: [_fin(interval[0]), _fin(interval[1])],
        holds: _verdictAbove(interval),
        perLayer: L.map((l, i) => {
          const li = iv((r) => resample(r, pools[i]), `${id}/${l.layer}`);
          return { layer: l.layer, value: _fin(means[i]), interval: [_fin(li[0]), _fin(li[1])] };
        }),
        resampled: useSeeds
          ? `SOM seeds (${
            pools[0].length
          }) and units of each map (their mean distance to all other units)`
          : "units of each map (their mean distance to all other units)",
      });
    }
  }

  // 5. Class-centre cosine distances grow with depth, every size (Fig. 7; Fig. 10).
  {
    const id = "centre-cd-grows";
    const stat =
      "smallest, over SOM sizes, of the median class-centre cosine distance in the last layer minus the first layer";
    const sizes = twoLayers
      ? (first.centreCd ?? []).map((c) => c.size).filter((s) =>
        (last.centreCd ?? []).some((c) => c.size === s)
      )
      : [];
    if (sizes.length === 0) {
      out.push(missing(id, PAPER.ccd, stat, twoLayers ? "no class-centre distances" : noLayers));
    } else {
      const lookup = (l: LayerAnalysis, size: string) => {
        const cc = l.centreCd.find((c) => c.size === size);
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
            medOn(tables.get(last.layer)!.get(s)!, lab) -
            medOn(tables.get(first.layer)!.get(s)!, lab)
          ),
        );
      const value = diffOn(labels);
      const interval = iv((r) => diffOn(_resample(r, labels)), id);
      out.push({
        ...base(id, PAPER.ccd),
        statistic: stat,
        rule: "holds if the interval is above 0 (i.e. for every size)",
        value: _fin(value),
        interval: [_fin(interval[0]), _fin(interval[1])],
        holds: _verdictAbove(interval),
        perLayer: L.map((l) => {
          const t = tables.get(l.layer)!;
          const main = l.centreCd.find((c) => c.grid.m === l.grid.m && c.grid.n === l.grid.n)
            ?.size ?? sizes[0];
          const li = iv((r) => medOn(t.get(main)!, _resample(r, labels)), `${id}/${l.layer}`);
          return {
            layer: l.layer,
            value: _fin(medOn(t.get(main)!, labels)),
            interval: [_fin(li[0]), _fin(li[1])],
            detail: Object.fromEntries(sizes.map((s) => [s, _fin(medOn(t.get(s)!, labels))])),
          };
        }),
        resampled: `classes (${labels.length})`,
        note: `sizes: ${sizes.join(", ")}; per-layer value is the median at the main size`,
      });
    }
  }

  // 6–8. Perturbations (Figs. 11, 12).
  {
    const hasNoise = L.every((l) => l.shifts?.noise);
    const hasAdv = L.every((l) => l.shifts?.adversarial);
    const N = L[0]?.shifts?.noise?.perImage.length ?? L[0]?.shifts?.adversarial?.perImage.length ??
      0;
    const drawImages = (r: Rng) => Array.from({ length: N }, () => r.int(N));
    const meanOn = (v: Float64Array, idx: number[]) => _mean(idx.map((i) => v[i]));
    const allIdx = Array.from({ length: N }, (_, i) => i);
    {
      const id = "noise-barely-moves";
      const frac = options.noiseFraction ?? 0.1;
      const stat =
        `largest per-layer mean BMU shift under random noise, as a fraction of the mean distance between two random units`;
      if (!hasNoise) {
        out.push(missing(id, PAPER.noise, stat, "no random-noise BMUs were given"));
      } else {
        const norm = L.map((l) => _randomUnitDistance(l.grid));
        const perLayer = (idx: number[]) =>
          L.map((l, i) => meanOn(l.shifts!.noise!.perImage, idx) / norm[i]);
        const interval = iv((r) => Math.max(...perLayer(drawImages(r))), id);
        const v = Math.max(...perLayer(allIdx));
        const holds: Verdict = !Number.isFinite(interval[1])
          ? "inconclusive"
          : interval[1] < frac
          ? true
          : interval[0] > frac
          ? false
          : "inconclusive";
        out.push({
          ...base(id, PAPER.noise),
          statistic: stat,
          rule: `holds if the interval is below ${frac}; fails if above`,
          value: _fin(v),
          interval: [_fin(interval[0]), _fin(interval[1])],
          holds,
          perLayer: L.map((l, i) => {
            const li = iv(
              (r) => meanOn(l.shifts!.noise!.perImage, drawImages(r)),
              `${id}/${l.layer}`,
            );
            return {
              layer: l.layer,
              value: _fin(meanOn(l.shifts!.noise!.perImage, allIdx)),
              interval: [_fin(li[0]), _fin(li[1])],
              detail: { randomUnitDistance: norm[i] },
            };
          }),
          resampled: `attacked images (${N})`,
          note: "per-layer values are mean shifts in grid units",
        });
      }
    }
    {
      const id = "pgd-shift-grows";
      const stat = "mean BMU shift under PGD in the last layer minus the first layer, grid units";
      if (!hasAdv || !twoLayers) {
        out.push(
          missing(id, PAPER.pgd, stat, hasAdv ? noLayers : "no adversarial BMUs were given"),
        );
      } else {
        const d = (idx: number[]) =>
          meanOn(last.shifts!.adversarial!.perImage, idx) -
          meanOn(first.shifts!.adversarial!.perImage, idx);
        const interval = iv((r) => d(drawImages(r)), id);
        out.push({
          ...base(id, PAPER.pgd),
          statistic: stat,
          rule: "holds if the interval is above 0",
          value: _fin(d(allIdx)),
          interval: [_fin(interval[0]), _fin(interval[1])],
          holds: _verdictAbove(interval),
          perLayer: L.map((l) => {
            const li = iv(
              (r) => meanOn(l.shifts!.adversarial!.perImage, drawImages(r)),
              `${id}/${l.layer}`,
            );
            return {
              layer: l.layer,
              value: _fin(meanOn(l.shifts!.adversarial!.perImage, allIdx)),
              interval: [_fin(li[0]), _fin(li[1])],
            };
          }),
          resampled: `attacked images (${N})`,
        });
      }
    }
    {
      const id = "adversarial-beats-noise";
      const stat =
        "smallest, over layers, of the mean BMU shift under PGD minus under random noise";
      if (!hasAdv || !hasNoise) {
        out.push(missing(id, PAPER.advnoise, stat, "needs both adversarial and noise BMUs"));
      } else {
        const gap = (l: LayerAnalysis, idx: number[]) =>
          meanOn(l.shifts!.adversarial!.perImage, idx) - meanOn(l.shifts!.noise!.perImage, idx);
        const d = (idx: number[]) => Math.min(...L.map((l) => gap(l, idx)));
        const interval = iv((r) => d(drawImages(r)), id);
        out.push({
          ...base(id, PAPER.advnoise),
          statistic: stat,
          rule: "holds if the interval is above 0 (i.e. in every layer)",
          value: _fin(d(allIdx)),
          interval: [_fin(interval[0]), _fin(interval[1])],
          holds: _verdictAbove(interval),
          perLayer: L.map((l) => {
            const li = iv((r) => gap(l, drawImages(r)), `${id}/${l.layer}`);
            return {
              layer: l.layer,
              value: _fin(gap(l, allIdx)),
              interval: [_fin(li[0]), _fin(li[1])],
            };
          }),
          resampled: `attacked images (${N})`,
        });
      }
    }
  }

  // 9. Wrong predictions lie farther from the label centre (Supp. Fig. 3).
  {
    const id = "incorrect-farther";
    const stat =
      "smallest, over layers, of the mean over classes of (label-centre distance when wrong − when right), grid units";
    const usable = L.map((l) =>
      new Map(
        (l.correctness ?? []).filter((c) => c.nCorrect > 0 && c.nIncorrect > 0).map((
          c,
        ) => [c.label, c.incorrect - c.correct]),
      )
    );
    const labels = [...(usable[0]?.keys() ?? [])].filter((c) => usable.every((u) => u.has(c)));
    if (labels.length < 2) {
      out.push(
        missing(
          id,
          PAPER.corr,
          stat,
          `only ${labels.length} class(es) have both right and wrong predictions in every layer`,
        ),
      );
    } else {
      const layerMean = (i: number, lab: number[]) => _mean(lab.map((c) => usable[i].get(c)!));
      const d = (lab: number[]) => Math.min(...L.map((_, i) => layerMean(i, lab)));
      const interval = iv((r) => d(_resample(r, labels)), id);
      out.push({
        ...base(id, PAPER.corr),
        statistic: stat,
        rule: "holds if the interval is above 0 (i.e. in every layer)",
        value: _fin(d(labels)),
        interval: [_fin(interval[0]), _fin(interval[1])],
        holds: _verdictAbove(interval),
        perLayer: L.map((l, i) => {
          const li = iv((r) => layerMean(i, _resample(r, labels)), `${id}/${l.layer}`);
          return {
            layer: l.layer,
            value: _fin(layerMean(i, labels)),
            interval: [_fin(li[0]), _fin(li[1])],
          };
        }),
        resampled: `classes with both right and wrong predictions (${labels.length})`,
      });
    }
  }
  return out;
}
