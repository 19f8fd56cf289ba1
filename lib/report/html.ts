/**
 * `report.html`: one self-contained offline page (inline SVG, inline data, inline script; a
 * Content-Security-Policy forbids every request), with the run summary (models, their accuracy,
 * the data), the claims at a glance in words, one section per paper figure (our figure, the
 * paper's claim, our verdict), the PGD attack with a contact sheet, the beyond-paper sections, an
 * interactive unit explorer and a glossary worded from the run's settings. A paper figure the run
 * cannot draw gets its section with a sentence saying why.
 *
 * @module
 */

import type { ModelAnalysis } from "../analysis/analyze.ts";
import type { ClaimResult } from "../analysis/claim_types.ts";
import { isVit } from "./figures.ts";
import { attackSection, type AttackView } from "./html/attack.ts";
import { claimBlock, claimsTable, verdictCounts } from "./html/claims.ts";
import { EXPLORER_CSS, explorerSection } from "./html/explorer.ts";
import { esc, num, pct, words } from "./html/format.ts";
import { glossarySection } from "./html/glossary.ts";
import { exampleCount, qualitySection, stabilitySection, valAccuracy } from "./html/summary.ts";

/** A rendered figure for the page. */
export interface RenderedFigure {
  /** File stem, e.g. `fig06ab_dclass`. */
  id: string;
  /** Paper figure mirrored. */
  paper: string;
  /** Title. */
  title: string;
  /** Caption. */
  caption: string;
  /** SVG markup. */
  svg: string;
}

/** The run facts shown at the top of the report. */
export interface RunSummary {
  /** Run name. */
  name: string;
  /** Models analysed: name, file, hash, runtime and layers. */
  models: { name: string; path: string; sha256?: string; runtime?: string; layers: string[] }[];
  /** Data description (spec, counts). */
  data: string;
  /** Root seed. */
  seed: number | string;
  /** GPU adapter description, or why there is none. */
  adapter: string;
  /** Seconds per stage. */
  timings: Record<string, number>;
  /** Parameters of the run. */
  parameters: Record<string, unknown>;
  /** Software versions. */
  versions: Record<string, string>;
  /** Start time (ISO). */
  started: string;
  /** Whether this is a reduced (`--quick`) run. */
  quick?: boolean;
}

/** One model's line of the summary: file, hash, runtime, layers, data and accuracy. */
function _modelRow(m: RunSummary["models"][number], a: ModelAnalysis | undefined): string {
  const acc = a ? valAccuracy(a) : null;
  const l = a?.layers[0];
  const facts = [
    `<code>${esc(m.path)}</code>${m.sha256 ? ` (sha256 ${esc(m.sha256.slice(0, 16))}…)` : ""}`,
    m.runtime ? `runtime ${esc(m.runtime)}` : "",
    `layers ${esc(m.layers.join(", "))}`,
  ].filter(Boolean).join("; ");
  const data = a && l
    ? `${a.classes.length} classes; SOM-tr ${exampleCount(l.dClassTrain)} examples, SOM-val ${
      exampleCount(l.dClassVal)
    }; maps ${l.grid.m}×${l.grid.n}`
    : "";
  const accText = acc
    ? `top-1 accuracy on SOM-val <b>${
      pct(acc.correct / acc.total)
    }</b> (${acc.correct} of ${acc.total})`
    : "accuracy: not available";
  return `<tr><th>${esc(m.name)}</th><td>${facts}<br>${data}${
    data ? "<br>" : ""
  }${accText}</td></tr>`;
}

function _value(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") return num(v, 4);
  if (typeof v === "string" || typeof v === "boolean") return esc(String(v));
  return `<code>${esc(JSON.stringify(v))}</code>`;
}

/**
 * The run-summary section.
 *
 * @param summary Run facts.
 * @param analyses The analyses (for accuracy and data counts).
 * @returns HTML.
 */
function _summarySection(summary: RunSummary, analyses: readonly ModelAnalysis[]): string {
  const byName = new Map(analyses.map((a) => [a.model, a]));
  const timings = Object.entries(summary.timings).map(([k, v]) =>
    `<tr><td>${esc(k)}</td><td class="num">${v.toFixed(1)} s</td></tr>`
  ).join("");
  const total = Object.values(summary.timings).reduce((s, v) => s + v, 0);
  const params = Object.entries(summary.parameters).map(([k, v]) =>
    `<tr><td>${esc(words(k))}</td><td>${_value(v)}</td></tr>`
  ).join("");
  const models = summary.models.length
    ? summary.models.map((m) => _modelRow(m, byName.get(m.name))).join("")
    : "<tr><th>models</th><td>none</td></tr>";
  return `<section id="summary"><h2>Run summary</h2>
<table class="summary">
${models}
<tr><th>data</th><td>${esc(summary.data)}</td></tr>
<tr><th>root seed</th><td>${esc(summary.seed)}</td></tr>
<tr><th>GPU adapter</th><td>${esc(summary.adapter)}</td></tr>
<tr><th>started</th><td>${esc(summary.started)}</td></tr>
<tr><th>versions</th><td>${
    Object.entries(summary.versions).map(([k, v]) => `${esc(k)} ${esc(v)}`).join(", ")
  }</td></tr>
</table>
<details><summary>parameters and timings</summary>
<table class="small">${params || "<tr><td>none recorded</td></tr>"}</table>
<table class="small">${timings}<tr><th>total</th><th class="num">${
    total.toFixed(1)
  } s</th></tr></table>
</details></section>`;
}

/** The paper's statement for each figure, quoted in its section. */
const FIGURE_PAPER: Record<string, string> = {
  fig03_loss: "The loss declines and saturates at a level that depends on the layer; for each " +
    "model the loss is higher in CL4 than in earlier layers (hidden responses are diverse in " +
    "CL4, homogeneous in CL1).",
  fig04_bmu_density: "BMUs are spread inhomogeneously; some units are rarely selected as BMUs.",
  fig05_bmus_by_class:
    "BMUs of the same class cluster together; the spread is bigger in shallow layers and " +
    "smaller in deep layers; unseen SOM-val examples elicit a similar set of units as SOM-tr.",
  fig06ab_dclass:
    "Distances to the class centres are much shorter in deep layers than in shallow " +
    "layers, for SOM-tr and for unseen SOM-val examples; outliers are more frequent in SOM-val.",
  fig06cd_weight_cd:
    "Weights of SOMs trained on CL1 and CL2 are remarkably similar; similarity decreases " +
    "in CL3 and CL4.",
  fig07_centre_cd: "Cosine distances between class-centre weights grow with depth, for SOMs of " +
    "10×10, 20×20, 30×30 and 40×40 units.",
  fig08_datasets: "The same trends hold for ResNet50 trained on CIFAR10, CIFAR100 and SVHN.",
  fig09_vit_weight_cd:
    "ViT: SOM weights of CLS tokens are similar in early encoder blocks and less so in " +
    "later ones, consistent with CNNs.",
  fig10_vit_centre_cd: "ViT: class-centre cosine distances grow with depth for every SOM size.",
  fig11_bmu_shifts:
    "Random noise does not substantially move BMUs in any layer; adversarial inputs move " +
    "them in all layers, very little in CL1 and noticeably more in CL4.",
  fig12_vit_bmu_shifts:
    "ViT shows the same: noise barely moves BMUs; PGD moves them more in later blocks.",
  supp01_bmu_density: "BMU densities are low and inhomogeneous in every CL.",
  supp02_bmus_by_class:
    "The clustering of same-class BMUs holds for a second model (ResNet50 in the paper).",
  supp03_correct_incorrect:
    "The distance between BMUs and the label centre is bigger on average when the model " +
    "makes a mistake.",
};

/** Paper figures in order, with what each needs when the run cannot draw it. */
const PAPER_FIGURES: [id: string, paper: string, title: string][] = [
  ["fig03_loss", "Fig. 3", "SOM training loss per layer"],
  ["fig04_bmu_density", "Fig. 4", "BMU density (second layer)"],
  ["fig05_bmus_by_class", "Fig. 5", "BMUs of selected classes"],
  ["fig06ab_dclass", "Fig. 6A,B", "D_class: distance of BMUs to their class centre"],
  ["fig06cd_weight_cd", "Fig. 6C,D", "Cosine distance between SOM unit weights"],
  ["fig07_centre_cd", "Fig. 7", "Cosine distance between class-centre weights"],
  ["fig08_datasets", "Fig. 8", "Across data sets"],
  ["fig09_vit_weight_cd", "Fig. 9", "Cosine distance between SOM unit weights (ViT)"],
  ["fig10_vit_centre_cd", "Fig. 10", "Cosine distance between class-centre weights (ViT)"],
  ["fig11_bmu_shifts", "Fig. 11", "BMU shifts under random noise and PGD"],
  ["fig12_vit_bmu_shifts", "Fig. 12", "BMU shifts under random noise and PGD (ViT)"],
  ["supp01_bmu_density", "Supp. Fig. 1", "BMU density, every layer"],
  ["supp02_bmus_by_class", "Supp. Fig. 2", "BMUs of selected classes, second model"],
  ["supp03_correct_incorrect", "Supp. Fig. 3", "Distance to the label centre, right vs wrong"],
];

/** Why a paper figure is not drawn, in a sentence. */
function _missingReason(id: string, analyses: readonly ModelAnalysis[], data: string): string {
  const cnn = analyses.some((a) => !isVit(a)), vit = analyses.some(isVit);
  const attacked = (k: boolean) =>
    analyses.some((a) => isVit(a) === k && a.layers.some((l) => l.shifts));
  if (id === "fig08_datasets") {
    return `Fig. 8 compares the same analyses across data sets; this run analysed one data set (${
      esc(data.split(";")[0])
    }), so there is nothing to compare.`;
  }
  if (id === "supp02_bmus_by_class") {
    return "This run analysed one model; Supp. Fig. 2 shows a second.";
  }
  const needsVit = /vit/.test(id);
  if (needsVit ? !vit : !cnn) return `This run has no ${needsVit ? "ViT" : "CNN"} model.`;
  if (/shifts/.test(id) && !attacked(needsVit)) {
    return "This run has no PGD or noise BMUs (the attack was not run), so there are no shifts.";
  }
  return "This run has no data for this figure.";
}

/** Claims shown under a figure: those whose paper figure is the figure's (e.g. `Fig. 11A,B`). */
function _claimsFor(f: { paper: string }, claims: readonly ClaimResult[]): ClaimResult[] {
  const re = new RegExp(`^${f.paper.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![0-9])`);
  return claims.filter((c) => re.test(c.figure));
}

/** Units never a BMU and peak density per layer (under Fig. 4 and Supp. Fig. 1). */
function _densityTable(analyses: readonly ModelAnalysis[]): string {
  return `<table class="small"><tr><th>model</th><th>layer</th><th>units never a BMU</th><th>peak density ×100</th></tr>${
    analyses.flatMap((a) =>
      a.layers.map((l) => {
        const z = l.density.counts.filter((c) => c === 0).length, K = l.density.counts.length;
        return `<tr><td>${esc(a.model)}</td><td>${esc(l.layer)}</td><td>${z} of ${K} (${
          pct(z / K)
        })</td><td class="num">${num(100 * l.density.density[l.density.peak])}</td></tr>`;
      })
    ).join("")
  }</table>`;
}

/** One figure's section: the figure, the paper's claim, extra tables and our verdicts. */
function _figureSection(
  f: RenderedFigure,
  claims: readonly ClaimResult[],
  analyses: readonly ModelAnalysis[],
): string {
  const paper = FIGURE_PAPER[f.id];
  const rel = f.paper === "beyond the paper" ? [] : _claimsFor(f, claims);
  const extra = f.id === "fig04_bmu_density" || f.id === "supp01_bmu_density"
    ? _densityTable(analyses)
    : "";
  const heading = f.paper === "beyond the paper"
    ? esc(f.title)
    : `${esc(f.paper)} — ${esc(f.title)}`;
  return `<section id="${esc(f.id)}" class="figsec">
<h2>${heading}</h2>
<figure data-figure="${esc(f.id)}">${f.svg}<figcaption>${esc(f.caption)} Files: <code>figures/${
    esc(f.id)
  }.svg</code>, <code>.png</code>.</figcaption></figure>
${paper ? `<p class="paper"><b>Paper:</b> ${esc(paper)}</p>` : ""}
${extra}
${
    rel.length
      ? `<h3>Our verdict</h3>${rel.map(claimBlock).join("")}`
      : paper
      ? "<p>No claim of this run is tested on this figure; it is descriptive.</p>"
      : ""
  }
</section>`;
}

/** A paper figure the run cannot draw: its heading and the reason. */
function _missingSection(
  [id, paper, title]: [string, string, string],
  analyses: readonly ModelAnalysis[],
  data: string,
): string {
  return `<section id="${esc(id)}" class="figsec missing"><h2>${esc(paper)} — ${esc(title)}</h2>
<p><b>Not drawn.</b> ${_missingReason(id, analyses, data)}</p>
${FIGURE_PAPER[id] ? `<p class="paper"><b>Paper:</b> ${esc(FIGURE_PAPER[id])}</p>` : ""}</section>`;
}

/** The claims tested on the attack outcome (paper Table 2), as HTML by model. */
function _attackClaims(claims: readonly ClaimResult[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of claims.filter((c) => /^Table 2/.test(c.figure))) {
    out[c.model] = (out[c.model] ?? "<h4>Our verdict</h4>") + claimBlock(c);
  }
  return out;
}

/** A validity guard as the banner lists it (h5's `Guard`; read defensively). */
interface _Guard {
  check?: string;
  scope?: string;
  value?: number | null;
  comparison?: string;
  threshold?: number | null;
  passed?: boolean | null;
  reason?: string;
}

/**
 * Failed validity guards and invalid claims, as a banner for the top of the page: one line per
 * model and kind of check (how many maps or scopes failed it, the worst value against its
 * threshold), with every failed guard listed in a collapsed block below.
 */
function _guardBanner(claims: readonly ClaimResult[], analyses: readonly ModelAnalysis[]): string {
  const summary: string[] = [], detail: string[] = [];
  for (const a of analyses) {
    const failed = ((a as { validity?: _Guard[] }).validity ?? []).filter((g) =>
      g.passed === false
    );
    const byCheck = new Map<string, _Guard[]>();
    for (const g of failed) {
      const k = g.check ?? "validity";
      byCheck.set(k, [...(byCheck.get(k) ?? []), g]);
      detail.push(
        `<li><b>${esc(a.model)}</b>, ${esc(g.scope ?? "model")}: ${esc(g.reason ?? "")}</li>`,
      );
    }
    for (const [check, gs] of byCheck) {
      const values = gs.map((g) => g.value).filter((v): v is number => typeof v === "number");
      const worst = values.length
        ? (gs[0].comparison === "≤" || gs[0].comparison === "<"
          ? Math.max(...values)
          : Math.min(...values))
        : null;
      const where = gs.length === 1
        ? esc(gs[0].scope ?? "model")
        : `${gs.length} ${gs.every((g) => /map/.test(g.scope ?? "")) ? "maps" : "scopes"}`;
      summary.push(
        `<li><b>${esc(a.model)}</b> — ${esc(check)}: failed on ${where}` +
          (worst !== null
            ? ` (worst ${num(worst)}, needs ${esc(gs[0].comparison ?? "")} ${num(gs[0].threshold)})`
            : "") +
          "</li>",
      );
    }
  }
  const bad = claims.filter((c) => (c.holds as unknown) === "invalid");
  if (!summary.length && !bad.length) return "";
  const models = [...new Set(bad.map((c) => c.model))];
  return `<div class="banner"><b>Validity checks failed on this run</b>${
    bad.length
      ? `: ${bad.length} claim${bad.length === 1 ? " is" : "s are"} invalid (grey, in ${
        models.map(esc).join(", ")
      }); their verdicts are not evidence either way`
      : ""
  }.${summary.length ? `<ul class="tight">${summary.join("")}</ul>` : ""}${
    detail.length
      ? `<details><summary>every failed check (${detail.length})</summary><ul class="tight">${
        detail.join("")
      }</ul></details>`
      : ""
  }</div>`;
}

const CSS = `
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;max-width:1200px;margin:1.5em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em;font-size:1.35em}h3{font-size:1.1em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
table.small{font-size:.85em}table.summary th{width:10em}td code{word-break:break-all}
.badge{padding:.1em .5em;border-radius:.3em;color:#fff;font-weight:bold;font-size:.9em;white-space:nowrap}
.ok{background:#0072B2}.bad{background:#D55E00}.unk{background:#767676}.inv{background:#aaa;color:#222}
.banner{border:2px solid #D55E00;background:#fff4ec;padding:.6em .9em;margin:1em 0}
figure{margin:1em 0;overflow-x:auto}figure svg{max-width:100%;height:auto;display:block}figcaption{font-size:.9em;color:#444;max-width:62em}
.claim{border-left:4px solid #ddd;padding:.2em .8em;margin:.6em 0}.paper{font-style:italic}.missing p{max-width:62em}
nav{line-height:1.9}nav a{margin-right:.8em;white-space:nowrap}ul.tight{margin:0;padding-left:1.1em}
.attack{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}img.sheet{image-rendering:pixelated;display:block}
@media print{nav,#explorer-section{display:none}figure{break-inside:avoid}}
` + EXPLORER_CSS;

/** Options of {@linkcode buildReportHtml}. */
export interface ReportHtmlOptions {
  /** Class names by label. */
  classNames?: string[];
  /** The PGD section's views (from `attackViews`), one per attacked model. */
  attacks?: AttackView[];
}

/** The top-of-page navigation: every section. */
function _nav(figures: readonly { id: string; paper: string; title: string }[]): string {
  return `<nav><a href="#summary">summary</a> <a href="#claims">claims</a> ${
    figures.map((f) =>
      `<a href="#${esc(f.id)}">${esc(f.paper === "beyond the paper" ? f.title : f.paper)}</a>`
    ).join(" ")
  } <a href="#attack">attack</a> <a href="#explorer-section">unit explorer</a> <a href="#glossary">glossary</a></nav>`;
}

/** The BMUs per example (k) of the run, from the featured classes' hits. */
function _k(analyses: readonly ModelAnalysis[]): number | undefined {
  for (const a of analyses) {
    const l = a.layers[0], c = l?.bmusByClass.train[0];
    const d = c && l.dClassTrain.find((x) => x.label === c.label);
    if (d && d.count > 0) {
      const k = c.units.reduce((s, [, n]) => s + n, 0) / d.count;
      if (Number.isInteger(k)) return k;
    }
  }
  return undefined;
}

/**
 * Builds the self-contained report page.
 *
 * @param summary Run facts.
 * @param figures Rendered figures (SVG).
 * @param claims Claim results for every model.
 * @param analyses The analyses (for the explorer, the summary and the tables).
 * @param options Class names and the PGD views.
 * @returns The HTML text.
 *
 * @example
 * ```ts
 * import { buildReportHtml } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const html = buildReportHtml({
 *   name: "empty", models: [], data: "-", seed: 0, adapter: "none", timings: {}, parameters: {},
 *   versions: {}, started: "",
 * }, [], [], []);
 * assertEquals(html.includes("Content-Security-Policy"), true);
 * ```
 */
export function buildReportHtml(
  summary: RunSummary,
  figures: readonly RenderedFigure[],
  claims: readonly ClaimResult[],
  analyses: readonly ModelAnalysis[],
  options: ReportHtmlOptions = {},
): string {
  const drawn = new Map(figures.map((f) => [f.id, f]));
  const paperSections = PAPER_FIGURES.map((p) => {
    const f = drawn.get(p[0]);
    return f ? _figureSection(f, claims, analyses) : _missingSection(p, analyses, summary.data);
  });
  const extraFigs = figures.filter((f) => f.paper === "beyond the paper");
  const attackWords = options.attacks?.[0]
    ? `ε = ${num(options.attacks[0].summary.settings.eps)}, ${
      options.attacks[0].summary.settings.steps
    } steps`
    : undefined;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'none'; font-src 'none'; form-action 'none'; base-uri 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>somscope report — ${esc(summary.name)}</title>
<style>${CSS}</style></head>
<body>
<h1>somscope report — ${esc(summary.name)}</h1>
<p>Functional codes of image classifiers on toroidal self-organizing maps, reproducing
Lee &amp; Vijayan, “Generalization ability and vulnerabilities to adversarial perturbations: two
sides of the same coin”. Every number below was computed on the models of this run; the
paper's findings are quoted, not assumed.${
    summary.quick
      ? " <b>This is a reduced <code>--quick</code> run: fewer examples and epochs; verdicts are indicative only.</b>"
      : ""
  }</p>
${_guardBanner(claims, analyses)}
${_nav(figures)}
${_summarySection(summary, analyses)}
<section id="claims"><h2>Claims at a glance</h2>
<p>${claims.length ? `${verdictCounts(claims)}.` : ""} Each claim of the paper is turned into a
statistic computed on this run; its verdict follows from the statistic's interval by the rule
given in its row.</p>
${claimsTable(claims)}
</section>
${paperSections.join("\n")}
${
    attackSection(
      options.attacks ?? [],
      options.classNames,
      Object.fromEntries(analyses.map((a) => [a.model, (a as { attack?: unknown }).attack])),
      _attackClaims(claims),
    )
  }
<h2 id="beyond">Beyond the paper</h2>
${extraFigs.map((f) => _figureSection(f, claims, analyses)).join("\n")}
${qualitySection(analyses)}
${stabilitySection(analyses)}
${explorerSection(analyses, options.classNames)}
${glossarySection({ k: _k(analyses), attack: attackWords })}
</body></html>
`;
}
