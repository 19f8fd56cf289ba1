/**
 * The shape of a claim's evaluation (what `claims.json` holds and the report shows) and the
 * options that decide verdicts, with their documented defaults.
 *
 * @module
 */

import type { Guard } from "./guards.ts";

/**
 * A verdict: `true` holds, `false` does not hold, `"inconclusive"` undecided (the interval
 * contains the threshold, is within numerical noise of it, the null is not beaten, or the
 * inputs are missing), `"invalid"` a validity guard failed (the reason says which).
 */
export type Verdict = true | false | "inconclusive" | "invalid";

/** An interval; `null` ends when it could not be computed. */
export type Interval = [number | null, number | null];

/** A statistic of one layer (or, for `pgd-collapses-accuracy`, of one attack condition). */
export interface LayerValue {
  /** Layer name (or condition: `clean`, `adversarial`, `noise`, `matched`). */
  layer: string;
  /** The layer's raw statistic (e.g. D_class in grid units). */
  value: number | null;
  /** Its interval at the nominal (unadjusted) level. */
  interval: Interval;
  /** The normalised effect of this layer (see the claim's `effect.measure`). */
  effect?: number | null;
  /** Its interval at the nominal level. */
  effectInterval?: Interval;
  /** The layer's label-permutation null: mean, standard deviation, one-sided p-value. */
  null?: { mean: number | null; sd: number | null; p: number | null };
  /** Extra numbers (e.g. per map size). */
  detail?: Record<string, number | null>;
}

/** The label-permutation null behind a class-structure claim. */
export interface NullSummary {
  /** How the null was made, in words. */
  method: string;
  /** Permutations. */
  permutations: number;
  /** Seed stream. */
  stream: string;
  /** What the verdict requires of the null, in words. */
  requirement: string;
  /**
   * The one-sided p-value the requirement uses (normal approximation from the null's mean and
   * standard deviation; the empirical count when the null has no spread).
   */
  p: number | null;
  /** Whether the requirement was met at the claim's adjusted level (null: not judged). */
  met: boolean | null;
  /** Per layer (and map size where there are several). */
  perLayer: {
    layer: string;
    size?: string;
    observed: number | null;
    mean: number | null;
    sd: number | null;
    /** 2.5 % and 97.5 % quantiles of the null. */
    range: Interval;
    /** Empirical one-sided p-value, `(1 + #as extreme) / (1 + permutations)`. */
    p: number | null;
  }[];
}

/** The claim's effect size. */
export interface EffectSummary {
  /** What the effect measures, e.g. "D_class / null D_class". */
  measure: string;
  /** The value meaning "no effect" (1 for ratios, 0 for excesses). */
  noEffect: number;
  /** The threshold a word of the paper sets on it (e.g. 2 for "much more"), if any. */
  threshold?: number;
  /** The claim-level effect. */
  value: number | null;
  /** Its interval at the nominal level. */
  interval: Interval;
  /** Per layer. */
  perLayer?: { layer: string; value: number | null; interval: Interval }[];
}

/** A monotonic trend across all layers (depth claims). */
export interface TrendSummary {
  /** What is correlated, e.g. "Kendall's τ between layer order and D_class / null D_class". */
  measure: string;
  /** The sign the paper's claim implies. */
  expected: "increasing" | "decreasing";
  /** Kendall's τ-b. */
  tau: number | null;
  /** Its interval at the nominal level (or the range over seeds). */
  interval: Interval;
  /** Layers correlated. */
  layers: number;
  /** Per map size, where the claim has several. */
  bySize?: Record<string, number | null>;
}

/** A secondary line: the plain sign test kept beside an effect-size verdict. */
export interface SecondaryLine {
  /** The statistic. */
  statistic: string;
  /** Its value. */
  value: number | null;
  /** Its interval at the nominal level. */
  interval: Interval;
  /** Its own verdict ("is the difference above 0"). */
  holds: Verdict;
  /** One sentence. */
  rule: string;
}

/** One claim's evaluation. */
export interface ClaimResult {
  /** Stable id, e.g. `dclass-shrinks-train`. */
  id: string;
  /** Model analysed. */
  model: string;
  /** The paper figure(s) the claim comes from. */
  figure: string;
  /** The paper's claim in words, with this model's layer names. */
  statement: string;
  /** What the statistic measures, in words. */
  measures: string;
  /** The statistic tested (its exact definition). */
  statistic: string;
  /** The claim holds when the statistic is above (or below) the threshold. */
  direction: "above" | "below";
  /** The threshold (0 for "larger/smaller", a word's threshold otherwise). */
  threshold: number;
  /** How the verdict follows, in one sentence (with the level actually used). */
  rule: string;
  /** The statistic's value (null when it could not be computed). */
  value: number | null;
  /** Its interval at `adjustedLevel` (or the range over seeds, see `intervalKind`). */
  interval: Interval;
  /** How the interval was made. */
  intervalKind: string;
  /** Family-wise confidence level (e.g. 0.95). */
  level: number;
  /** The level of `interval` after the multiple-comparison adjustment (null: not in the family). */
  adjustedLevel: number | null;
  /** Multiple-comparison adjustment of the model's claims. */
  adjustment: "holm" | "none";
  /** Two-sided p-value used to order the family (normal approximation), null outside it. */
  p: number | null;
  /** The verdict. */
  holds: Verdict;
  /** Why the claim is invalid or inconclusive, in words. */
  reason?: string;
  /** Per-layer values. */
  perLayer: LayerValue[];
  /** What was resampled. */
  resampled: string;
  /** Bootstrap replicates (or SOM seeds for seed-level claims). */
  resamples: number;
  /** The validity guards that apply to this claim. */
  guards: Guard[];
  /** The label-permutation null (class-structure claims), else null. */
  null: NullSummary | null;
  /** The effect size. */
  effect: EffectSummary | null;
  /** The trend across layers (depth claims), else null. */
  trend: TrendSummary | null;
  /** The sign test kept beside an effect-size threshold, else null. */
  secondary: SecondaryLine | null;
  /** Remarks. */
  note?: string;
}

/** Options for `evaluateClaims`. */
export interface ClaimOptions {
  /** Bootstrap replicates of the image-level claims. Default: the analysis' `resamples`. */
  resamples?: number;
  /** Root seed of the claims' streams. Default: the analysis' seed. */
  seed?: number | string;
  /** Family-wise confidence level. Default 0.95. */
  level?: number;
  /** Multiple-comparison adjustment across a model's claims. Default `"holm"`. */
  adjust?: "holm" | "none";
  /**
   * "Noise barely moves BMUs": the largest per-layer mean noise shift must be below this
   * fraction of the mean distance between two random units. Default 0.1.
   */
  noiseFraction?: number;
  /** "PGD moves BMUs … much more in the last layer": last-layer shift ≥ this × first. Default 2. */
  muchMoreRatio?: number;
  /**
   * "Weights of shallow layers are much more similar": the deep half's mean weight cosine
   * distance ≥ this × the shallow half's. Default 2.
   */
  muchMoreSimilarRatio?: number;
  /** "PGD collapses accuracy": adversarial accuracy ≤ this × clean accuracy. Default 0.5. */
  collapseRatio?: number;
  /** "… while same-budget noise does not": noise accuracy ≥ this × clean accuracy. Default 0.9. */
  keepRatio?: number;
  /** SOM seeds needed for an interval of a map-level statistic. Default 5. */
  minSeeds?: number;
  /** Paper figures per claim id (default: by the model's family). */
  figures?: Partial<Record<string, string>>;
}

/**
 * Defaults of {@linkcode ClaimOptions} thresholds.
 *
 * @example
 * ```ts
 * import { CLAIM_DEFAULTS } from "./claim_types.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(CLAIM_DEFAULTS.muchMoreRatio, 2);
 * ```
 */
export const CLAIM_DEFAULTS: Readonly<{
  level: number;
  adjust: "holm" | "none";
  noiseFraction: number;
  muchMoreRatio: number;
  muchMoreSimilarRatio: number;
  collapseRatio: number;
  keepRatio: number;
  minSeeds: number;
}> = Object.freeze({
  level: 0.95,
  adjust: "holm",
  noiseFraction: 0.1,
  muchMoreRatio: 2,
  muchMoreSimilarRatio: 2,
  collapseRatio: 0.5,
  keepRatio: 0.9,
  minSeeds: 5,
});
