/**
 * Fig. 5 and Supp. Fig. 2: where the top-k BMUs of a few selected classes fall, per layer, for
 * SOM-tr examples (filled dots) and SOM-val examples (rings) on the same map.
 *
 * @module
 */

import type { LayerAnalysis, ModelAnalysis } from "../../analysis/analyze.ts";
import { maxOf, panelWidth, type Row, specHead, SPLIT_COLORS } from "./_common.ts";
import type { FigureSpec } from "./spec.ts";

function _rows(a: ModelAnalysis, names?: string[]): Row[] {
  const rows: Row[] = [];
  for (const l of a.layers) {
    for (const [split, list] of [["SOM-tr", l.bmusByClass.train], ["SOM-val", l.bmusByClass.val]]) {
      for (const c of list as LayerAnalysis["bmusByClass"]["train"]) {
        const cls = names?.[c.label] ? `${c.label} ${names[c.label]}` : `class ${c.label}`;
        for (const [u, cnt] of c.units) {
          rows.push({
            layer: l.layer,
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

/** Tick values every 1, 2, 5, 10… units, about five per axis. */
function _ticks(size: number): number[] {
  const step = [1, 2, 5, 10, 20, 50, 100].find((s) => s >= size / 5) ?? 200;
  return Array.from({ length: Math.ceil(size / step) }, (_, i) => i * step);
}

/** A grid-position axis over `size` units (rows drawn top-down, as on the unit maps). */
function _unitAxis(field: string, title: string, size: number, reverse: boolean) {
  return {
    field,
    type: "quantitative",
    title,
    scale: { domain: reverse ? [size - 0.5, -0.5] : [-0.5, size - 0.5], nice: false, zero: false },
    axis: { values: _ticks(size), grid: false },
  };
}

/** Legend values for hit counts: 1, a middle value and the maximum. */
function _sizeValues(max: number): number[] {
  if (max <= 1) return [1];
  const mid = Math.round(max / 2);
  return [...new Set([1, mid, max])].filter((v) => v >= 1);
}

/**
 * The top-k BMU positions per example, derived from the data: hits of a class over its example
 * count (each example contributes k hits).
 */
function _k(l: LayerAnalysis): number | null {
  const c = l.bmusByClass.train[0];
  const d = c && l.dClassTrain.find((x) => x.label === c.label);
  if (!d || d.count === 0) return null;
  const hits = c.units.reduce((s, [, n]) => s + n, 0);
  return Number.isInteger(hits / d.count) ? hits / d.count : null;
}

/**
 * BMUs of the featured classes of one model: one row of panels per layer, one column per class;
 * filled dots = SOM-tr, rings = SOM-val, area = how many of the class's BMUs hit the unit.
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
  const rows = _rows(a, names);
  const classes = [...new Set(rows.map((r) => r.cls as string))];
  const side = Math.min(220, panelWidth(Math.max(1, classes.length), 140, 110, 220));
  const max = Math.max(1, maxOf(rows.map((r) => r.count as number)));
  const size = {
    field: "count",
    type: "quantitative",
    title: "BMU hits",
    scale: { domain: [1, max], range: [12, 260], zero: false },
    legend: { values: _sizeValues(max) },
  };
  const color = { field: "split", type: "nominal", title: "examples", scale: SPLIT_COLORS };
  const x = _unitAxis("col", "SOM column", g.n, false), y = _unitAxis("row", "SOM row", g.m, true);
  const k = _k(a.layers[0]);
  return {
    id,
    paper,
    title: `BMUs of selected classes (${a.model})`,
    caption: `Top-${k ?? "k"} BMUs of SOM-tr (training, filled dots) and SOM-val (unseen, ` +
      `rings) examples of ${classes.length} classes, per layer of ${a.model}; dot area = how ` +
      "many of the class's BMUs hit the unit. The map is a torus: clusters at opposite edges " +
      "are neighbours.",
    spec: {
      ...specHead({
        text: `${paper} — BMUs of selected classes, ${a.model}`,
        subtitle: "filled dots: SOM-tr; rings: SOM-val; one row per layer, one column per class",
      }, rows),
      facet: {
        row: { field: "layer", type: "nominal", sort: a.layers.map((l) => l.layer), title: null },
        column: { field: "cls", type: "nominal", sort: classes, title: null },
      },
      spec: {
        width: side,
        height: Math.round(side * g.m / g.n),
        layer: [
          {
            transform: [{ filter: "datum.split === 'SOM-tr'" }],
            mark: { type: "circle", fillOpacity: 0.55 },
            encoding: { x, y, size, color },
          },
          {
            transform: [{ filter: "datum.split === 'SOM-val'" }],
            mark: { type: "point", filled: false, strokeWidth: 1.5, opacity: 0.9 },
            encoding: { x, y, size, color },
          },
        ],
      },
    },
  };
}
