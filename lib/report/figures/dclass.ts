/**
 * Fig. 6A,B and Supp. Fig. 3: distances of BMUs to class centres, as boxes over classes per
 * layer.
 *
 * @module
 */

import type { ModelAnalysis } from "../../analysis/analyze.ts";
import { boxStats } from "../../analysis/box_stats.ts";
import { layerOrder, type Row } from "./_common.ts";
import { boxRows, fixedColor, modelColumnBoxSpec } from "./_box.ts";
import type { FigureSpec } from "./spec.ts";

/**
 * Fig. 6A,B: D_class of SOM-tr and SOM-val examples per layer, one column per model.
 *
 * @param as Analysed models.
 * @returns The figure `fig06ab_dclass`.
 * @example
 * ```ts
 * import { analyzeModel } from "../../../mod.ts";
 * import { dClassFigure } from "./dclass.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const weights = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
 * const a = analyzeModel("toy", [{
 *   layer: "CL1", grid: { m: 4, n: 4 }, dim: 2, weights, losses: [0.5, 0.4], k: 2, train: split, val: split,
 * }]);
 * assertEquals(dClassFigure([a]).id, "fig06ab_dclass");
 * ```
 */
export function dClassFigure(as: readonly ModelAnalysis[]): FigureSpec {
  const rows: Row[] = [];
  for (const a of as) {
    for (const l of a.layers) {
      rows.push(...boxRows({ model: a.model, layer: l.layer, split: "SOM-tr" }, l.dClassTrainBox));
      rows.push(...boxRows({ model: a.model, layer: l.layer, split: "SOM-val" }, l.dClassValBox));
    }
  }
  return {
    id: "fig06ab_dclass",
    paper: "Fig. 6A,B",
    title: "D_class: distance of BMUs to their class centre",
    caption: "Per class, the mean torus distance between its examples' top-10 BMUs and the " +
      "class centre (centres from SOM-tr); box = quartiles over classes, whiskers 1.5 IQR, " +
      "circles = outlier classes.",
    spec: modelColumnBoxSpec(
      "Fig. 6A,B — D_class per layer (box over classes)",
      rows,
      layerOrder(as),
      "split",
      fixedColor("split", "examples", ["SOM-tr", "SOM-val"], ["#1f77b4", "#ff7f0e"]),
      "D_class (grid units)",
      300,
    ),
  };
}

/**
 * Supp. Fig. 3: distance of SOM-val BMUs to the label's centre, for correctly and wrongly
 * predicted examples, per layer.
 *
 * @param as Analysed models.
 * @returns The figure `supp03_correct_incorrect`.
 * @example
 * ```ts
 * import { analyzeModel } from "../../../mod.ts";
 * import { correctnessFigure } from "./dclass.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const weights = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
 * const a = analyzeModel("toy", [{
 *   layer: "CL1", grid: { m: 4, n: 4 }, dim: 2, weights, losses: [0.5, 0.4], k: 2, train: split, val: split,
 * }]);
 * assertEquals(correctnessFigure([a]).id, "supp03_correct_incorrect");
 * ```
 */
export function correctnessFigure(as: readonly ModelAnalysis[]): FigureSpec {
  const rows: Row[] = [];
  for (const a of as) {
    for (const l of a.layers) {
      for (const group of ["Corr", "InCorr"] as const) {
        const vs = l.correctness.map((c) => group === "Corr" ? c.correct : c.incorrect);
        rows.push(...boxRows({ model: a.model, layer: l.layer, group }, boxStats(vs)));
      }
    }
  }
  return {
    id: "supp03_correct_incorrect",
    paper: "Supp. Fig. 3",
    title: "Distance to the label centre, right vs wrong predictions",
    caption: "Per class, the mean torus distance between SOM-val examples' top-10 BMUs and " +
      "their label's centre (from SOM-tr), separately for correctly (Corr) and wrongly " +
      "(InCorr) predicted examples; box over classes.",
    spec: modelColumnBoxSpec(
      "Supp. Fig. 3 — distance to the label centre by prediction correctness",
      rows,
      layerOrder(as),
      "group",
      fixedColor("group", "prediction", ["Corr", "InCorr"], ["#1f77b4", "#d62728"]),
      "distance to label centre (grid units)",
      300,
    ),
  };
}
