/**
 * Fig. 4 and Supp. Fig. 1: BMU density maps (periodic kernel density of SOM-tr first BMUs).
 *
 * @module
 */

import type { LayerAnalysis, ModelAnalysis } from "../../analysis/analyze.ts";
import { maxOf, type Row, values } from "./_common.ts";
import { gridRows, heatSpec } from "./_heatmap.ts";
import type { FigureSpec } from "./spec.ts";

const _TITLE = "density ×100 (per unit²)";

function _densityRows(a: ModelAnalysis, layers: readonly LayerAnalysis[]): Row[] {
  return layers.flatMap((l) =>
    gridRows(`${a.model} · ${l.layer}`, l.grid.m, l.grid.n, (u) => l.density.density[u] * 100)
  );
}

/**
 * Fig. 4: BMU density of the second layer of each model (CL2 for CNNs), ×100 as in the paper.
 *
 * @param as Analysed models.
 * @returns The figure `fig04_bmu_density`.
 * @example
 * ```ts
 * import { analyzeModel } from "../../../mod.ts";
 * import { densityFigure } from "./density.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const weights = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
 * const a = analyzeModel("toy", [{
 *   layer: "CL1", grid: { m: 4, n: 4 }, dim: 2, weights, losses: [0.5, 0.4], k: 2, train: split, val: split,
 * }]);
 * assertEquals(densityFigure([a]).id, "fig04_bmu_density");
 * ```
 */
export function densityFigure(as: readonly ModelAnalysis[]): FigureSpec {
  const rows = as.flatMap((a) => _densityRows(a, [a.layers[Math.min(1, a.layers.length - 1)]]));
  return {
    id: "fig04_bmu_density",
    paper: "Fig. 4",
    title: "BMU density (second layer)",
    caption: "Periodic Gaussian kernel density of SOM-tr first BMUs (Scott's bandwidth), " +
      "×100 as in the paper, for the second layer of each model (CL2 for CNNs).",
    spec: heatSpec(
      rows,
      "Fig. 4 — BMU density, second layer (×100, per unit²)",
      _TITLE,
      "viridis",
      [0, maxOf(values(rows))],
      4,
      160,
    ),
  };
}

/**
 * Supp. Fig. 1: BMU density of every layer of every model, one colour scale for all panels.
 *
 * @param as Analysed models.
 * @returns The figure `supp01_bmu_density`.
 * @example
 * ```ts
 * import { analyzeModel } from "../../../mod.ts";
 * import { densityAllLayersFigure } from "./density.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const weights = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
 * const a = analyzeModel("toy", [{
 *   layer: "CL1", grid: { m: 4, n: 4 }, dim: 2, weights, losses: [0.5, 0.4], k: 2, train: split, val: split,
 * }]);
 * assertEquals(densityAllLayersFigure([a]).id, "supp01_bmu_density");
 * ```
 */
export function densityAllLayersFigure(as: readonly ModelAnalysis[]): FigureSpec {
  const rows = as.flatMap((a) => _densityRows(a, a.layers));
  const order = [...new Set(rows.map((r) => r.panel as string))];
  return {
    id: "supp01_bmu_density",
    paper: "Supp. Fig. 1",
    title: "BMU density, every layer",
    caption: "As Fig. 4 for every layer of every model; one colour scale for all panels.",
    spec: heatSpec(
      rows,
      "Supp. Fig. 1 — BMU density per layer (×100, per unit²)",
      _TITLE,
      "viridis",
      [0, maxOf(values(rows))],
      4,
      120,
      "panel",
      order,
    ),
  };
}
