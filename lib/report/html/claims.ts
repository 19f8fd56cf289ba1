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

import type { ClaimResult } from "../../analysis/claim_types.ts";
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

/** The interval's description: "97.5 % percentile bootstrap interval (Holm-adjusted)". */
function _intervalWords(c: _Claim): string {
  const kind = typeof c.intervalKind === "string" ? c.intervalKind : "bootstrap";
  if (/^range/.test(kind)) return kind;
  const level = typeof c.adjustedLevel === "number" ? c.adjustedLevel : c.level ?? 0.95;
  const adj = c.adjustment === "holm" && c.adjustedLevel !== undefined && c.adjustedLevel !== null
    ? ", Holm-adjusted"
    : "";
  return `${+(level * 100).toFixed(2)} % ${esc(kind)} interval (${c.resamples} resamples of ${
    esc(c.resampled)
  }${adj})`;
}

/** What the claim's statistic measures, its direction, threshold and verdict rule, in words. */
export function claimWords(c: ClaimResult): string {
  const x = c as _Claim;
  const measures = _str(x, "measures") ?? c.statistic;
  const parts = [`<b>Measures:</b> ${esc(measures.replace(/\.$/, ""))}.`];
  if (x.direction === "above" || x.direction === "below") {
    const t = typeof x.threshold === "number" ? num(x.threshold) : "the threshold";
    parts.push(`<b>Claim:</b> statistic ${x.direction} ${t}.`);
  }
  const rule = _str(x, "rule");
  if (rule) parts.push(`<b>Verdict rule:</b> ${esc(rule.replace(/\.$/, ""))}.`);
  return parts.join(" ");
}

/** "0.53 [0.4, 0.6]" for an `{ value, interval }` pair, or null. */
function _vi(v: unknown, iv: unknown): string | null {
  if (typeof v !== "number" || !Number.isFinite(v)) return null;
  const i = interval(iv as number[] | undefined);
  return i ? `${num(v)} ${i}` : num(v);
}

/** Extra lines: null baseline, effect size, trend, secondary test, failed guards. */
function _extras(c: _Claim): string[] {
  const out: string[] = [];
  const obj = (k: string) =>
    c[k] && typeof c[k] === "object" ? c[k] as Record<string, unknown> : null;
  const e = obj("effect");
  if (e) {
    const v = _vi(e.value, e.interval);
    const th = typeof e.threshold === "number"
      ? `; the paper's word sets it at ${num(e.threshold)}`
      : "";
    const none = typeof e.noEffect === "number" ? ` (no effect = ${num(e.noEffect)}${th})` : "";
    if (v) out.push(`<b>Effect size</b> — ${esc(e.measure ?? "effect")}: ${v}${none}.`);
  }
  const n = obj("null");
  if (n) {
    const p = typeof n.p === "number" ? `, p = ${num(n.p, 2)}` : "";
    const met = n.met === true ? " — met" : n.met === false ? " — not met" : "";
    out.push(
      `<b>Null baseline</b> — ${esc(n.method ?? "label permutation")}${
        typeof n.permutations === "number" ? ` (${n.permutations} permutations)` : ""
      }; requires ${esc(n.requirement ?? "beating the null")}${p}${met}.`,
    );
  }
  const t = obj("trend");
  if (t) {
    const v = _vi(t.tau, t.interval);
    if (v) {
      out.push(
        `<b>Trend over ${t.layers ?? "all"} layers</b> — ${
          esc(t.measure ?? "Kendall's τ")
        }: ${v} (the claim expects ${esc(t.expected ?? "a trend")}).`,
      );
    }
  }
  const sec = obj("secondary");
  if (sec) {
    const v = _vi(sec.value, sec.interval);
    if (v) {
      out.push(
        `<b>Secondary</b> — ${esc(sec.statistic)}: ${v}, ${verdictBadge(sec.holds)} (${
          esc(String(sec.rule ?? "").replace(/\.$/, ""))
        }).`,
      );
    }
  }
  return out;
}

/** The claim's failed validity guards, one line each. */
function _failedGuards(c: _Claim): string[] {
  const guards = Array.isArray(c.guards) ? c.guards as unknown as Record<string, unknown>[] : [];
  return guards.filter((g) => g && g.passed === false).map((g) =>
    `${esc(g.check)} (${esc(g.scope)}): ${num(g.value as number)}, needs ${
      esc(g.comparison ?? "")
    } ${num(g.threshold as number)}${g.reason ? ` — ${esc(g.reason)}` : ""}`
  );
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
  const layers = c.perLayer as (ClaimResult["perLayer"][number] & Record<string, unknown>)[];
  const hasEffect = layers.some((l) => typeof l.effect === "number");
  const hasNull = layers.some((l) => l.null && typeof l.null === "object");
  const rows = layers.map((l) => {
    const nl = l.null as
      | { mean?: number | null; sd?: number | null; p?: number | null }
      | undefined;
    return `<tr><td>${esc(l.layer)}</td><td class="num">${num(l.value)}</td><td class="num">${
      interval(l.interval) ?? "—"
    }</td>${hasEffect ? `<td class="num">${_vi(l.effect, l.effectInterval) ?? "—"}</td>` : ""}${
      hasNull
        ? `<td class="num">${
          nl ? `${num(nl.mean)} ± ${num(nl.sd)}, p = ${num(nl.p, 2)}` : "—"
        }</td>`
        : ""
    }<td>${_detail(l.detail)}</td></tr>`;
  }).join("");
  const head = `<tr><th>layer</th><th>value</th><th>interval</th>${
    hasEffect ? "<th>effect [interval]</th>" : ""
  }${hasNull ? "<th>null (mean ± sd, p)</th>" : ""}<th>details</th></tr>`;
  const failed = _failedGuards(x);
  // An invalid claim's reason repeats its failed guards: they are listed (collapsed) instead.
  const why = (x.holds as unknown) === "invalid" && failed.length
    ? `${failed.length} validity check${failed.length === 1 ? "" : "s"} failed`
    : _str(x, "reason");
  const value = _evaluated(c)
    ? `<b>${num(c.value)}</b>${
      interval(c.interval) ? `, ${_intervalWords(x)} <b>${interval(c.interval)}</b>` : ""
    }.`
    : `Not evaluated: ${esc(why ?? c.note ?? "the inputs this claim needs are not in this run")}.`;
  const note = [
    _evaluated(c) && why
      ? `<b>Why ${(x.holds as unknown) === "invalid" ? "invalid" : "this verdict"}:</b> ${esc(why)}`
      : "",
    c.note ? `<i>${esc(c.note)}</i>` : "",
  ].filter(Boolean).map((t) => ` ${t}`).join("");
  const extras = _extras(x).map((l) => `<br>${l}`).join("");
  const guards = failed.length
    ? `<details><summary>${failed.length} failed validity check${
      failed.length === 1 ? "" : "s"
    }</summary><ul class="tight">${failed.map((g) => `<li>${g}</li>`).join("")}</ul></details>`
    : "";
  return `<div class="claim" data-claim="${esc(c.id)}" data-model="${esc(c.model)}">
<p><b>${esc(c.model)}</b> — ${verdictBadge(c.holds)}</p>
<p class="paper">Paper: “${esc(c.statement)}”</p>
<p>${claimWords(c)}</p>
<p>Value: ${value}${note}${extras}</p>
${guards}
${
    rows
      ? `<details><summary>per layer</summary><table class="small">${head}${rows}</table></details>`
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
