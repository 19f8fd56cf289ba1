/**
 * Validity guards (SPEC §7 "Validity first"): checks made before any claim is judged, each with
 * its measured value and threshold. A claim whose guard fails is reported as `"invalid"` with
 * the guard's reason instead of holding or failing.
 *
 * - **Collapsed map**: the share of units that are ever the first BMU of a SOM-tr example (out
 *   of `min(K, N)`, the most that could be), and the normalised entropy of the first-BMU
 *   distribution (`H / ln min(K, N)`; 0 when every example lands on one unit, 1 when they spread
 *   evenly).
 * - **Accuracy at chance**: a one-sided exact binomial test of the SOM-val accuracy against the
 *   chance rate `max(1/C, majority share)`; passes when the accuracy is above chance at level
 *   `chanceAlpha`.
 * - **Classes versus logits**: every label of the data must be a class the model's logits can
 *   represent (label < number of logits).
 * - **Non-finite values**: SOM weights, losses, BMU distances and attack outputs must be finite.
 *
 * @module
 */

import { binomialUpperTail } from "./stats.ts";

/** One validity check. */
export interface Guard {
  /** Stable id, e.g. `map-usage/CL1/20x20`, `accuracy-above-chance`. */
  id: string;
  /** What is checked, in words, e.g. "collapsed map: share of units ever a BMU". */
  check: string;
  /** Where: `"model"`, or a layer and map, e.g. `"CL1, 20×20 map"`. */
  scope: string;
  /** The measured value (null when it could not be measured). */
  value: number | null;
  /** The threshold it is compared with. */
  threshold: number | null;
  /** How value and threshold must relate for the guard to pass. */
  comparison: "≥" | "≤" | "<" | ">" | "=";
  /** Extra measured numbers (e.g. the binomial p-value, the chance rate). */
  detail?: Record<string, number | string | null>;
  /** true: passed; false: failed; null: not checked (input missing). */
  passed: boolean | null;
  /** One sentence: why it failed, or why it was not checked; empty when it passed. */
  reason: string;
  /** The claim ids it applies to, or `"all"`. */
  claims: "all" | string[];
}

/** Thresholds of the guards. */
export interface GuardOptions {
  /** Smallest share of usable units that must ever be a first BMU. Default 0.05. */
  minUnitShare?: number;
  /** Smallest normalised entropy of the first-BMU distribution. Default 0.25. */
  minEntropy?: number;
  /** Level of the binomial test of accuracy above chance. Default 0.01. */
  chanceAlpha?: number;
}

/** Guard defaults (documented in the README's "How verdicts are decided"). */
export const GUARD_DEFAULTS: Readonly<Required<GuardOptions>> = Object.freeze({
  minUnitShare: 0.05,
  minEntropy: 0.25,
  chanceAlpha: 0.01,
});

function _fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(3);
}

/**
 * Collapse guards of one map from its SOM-tr first BMUs.
 *
 * @param scope Layer and map, e.g. `"CL1, 20×20 map"`.
 * @param idScope Id suffix, e.g. `"CL1/20x20"`.
 * @param topk `N×k` SOM-tr BMUs.
 * @param k BMUs per row.
 * @param K Units of the map.
 * @param claims Claims the map feeds.
 * @param options Thresholds.
 * @returns The usage and the entropy guard.
 *
 * @example Every example on one unit is a collapsed map
 * ```ts
 * import { mapGuards } from "./guards.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const g = mapGuards("CL1", "CL1", new Int32Array(40), 1, 100, "all");
 * assertEquals(g.map((x) => x.passed), [false, false]);
 * ```
 */
export function mapGuards(
  scope: string,
  idScope: string,
  topk: ArrayLike<number>,
  k: number,
  K: number,
  claims: "all" | string[],
  options: GuardOptions = {},
): Guard[] {
  const o = { ...GUARD_DEFAULTS, ...options };
  const N = Math.floor(topk.length / k);
  const counts = new Map<number, number>();
  for (let i = 0; i < N; i++) counts.set(topk[i * k], (counts.get(topk[i * k]) ?? 0) + 1);
  const most = Math.min(K, N);
  const share = most > 0 ? counts.size / most : NaN;
  let H = 0;
  for (const c of counts.values()) H -= (c / N) * Math.log(c / N);
  const entropy = most > 1 ? H / Math.log(most) : NaN;
  const usageOk = share >= o.minUnitShare, entOk = entropy >= o.minEntropy;
  return [
    {
      id: `map-usage/${idScope}`,
      check: "collapsed map: share of units that are ever the first BMU of a SOM-tr example",
      scope,
      value: Number.isFinite(share) ? share : null,
      threshold: o.minUnitShare,
      comparison: "≥",
      detail: { unitsUsed: counts.size, usable: most },
      passed: Number.isFinite(share) ? usageOk : null,
      reason: usageOk ? "" : `${scope}: only ${counts.size} of ${most} usable units are ever a ` +
        `first BMU (share ${_fmt(share)} < ${o.minUnitShare}): the map has collapsed`,
      claims,
    },
    {
      id: `map-entropy/${idScope}`,
      check: "collapsed map: normalised entropy of the first-BMU distribution",
      scope,
      value: Number.isFinite(entropy) ? entropy : null,
      threshold: o.minEntropy,
      comparison: "≥",
      passed: Number.isFinite(entropy) ? entOk : null,
      reason: entOk ? "" : `${scope}: first-BMU entropy ${_fmt(entropy)} < ${o.minEntropy} ` +
        "(of 1 for an even spread): nearly every example lands on the same few units",
      claims,
    },
  ];
}

/**
 * Accuracy-above-chance guard: one-sided exact binomial test against `max(1/C, majority share)`.
 *
 * @param what Whose accuracy, e.g. `"SOM-val"`.
 * @param id Guard id.
 * @param correct Per example, truthy when the prediction equals the label (undefined: not checked).
 * @param labels Per example, the label.
 * @param claims Claims it applies to.
 * @param options Test level.
 * @returns The guard.
 *
 * @example A model that is never right fails
 * ```ts
 * import { accuracyGuard } from "./guards.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const labels = Array.from({ length: 30 }, (_, i) => i % 3);
 * assertEquals(accuracyGuard("SOM-val", "acc", new Array(30).fill(0), labels, "all").passed, false);
 * assertEquals(accuracyGuard("SOM-val", "acc", new Array(30).fill(1), labels, "all").passed, true);
 * ```
 */
export function accuracyGuard(
  what: string,
  id: string,
  correct: ArrayLike<number | boolean> | undefined,
  labels: ArrayLike<number>,
  claims: "all" | string[],
  options: GuardOptions = {},
): Guard {
  const alpha = options.chanceAlpha ?? GUARD_DEFAULTS.chanceAlpha;
  const base = {
    id,
    check: `clean accuracy above chance (${what}; one-sided exact binomial test)`,
    scope: "model",
    comparison: ">" as const,
    claims,
  };
  if (!correct || correct.length === 0) {
    return {
      ...base,
      value: null,
      threshold: null,
      passed: null,
      reason: `not checked: no predictions were given for ${what}`,
    };
  }
  const n = correct.length;
  let x = 0;
  const byClass = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    if (correct[i]) x++;
    byClass.set(labels[i], (byClass.get(labels[i]) ?? 0) + 1);
  }
  const majority = Math.max(...byClass.values()) / n;
  const chance = Math.max(1 / byClass.size, majority);
  const p = binomialUpperTail(x, n, chance);
  const ok = p <= alpha;
  return {
    ...base,
    value: x / n,
    threshold: chance,
    detail: { correct: x, of: n, p, alpha, classes: byClass.size },
    passed: ok,
    reason: ok ? "" : `${what} accuracy ${_fmt(x / n)} (${x} of ${n}) is not above the chance ` +
      `rate ${_fmt(chance)} (binomial p = ${p.toPrecision(2)} > ${alpha})`,
  };
}

/**
 * Classes-versus-logits guard: labels the model can never predict make every claim invalid.
 *
 * @param labels All labels of the data (SOM-tr and SOM-val).
 * @param logits Number of logits of the model (undefined: not checked).
 * @returns The guard.
 *
 * @example
 * ```ts
 * import { logitsGuard } from "./guards.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(logitsGuard([0, 1, 2, 3], 3).passed, false);
 * assertEquals(logitsGuard([0, 1, 2], 10).passed, true);
 * ```
 */
export function logitsGuard(labels: ArrayLike<number>, logits: number | undefined): Guard {
  const classes = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  const base = {
    id: "labels-within-logits",
    check: "every class of the data is a class the model's logits can represent",
    scope: "model",
    comparison: "=" as const,
    claims: "all" as const,
  };
  if (logits === undefined) {
    return {
      ...base,
      value: null,
      threshold: 0,
      passed: null,
      reason: "not checked: the number of logits was not given",
    };
  }
  const outside = classes.filter((c) => c >= logits);
  return {
    ...base,
    value: outside.length,
    threshold: 0,
    detail: { classesInData: classes.length, logits, largestLabel: classes[classes.length - 1] },
    passed: outside.length === 0,
    reason: outside.length === 0
      ? ""
      : `${outside.length} class(es) of the data (${outside.slice(0, 5).join(", ")}${
        outside.length > 5 ? ", …" : ""
      }) are outside the model's ${logits} logits: it can never ` +
        "predict them",
  };
}

/**
 * Non-finite-values guard over named arrays.
 *
 * @param arrays Named arrays (SOM weights, losses, distances, attack outputs…).
 * @param claims Claims it applies to.
 * @returns The guard (value = number of non-finite entries).
 *
 * @example
 * ```ts
 * import { finiteGuard } from "./guards.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(finiteGuard({ "CL1 weights": [1, NaN] }, "all").passed, false);
 * ```
 */
export function finiteGuard(
  arrays: Record<string, ArrayLike<number> | undefined>,
  claims: "all" | string[],
): Guard {
  let bad = 0;
  const where: string[] = [];
  for (const [name, a] of Object.entries(arrays)) {
    if (!a) continue;
    let b = 0;
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) b++;
    if (b) where.push(`${name} (${b})`);
    bad += b;
  }
  return {
    id: claims === "all" ? "finite-values" : `finite-values/${claims.join("+")}`,
    check: "no non-finite (NaN or infinite) values in the inputs",
    scope: "model",
    value: bad,
    threshold: 0,
    comparison: "=",
    passed: bad === 0,
    reason: bad === 0
      ? ""
      : `${bad} non-finite value(s) in ${where.slice(0, 4).join(", ")}${
        where.length > 4 ? ", …" : ""
      }`,
    claims,
  };
}

/** Columns of {@linkcode guardRows}. */
export const GUARD_COLUMNS: readonly string[] = Object.freeze([
  "model",
  "guard",
  "check",
  "scope",
  "value",
  "comparison",
  "threshold",
  "passed",
  "reason",
]);

/**
 * A model's guards as table rows (the `guards` table).
 *
 * @param model Model name.
 * @param guards Its guards.
 * @returns Rows with the {@linkcode GUARD_COLUMNS} (`passed` as `"yes"`, `"no"` or `"not checked"`).
 *
 * @example
 * ```ts
 * import { guardRows, logitsGuard } from "./guards.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(guardRows("m", [logitsGuard([0, 1], 2)])[0].passed, "yes");
 * ```
 */
export function guardRows(
  model: string,
  guards: readonly Guard[],
): Record<string, string | number | null>[] {
  return guards.map((g) => ({
    model,
    guard: g.id,
    check: g.check,
    scope: g.scope,
    value: g.value,
    comparison: g.comparison,
    threshold: g.threshold,
    passed: g.passed === null ? "not checked" : g.passed ? "yes" : "no",
    reason: g.reason,
  }));
}
