/**
 * Fig. 5 and Supp. Fig. 2: where the top-10 BMUs of a few selected classes fall, per layer,
 * for SOM-tr and SOM-val examples.
 *
 * @module
 */

import type { LayerAnalysis, ModelAnalysis } from "../../analysis/analyze.ts";
import { type Row, specHead } from "./_common.ts";
import { fixedColor } from "./_box.ts";
import type { FigureSpec } from "./spec.ts";

function _rows(a: ModelAnalysis, names?: string[]): Row[] {
  const rows: Row[] = [];
  for (const l of a.layers) {
    for (const [split, list] of [["SOM-tr", l.bmusByClass.train], ["SOM-val", l.bmusByClass.val]]) {
      for (const c of list as LayerAnalysis["bmusByClass"]["train"]) {
        const cls = names?.[c.label] ? `${c.label} ${names[c.label]}` : `class ${c.label}`;
        for (const [u, cnt] of c.units) {
          rows.push({
            panel: `${l.layer} · ${split}`,
            cls,
            split: split as string,
            row: Math.floor(u / l.grid.n),
            col: u % l.grid.n,
            count: cnt,
          });
        }
      }
    }
  }
  return rows;
}

/** A grid-position axis over `size` units, drawn top-down for rows. */
function _unitAxis(field: string, title: string, size: number, reverse: boolean) {
  return {
    field,
    type: "quantitative",
    title,
    scale: { domain: reverse ? [size - 0.5, -0.5] : [-0.5, size - 0.5], nice: false },
    axis: { tickCount: 3 },
  };
}

/**
 * BMUs of the featured classes of one model: one row of panels per layer · split, one column
 * per class; dot area = how many of the class's top-10 BMUs hit the unit.
 *
 * @param a The analysed model.
 * @param id File stem (`fig05_bmus_by_class` or `supp02_bmus_by_class`).
 * @param paper Paper figure mirrored (`Fig. 5`, `Supp. Fig. 2`).
 * @param names Class names by label, for the column headers.
 * @returns The figure.
 * @example
 * ```ts
 * import { analyzeModel } from "../../../mod.ts";
 * import { bmusByClassFigure } from "./bmus_by_class.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const weights = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
 * const a = analyzeModel("toy", [{
 *   layer: "CL1", grid: { m: 4, n: 4 }, dim: 2, weights, losses: [0.5, 0.4], k: 2, train: split, val: split,
 * }]);
 * assertEquals(bmusByClassFigure(a, "fig05_bmus_by_class", "Fig. 5").paper, "Fig. 5");
 * ```
 */
export function bmusByClassFigure(
  a: ModelAnalysis,
  id: string,
  paper: string,
  names?: string[],
): FigureSpec {
  const g = a.layers[0].grid;
  const order = a.layers.flatMap((l) => [`${l.layer} · SOM-tr`, `${l.layer} · SOM-val`]);
  return {
    id,
    paper,
    title: `BMUs of selected classes (${a.model})`,
    caption:
      `Top-10 BMUs of SOM-tr (training) and SOM-val (unseen) examples of ${a.featuredClasses.length} classes, per layer of ${a.model}; dot area = how many BMUs hit the unit.`,
    spec: {
      ...specHead(`${paper} — BMUs of selected classes, ${a.model}`, _rows(a, names)),
      facet: {
        row: { field: "panel", type: "nominal", sort: order, title: "layer · split" },
        column: { field: "cls", type: "nominal", title: "class" },
      },
      spec: {
        width: 110,
        height: 110,
        mark: { type: "circle", fillOpacity: 0.7, opacity: 1 },
        encoding: {
          x: _unitAxis("col", "SOM column", g.n, false),
          y: _unitAxis("row", "SOM row", g.m, true),
          size: { field: "count", type: "quantitative", title: "BMU hits" },
          color: fixedColor("split", "examples", ["SOM-tr", "SOM-val"], ["#1f77b4", "#d62728"]),
        },
      },
    },
  };
}
