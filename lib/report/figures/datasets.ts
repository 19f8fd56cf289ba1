/**
 * Fig. 8: D_class (SOM-val) and class-centre distances side by side for every model and data
 * set of the run.
 *
 * @module
 */

import type { ModelAnalysis } from "../../analysis/analyze.ts";
import { layerOrder, modelGridFacet, type Row, specHead } from "./_common.ts";
import { boxLayers, boxRows, layerX } from "./_box.ts";
import type { FigureSpec } from "./spec.ts";

/**
 * Fig. 8: (A) D_class of SOM-val and (B) class-centre cosine distances at the main SOM size,
 * one column per model / data set.
 *
 * @param as Analysed models.
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
 * assertEquals(datasetsFigure([a]).id, "fig08_datasets");
 * ```
 */
export function datasetsFigure(as: readonly ModelAnalysis[]): FigureSpec {
  const rows: Row[] = [];
  for (const a of as) {
    a.layers.forEach((l, i) => {
      const base = { model: a.model, layer: l.layer, depth: `${i + 1}/${a.layers.length}` };
      rows.push(...boxRows({ ...base, what: "A: D_class, SOM-val (grid units)" }, l.dClassValBox));
      const main = l.centreCd.find((c) => c.grid.m === l.grid.m && c.grid.n === l.grid.n);
      if (main) {
        rows.push(...boxRows({ ...base, what: "B: class-centre cosine distance" }, main.box));
      }
    });
  }
  const color = { field: "model", type: "nominal", title: "model / data set" };
  return {
    id: "fig08_datasets",
    paper: "Fig. 8",
    title: "Across models and data sets",
    caption: "The paper's Fig. 8 compares ResNet50 on CIFAR10, CIFAR100 and SVHN; this run " +
      "compares the models and data sets it analysed: (A) D_class of SOM-val, (B) class-centre " +
      "cosine distances at the main SOM size.",
    spec: {
      ...specHead("Fig. 8 — D_class and class-centre distances across models/data sets", rows),
      ...modelGridFacet("what", "model / data set"),
      spec: {
        width: 260,
        height: 150,
        layer: boxLayers(layerX(layerOrder(as)), null, color, "value"),
      },
    },
  };
}
