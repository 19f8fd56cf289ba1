/**
 * All of SPEC §4 for one model: takes each layer's trained SOM (weights, loss curve), the top-k
 * BMUs of SOM-tr and SOM-val, optional extra map sizes, seed ensemble and perturbation BMUs,
 * and returns every analysis the report draws and the claims test.
 *
 * @module
 */

import { Rng } from "../rng.ts";
import type { AttackExample, AttackSummary } from "../attack/attack.ts";
import { type AttackOutcome, attackOutcome } from "./attack_outcome.ts";
import { classStatistics, type LayerClassStats } from "./class_stats.ts";
import {
  accuracyGuard,
  finiteGuard,
  type Guard,
  type GuardOptions,
  logitsGuard,
  mapGuards,
} from "./guards.ts";
import {
  type BoxStats,
  boxStats,
  type Distribution,
  distribution,
  histogram,
} from "./box_stats.ts";
import {
  bmusByClass,
  type ClassBmuCounts,
  type ClassCentre,
  classCentres,
  type ClassDistance,
  type CorrectnessDistance,
  correctnessDistances,
  dClass,
} from "./class_centres.ts";
import { type BmuDensity, bmuDensity, type DensityOptions } from "./density.ts";
import { checkTopk, type GridShape } from "../geometry/torus.ts";
import { quantizationError, topographicError, uMatrix } from "../som/quality.ts";
import { type PlacementStability, placementStability, stabilityInterval } from "./alignment.ts";
import { bmuShiftDistances } from "./shifts.ts";
import {
  centreCosineDistances,
  downsampleMatrix,
  upperTriangle,
  weightCosineDistances,
} from "./weight_distances.ts";

/** BMUs of one labelled split on one map. */
export interface SplitBmus {
  /** `N×k` top-k unit indices. */
  topk: Int32Array;
  /** `N×k` cosine distances matching `topk` (needed for the quantization error). */
  distance?: Float32Array;
  /** `N` class labels. */
  labels: ArrayLike<number>;
  /** `N` flags: prediction equals label (SOM-val; Supp. Fig. 3). */
  correct?: ArrayLike<number | boolean>;
}

/** A map of another size for the class-centre analysis (Fig. 7). */
export interface SizedMap {
  /** Grid shape. */
  grid: GridShape;
  /** `K×d` weights. */
  weights: Float32Array;
  /** SOM-tr top-k BMUs on this map. */
  train: SplitBmus;
}

/** A map trained with another seed (SOM-seed ensemble). */
export interface EnsembleMap {
  /** The seed. */
  seed: number | string;
  /** `K×d` weights on the main grid. */
  weights: Float32Array;
  /** SOM-tr top-k BMUs on this map. */
  train: SplitBmus;
  /** SOM-val top-k BMUs on this map (optional; enables seed resampling of the SOM-val claim). */
  val?: SplitBmus;
  /** Final loss of this map's training (mean of the last 10 % of batches). */
  finalLoss?: number;
}

/** Clean and perturbed top-k BMUs of the attacked images on one layer's map. */
export interface ShiftInput {
  /** `N×k` clean top-k units. */
  clean: Int32Array;
  /** `N×k` adversarial top-k units. */
  adversarial?: Int32Array;
  /** `N×k` random-noise top-k units. */
  noise?: Int32Array;
  /** True labels of the attacked images, in row order (enables adversarial BMUs by class). */
  labels?: ArrayLike<number>;
}

/** Everything known about one layer. */
export interface LayerInput {
  /** Layer name, e.g. `CL1` or `cls3`. */
  layer: string;
  /** Main map grid (20×20 by default). */
  grid: GridShape;
  /** Code dimension. */
  dim: number;
  /** Main map weights, `K×dim`. */
  weights: Float32Array;
  /** Per-batch training loss of the main map. */
  losses: ArrayLike<number>;
  /** Batches per epoch (for drawing epoch boundaries), if known. */
  batchesPerEpoch?: number;
  /** BMUs per example (the paper's 10). */
  k: number;
  /** SOM-tr BMUs on the main map. */
  train: SplitBmus;
  /** SOM-val BMUs on the main map. */
  val: SplitBmus;
  /** Maps of other sizes (the main map's size is included automatically). */
  sizes?: SizedMap[];
  /** Other seeds' maps on the main grid (the main map counts as one seed). */
  ensemble?: EnsembleMap[];
  /** Seed of the main map (for the ensemble table). */
  seed?: number | string;
  /** Perturbation BMUs on the main map. */
  shifts?: ShiftInput;
}

/** Options for {@linkcode analyzeModel}. */
export interface AnalyzeOptions {
  /** Classes shown in the BMUs-by-class figure. Default: 4 classes spread over the label range. */
  featuredClasses?: number[];
  /** Density options (bandwidth, ranks). */
  density?: DensityOptions;
  /**
   * Classes compared in the class-centre analysis (default 100): with more classes, one subset
   * drawn once per model (stream `centre-classes/<model>`) and shared by every layer and size.
   */
  maxCentreClasses?: number;
  /** Root seed of the class subset, the bootstrap and the permutation null. Default 0. */
  seed?: number | string;
  /** Heat-map resolution of the weight cosine-distance matrix. Default 32. */
  heatmapSize?: number;
  /** Bootstrap replicates of the class statistics (two-stage: classes, then examples). Default 1000. */
  resamples?: number;
  /** Label permutations of the null baselines. Default 200. */
  permutations?: number;
  /** Model family, from the graph (lib/model's `listLayers`); default: from the layer names. */
  family?: "cnn" | "vit" | "other";
  /** Number of logits of the model (for the classes-versus-logits guard). */
  logits?: number;
  /** The attack's summary and per-image rows (`runAttack`), for the PGD outcome and its claim. */
  attack?: { summary: AttackSummary; examples?: readonly AttackExample[] };
  /** Thresholds of the validity guards. */
  guards?: GuardOptions;
}

/** Summary of BMU shifts of one perturbation kind. */
export interface ShiftSummary {
  /** `N×k` distances. */
  distances: Float32Array;
  /** Per image, mean over the k ranks. */
  perImage: Float64Array;
  /** Box statistics of all `N·k` distances. */
  box: BoxStats;
  /** Mean distance per rank 1..k. */
  byRank: number[];
}

/** Every analysis of one layer. */
export interface LayerAnalysis {
  /** Layer name. */
  layer: string;
  /** Main grid. */
  grid: GridShape;
  /** Code dimension. */
  dim: number;
  /** Per-batch losses. */
  losses: Float64Array;
  /** Batches per epoch, if known. */
  batchesPerEpoch?: number;
  /** Mean loss of the last 10 % of batches. */
  finalLoss: number;
  /** SOM-tr BMU density. */
  density: BmuDensity;
  /** Class centres from SOM-tr. */
  centres: ClassCentre[];
  /** D_class per class on SOM-tr. */
  dClassTrain: ClassDistance[];
  /** D_class per class on SOM-val. */
  dClassVal: ClassDistance[];
  /** Box statistics of D_class over classes, SOM-tr. */
  dClassTrainBox: BoxStats;
  /** Box statistics of D_class over classes, SOM-val. */
  dClassValBox: BoxStats;
  /** Weight cosine distances: distribution over unit pairs. */
  weightCd: Distribution;
  /** Per unit: mean cosine distance to every other unit (the bootstrap resamples units). */
  weightCdUnitMeans: Float64Array;
  /** Block-mean heat map of the `K×K` matrix, `heatSize×heatSize`. */
  weightCdHeat: Float32Array;
  /** Heat-map size. */
  heatSize: number;
  /** Histogram of pair distances (40 bins over [0, 2]). */
  weightCdHist: { edges: number[]; counts: number[] };
  /** Class-centre cosine distances per map size. */
  centreCd: {
    size: string;
    grid: GridShape;
    centres: ClassCentre[];
    labels: number[];
    pairs: [number, number, number][];
    box: BoxStats;
  }[];
  /** Label-centre distance by correctness (SOM-val), per class. */
  correctness: CorrectnessDistance[];
  /** BMUs of the featured classes. */
  bmusByClass: {
    train: ClassBmuCounts[];
    val: ClassBmuCounts[];
    /** Adversarial BMUs of the featured classes (attacked images), when the attack ran. */
    adversarial?: ClassBmuCounts[];
  };
  /** All classes' BMU hits per unit (for the interactive map): `[unit, label, count]`. */
  unitClassCounts: [number, number, number][];
  /** Quantization error (SOM-tr), topographic error (SOM-tr), U-matrix. */
  quality: { quantizationError: number; topographicError: number; uMatrix: Float64Array };
  /** BMU shifts, when perturbation BMUs were given. */
  shifts?: { adversarial?: ShiftSummary; noise?: ShiftSummary };
  /** Class statistics with their bootstrap replicates and label-permutation nulls. */
  classStats: LayerClassStats;
  /** Seed-ensemble placement stability (with ≥ 2 seeds). */
  ensemble?: PlacementStability & {
    dClassTrainBySeed: ClassDistance[][];
    dClassValBySeed: ClassDistance[][];
    finalLossBySeed: number[];
    /** Per seed (main map first): each unit's mean weight cosine distance to the others. */
    weightCdUnitMeansBySeed: Float64Array[];
    /** 95 % bootstrap interval of the stability (classes and seed pairs resampled). */
    stabilityInterval: [number, number];
  };
}

/** Every analysis of one model. */
export interface ModelAnalysis {
  /** Model name. */
  model: string;
  /** Model family (from the graph when the caller gave it, else from the layer names). */
  family: "cnn" | "vit" | "other";
  /** Class labels present in SOM-tr, ascending. */
  classes: number[];
  /** Class names by label, when known. */
  classNames?: string[];
  /** Featured classes of the BMUs-by-class figure. */
  featuredClasses: number[];
  /** Layers in depth order. */
  layers: LayerAnalysis[];
  /** The class-centre subset: drawn once, shared by every layer, map size and seed. */
  centreSubset: {
    /** Labels of the classes compared, ascending. */
    labels: number[];
    /** SOM-tr classes it was drawn from. */
    of: number;
    /** Class pairs compared, `labels.length · (labels.length − 1) / 2`. */
    pairs: number;
    /** Seed stream it was drawn from (`null` when every class is used). */
    stream: string | null;
  };
  /** Validity guards (see lib/analysis/guards.ts). */
  validity: Guard[];
  /** The PGD outcome (Table 2), when an attack was given. */
  attack?: AttackOutcome;
  /** Per attacked image: label and the predictions under each condition (for the claims' bootstrap). */
  attackImages?: {
    label: Int32Array;
    clean: Int32Array;
    adversarial: Int32Array;
    noise: Int32Array;
  };
  /** Resampling settings the class statistics used. */
  resampling: { seed: number | string; resamples: number; permutations: number };
}

function _finalLoss(losses: ArrayLike<number>): number {
  const n = losses.length;
  if (n === 0) return NaN;
  const from = Math.max(0, n - Math.max(1, Math.ceil(n * 0.1)));
  let s = 0;
  for (let i = from; i < n; i++) s += losses[i];
  return s / (n - from);
}

/** Per unit, the mean of its row of a `K×K` distance matrix without the diagonal. */
function _unitMeans(D: Float32Array, K: number): Float64Array {
  const out = new Float64Array(K);
  for (let i = 0; i < K; i++) {
    let s = 0;
    for (let j = 0; j < K; j++) s += D[i * K + j];
    out[i] = K > 1 ? s / (K - 1) : 0;
  }
  return out;
}

function _shiftSummary(
  clean: Int32Array,
  pert: Int32Array,
  k: number,
  grid: GridShape,
): ShiftSummary {
  const distances = bmuShiftDistances(clean, pert, k, grid);
  const N = distances.length / k;
  const perImage = new Float64Array(N);
  const byRank = new Array(k).fill(0);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) {
      s += distances[i * k + j];
      byRank[j] += distances[i * k + j] / N;
    }
    perImage[i] = s / k;
  }
  return { distances, perImage, box: boxStats(distances), byRank };
}

/**
 * Runs every SPEC §4 analysis on every layer of one model.
 *
 * @param model Model name.
 * @param layers Per-layer inputs in depth order.
 * @param options Featured classes, density bandwidth, class subset size and seed.
 * @returns The model's analyses.
 * @throws {RangeError} If SOM-val holds a class that SOM-tr lacks, SOM weights are not finite,
 *   a map lacks a class of the class-centre subset, or on malformed inputs.
 *
 * @example
 * ```ts
 * import { analyzeModel } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const grid = { m: 4, n: 4 }, dim = 2, k = 2;
 * const weights = Float32Array.from({ length: 16 * dim }, (_, i) => Math.sin(i));
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const a = analyzeModel("toy", [
 *   { layer: "CL1", grid, dim, weights, losses: [0.5, 0.4], k, train: split, val: split },
 * ]);
 * assertEquals(a.layers[0].centres.map((c) => c.modeUnit), [0, 10]);
 * ```
 */
export function analyzeModel(
  model: string,
  layers: readonly LayerInput[],
  options: AnalyzeOptions = {},
): ModelAnalysis {
  if (layers.length === 0) {
    throw new RangeError(
      `Cannot analyse model ${model}: no layers given but expected at least one`,
    );
  }
  const classes = [...new Set(Array.from(layers[0].train.labels))].sort((a, b) => a - b);
  const valClasses = new Set(Array.from(layers[0].val.labels));
  const missing = [...valClasses].filter((c) => !classes.includes(c));
  if (missing.length) {
    throw new RangeError(
      `Cannot analyse model ${model}: SOM-val has class(es) ${missing.join(", ")} that SOM-tr ` +
        `lacks; expected SOM-val classes within ${classes.join(", ")}`,
    );
  }
  const featured = options.featuredClasses ??
    (classes.length <= 4
      ? classes
      : [0, 1, 2, 3].map((i) => classes[Math.round((i * (classes.length - 1)) / 3)]));
  const subset = _centreSubset(model, classes, options);
  const resampling = {
    seed: options.seed ?? 0,
    resamples: options.resamples ?? 1000,
    permutations: options.permutations ?? 200,
  };
  layers.forEach(_checkLayer);
  const stats = classStatistics(layers, { model, ...resampling, centreClasses: subset.labels });
  const out = layers.map((L, i) =>
    _analyzeLayer(model, L, featured, subset.labels, stats[i], options)
  );
  const a: ModelAnalysis = {
    model,
    family: options.family ?? _familyFromLayers(layers),
    classes,
    featuredClasses: featured,
    layers: out,
    centreSubset: subset,
    validity: _validity(layers, options),
    resampling,
  };
  if (options.attack) {
    a.attack = attackOutcome(options.attack.summary, options.attack.examples);
    const ex = options.attack.examples;
    if (ex) {
      a.attackImages = {
        label: Int32Array.from(ex, (e) => e.label),
        clean: Int32Array.from(ex, (e) => e.clean),
        adversarial: Int32Array.from(ex, (e) => e.adversarial),
        noise: Int32Array.from(ex, (e) => e.noise),
      };
    }
  }
  return a;
}

/** ViT when every layer is a CLS token (`cls0`…), CNN when every layer is `CL1`…, else other. */
function _familyFromLayers(layers: readonly LayerInput[]): "cnn" | "vit" | "other" {
  if (layers.every((l) => /^cls\d+$/i.test(l.layer))) return "vit";
  if (layers.every((l) => /^CL\d+$/.test(l.layer))) return "cnn";
  return "other";
}

/** The class-centre subset: every class, or `maxCentreClasses` of them drawn once per model. */
function _centreSubset(
  model: string,
  classes: number[],
  options: AnalyzeOptions,
): ModelAnalysis["centreSubset"] {
  const max = options.maxCentreClasses ?? 100;
  if (!Number.isInteger(max) || max < 2) {
    throw new RangeError(
      `Cannot analyse model ${model}: maxCentreClasses is ${max} but must be an integer ≥ 2`,
    );
  }
  let labels = classes, stream: string | null = null;
  if (classes.length > max) {
    stream = `centre-classes/${model}`;
    const perm = new Rng(options.seed ?? 0).stream(stream).permutation(classes.length);
    labels = Array.from(perm.subarray(0, max)).sort((a, b) => a - b).map((i) => classes[i]);
  }
  return {
    labels,
    of: classes.length,
    pairs: (labels.length * (labels.length - 1)) / 2,
    stream,
  };
}

const PGD_CLAIMS = [
  "noise-barely-moves",
  "pgd-shift-grows",
  "adversarial-beats-noise",
  "pgd-collapses-accuracy",
];
const SEED_CLAIMS = ["loss-last-layer-highest", "weight-cd-grows"];

/** Every validity guard of a model (SPEC §7). */
function _validity(layers: readonly LayerInput[], options: AnalyzeOptions): Guard[] {
  const g = options.guards;
  const out: Guard[] = [];
  const L0 = layers[0];
  out.push(
    logitsGuard([...Array.from(L0.train.labels), ...Array.from(L0.val.labels)], options.logits),
  );
  out.push(
    accuracyGuard("SOM-val", "accuracy-above-chance", L0.val.correct, L0.val.labels, "all", g),
  );
  const arrays: Record<string, ArrayLike<number> | undefined> = {};
  for (const L of layers) {
    const K = L.grid.m * L.grid.n, main = `${L.layer}/${_sizeKey(L.grid)}`;
    out.push(
      ...mapGuards(`${L.layer}, ${L.grid.m}×${L.grid.n} map`, main, L.train.topk, L.k, K, "all", g),
    );
    arrays[`${L.layer} weights`] = L.weights;
    arrays[`${L.layer} losses`] = L.losses;
    arrays[`${L.layer} SOM-tr BMU distances`] = L.train.distance;
    arrays[`${L.layer} SOM-val BMU distances`] = L.val.distance;
    for (const s of L.sizes ?? []) {
      if (_sizeKey(s.grid) === _sizeKey(L.grid)) continue;
      const key = `${L.layer}/${_sizeKey(s.grid)}`;
      out.push(
        ...mapGuards(
          `${L.layer}, ${s.grid.m}×${s.grid.n} map`,
          key,
          s.train.topk,
          L.k,
          s.grid.m * s.grid.n,
          ["centre-cd-grows"],
          g,
        ),
      );
      arrays[`${L.layer} ${_sizeKey(s.grid)} weights`] = s.weights;
    }
    for (const e of L.ensemble ?? []) {
      const key = `${L.layer}/${_sizeKey(L.grid)}/seed-${e.seed}`;
      out.push(
        ...mapGuards(
          `${L.layer}, ${L.grid.m}×${L.grid.n} map, seed ${e.seed}`,
          key,
          e.train.topk,
          L.k,
          K,
          SEED_CLAIMS,
          g,
        ),
      );
      arrays[`${L.layer} seed ${e.seed} weights`] = e.weights;
    }
  }
  out.push(finiteGuard(arrays, "all"));
  const at = options.attack;
  if (at) {
    const ex = at.examples;
    out.push(
      accuracyGuard(
        "attacked images",
        "attack-accuracy-above-chance",
        ex?.map((e) => e.clean === e.label),
        ex?.map((e) => e.label) ?? [],
        PGD_CLAIMS,
        g,
      ),
    );
    const n = at.summary.norms;
    out.push(
      finiteGuard({
        "attack accuracy": Object.values(at.summary.accuracy),
        "attack norms": [
          n.adversarial.linf.max,
          n.adversarial.l2.max,
          n.noise.linf.max,
          n.matched.linf.max,
        ],
      }, PGD_CLAIMS),
    );
  }
  return out;
}

function _sizeKey(g: GridShape): string {
  return `${g.m}x${g.n}`;
}

/** Checks one layer's weights and BMUs before anything is computed. */
function _checkLayer(L: LayerInput): void {
  const K = L.grid.m * L.grid.n;
  if (L.weights.length !== K * L.dim) {
    throw new RangeError(
      `Cannot analyse layer ${L.layer}: weights have ${L.weights.length} values but expected ` +
        `${L.grid.m}×${L.grid.n}×${L.dim}`,
    );
  }
  checkTopk(`analyse layer ${L.layer}`, L.train.topk, L.k, L.grid);
  checkTopk(`analyse layer ${L.layer} (SOM-val)`, L.val.topk, L.k, L.grid);
  const maps = [
    ["main map", L.weights],
    ...(L.sizes ?? []).map((s) => [`${s.grid.m}×${s.grid.n} map`, s.weights] as const),
    ...(L.ensemble ?? []).map((e) => [`seed ${e.seed} map`, e.weights] as const),
  ] as const;
  for (const [what, w] of maps) {
    let bad = 0;
    for (let i = 0; i < w.length; i++) if (!Number.isFinite(w[i])) bad++;
    if (bad) {
      throw new RangeError(
        `Cannot analyse layer ${L.layer}: the ${what}'s SOM weights hold ${bad} non-finite ` +
          "value(s) (NaN or infinite); expected finite weights — were the codes finite?",
      );
    }
  }
  for (const s of L.sizes ?? []) checkTopk(`analyse layer ${L.layer}`, s.train.topk, L.k, s.grid);
}

/** Every analysis of one layer (SPEC §4 items 1–8 and the BMU shifts). */
function _analyzeLayer(
  model: string,
  L: LayerInput,
  featured: number[],
  subset: number[],
  classStats: LayerClassStats,
  options: AnalyzeOptions,
): LayerAnalysis {
  const K = L.grid.m * L.grid.n;
  const heatSize = options.heatmapSize ?? 32;
  const centres = classCentres(L.train.topk, L.k, L.train.labels, L.grid);
  const dTr = dClass(L.train.topk, L.k, L.train.labels, centres, L.grid);
  const dVal = dClass(L.val.topk, L.k, L.val.labels, centres, L.grid);
  const D = weightCosineDistances(L.weights, K, L.dim);
  const unitMeans = _unitMeans(D, K);
  const tri = upperTriangle(D, K);
  const la: LayerAnalysis = {
    layer: L.layer,
    grid: L.grid,
    dim: L.dim,
    losses: Float64Array.from(L.losses),
    batchesPerEpoch: L.batchesPerEpoch,
    finalLoss: _finalLoss(L.losses),
    density: bmuDensity(L.train.topk, L.k, L.grid, options.density),
    centres,
    dClassTrain: dTr,
    dClassVal: dVal,
    dClassTrainBox: boxStats(dTr.map((d) => d.dClass)),
    dClassValBox: boxStats(dVal.map((d) => d.dClass)),
    weightCd: distribution(tri),
    weightCdUnitMeans: unitMeans,
    weightCdHeat: downsampleMatrix(D, K, heatSize),
    heatSize: Math.min(heatSize, K),
    weightCdHist: histogram(tri, 40, 0, 2),
    centreCd: _centreCd(L, centres, subset),
    classStats,
    correctness: L.val.correct
      ? correctnessDistances(L.val.topk, L.k, L.val.labels, L.val.correct, centres, L.grid)
      : [],
    bmusByClass: {
      train: bmusByClass(L.train.topk, L.k, L.train.labels, featured, L.grid),
      val: bmusByClass(L.val.topk, L.k, L.val.labels, featured, L.grid),
      ...(L.shifts?.adversarial && L.shifts.labels
        ? {
          adversarial: bmusByClass(L.shifts.adversarial, L.k, L.shifts.labels, featured, L.grid),
        }
        : {}),
    },
    unitClassCounts: _unitClassCounts(L),
    quality: {
      quantizationError: L.train.distance ? quantizationError(L.train.distance, L.k) : NaN,
      topographicError: L.k >= 2 ? topographicError(L.train.topk, L.k, L.grid) : NaN,
      uMatrix: uMatrix(L.weights, L.dim, L.grid),
    },
  };
  if (L.shifts) {
    la.shifts = {};
    if (L.shifts.adversarial) {
      la.shifts.adversarial = _shiftSummary(L.shifts.clean, L.shifts.adversarial, L.k, L.grid);
    }
    if (L.shifts.noise) {
      la.shifts.noise = _shiftSummary(L.shifts.clean, L.shifts.noise, L.k, L.grid);
    }
  }
  if (L.ensemble && L.ensemble.length > 0) {
    la.ensemble = _ensemble(
      model,
      L,
      { centres, dTr, dVal, unitMeans, finalLoss: la.finalLoss },
      options,
    );
  }
  return la;
}

/**
 * Class-centre cosine distances on every map size of a layer, smallest map first, between the
 * centre units of the model's one class subset.
 *
 * @throws {RangeError} If a map has no centre for one of the subset's classes.
 */
function _centreCd(
  L: LayerInput,
  centres: ClassCentre[],
  subset: number[],
): LayerAnalysis["centreCd"] {
  const maps = [
    { grid: L.grid, weights: L.weights, train: L.train },
    ...(L.sizes ?? []).filter((s) => _sizeKey(s.grid) !== _sizeKey(L.grid)),
  ].sort((a, b) => a.grid.m * a.grid.n - b.grid.m * b.grid.n);
  const wanted = new Set(subset);
  return maps.map((s) => {
    const all = s.weights === L.weights
      ? centres
      : classCentres(s.train.topk, L.k, s.train.labels, s.grid);
    const cs = all.filter((c) => wanted.has(c.label));
    if (cs.length !== subset.length) {
      const have = new Set(cs.map((c) => c.label));
      const missing = subset.filter((c) => !have.has(c));
      throw new RangeError(
        `Cannot compare class centres of layer ${L.layer} on the ${_sizeKey(s.grid)} map: ` +
          `class(es) ${
            missing.slice(0, 5).join(", ")
          } of the shared subset have no centre there; ` +
          "expected every subset class on every map",
      );
    }
    const cd = centreCosineDistances(s.weights, L.dim, cs, { maxClasses: cs.length });
    return {
      size: _sizeKey(s.grid),
      grid: s.grid,
      centres: all,
      labels: cd.labels,
      pairs: cd.pairs,
      box: boxStats(cd.pairs.map((p) => p[2])),
    };
  });
}

/** SOM-tr first-BMU hits per unit and class, `[unit, label, count]` ascending. */
function _unitClassCounts(L: LayerInput): [number, number, number][] {
  const ucc = new Map<string, number>();
  for (let i = 0; i < L.train.labels.length; i++) {
    const key = `${L.train.topk[i * L.k]},${L.train.labels[i]}`;
    ucc.set(key, (ucc.get(key) ?? 0) + 1);
  }
  return [...ucc.entries()].map(([key, c]) => {
    const [u, l] = key.split(",").map(Number);
    return [u, l, c] as [number, number, number];
  }).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** Seed-ensemble analyses: the main map (already analysed) first, then every other seed. */
function _ensemble(
  model: string,
  L: LayerInput,
  main: {
    centres: ClassCentre[];
    dTr: ClassDistance[];
    dVal: ClassDistance[];
    unitMeans: Float64Array;
    finalLoss: number;
  },
  options: AnalyzeOptions,
): NonNullable<LayerAnalysis["ensemble"]> {
  const K = L.grid.m * L.grid.n;
  const seeds = [
    {
      seed: L.seed ?? "main",
      weights: L.weights,
      train: L.train,
      val: L.val as SplitBmus | undefined,
      finalLoss: main.finalLoss as number | undefined,
    },
    ...L.ensemble!,
  ];
  const seedCentres = seeds.map((s, i) =>
    i === 0 ? main.centres : classCentres(s.train.topk, L.k, s.train.labels, L.grid)
  );
  const ps = placementStability(
    seeds.map((s, i) => ({ seed: s.seed, weights: s.weights, centres: seedCentres[i] })),
    L.dim,
    L.grid,
  );
  return {
    ...ps,
    dClassTrainBySeed: seeds.map((s, i) =>
      i === 0 ? main.dTr : dClass(s.train.topk, L.k, s.train.labels, seedCentres[i], L.grid)
    ),
    dClassValBySeed: seeds.flatMap((s, i) =>
      i === 0
        ? [main.dVal]
        : s.val
        ? [dClass(s.val.topk, L.k, s.val.labels, seedCentres[i], L.grid)]
        : []
    ),
    finalLossBySeed: seeds.map((s) => s.finalLoss ?? NaN),
    weightCdUnitMeansBySeed: seeds.map((s, i) =>
      i === 0 ? main.unitMeans : _unitMeans(weightCosineDistances(s.weights, K, L.dim), K)
    ),
    stabilityInterval: stabilityInterval(
      ps,
      new Rng(options.seed ?? 0).stream(`stability/${model}/${L.layer}`),
    ),
  };
}
