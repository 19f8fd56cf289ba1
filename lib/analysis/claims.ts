/**
 * The paper's claims (SPEC §6), judged as SPEC §7 asks: each claim is a small evaluator
 * (claim_evaluators.ts) giving a statistic with bootstrap replicates or per-seed values; then,
 * for every claim alike,
 *
 * 1. **validity guards** that apply to it (collapsed maps, accuracy at chance, classes outside the
 *    logits, non-finite values) make it `"invalid"`, with the reason;
 * 2. the model's remaining claims form a **family**: ordered by p-value, the j-th of m is judged
 *    at level `1 − α/(m − j)` (Holm's step-down; `adjust: "none"` judges all at `1 − α`), and
 *    after the first undecided claim the later ones are retained (inconclusive);
 * 3. the **verdict** is read off the interval at that level: on the claimed side of the threshold
 *    → holds (class-structure claims must also beat their label-permutation null at the same
 *    α); wholly on the other side → does not hold; otherwise, or within ±1e-9 of the statistic's
 *    scale, inconclusive. Map-level statistics need at least `minSeeds` SOM seeds (Student t over
 *    seeds); with fewer, their range over the seeds is shown and the verdict is inconclusive.
 *
 * Nothing here knows what the paper found; a claim that fails on a model is reported as failing.
 *
 * @module
 */

import type { ModelAnalysis } from "./analyze.ts";
import {
  CLAIM_DEFAULTS,
  type ClaimOptions,
  type ClaimResult,
  type Interval,
  type Verdict,
} from "./claim_types.ts";
import {
  type ClaimContext,
  type ClaimDraft,
  CNN_FIGURES,
  EVALUATORS,
  intervalVerdict,
  testInterval,
} from "./claim_evaluators.ts";
import type { Guard } from "./guards.ts";
import { bootstrapP, holmLevels, sampleSd, tCdf } from "./stats.ts";

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
  "val-bmus-match-train": "Fig. 5 (ViT: not in the paper)",
  "dclass-shrinks-train": "Fig. 6A,B (ViT: not in the paper)",
  "dclass-shrinks-val": "Fig. 6A,B (ViT: not in the paper)",
  "weight-cd-grows": "Fig. 9",
  "centre-cd-grows": "Fig. 10",
  "noise-barely-moves": "Fig. 12",
  "pgd-shift-grows": "Fig. 12",
  "adversarial-beats-noise": "Fig. 12",
  "pgd-collapses-accuracy": "Table 2 (ViT: not in the paper)",
  "incorrect-farther": "Supp. Fig. 3 (ViT: not in the paper)",
});

function _fin(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function _ivl(iv: [number, number]): Interval {
  return [_fin(iv[0]), _fin(iv[1])];
}

function _pct(level: number): string {
  return `${+(level * 100).toFixed(2)} %`;
}

/** Two-sided p of a draft's test (for ordering the family), combined with its null requirement. */
function _draftP(d: ClaimDraft, minSeeds: number): number {
  let p: number;
  if (d.test.kind === "bootstrap") p = bootstrapP(d.point, d.test.replicates, d.threshold);
  else {
    const v = d.test.values.filter(Number.isFinite), n = v.length;
    if (n < minSeeds) return NaN;
    const se = sampleSd(v) / Math.sqrt(n);
    const m = v.reduce((s, x) => s + x, 0) / n;
    p = se > 0 ? 2 * tCdf(-Math.abs(m - d.threshold) / se, n - 1) : m === d.threshold ? 1 : 0;
  }
  const claimedSide = d.direction === "above" ? d.point > d.threshold : d.point < d.threshold;
  return d.nullReq && claimedSide ? Math.max(p, d.nullReq.p) : p;
}

function _kindOf(d: ClaimDraft, minSeeds: number): string {
  if (d.test.kind === "bootstrap") return "percentile bootstrap";
  const n = d.test.values.filter(Number.isFinite).length;
  return n < minSeeds
    ? `range over ${n} SOM seed${n === 1 ? "" : "s"}`
    : "Student t over SOM seeds";
}

/** The guards that apply to a claim. */
function _guardsOf(validity: readonly Guard[], id: string): Guard[] {
  return validity.filter((g) => g.claims === "all" || g.claims.includes(id));
}

/** Verdict of a draft at its family level (guards and Holm's stop handled by the caller). */
function _verdict(
  d: ClaimDraft,
  alpha: number,
  minSeeds: number,
): { holds: Verdict; reason?: string; iv: [number, number]; nullMet: boolean | null } {
  const iv = testInterval(d.test, 1 - alpha, minSeeds);
  if (d.test.kind === "seeds" && d.test.values.filter(Number.isFinite).length < minSeeds) {
    const n = d.test.values.filter(Number.isFinite).length;
    return {
      holds: "inconclusive",
      reason: `only ${n} SOM seed${n === 1 ? "" : "s"}: the range over them is shown, but at ` +
        `least ${minSeeds} seeds are needed for an interval (set --seeds ${minSeeds} or more)`,
      iv,
      nullMet: null,
    };
  }
  const v = intervalVerdict(iv, d.threshold, d.direction, d.scale);
  if (v.noise) {
    return {
      holds: "inconclusive",
      reason: "the interval lies within numerical noise (±1e-9 of the statistic's scale) of " +
        "the threshold",
      iv,
      nullMet: null,
    };
  }
  if (!Number.isFinite(iv[0]) || !Number.isFinite(iv[1])) {
    return { holds: "inconclusive", reason: "the statistic is not finite", iv, nullMet: null };
  }
  const nullMet = d.nullReq ? d.nullReq.p <= alpha : null;
  if (v.holds === true && nullMet === false) {
    return {
      holds: "inconclusive",
      reason: `the interval is on the claimed side, but the label-permutation null is not ` +
        `beaten: ${d.nullReq!.summary.requirement} fails (p = ${d.nullReq!.p.toPrecision(2)} > ${
          alpha.toPrecision(2)
        })`,
      iv,
      nullMet,
    };
  }
  return {
    holds: v.holds,
    reason: v.holds === "inconclusive" ? "the interval contains the threshold" : undefined,
    iv,
    nullMet,
  };
}

function _rule(
  d: ClaimDraft,
  level: number | null,
  kind: string,
  adjust: string,
  minSeeds: number,
): string {
  if (kind.startsWith("range")) {
    return `Needs a Student-t interval over at least ${minSeeds} SOM seeds; with fewer, the ` +
      `${kind} is shown and the claim is inconclusive.`;
  }
  const side = d.direction === "above" ? "above" : "below";
  const other = d.direction === "above" ? "below" : "above";
  const iv = level === null
    ? `${kind}`
    : `${_pct(level)} ${kind} interval${adjust === "holm" ? " (Holm-adjusted)" : ""}`;
  return `Holds if the ${iv} of the statistic is ${side} ${d.threshold}${
    d.nullReq ? ` and ${d.nullReq.summary.requirement}` : ""
  }; does not hold if it is ${other} ${d.threshold}; otherwise inconclusive.`;
}

/**
 * Evaluates every SPEC §6 claim on one analysed model (see the module doc for the rules).
 *
 * @param a The model's analyses (`analyzeModel`).
 * @param options Level, adjustment, thresholds, image-bootstrap size and seed.
 * @returns One result per claim, in report order.
 * @throws {RangeError} On a level outside (0, 1) or an unknown adjustment.
 *
 * @example A planted model where D_class shrinks with depth
 * ```ts
 * import { analyzeModel, evaluateClaims } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const grid = { m: 10, n: 10 }, k = 1, dim = 2;
 * const labels = Array.from({ length: 200 }, (_, i) => i % 10);
 * // Class c sits around unit 11·c; spread 3 units in CL1, 0 in CL4.
 * const bmus = (s: number) => Int32Array.from(labels, (c, i) => (11 * c + (i % (s + 1))) % 100);
 * const layer = (name: string, s: number) => ({
 *   layer: name, grid, dim, k, weights: Float32Array.from({ length: 200 }, (_, i) => Math.sin(i)),
 *   losses: [1], train: { topk: bmus(s), labels }, val: { topk: bmus(s), labels },
 * });
 * const a = analyzeModel("toy", [layer("CL1", 3), layer("CL4", 0)], { resamples: 200, permutations: 200 });
 * const dc = evaluateClaims(a).find((c) => c.id === "dclass-shrinks-train")!;
 * assertEquals(dc.holds, true);
 * ```
 */
export function evaluateClaims(a: ModelAnalysis, options: ClaimOptions = {}): ClaimResult[] {
  const o = {
    ...CLAIM_DEFAULTS,
    ...Object.fromEntries(
      Object.entries(options).filter(([, v]) => v !== undefined),
    ),
  } as typeof CLAIM_DEFAULTS & ClaimOptions;
  if (!(o.level > 0 && o.level < 1)) {
    throw new RangeError(`Cannot evaluate claims: level is ${o.level} but must be in (0, 1)`);
  }
  if (o.adjust !== "holm" && o.adjust !== "none") {
    throw new RangeError(
      `Cannot evaluate claims: adjust is "${o.adjust}" but expected one of holm, none`,
    );
  }
  const ctx: ClaimContext = {
    a,
    L: a.layers,
    names: a.layers.map((l) => l.layer),
    level: o.level,
    resamples: options.resamples ?? a.resampling.resamples,
    seed: options.seed ?? a.resampling.seed,
    o,
  };
  const figures = {
    ...(a.family === "vit" ? VIT_FIGURES : CNN_FIGURES),
    ...(options.figures ?? {}),
  } as Record<string, string>;
  const drafts = EVALUATORS.map((e) => e(ctx));
  const guards = drafts.map((d) => _guardsOf(a.validity ?? [], d.id));
  const failed = guards.map((g) => g.filter((x) => x.passed === false));
  const alpha = 1 - o.level;
  const inFamily = drafts.map((d, i) => !d.missing && failed[i].length === 0);
  const ps = drafts.map((d, i) => (inFamily[i] ? _draftP(d, o.minSeeds) : NaN));
  const holm = o.adjust === "holm" ? holmLevels(ps, alpha) : ps.map((p) => ({
    alpha: Number.isFinite(p) ? alpha : NaN,
    rank: Number.isFinite(p) ? 0 : -1,
  }));
  // Holm's step-down: walk the family in p order; after the first undecided claim, retain the rest.
  const order = holm.map((h, i) => [h.rank, i] as const).filter(([r]) => r >= 0)
    .sort((x, y) => x[0] - y[0]).map(([, i]) => i);
  const decided = new Map<number, ReturnType<typeof _verdict> & { stop?: string }>();
  let stopAt: string | null = null;
  for (const i of order) {
    const v = _verdict(drafts[i], holm[i].alpha, o.minSeeds);
    if (stopAt !== null && (v.holds === true || v.holds === false)) {
      decided.set(i, {
        ...v,
        holds: "inconclusive",
        reason: `Holm's step-down stopped at ${stopAt} (not decided), so this claim is not ` +
          "tested",
      });
      continue;
    }
    decided.set(i, v);
    if (o.adjust === "holm" && stopAt === null && v.holds === "inconclusive") stopAt = drafts[i].id;
  }
  return drafts.map((d, i) => {
    const kind = _kindOf(d, o.minSeeds);
    const base = {
      id: d.id,
      model: a.model,
      figure: figures[d.id] ?? "",
      statement: d.statement,
      measures: d.measures,
      statistic: d.statistic,
      direction: d.direction,
      threshold: d.threshold,
    };
    const tail = {
      perLayer: d.perLayer,
      resampled: d.resampled,
      resamples: d.resamples,
      guards: guards[i],
      null: d.nullReq ? { ...d.nullReq.summary } : null,
      effect: d.effect,
      trend: d.trend,
      secondary: d.secondary,
      ...(d.note ? { note: d.note } : {}),
    };
    const v = decided.get(i);
    if (!v) {
      // Outside the family: missing inputs, a failed guard, or too few seeds.
      const iv = d.missing
        ? [NaN, NaN] as [number, number]
        : testInterval(d.test, o.level, o.minSeeds);
      const holds: Verdict = failed[i].length ? "invalid" : "inconclusive";
      const reason = failed[i].length
        ? `invalid: ${failed[i].map((g) => g.reason).join("; ")}`
        : d.missing ?? _verdict(d, alpha, o.minSeeds).reason;
      return {
        ...base,
        rule: d.missing ? "not evaluated" : _rule(d, o.level, kind, "none", o.minSeeds),
        value: _fin(d.point),
        interval: _ivl(iv),
        intervalKind: d.missing ? "none" : kind,
        level: o.level,
        adjustedLevel: null,
        adjustment: o.adjust,
        p: null,
        holds,
        ...(reason ? { reason } : {}),
        ...tail,
      };
    }
    const adjusted = 1 - holm[i].alpha;
    if (tail.null) tail.null.met = v.nullMet;
    return {
      ...base,
      rule: _rule(d, adjusted, kind, o.adjust, o.minSeeds),
      value: _fin(d.point),
      interval: _ivl(v.iv),
      intervalKind: kind,
      level: o.level,
      adjustedLevel: adjusted,
      adjustment: o.adjust,
      p: _fin(ps[i]),
      holds: v.holds,
      ...(v.reason ? { reason: v.reason } : {}),
      ...tail,
    };
  });
}

/**
 * The content of `claims.json`: run facts, per model its family, guards, class subset, the PGD
 * outcome, and every claim.
 *
 * @param run Run name.
 * @param analyses Per-model analyses.
 * @param claims Their claims (`evaluateClaims` of each).
 * @param options The claim options used (for the thresholds and adjustment stated).
 * @returns A JSON-ready object.
 *
 * @example
 * ```ts
 * import { claimsDocument } from "./claims.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(claimsDocument("r", [], []).adjustment, "holm");
 * ```
 */
export function claimsDocument(
  run: string,
  analyses: readonly ModelAnalysis[],
  claims: readonly ClaimResult[],
  options: ClaimOptions = {},
): Record<string, unknown> & { adjustment: string } {
  const o = {
    ...CLAIM_DEFAULTS,
    ...Object.fromEntries(
      Object.entries(options).filter(([, v]) => v !== undefined),
    ),
  };
  const r0 = analyses[0]?.resampling;
  return {
    run,
    generated: new Date().toISOString(),
    seed: r0?.seed ?? 0,
    resamples: options.resamples ?? r0?.resamples ?? 1000,
    permutations: r0?.permutations ?? 200,
    level: o.level,
    adjustment: o.adjust,
    thresholds: {
      noiseFraction: o.noiseFraction,
      muchMoreRatio: o.muchMoreRatio,
      muchMoreSimilarRatio: o.muchMoreSimilarRatio,
      collapseRatio: o.collapseRatio,
      keepRatio: o.keepRatio,
      minSeeds: o.minSeeds,
    },
    models: analyses.map((a) => ({
      model: a.model,
      family: a.family,
      layers: a.layers.map((l) => l.layer),
      classes: a.classes.length,
      centreSubset: a.centreSubset,
      guards: a.validity,
      attack: a.attack ?? null,
      claims: claims.filter((c) => c.model === a.model).length,
    })),
    claims,
  };
}
