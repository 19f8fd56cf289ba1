/**
 * `report.html`: one self-contained offline page (inline SVG, inline data, inline script; a
 * Content-Security-Policy forbids every request), with the run summary, one section per paper
 * figure (our figure, the paper's claim, our verdict with its interval), the beyond-paper
 * sections, an interactive unit explorer and a glossary.
 *
 * @module
 */

import type { ModelAnalysis } from "../analysis/analyze.ts";
import type { ClaimResult } from "../analysis/claims.ts";
import { isVit } from "./figures.ts";

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

function esc(s: unknown): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

function num(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? x.toExponential(2) : x.toFixed(digits);
}

function verdictBadge(h: ClaimResult["holds"]): string {
  const [cls, text] = h === true
    ? ["ok", "holds"]
    : h === false
    ? ["bad", "does not hold"]
    : ["unk", "inconclusive"];
  return `<span class="badge ${cls}">${text}</span>`;
}

function claimBlock(c: ClaimResult): string {
  const rows = c.perLayer.map((l) =>
    `<tr><td>${esc(l.layer)}</td><td>${num(l.value)}</td><td>[${num(l.interval[0])}, ${
      num(l.interval[1])
    }]</td>${
      l.detail
        ? `<td>${Object.entries(l.detail).map(([k, v]) => `${esc(k)}: ${num(v)}`).join("; ")}</td>`
        : "<td></td>"
    }</tr>`
  ).join("");
  return `<div class="claim" data-claim="${esc(c.id)}" data-model="${esc(c.model)}">
<p><b>${esc(c.model)}</b> — ${verdictBadge(c.holds)} <span class="cid">${esc(c.id)}</span></p>
<p class="paper">Paper: “${esc(c.statement)}”</p>
<p>Statistic: ${esc(c.statistic)} = <b>${num(c.value)}</b>, ${
    Math.round(c.level * 100)
  } % bootstrap interval <b>[${num(c.interval[0])}, ${num(c.interval[1])}]</b>
(${c.resamples} resamples of ${esc(c.resampled)}). Rule: ${esc(c.rule)}.${
    c.note ? ` <i>${esc(c.note)}</i>` : ""
  }</p>
${
    rows
      ? `<details><summary>per layer</summary><table class="small"><tr><th>layer</th><th>value</th><th>interval</th><th>detail</th></tr>${rows}</table></details>`
      : ""
  }
</div>`;
}

const FIGURE_CLAIMS: Record<string, { ids: string[]; kind?: "cnn" | "vit"; paper: string }> = {
  fig03_loss: {
    ids: ["loss-last-layer-highest"],
    paper: "The loss declines and saturates at a level that depends on the layer; for each " +
      "model the loss is higher in CL4 than in earlier layers (hidden responses are diverse in " +
      "CL4, homogeneous in CL1).",
  },
  fig04_bmu_density: {
    ids: [],
    paper: "BMUs are spread inhomogeneously; some units are rarely selected as BMUs.",
  },
  fig05_bmus_by_class: {
    ids: ["dclass-shrinks-train", "dclass-shrinks-val"],
    paper: "BMUs of the same class cluster together; the spread is bigger in shallow layers and " +
      "smaller in deep layers; unseen SOM-val examples elicit a similar set of units.",
  },
  fig06ab_dclass: {
    ids: ["dclass-shrinks-train", "dclass-shrinks-val"],
    paper: "Distances to the class centres are much shorter in deep layers than in shallow " +
      "layers, for SOM-tr and for unseen SOM-val examples; outliers are more frequent in SOM-val.",
  },
  fig06cd_weight_cd: {
    ids: ["weight-cd-grows"],
    kind: "cnn",
    paper: "Weights of SOMs trained on CL1 and CL2 are remarkably similar; similarity decreases " +
      "in CL3 and CL4.",
  },
  fig07_centre_cd: {
    ids: ["centre-cd-grows"],
    kind: "cnn",
    paper: "Cosine distances between class-centre weights grow with depth, for SOMs of " +
      "10×10, 20×20, 30×30 and 40×40 units.",
  },
  fig08_datasets: {
    ids: ["dclass-shrinks-val", "centre-cd-grows"],
    paper: "The same trends hold for ResNet50 trained on CIFAR10, CIFAR100 and SVHN.",
  },
  fig09_vit_weight_cd: {
    ids: ["weight-cd-grows"],
    kind: "vit",
    paper: "ViT: SOM weights of CLS tokens are similar in early encoder blocks and less so in " +
      "later ones, consistent with CNNs.",
  },
  fig10_vit_centre_cd: {
    ids: ["centre-cd-grows"],
    kind: "vit",
    paper: "ViT: class-centre cosine distances grow with depth for every SOM size.",
  },
  fig11_bmu_shifts: {
    ids: ["noise-barely-moves", "pgd-shift-grows", "adversarial-beats-noise"],
    kind: "cnn",
    paper: "Random noise does not substantially move BMUs in any layer; adversarial inputs move " +
      "them in all layers, very little in CL1 and noticeably more in CL4.",
  },
  fig12_vit_bmu_shifts: {
    ids: ["noise-barely-moves", "pgd-shift-grows", "adversarial-beats-noise"],
    kind: "vit",
    paper: "ViT shows the same: noise barely moves BMUs; PGD moves them more in later blocks.",
  },
  supp01_bmu_density: { ids: [], paper: "BMU densities are low and inhomogeneous in every CL." },
  supp02_bmus_by_class: {
    ids: [],
    paper: "The clustering of same-class BMUs holds for a second model (ResNet50 in the paper).",
  },
  supp03_correct_incorrect: {
    ids: ["incorrect-farther"],
    paper: "The distance between BMUs and the label centre is bigger on average when the model " +
      "makes a mistake.",
  },
};

const GLOSSARY: [string, string][] = [
  [
    "Vector code",
    "Per channel of a feature map: max, mean, population std and centre of mass of the flattened activations, concatenated (dimension 4C); CLS tokens are used as they are.",
  ],
  [
    "SOM-tr / SOM-val",
    "n examples per class drawn (seeded) from the training and the validation/test split. Only SOM-tr trains SOMs and estimates class centres.",
  ],
  [
    "BMU, top-10 BMUs",
    "Best-matching unit: the SOM unit whose weight has the smallest cosine distance to a code (ties: lowest unit index); the 10 closest units in ascending order.",
  ],
  [
    "Torus distance",
    "Euclidean distance between grid positions with wrap-around: √(min(|Δr|, m−|Δr|)² + min(|Δc|, n−|Δc|)²), in grid units.",
  ],
  [
    "Loss (Fig. 3)",
    "Per training batch, the mean cosine distance between inputs and their BMUs before the update (QuickSOM's loss). Final loss: mean of the last 10 % of batches.",
  ],
  [
    "BMU density",
    "Periodic Gaussian kernel density of SOM-tr first BMUs over the torus, per unit area (integrates to 1), bandwidth per axis by Scott's rule N^(−1/6)·σ̂ with σ̂ the circular standard deviation (floor 0.5 units); drawn ×100 as in the paper.",
  ],
  [
    "Class centre",
    "Mode unit u* of the class's SOM-tr top-10 BMUs; each BMU unfolded to its image on the 3×3 tiling nearest to u*; centre = mean of unfolded positions wrapped into the grid; centre unit = nearest grid unit on the torus (ties: lowest index).",
  ],
  [
    "D_class",
    "For a class: the mean torus distance between its examples' top-10 BMUs and its class centre (centres from SOM-tr, also for SOM-val).",
  ],
  [
    "Box plot",
    "Box from the first to the third quartile (linear interpolation), line at the median, whiskers to the most extreme values within 1.5 IQR, circles beyond (outliers).",
  ],
  [
    "Weight cosine distance",
    "1 − wᵢ·wⱼ/(‖wᵢ‖‖wⱼ‖) between SOM unit weights (norms floored at 1e-8); over all K(K−1)/2 unit pairs.",
  ],
  [
    "Class-centre cosine distance",
    "Cosine distance between the weights of the centre units of two classes (up to 100 classes, seeded choice), per SOM size.",
  ],
  [
    "Label-centre distance (Supp. Fig. 3)",
    "For a SOM-val example, the mean torus distance of its top-10 BMUs to its label's centre; averaged per class over correctly (Corr) and wrongly (InCorr) predicted examples.",
  ],
  [
    "BMU shift",
    "Torus distance between an image's i-th clean BMU and its i-th perturbed BMU, i = 1..10, under PGD (L∞, ε = 4/255, 50 steps) or uniform [0, ε] noise.",
  ],
  ["Quantization error", "Mean cosine distance between each SOM-tr code and its BMU."],
  [
    "Topographic error",
    "Share of SOM-tr codes whose first and second BMUs are not among each other's 4 direct torus neighbours.",
  ],
  [
    "U-matrix",
    "Per unit, the mean cosine distance between its weight and those of its 8 torus neighbours.",
  ],
  [
    "Placement stability",
    "SOMs trained with different seeds are aligned over the torus symmetries (translations, row/column flips, transposition on square grids, hence 90° rotations) by minimising the mean cosine distance of matched unit weights; then 1 − (mean displacement of each class centre) / (mean distance between different classes' centres). 1 = classes land in the same place; 0 = no better than unrelated classes.",
  ],
  [
    "Bootstrap interval",
    "Percentile interval of the statistic over seeded resamples (with replacement) of classes, images, units or batches, and of SOM seeds where several were trained.",
  ],
  [
    "Verdict",
    "holds: the interval lies wholly on the claimed side of the no-effect value; does not hold: wholly on the other side; inconclusive: it straddles it, or inputs were missing.",
  ],
];

function explorerData(analyses: readonly ModelAnalysis[], classNames?: string[]): string {
  const data = analyses.map((a) => ({
    model: a.model,
    layers: a.layers.map((l) => ({
      layer: l.layer,
      m: l.grid.m,
      n: l.grid.n,
      hits: l.unitClassCounts,
      density: Array.from(l.density.density, (v) => +v.toPrecision(3)),
      centres: l.centres.map((c) => [c.label, +c.row.toFixed(2), +c.col.toFixed(2), c.centreUnit]),
    })),
  }));
  return JSON.stringify({ models: data, names: classNames ?? [] }).replace(/</g, "\\u003c");
}

const EXPLORER_JS = `
(function () {
  var D = JSON.parse(document.getElementById("explorer-data").textContent);
  var pal = ["#1f77b4","#ff7f0e","#2ca02c","#d62728","#9467bd","#8c564b","#e377c2","#7f7f7f","#bcbd22","#17becf"];
  function name(l) { return D.names[l] ? l + " " + D.names[l] : "class " + l; }
  var root = document.getElementById("explorer");
  var sel = document.createElement("select"); sel.id = "explorer-layer";
  D.models.forEach(function (m, mi) { m.layers.forEach(function (l, li) {
    var o = document.createElement("option"); o.value = mi + ":" + li; o.textContent = m.model + " · " + l.layer; sel.appendChild(o);
  }); });
  var grid = document.createElement("div"); grid.className = "ugrid"; grid.id = "explorer-grid";
  var info = document.createElement("div"); info.className = "uinfo"; info.id = "explorer-info";
  info.textContent = "Hover a unit to see which classes have it as their first BMU (SOM-tr).";
  root.appendChild(sel); root.appendChild(grid); root.appendChild(info);
  function draw() {
    var p = sel.value.split(":"), L = D.models[+p[0]].layers[+p[1]];
    grid.innerHTML = ""; grid.style.gridTemplateColumns = "repeat(" + L.n + ", 1fr)";
    var byUnit = {}; L.hits.forEach(function (h) { (byUnit[h[0]] = byUnit[h[0]] || []).push([h[1], h[2]]); });
    var centreAt = {}; L.centres.forEach(function (c) { (centreAt[c[3]] = centreAt[c[3]] || []).push(c[0]); });
    var maxD = Math.max.apply(null, L.density);
    for (var u = 0; u < L.m * L.n; u++) {
      var c = document.createElement("div"); c.className = "ucell"; c.dataset.unit = u;
      var list = (byUnit[u] || []).sort(function (a, b) { return b[1] - a[1]; });
      if (list.length) { c.style.background = pal[list[0][0] % pal.length]; c.style.opacity = String(0.35 + 0.65 * L.density[u] / maxD); }
      if (centreAt[u]) { c.textContent = "●"; c.title = "centre of " + centreAt[u].map(name).join(", "); }
      (function (u, list) { c.addEventListener("mouseenter", function () {
        var r = Math.floor(u / L.n), col = u % L.n, total = list.reduce(function (s, x) { return s + x[1]; }, 0);
        info.innerHTML = "<b>unit " + u + "</b> (row " + r + ", column " + col + "), density×100 " + (100 * L.density[u]).toFixed(3) +
          "<br>" + (list.length ? list.map(function (x) { return name(x[0]) + ": " + x[1]; }).join("<br>") + "<br>total " + total : "no SOM-tr example has this unit as BMU") +
          (centreAt[u] ? "<br>class centre of: " + centreAt[u].map(name).join(", ") : "");
      }); })(u, list);
      grid.appendChild(c);
    }
  }
  sel.addEventListener("change", draw); draw();
})();
`;

const CSS = `
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;max-width:1200px;margin:1.5em auto;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
table.small{font-size:.85em}td code{word-break:break-all}.badge{padding:.1em .5em;border-radius:.3em;color:#fff;font-weight:bold;font-size:.9em}
.ok{background:#2a7d2a}.bad{background:#b22}.unk{background:#888}.cid{color:#777;font-size:.85em}
figure{margin:1em 0;overflow-x:auto}figure svg{max-width:100%;height:auto}figcaption{font-size:.9em;color:#444}
.claim{border-left:4px solid #ddd;padding:.2em .8em;margin:.6em 0}.paper{font-style:italic}
nav a{margin-right:.8em}.ugrid{display:grid;width:420px;max-width:100%;gap:1px;background:#eee;margin:.5em 0}
.ucell{aspect-ratio:1;background:#fff;font-size:8px;text-align:center;line-height:1;cursor:crosshair}
.ucell:hover{outline:2px solid #000}.uinfo{min-height:6em;font-size:.9em}
@media print{nav,#explorer{display:none}figure{break-inside:avoid}}
`;

/** Units never a BMU and peak density per layer (under Fig. 4 and Supp. Fig. 1). */
function _densityTable(analyses: readonly ModelAnalysis[]): string {
  return `<table class="small"><tr><th>model</th><th>layer</th><th>units never a BMU</th><th>peak density ×100</th></tr>${
    analyses.flatMap((a) =>
      a.layers.map((l) => {
        const z = l.density.counts.filter((c) => c === 0).length;
        return `<tr><td>${esc(a.model)}</td><td>${
          esc(l.layer)
        }</td><td>${z} of ${l.density.counts.length} (${
          (100 * z / l.density.counts.length).toFixed(0)
        } %)</td><td>${num(100 * l.density.density[l.density.peak])}</td></tr>`;
      })
    ).join("")
  }</table>`;
}

/** One figure's section: the figure, the paper's claim, extra tables and our verdicts. */
function _figureSection(
  f: RenderedFigure,
  claims: readonly ClaimResult[],
  analyses: readonly ModelAnalysis[],
  kindOf: Map<string, string>,
): string {
  const meta = FIGURE_CLAIMS[f.id];
  const rel = meta
    ? claims.filter((c) =>
      meta.ids.includes(c.id) && (!meta.kind || kindOf.get(c.model) === meta.kind)
    )
    : [];
  let extra = "";
  if (f.id === "fig04_bmu_density" || f.id === "supp01_bmu_density") {
    extra = _densityTable(analyses);
  }
  return `<section id="${esc(f.id)}" class="figsec">
<h2>${esc(f.paper)} — ${esc(f.title)}</h2>
<figure data-figure="${esc(f.id)}">${f.svg}<figcaption>${esc(f.caption)} Files: <code>figures/${
    esc(f.id)
  }.svg</code>, <code>.png</code>.</figcaption></figure>
${meta ? `<p class="paper"><b>Paper:</b> ${esc(meta.paper)}</p>` : ""}
${extra}
${rel.length ? `<h3>Our verdict</h3>${rel.map(claimBlock).join("")}` : ""}
</section>`;
}

/** Rows of the seed-ensemble table. */
function _stabilityRows(analyses: readonly ModelAnalysis[]): string {
  return analyses.flatMap((a) =>
    a.layers.filter((l) => l.ensemble).map((l) =>
      `<tr><td>${esc(a.model)}</td><td>${esc(l.layer)}</td><td>${
        l.ensemble!.dClassTrainBySeed.length
      }</td><td>${num(l.ensemble!.stability)} [${num(l.ensemble!.stabilityInterval?.[0])}, ${
        num(l.ensemble!.stabilityInterval?.[1])
      }]</td><td>${num(l.ensemble!.meanDisplacement)}</td><td>${
        num(l.ensemble!.nullDisplacement)
      }</td><td>${
        l.ensemble!.pairs.map((p) =>
          `${p.seedA}↔${p.seedB}: ${p.alignment.symmetry.transpose ? "T" : ""}${
            p.alignment.symmetry.flipRows ? "Fr" : ""
          }${
            p.alignment.symmetry.flipCols ? "Fc" : ""
          }+(${p.alignment.symmetry.dr},${p.alignment.symmetry.dc}) cost ${
            num(p.alignment.cost)
          } (identity ${num(p.alignment.identityCost)})`
        ).join("<br>")
      }</td></tr>`
    )
  ).join("");
}

/** Rows of the map-quality table. */
function _qualityRows(analyses: readonly ModelAnalysis[]): string {
  return analyses.flatMap((a) =>
    a.layers.map((l) =>
      `<tr><td>${esc(a.model)}</td><td>${
        esc(l.layer)
      }</td><td>${l.grid.m}×${l.grid.n}</td><td>${l.dim}</td><td>${num(l.finalLoss)}</td><td>${
        num(l.quality.quantizationError)
      }</td><td>${num(l.quality.topographicError)}</td><td>${num(l.weightCd.mean)}</td></tr>`
    )
  ).join("");
}

/**
 * Builds the self-contained report page.
 *
 * @param summary Run facts.
 * @param figures Rendered figures (SVG).
 * @param claims Claim results for every model.
 * @param analyses The analyses (for the unit explorer and the descriptive numbers).
 * @param options Class names by label.
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
  options: { classNames?: string[] } = {},
): string {
  const kindOf = new Map(analyses.map((a) => [a.model, isVit(a) ? "vit" : "cnn"]));
  const paperFigs = figures.filter((f) => f.paper !== "beyond the paper");
  const extraFigs = figures.filter((f) => f.paper === "beyond the paper");
  const timings = Object.entries(summary.timings).map(([k, v]) =>
    `<tr><td>${esc(k)}</td><td>${v.toFixed(1)} s</td></tr>`
  ).join("");
  const total = Object.values(summary.timings).reduce((s, v) => s + v, 0);
  const claimRows = claims.map((c) =>
    `<tr><td>${esc(c.figure)}</td><td>${esc(c.model)}</td><td>${esc(c.statement)}</td><td>${
      num(c.value)
    } [${num(c.interval[0])}, ${num(c.interval[1])}]</td><td>${verdictBadge(c.holds)}</td></tr>`
  ).join("");
  const stab = _stabilityRows(analyses);
  const quality = _qualityRows(analyses);
  const sectionFor = (f: RenderedFigure) => _figureSection(f, claims, analyses, kindOf);
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
<nav>${
    figures.map((f) =>
      `<a href="#${esc(f.id)}">${esc(f.paper === "beyond the paper" ? f.title : f.paper)}</a>`
    ).join(
      "",
    )
  }<a href="#explorer-section">unit explorer</a><a href="#glossary">glossary</a></nav>
<section id="summary"><h2>Run summary</h2>
<table>
<tr><th>models</th><td>${
    summary.models.map((m) =>
      `<b>${esc(m.name)}</b> — <code>${esc(m.path)}</code>${
        m.sha256 ? ` (sha256 ${esc(m.sha256.slice(0, 16))}…)` : ""
      }${m.runtime ? `, runtime ${esc(m.runtime)}` : ""}; layers ${esc(m.layers.join(", "))}`
    ).join("<br>")
  }</td></tr>
<tr><th>data</th><td>${esc(summary.data)}</td></tr>
<tr><th>root seed</th><td>${esc(summary.seed)}</td></tr>
<tr><th>GPU adapter</th><td>${esc(summary.adapter)}</td></tr>
<tr><th>started</th><td>${esc(summary.started)}</td></tr>
<tr><th>parameters</th><td><code>${esc(JSON.stringify(summary.parameters))}</code></td></tr>
<tr><th>versions</th><td>${
    Object.entries(summary.versions).map(([k, v]) => `${esc(k)} ${esc(v)}`).join(", ")
  }</td></tr>
<tr><th>timings</th><td><table class="small">${timings}<tr><th>total</th><th>${
    total.toFixed(1)
  } s</th></tr></table></td></tr>
</table></section>
<section id="claims"><h2>Claims at a glance</h2>
<table class="small"><tr><th>figure</th><th>model</th><th>paper's claim</th><th>statistic [95 % interval]</th><th>verdict</th></tr>${claimRows}</table>
</section>
${paperFigs.map(sectionFor).join("\n")}
<h2 id="beyond">Beyond the paper</h2>
${extraFigs.map(sectionFor).join("\n")}
<section id="quality-table"><h3>Map quality per layer</h3>
<table class="small"><tr><th>model</th><th>layer</th><th>grid</th><th>code dim</th><th>final loss</th><th>quantization error</th><th>topographic error</th><th>mean weight cosine distance</th></tr>${quality}</table></section>
<section id="stability"><h3>SOM-seed ensemble: placement stability</h3>
${
    stab
      ? `<table class="small"><tr><th>model</th><th>layer</th><th>seeds</th><th>stability [95 % interval]</th><th>mean centre displacement (grid units)</th><th>between-class distance</th><th>aligning symmetry per pair</th></tr>${stab}</table>`
      : "<p>No seed ensemble in this run.</p>"
  }</section>
<section id="explorer-section"><h2>Unit explorer</h2>
<p>Each cell is a SOM unit, coloured by the class that most often has it as first BMU (opacity = BMU density); ● marks class-centre units. Hover a unit for the classes mapped there.</p>
<div id="explorer"></div>
<script type="application/json" id="explorer-data">${
    explorerData(analyses, options.classNames)
  }</script>
<script>${EXPLORER_JS}</script>
</section>
<section id="glossary"><h2>Glossary</h2><dl>${
    GLOSSARY.map(([t, d]) => `<dt><b>${esc(t)}</b></dt><dd>${esc(d)}</dd>`).join("")
  }</dl></section>
</body></html>
`;
}
