/**
 * Plain-word pieces of the report about the maps and models: SOM-val accuracy and data counts
 * per model, the map-quality table and the seed-stability table.
 *
 * @module
 */

import type { LayerAnalysis, ModelAnalysis } from "../../analysis/analyze.ts";
import { esc, interval, num, pct } from "./format.ts";

/** SOM-val accuracy of a model: correct / all, from the correctness analysis of its first layer. */
export function valAccuracy(a: ModelAnalysis): { correct: number; total: number } | null {
  const l = a.layers[0];
  if (!l) return null;
  let correct = 0, total = 0;
  for (const c of l.correctness) {
    correct += c.nCorrect;
    total += c.nCorrect + c.nIncorrect;
  }
  return total ? { correct, total } : null;
}

/** Examples counted by a per-class distance list. */
export function exampleCount(ds: { count: number }[]): number {
  return ds.reduce((s, d) => s + d.count, 0);
}

/**
 * The map-quality table, every column explained in its header.
 *
 * @param analyses The analyses.
 * @returns HTML.
 */
export function qualitySection(analyses: readonly ModelAnalysis[]): string {
  const rows = analyses.flatMap((a) =>
    a.layers.map((l) =>
      `<tr><td>${esc(a.model)}</td><td>${
        esc(l.layer)
      }</td><td>${l.grid.m}×${l.grid.n}</td><td class="num">${l.dim}</td><td class="num">${
        num(l.finalLoss)
      }</td><td class="num">${num(l.quality.quantizationError)}</td><td class="num">${
        pct(l.quality.topographicError)
      }</td><td class="num">${num(l.weightCd.mean)}</td></tr>`
    )
  ).join("");
  return `<section id="quality-table"><h3>Map quality per layer</h3>
<table class="small"><tr><th>model</th><th>layer</th><th>grid</th><th>code dimension</th><th>final loss (mean of the last 10 % of batches)</th><th>quantization error (mean cosine distance of a code to its BMU; lower fits better)</th><th>topographic error (share of codes whose two best units are not neighbours; lower is smoother)</th><th>mean cosine distance between unit weights</th></tr>${rows}</table></section>`;
}

/** "flipping rows and shifting by 7 rows and 3 columns": the symmetry that aligned two maps. */
export function symmetryWords(s: {
  transpose?: boolean;
  flipRows?: boolean;
  flipCols?: boolean;
  dr?: number;
  dc?: number;
}): string {
  const parts: string[] = [];
  if (s.transpose) parts.push("transposing");
  if (s.flipRows) parts.push("flipping rows");
  if (s.flipCols) parts.push("flipping columns");
  if (s.dr || s.dc) {
    const n = (k: number, w: string) => `${k} ${w}${k === 1 ? "" : "s"}`;
    parts.push(`shifting by ${n(s.dr ?? 0, "row")} and ${n(s.dc ?? 0, "column")}`);
  }
  if (!parts.length) return "nothing (already aligned)";
  return parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
}

function _stabilityRow(a: ModelAnalysis, l: LayerAnalysis): string {
  const e = l.ensemble!;
  const seeds = e.dClassTrainBySeed.length;
  const iv = interval(e.stabilityInterval);
  // Seeds are numbered in order of appearance: the raw seed values say nothing to a reader.
  const ids: unknown[] = [];
  for (const p of e.pairs) for (const s of [p.seedA, p.seedB]) if (!ids.includes(s)) ids.push(s);
  const pairs = e.pairs.map((p) =>
    `<li>seed ${ids.indexOf(p.seedA) + 1} vs seed ${ids.indexOf(p.seedB) + 1}: aligned by ${
      symmetryWords(p.alignment.symmetry)
    }: matched unit weights then differ by a cosine distance of ${num(p.alignment.cost)} (${
      num(p.alignment.identityCost)
    } without aligning)</li>`
  ).join("");
  const verdict = e.stability > 0.5
    ? "classes land in about the same place with every seed"
    : e.stability > 0.2
    ? "classes land in partly the same place"
    : "class placement changes from seed to seed";
  return `<tr><td>${esc(a.model)}</td><td>${esc(l.layer)}</td><td class="num">${seeds}</td><td><b>${
    num(e.stability)
  }</b>${iv ? ` ${iv}` : ""} — ${verdict}</td><td>class centres move ${
    num(e.meanDisplacement)
  } grid units between seeds, against ${
    num(e.nullDisplacement)
  } between the centres of different classes</td><td><details><summary>${e.pairs.length} pair${
    e.pairs.length === 1 ? "" : "s"
  } of maps</summary><ul class="tight">${pairs}</ul></details></td></tr>`;
}

/**
 * The seed-ensemble table in plain words.
 *
 * @param analyses The analyses.
 * @returns HTML.
 */
export function stabilitySection(analyses: readonly ModelAnalysis[]): string {
  const rows = analyses.flatMap((a) =>
    a.layers.filter((l) => l.ensemble).map((l) => _stabilityRow(a, l))
  ).join("");
  return `<section id="stability"><h3>Seed stability of class placement</h3>
${
    rows
      ? `<p>SOMs of the main size were trained with several seeds. Each map is aligned with the first over the torus symmetries (shifts, flips and, on square grids, transposition), choosing the one that makes matched unit weights most similar; stability = 1 − (how far a class centre moves between seeds) / (how far apart the centres of different classes are): 1 = every class lands in the same place, 0 = no better than unrelated classes.</p>
<table class="small"><tr><th>model</th><th>layer</th><th>seeds</th><th>stability [interval]</th><th>centre movement</th><th>alignment of each pair of maps</th></tr>${rows}</table>`
      : "<p>This run trained one seed per map, so there is no seed-stability analysis (it needs at least two seeds).</p>"
  }</section>`;
}
