/**
 * The claims as the report shows them: a verdict badge, the paper's claim, and in words what the
 * statistic measures, which direction the claim expects, the threshold and the verdict rule, the
 * value with its interval, and per-layer values with their details in plain words. A claim whose
 * inputs were missing is stated in a sentence, never as an empty interval.
 *
 * Fields added to {@linkcode ClaimResult} by later versions of the claims (null baselines, effect
 * sizes, trends, guards, wording) are rendered when present and skipped when absent.
 *
 * @module
 */

import type { ClaimResult } from "../../analysis/claims.ts";
import { esc, interval, num, words } from "./format.ts";

/** A claim result with the optional fields the page renders when an evaluator provides them. */
type _Claim = ClaimResult & Record<string, unknown>;

/** Plain-word names of per-layer detail keys; unknown keys are split into words. */
const DETAIL_WORDS: Record<string, string> = {
  randomUnitDistance: "mean distance between two random units (grid units)",
  threshold: "threshold",
  noise: "random noise",
  adversarial: "PGD",
  train: "SOM-tr",
  val: "SOM-val",
  correct: "correct predictions",
  incorrect: "wrong predictions",
};

/** Verdict badge: text and icon carry the verdict, colour (blue / vermillion / grey) repeats it. */
export function verdictBadge(h: unknown): string {
  const [cls, text] = h === true
    ? ["ok", "✓ holds"]
    : h === false
    ? ["bad", "✗ does not hold"]
    : h === "invalid"
    ? ["inv", "⊘ invalid"]
    : ["unk", "? inconclusive"];
  return `<span class="badge ${cls}">${text}</span>`;
}

function _str(c: _Claim, ...keys: string[]): string | null {
  for (const k of keys) {
    const v = c[k];
    if (typeof v === "string" && v.trim()) return v;
  }
  return null;
}

/** Whether a claim has a value to show (else it is stated as not evaluated). */
function _evaluated(c: ClaimResult): boolean {
  return c.value !== null && Number.isFinite(c.value);
}

/** "0.12 [0.05, 0.2]" or "0.12" or the reason it is missing. */
export function valueText(c: ClaimResult): string {
  if (!_evaluated(c)) return "not evaluated";
  const iv = interval(c.interval);
  return iv ? `${num(c.value)} ${iv}` : num(c.value);
}

/** The interval's description: "95 % bootstrap interval over 200 resamples of classes". */
function _intervalWords(c: _Claim): string {
  const seeds = typeof c.seeds === "number" ? c.seeds : null;
  if (seeds !== null && seeds < 5 && /seed/i.test(c.resampled ?? "")) {
    return `range over ${seeds} SOM seeds`;
  }
  return `${
    Math.round((c.level ?? 0.95) * 100)
  } % bootstrap interval (${c.resamples} resamples of ${esc(c.resampled)})`;
}

/** What the claim's statistic measures, its direction, threshold and verdict rule, in words. */
export function claimWords(c: ClaimResult): string {
  const x = c as _Claim;
  const measures = _str(x, "measures", "description") ?? c.statistic;
  const direction = _str(x, "direction", "expects");
  const threshold = _str(x, "threshold", "thresholdText");
  const rule = _str(x, "verdictRule", "rule") ?? "";
  const parts = [`<b>Measures:</b> ${esc(measures)}.`];
  if (direction) parts.push(`<b>Expected direction:</b> ${esc(direction)}.`);
  if (threshold) parts.push(`<b>Threshold:</b> ${esc(threshold)}.`);
  if (rule) parts.push(`<b>Verdict rule:</b> ${esc(rule.replace(/\.$/, ""))}.`);
  return parts.join(" ");
}

/** Extra lines: null baseline, effect size, trend, guards, multiple-comparison note. */
function _extras(c: _Claim): string[] {
  const out: string[] = [];
  const obj = (k: string) =>
    c[k] && typeof c[k] === "object" ? c[k] as Record<string, unknown> : null;
  const n = obj("null");
  if (n) {
    const v = typeof n.value === "number" ? n.value : typeof n.mean === "number" ? n.mean : null;
    const iv = interval(n.interval as number[] | undefined);
    out.push(
      `Null baseline (labels permuted${
        typeof n.permutations === "number" ? `, ${n.permutations} permutations` : ""
      }): ${num(v)}${iv ? ` ${iv}` : ""}.`,
    );
  }
  const e = obj("effect");
  if (e) {
    const iv = interval(e.interval as number[] | undefined);
    const what = typeof e.name === "string"
      ? e.name
      : typeof e.statistic === "string"
      ? e.statistic
      : "effect size";
    out.push(`${esc(what)}: ${num(e.value as number)}${iv ? ` ${iv}` : ""}.`);
  }
  const t = obj("trend");
  if (t) {
    const iv = interval(t.interval as number[] | undefined);
    const what = typeof t.name === "string" ? t.name : "trend over layers (Kendall's τ)";
    out.push(`${esc(what)}: ${num(t.value as number)}${iv ? ` ${iv}` : ""}.`);
  }
  const guards = Array.isArray(c.guards) ? c.guards as Record<string, unknown>[] : [];
  for (const g of guards.filter((g) => g && g.ok === false)) {
    out.push(
      `Guard failed — ${esc(g.name ?? g.id ?? "validity")}: ${num(g.value as number)} (threshold ${
        num(g.threshold as number)
      })${g.reason ? `: ${esc(g.reason)}` : ""}.`,
    );
  }
  const adj = _str(c, "adjustment");
  if (adj) out.push(esc(adj));
  return out;
}

/** Per-layer details as "name: value" in plain words. */
function _detail(d: Record<string, number | null> | undefined): string {
  if (!d) return "";
  return Object.entries(d).map(([k, v]) => `${esc(DETAIL_WORDS[k] ?? words(k))}: ${num(v)}`)
    .join("; ");
}

/**
 * One claim's block under its figure.
 *
 * @param c The claim.
 * @returns HTML.
 */
export function claimBlock(c: ClaimResult): string {
  const x = c as _Claim;
  const rows = c.perLayer.map((l) =>
    `<tr><td>${esc(l.layer)}</td><td>${num(l.value)}</td><td>${
      interval(l.interval) ?? "—"
    }</td><td>${_detail(l.detail)}</td></tr>`
  ).join("");
  const value = _evaluated(c)
    ? `<b>${num(c.value)}</b>${
      interval(c.interval) ? `, ${_intervalWords(x)} <b>${interval(c.interval)}</b>` : ""
    }.`
    : `Not evaluated: ${esc(c.note ?? "the inputs this claim needs are not in this run")}.`;
  const note = _evaluated(c) && c.note ? ` <i>${esc(c.note)}</i>` : "";
  const extras = _extras(x).map((l) => `<br>${l}`).join("");
  return `<div class="claim" data-claim="${esc(c.id)}" data-model="${esc(c.model)}">
<p><b>${esc(c.model)}</b> — ${verdictBadge(c.holds)}</p>
<p class="paper">Paper: “${esc(c.statement)}”</p>
<p>${claimWords(c)}</p>
<p>Value: ${value}${note}${extras}</p>
${
    rows
      ? `<details><summary>per layer</summary><table class="small"><tr><th>layer</th><th>value</th><th>interval</th><th>details</th></tr>${rows}</table></details>`
      : ""
  }
</div>`;
}

/**
 * The "claims at a glance" table: one row per claim and model.
 *
 * @param claims The claims.
 * @returns HTML.
 */
export function claimsTable(claims: readonly ClaimResult[]): string {
  if (!claims.length) return "<p>No claims were evaluated in this run.</p>";
  const rows = claims.map((c) =>
    `<tr><td>${esc(c.figure)}</td><td>${esc(c.model)}</td><td>${esc(c.statement)}</td><td>${
      claimWords(c)
    }</td><td class="num">${esc(valueText(c))}</td><td>${verdictBadge(c.holds)}</td></tr>`
  ).join("");
  return `<table class="small claims"><tr><th>figure</th><th>model</th><th>paper's claim</th><th>how it is tested</th><th>statistic [interval]</th><th>verdict</th></tr>${rows}</table>`;
}

/** Counts of verdicts, for the summary line: "8 hold, 5 do not, 5 inconclusive". */
export function verdictCounts(claims: readonly ClaimResult[]): string {
  const n = (p: (c: ClaimResult) => boolean) => claims.filter(p).length;
  const parts = [
    `${n((c) => c.holds === true)} hold`,
    `${n((c) => c.holds === false)} do not`,
    `${n((c) => c.holds === "inconclusive")} inconclusive`,
  ];
  const inv = n((c) => (c.holds as unknown) === "invalid");
  if (inv) parts.push(`${inv} invalid`);
  return parts.join(", ");
}
