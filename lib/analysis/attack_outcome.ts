/**
 * The outcome of the perturbation experiment as a result (paper Table 2, SPEC §5): the attack's
 * parameters as run, top-1 accuracy on clean, adversarial, uniform-noise, norm-matched and
 * 8-bit-quantised images with Wilson intervals, success rates against the true label and against
 * the clean prediction (the count ART reports), the achieved L∞/L2 norms and how many successes
 * survive 8-bit quantisation. Built from `runAttack`'s summary and per-image rows.
 *
 * @module
 */

import type { AttackExample, AttackSummary, NormStats } from "../attack/attack.ts";
import { wilsonInterval } from "./stats.ts";

/** A proportion with its interval. */
export interface Rate {
  /** The proportion. */
  value: number;
  /** Wilson score interval. */
  interval: [number, number];
  /** Numerator. */
  count: number;
  /** Denominator. */
  of: number;
}

/** The conditions whose top-1 accuracy an attack reports, in report order. */
export const ACCURACY_CONDITIONS = [
  "clean",
  "adversarial",
  "noise",
  "matched",
  "quantized",
] as const;

/** One of {@linkcode ACCURACY_CONDITIONS}. */
export type AccuracyCondition = typeof ACCURACY_CONDITIONS[number];

/** The attack's outcome for one model. */
export interface AttackOutcome {
  /** Table 2's parameters as run. */
  parameters: {
    images: number;
    eps: number;
    steps: number;
    stepSize: number;
    norm: "L∞";
    loss: "cross-entropy";
    randomInit: string;
    noise: string;
    matched: string;
    seed: number;
    batch: number;
    normalize: unknown;
    runtime: string;
  };
  /** Interval level. */
  level: number;
  /** Top-1 accuracy per condition. */
  accuracy: Record<AccuracyCondition, Rate>;
  /** Success rates. */
  success: {
    /** Adversarial prediction ≠ true label, over all attacked images. */
    vsLabel: Rate;
    /** Adversarial prediction ≠ clean prediction (ART's attack success rate). */
    vsCleanPrediction: Rate;
    /** Of the images the model got right, the share the attack flips. */
    onCleanCorrect: Rate;
  };
  /** Achieved norms, mean and max over images. */
  norms: Record<"adversarial" | "noise" | "matched", { linf: NormStats; l2: NormStats }>;
  /** 8-bit survival: adversarial successes that still succeed after quantising to 8 bits. */
  quantized: { stillSucceed: number; of: number };
  /** The L∞ budget check (≤ ε + 1e-6, SPEC §5). */
  budget: { maxLinf: number; eps: number; within: boolean };
}

function _rate(count: number, of: number, level: number): Rate {
  return { value: of ? count / of : NaN, interval: wilsonInterval(count, of, level), count, of };
}

/**
 * The attack outcome of one model.
 *
 * @param summary `runAttack`'s summary (also in `attack.json`).
 * @param examples Its per-image rows (counts come from these when given; else from the summary).
 * @param level Interval level. Default 0.95.
 * @returns The outcome.
 *
 * @example
 * ```ts
 * import { attackOutcome } from "./attack_outcome.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const norms = { linf: { mean: 0.01, max: 0.0156 }, l2: { mean: 0.3, max: 0.4 } };
 * const summary = {
 *   n: 2,
 *   settings: { eps: 4 / 255, steps: 50, stepSize: 0.0003, seed: 0, batch: 16, normalize: "none", runtime: "node" },
 *   accuracy: { clean: 1, adversarial: 0, noise: 1, matched: 1, quantized: 0 },
 *   successRate: 1,
 *   successRateOnCorrect: 1,
 *   norms: { adversarial: norms, noise: norms, matched: norms },
 *   quantized: { stillSucceed: 2, of: 2, linf: norms.linf },
 * };
 * const o = attackOutcome(summary);
 * assertEquals([o.accuracy.clean.count, o.accuracy.adversarial.count, o.budget.within], [2, 0, true]);
 * ```
 */
export function attackOutcome(
  summary: AttackSummary,
  examples?: readonly AttackExample[],
  level = 0.95,
): AttackOutcome {
  const n = examples?.length ?? summary.n;
  const count = (f: (e: AttackExample) => boolean, frac: number) =>
    examples ? examples.filter(f).length : Math.round(frac * n);
  const acc = (key: AccuracyCondition) =>
    _rate(count((e) => e[key] === e.label, summary.accuracy[key]), n, level);
  const cleanRight = examples ? examples.filter((e) => e.clean === e.label) : undefined;
  const nRight = cleanRight?.length ?? Math.round(summary.accuracy.clean * n);
  const s = summary.settings;
  const maxLinf = summary.norms.adversarial.linf.max;
  return {
    parameters: {
      images: n,
      eps: s.eps,
      steps: s.steps,
      stepSize: s.stepSize,
      norm: "L∞",
      loss: "cross-entropy",
      randomInit: "uniform in [−ε, ε], then clipped to [0, 1]",
      noise: "uniform in [0, ε] per pixel, clipped to [0, 1]",
      matched: "random ± sign noise at each adversarial image's own L∞ norm",
      seed: s.seed,
      batch: s.batch,
      normalize: s.normalize,
      runtime: s.runtime,
    },
    level,
    accuracy: Object.fromEntries(ACCURACY_CONDITIONS.map((k) => [k, acc(k)])) as Record<
      AccuracyCondition,
      Rate
    >,
    success: {
      vsLabel: _rate(count((e) => e.adversarial !== e.label, summary.successRate), n, level),
      vsCleanPrediction: _rate(
        examples
          ? examples.filter((e) => e.adversarial !== e.clean).length
          : Math.round(summary.successRate * n),
        n,
        level,
      ),
      onCleanCorrect: _rate(
        cleanRight
          ? cleanRight.filter((e) => e.adversarial !== e.label).length
          : Math.round(summary.successRateOnCorrect * nRight),
        nRight,
        level,
      ),
    },
    norms: summary.norms,
    quantized: { stillSucceed: summary.quantized.stillSucceed, of: summary.quantized.of },
    budget: { maxLinf, eps: s.eps, within: maxLinf <= s.eps + 1e-6 },
  };
}

/** Columns of {@linkcode attackRows}. */
export const ATTACK_COLUMNS: readonly string[] = Object.freeze([
  "model",
  "quantity",
  "condition",
  "value",
  "low",
  "high",
  "count",
  "of",
]);

/**
 * The attack outcome as long-table rows (the `attack` table): parameters, accuracies, success
 * rates, norms and the 8-bit survival count, one quantity per row.
 *
 * @param model Model name.
 * @param o The outcome.
 * @returns Rows with the {@linkcode ATTACK_COLUMNS}.
 *
 * @example
 * ```ts
 * import { attackRows } from "./attack_outcome.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const rate = { value: 0.5, interval: [0.2, 0.8] as [number, number], count: 1, of: 2 };
 * const norm = { linf: { mean: 0.01, max: 0.015 }, l2: { mean: 0.2, max: 0.3 } };
 * const rows = attackRows("m", {
 *   parameters: { images: 2, eps: 0.0157, steps: 50, stepSize: 0.0003, norm: "L∞", loss: "cross-entropy",
 *     randomInit: "", noise: "", matched: "", seed: 0, batch: 16, normalize: "none", runtime: "node" },
 *   level: 0.95,
 *   accuracy: { clean: rate, adversarial: rate, noise: rate, matched: rate, quantized: rate },
 *   success: { vsLabel: rate, vsCleanPrediction: rate, onCleanCorrect: rate },
 *   norms: { adversarial: norm, noise: norm, matched: norm },
 *   quantized: { stillSucceed: 1, of: 1 },
 *   budget: { maxLinf: 0.015, eps: 0.0157, within: true },
 * });
 * assertEquals(rows.find((r) => r.quantity === "accuracy" && r.condition === "clean")?.value, 0.5);
 * ```
 */
export function attackRows(
  model: string,
  o: AttackOutcome,
): Record<string, string | number | null>[] {
  const fin = (x: number) => (Number.isFinite(x) ? x : null);
  const rate = (quantity: string, condition: string, r: Rate) => ({
    model,
    quantity,
    condition,
    value: fin(r.value),
    low: fin(r.interval[0]),
    high: fin(r.interval[1]),
    count: r.count,
    of: r.of,
  });
  const plain = (quantity: string, condition: string, value: number) => ({
    model,
    quantity,
    condition,
    value: fin(value),
    low: null,
    high: null,
    count: null,
    of: null,
  });
  const p = o.parameters;
  return [
    plain("parameter", "images", p.images),
    plain("parameter", "eps", p.eps),
    plain("parameter", "steps", p.steps),
    plain("parameter", "step size", p.stepSize),
    plain("parameter", "seed", p.seed),
    ...Object.entries(o.accuracy).map(([k, r]) => rate("accuracy", k, r)),
    rate("success rate", "vs true label", o.success.vsLabel),
    rate("success rate", "vs clean prediction", o.success.vsCleanPrediction),
    rate("success rate", "on clean-correct images", o.success.onCleanCorrect),
    ...Object.entries(o.norms).flatMap(([k, n]) => [
      plain("Linf mean", k, n.linf.mean),
      plain("Linf max", k, n.linf.max),
      plain("L2 mean", k, n.l2.mean),
      plain("L2 max", k, n.l2.max),
    ]),
    {
      model,
      quantity: "8-bit survival",
      condition: "adversarial successes still successful after 8-bit quantisation",
      value: o.quantized.of ? o.quantized.stillSucceed / o.quantized.of : null,
      low: null,
      high: null,
      count: o.quantized.stillSucceed,
      of: o.quantized.of,
    },
  ];
}
