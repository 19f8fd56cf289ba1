/**
 * Fig. 8: D_class (SOM-val) and class-centre distances side by side for several data sets.
 *
 * @module
 */

import type { ModelAnalysis } from "../../analysis/analyze.ts";
import {
  categoryColor,
  CONFIG,
  layerOrder,
  niceDomain,
  panelWidth,
  type Row,
  SCHEMA,
} from "./_common.ts";
import { boxExtent, boxLayers, boxRows, layerX } from "./_box.ts";
import type { FigureSpec } from "./spec.ts";

/** One row of panels (one per model / data set) of one statistic. */
function _row(rows: Row[], order: string[], panels: string[], yTitle: string, title: string) {
  return {
    title: { text: title, fontSize: 13 },
    data: { values: rows },
    facet: { column: { field: "panel", type: "nominal", sort: panels, title: null } },
    resolve: { scale: { x: "independent" } },
    spec: {
      width: panelWidth(panels.length, 160, 200, 480),
      height: 180,
      layer: boxLayers(
        layerX(order),
        null,
        categoryColor("panel", "model · data set", panels),
        yTitle,
        niceDomain(boxExtent(rows)),
      ),
    },
  };
}

/**
 * Fig. 8: (A) D_class of SOM-val and (B) class-centre cosine distances at the main SOM size,
 * one panel per model · data set. Drawn only for runs with several data sets.
 *
 * @param as Analysed models.
 * @param datasets Data set of each analysis (same order).
 * @returns The figure `fig08_datasets`.
 * @example
 * ```ts
 * import { analyzeModel } from "../../../mod.ts";
 * import { datasetsFigure } from "./datasets.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const weights = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
 * const a = analyzeModel("toy", [{
 *   layer: "CL1", grid: { m: 4, n: 4 }, dim: 2, weights, losses: [0.5, 0.4], k: 2, train: split, val: split,
 * }]);
 * assertEquals(datasetsFigure([a, a], ["cifar10", "svhn"]).id, "fig08_datasets");
 * ```
 */
export function datasetsFigure(as: readonly ModelAnalysis[], datasets: string[]): FigureSpec {
  const a: Row[] = [], b: Row[] = [];
  as.forEach((m, i) => {
    const panel = `${m.model} · ${datasets[i]}`;
    for (const l of m.layers) {
      a.push(...boxRows({ panel, layer: l.layer }, l.dClassValBox));
      const main = l.centreCd.find((c) => c.grid.m === l.grid.m && c.grid.n === l.grid.n);
      if (main) b.push(...boxRows({ panel, layer: l.layer }, main.box));
    }
  });
  const panels = as.map((m, i) => `${m.model} · ${datasets[i]}`), order = layerOrder(as);
  return {
    id: "fig08_datasets",
    paper: "Fig. 8",
    title: "Across data sets",
    caption: "The paper's Fig. 8 compares ResNet50 on CIFAR10, CIFAR100 and SVHN; here each " +
      "panel is one model on one data set: (A) D_class of SOM-val, (B) class-centre cosine " +
      "distances at the main SOM size; box = quartiles over classes (A) or class pairs (B).",
    spec: {
      $schema: SCHEMA,
      title: "Fig. 8 — D_class and class-centre distances across data sets",
      config: CONFIG,
      vconcat: [
        _row(a, order, panels, "D_class (grid units)", "A: D_class, SOM-val"),
        _row(b, order, panels, "cosine distance", "B: class-centre cosine distance"),
      ],
    },
  };
}
