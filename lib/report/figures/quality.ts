/**
 * Beyond the paper: map quality (quantization and topographic error, seed stability) per layer,
 * and the U-matrix of every map.
 *
 * @module
 */

import type { ModelAnalysis } from "../../analysis/analyze.ts";
import {
  layerOrder,
  layerScheme,
  maxOf,
  modelGridFacet,
  round6,
  type Row,
  specHead,
  values,
} from "./_common.ts";
import { gridRows, heatSpec } from "./_heatmap.ts";
import type { FigureSpec } from "./spec.ts";

function _qualityRows(as: readonly ModelAnalysis[]): Row[] {
  const rows: Row[] = [];
  for (const a of as) {
    for (const l of a.layers) {
      const row = (metric: string, v: number) =>
        rows.push({ model: a.model, layer: l.layer, metric, value: round6(v) });
      row("quantization error (cosine distance)", l.quality.quantizationError);
      row("topographic error (fraction)", l.quality.topographicError);
      if (l.ensemble) row("placement stability (1 = same place)", l.ensemble.stability);
    }
  }
  return rows;
}

/**
 * Bars of quantization error, topographic error and (with a seed ensemble) placement stability
 * per layer, one column per model.
 *
 * @param as Analysed models.
 * @returns The figure `extra_map_quality`.
 * @example
 * ```ts
 * import { analyzeModel } from "../../../mod.ts";
 * import { mapQualityFigure } from "./quality.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const weights = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
 * const a = analyzeModel("toy", [{
 *   layer: "CL1", grid: { m: 4, n: 4 }, dim: 2, weights, losses: [0.5, 0.4], k: 2, train: split, val: split,
 * }]);
 * assertEquals(mapQualityFigure([a]).id, "extra_map_quality");
 * ```
 */
export function mapQualityFigure(as: readonly ModelAnalysis[]): FigureSpec {
  const order = layerOrder(as);
  return {
    id: "extra_map_quality",
    paper: "beyond the paper",
    title: "Map quality and seed stability per layer",
    caption: "Quantization error (mean cosine distance to the BMU), topographic error (share " +
      "of inputs whose two best units are not torus neighbours) and, with a seed ensemble, " +
      "class-placement stability after aligning the maps modulo torus symmetries.",
    spec: {
      ...specHead("Beyond the paper — map quality and seed stability", _qualityRows(as)),
      ...modelGridFacet("metric", "model"),
      spec: {
        width: 260,
        height: 110,
        mark: { type: "bar" },
        encoding: {
          x: { field: "layer", type: "nominal", sort: order, title: "layer" },
          y: { field: "value", type: "quantitative", title: "value" },
          color: {
            field: "layer",
            type: "nominal",
            sort: order,
            title: "layer",
            scale: { scheme: layerScheme(order.length) },
          },
        },
      },
    },
  };
}

/**
 * U-matrix of every map: mean cosine distance of each unit's weights to its 8 torus neighbours.
 *
 * @param as Analysed models.
 * @returns The figure `extra_umatrix`.
 * @example
 * ```ts
 * import { analyzeModel } from "../../../mod.ts";
 * import { uMatrixFigure } from "./quality.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const weights = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
 * const a = analyzeModel("toy", [{
 *   layer: "CL1", grid: { m: 4, n: 4 }, dim: 2, weights, losses: [0.5, 0.4], k: 2, train: split, val: split,
 * }]);
 * assertEquals(uMatrixFigure([a]).id, "extra_umatrix");
 * ```
 */
export function uMatrixFigure(as: readonly ModelAnalysis[]): FigureSpec {
  const rows: Row[] = [];
  const order: string[] = [];
  for (const a of as) {
    for (const l of a.layers) {
      const panel = `${a.model} · ${l.layer}`;
      order.push(panel);
      rows.push(...gridRows(panel, l.grid.m, l.grid.n, (u) => l.quality.uMatrix[u]));
    }
  }
  return {
    id: "extra_umatrix",
    paper: "beyond the paper",
    title: "U-matrix per layer",
    caption: "Mean cosine distance of each unit's weights to its 8 torus neighbours; bright " +
      "ridges separate regions of the map. One colour scale for all layers.",
    spec: heatSpec(
      rows,
      "Beyond the paper — U-matrix (mean neighbour cosine distance)",
      "cosine distance",
      "magma",
      [0, Math.max(1e-6, maxOf(values(rows)))],
      4,
      120,
      "panel",
      order,
    ),
  };
}
