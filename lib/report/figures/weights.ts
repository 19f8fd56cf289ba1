/**
 * Figs. 6C,D and 9 (cosine distances between all SOM unit weights) and Figs. 7 and 10 (cosine
 * distances between class-centre weights, per SOM size).
 *
 * @module
 */

import type { ModelAnalysis } from "../../analysis/analyze.ts";
import { layerOrder, maxOf, type Row, specHead, values } from "./_common.ts";
import { boxLayers, boxRows, layerX } from "./_box.ts";
import { gridRows, heatSpec } from "./_heatmap.ts";
import type { FigureSpec } from "./spec.ts";

/**
 * Heat maps of the (block-mean) K×K weight cosine-distance matrix of every layer.
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
  const rows: Row[] = [];
  const order: string[] = [];
  for (const a of as) {
    for (const l of a.layers) {
      const s = l.heatSize, panel = `${a.model} · ${l.layer}`;
      order.push(panel);
      rows.push(...gridRows(panel, s, s, (u) => l.weightCdHeat[u]));
    }
  }
  return {
    id,
    paper,
    title,
    caption: "Cosine distance between the weights of every pair of SOM units (units in " +
      "row-major order on both axes; block means of the full K×K matrix); one colour scale " +
      "for all layers. Small = similar weights.",
    spec: heatSpec(
      rows,
      `${paper} — ${title}`,
      "cosine distance",
      "viridis",
      [0, Math.max(0.01, maxOf(values(rows)))],
      4,
      130,
      "panel",
      order,
    ),
  };
}

/**
 * Boxes of the cosine distances between class-centre weights per layer and SOM size: one panel
 * per model × size (`byModel`, Fig. 7) or one panel per model with sizes side by side (Fig. 10).
 *
 * @param as Analysed models.
 * @param id File stem.
 * @param paper Paper figure mirrored.
 * @param byModel Facet by model and size (true) or by model only (false).
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
 * assertEquals(centreDistanceFigure([a], "fig07_centre_cd", "Fig. 7", true).id, "fig07_centre_cd");
 * ```
 */
export function centreDistanceFigure(
  as: readonly ModelAnalysis[],
  id: string,
  paper: string,
  byModel: boolean,
): FigureSpec {
  const rows: Row[] = [];
  for (const a of as) {
    for (const l of a.layers) {
      for (const c of l.centreCd) {
        rows.push(...boxRows({ model: a.model, layer: l.layer, size: c.size }, c.box));
      }
    }
  }
  const sizes = [...new Set(rows.map((r) => r.size as string))].sort((p, q) =>
    parseInt(p) - parseInt(q)
  );
  const x = layerX(layerOrder(as));
  const color = byModel ? { field: "model", type: "nominal", title: "model" } : {
    field: "size",
    type: "nominal",
    title: "SOM size",
    sort: sizes,
    scale: { scheme: "category10" },
  };
  const head = specHead(`${paper} — cosine distance between class-centre weights`, rows);
  const resolve = { scale: { x: "independent", xOffset: "independent" } };
  const spec = byModel
    ? {
      ...head,
      facet: {
        row: { field: "model", type: "nominal", title: "model" },
        column: { field: "size", type: "nominal", sort: sizes, title: "SOM size" },
      },
      resolve,
      spec: { width: 170, height: 150, layer: boxLayers(x, null, color, "cosine distance") },
    }
    : {
      ...head,
      facet: { row: { field: "model", type: "nominal", title: "model" } },
      resolve,
      spec: { width: 520, height: 200, layer: boxLayers(x, "size", color, "cosine distance") },
    };
  return {
    id,
    paper,
    title: "Cosine distance between class-centre weights",
    caption: "For each SOM size, the cosine distances between the weights of the centre units " +
      "of up to 100 classes (all pairs); box = quartiles over pairs.",
    spec,
  };
}
