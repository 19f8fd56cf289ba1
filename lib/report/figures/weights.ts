/**
 * Figs. 6C,D and 9 (cosine distances between all SOM unit weights) and Figs. 7 and 10 (cosine
 * distances between class-centre weights, one panel per SOM size, colour = model).
 *
 * @module
 */

import type { ModelAnalysis } from "../../analysis/analyze.ts";
import {
  categoryColor,
  layerOrder,
  niceDomain,
  panelWidth,
  type Row,
  specHead,
} from "./_common.ts";
import { boxExtent, boxLayers, boxRows, layerX } from "./_box.ts";
import { heatFigure } from "./_heatmap.ts";
import type { FigureSpec } from "./spec.ts";

/**
 * Heat maps of the (block-mean) K×K weight cosine-distance matrix of every layer, one row of
 * panels per model.
 *
 * @param as Analysed models (CNNs for Fig. 6C,D, ViTs for Fig. 9).
 * @param id File stem.
 * @param paper Paper figure mirrored.
 * @param title Title.
 * @returns The figure.
 * @example
 * ```ts
 * import { analyzeModel } from "../../../mod.ts";
 * import { weightDistanceFigure } from "./weights.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const weights = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
 * const a = analyzeModel("toy", [{
 *   layer: "CL1", grid: { m: 4, n: 4 }, dim: 2, weights, losses: [0.5, 0.4], k: 2, train: split, val: split,
 * }]);
 * assertEquals(weightDistanceFigure([a], "fig06cd_weight_cd", "Fig. 6C,D", "t").id, "fig06cd_weight_cd");
 * ```
 */
export function weightDistanceFigure(
  as: readonly ModelAnalysis[],
  id: string,
  paper: string,
  title: string,
): FigureSpec {
  const first = as[0]?.layers[0];
  const units = first ? first.grid.m * first.grid.n : 0, s = first?.heatSize ?? 1;
  const h = heatFigure(
    as.map((a) => ({
      title: a.model,
      panels: a.layers.map((l) => ({
        title: l.layer,
        m: l.heatSize,
        n: l.heatSize,
        value: (i: number) => l.weightCdHeat[i],
        // The diagonal holds each unit's distance to itself (0): it would set every range's low end.
        inRange: (i: number) => Math.floor(i / l.heatSize) !== i % l.heatSize,
      })),
    })),
    {
      title: `${paper} — ${title}`,
      colorTitle: "cosine distance",
      scheme: "viridis",
      axes: { x: "unit", y: "unit" },
      unitsPerCell: s > 0 && units > s ? units / s : 1,
    },
  );
  const blocks = units > s
    ? ` Each cell is the mean over a block of ${units / s}×${units / s} unit pairs (the map has ` +
      `${units} units).`
    : "";
  return {
    id,
    paper,
    title,
    caption: "Cosine distance between the weights of every pair of SOM units, units in " +
      "row-major order on both axes; dark = similar weights." + blocks +
      (h.perPanel
        ? " Each panel has its own colour scale (the layers' ranges differ by more than 10×): " +
          "compare the ranges printed above the panels."
        : " One colour scale for all layers, chosen from the range of the off-diagonal values."),
    spec: h.spec,
  };
}

function _centreRows(as: readonly ModelAnalysis[]): Row[] {
  const rows: Row[] = [];
  for (const a of as) {
    for (const l of a.layers) {
      for (const c of l.centreCd) {
        rows.push(...boxRows({ model: a.model, layer: l.layer, size: c.size }, c.box));
      }
    }
  }
  return rows;
}

/** "10 classes (45 pairs)" for every map of the figure, or the range when they differ. */
function _classesUsed(as: readonly ModelAnalysis[]): string {
  const ks = new Set<string>();
  for (const a of as) {
    for (const l of a.layers) {
      for (const c of l.centreCd) ks.add(`${c.labels.length} classes (${c.pairs.length} pairs)`);
    }
  }
  return [...ks].join(" or ");
}

/**
 * Boxes of the cosine distances between class-centre weights per layer: one panel per SOM
 * size, boxes side by side per model (colour = model), one y scale for all sizes.
 *
 * @param as Analysed models (CNNs for Fig. 7, ViTs for Fig. 10).
 * @param id File stem.
 * @param paper Paper figure mirrored.
 * @returns The figure.
 * @example
 * ```ts
 * import { analyzeModel } from "../../../mod.ts";
 * import { centreDistanceFigure } from "./weights.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const weights = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
 * const a = analyzeModel("toy", [{
 *   layer: "CL1", grid: { m: 4, n: 4 }, dim: 2, weights, losses: [0.5, 0.4], k: 2, train: split, val: split,
 * }]);
 * assertEquals(centreDistanceFigure([a], "fig07_centre_cd", "Fig. 7").id, "fig07_centre_cd");
 * ```
 */
export function centreDistanceFigure(
  as: readonly ModelAnalysis[],
  id: string,
  paper: string,
): FigureSpec {
  const rows = _centreRows(as);
  const sizes = [...new Set(rows.map((r) => r.size as string))].sort((p, q) =>
    parseInt(p) - parseInt(q)
  );
  const models = as.map((a) => a.model);
  const color = categoryColor("model", "model", models);
  const yDomain = niceDomain(boxExtent(rows));
  const subtitle = models.length === 1 ? `${models[0]}; ` : "";
  return {
    id,
    paper,
    title: "Cosine distance between class-centre weights",
    caption: "For each SOM size (one panel each), the cosine distances between the weights of " +
      `the centre units of ${_classesUsed(as)}; box = quartiles over pairs, whiskers 1.5 IQR, ` +
      "circles = outlier pairs." + (models.length > 1 ? " Colour = model." : ""),
    spec: {
      ...specHead({
        text: `${paper} — Cosine distance between class-centre weights`,
        subtitle: `${subtitle}one panel per SOM size`,
      }, rows),
      facet: { column: { field: "size", type: "nominal", sort: sizes, title: "SOM size" } },
      resolve: { scale: { x: "independent", xOffset: "independent" } },
      spec: {
        width: panelWidth(sizes.length, models.length > 1 ? 160 : 80, 200, 480),
        height: 240,
        layer: boxLayers(layerX(layerOrder(as)), "model", color, "cosine distance", yDomain),
      },
    },
  };
}
