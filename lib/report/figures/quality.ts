/**
 * Beyond the paper: map quality (quantization and topographic error, seed stability) per layer,
 * and the U-matrix of every map.
 *
 * @module
 */

import type { ModelAnalysis } from "../../analysis/analyze.ts";
import {
  CATEGORY_COLORS,
  CONFIG,
  niceDomain,
  panelWidth,
  round6,
  type Row,
  SCHEMA,
} from "./_common.ts";
import { heatFigure } from "./_heatmap.ts";
import type { FigureSpec } from "./spec.ts";

interface _Metric {
  title: string;
  axis: string;
  value: (l: ModelAnalysis["layers"][number]) => number | undefined;
  domain: (vs: number[]) => [number, number];
}

const _METRICS: _Metric[] = [
  {
    title: "Quantization error",
    axis: "cosine distance",
    value: (l) => l.quality.quantizationError,
    domain: (vs) => niceDomain(vs),
  },
  {
    title: "Topographic error",
    axis: "share of codes",
    value: (l) => l.quality.topographicError,
    domain: () => [0, 1],
  },
  {
    title: "Placement stability",
    axis: "stability",
    value: (l) => l.ensemble?.stability,
    domain: (vs) => [Math.min(0, niceDomain(vs, false)[0]), 1],
  },
];

/** One bar panel: a metric per layer of one model, each bar labelled with its value. */
function _panel(a: ModelAnalysis, m: _Metric, color: string, width: number) {
  const rows: Row[] = a.layers.flatMap((l) => {
    const v = m.value(l);
    return v === undefined ? [] : [{ layer: l.layer, value: round6(v) }];
  });
  if (!rows.length) return null;
  const x = {
    field: "layer",
    type: "nominal",
    sort: a.layers.map((l) => l.layer),
    title: "layer",
    axis: { labelAngle: 0 },
  };
  const y = {
    field: "value",
    type: "quantitative",
    title: m.axis,
    scale: { domain: m.domain(rows.map((r) => r.value as number)), nice: false },
    axis: { format: "~g", tickCount: 5 },
  };
  return {
    title: { text: m.title, fontSize: 13, limit: width },
    width,
    height: 150,
    data: { values: rows },
    layer: [
      { mark: { type: "bar", color, width: { band: 0.7 } }, encoding: { x, y } },
      {
        mark: { type: "text", dy: -7, fontSize: 10, color: "#333" },
        encoding: { x, y, text: { field: "value", type: "quantitative", format: ".2~g" } },
      },
    ],
  };
}

/**
 * Bars of quantization error, topographic error and (with a seed ensemble) placement stability
 * per layer: one row of panels per model, one panel per metric, each with its own y axis.
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
  const width = panelWidth(3, 60, 180, 280);
  return {
    id: "extra_map_quality",
    paper: "beyond the paper",
    title: "Map quality and seed stability per layer",
    caption: "Quantization error (mean cosine distance between each SOM-tr code and its BMU; " +
      "lower = the map fits the codes better), topographic error (share of SOM-tr codes whose " +
      "two best units are not torus neighbours; lower = smoother map) and, with a seed " +
      "ensemble, class-placement stability after aligning the maps over the torus symmetries " +
      "(1 = every class lands in the same place with every seed, 0 = no better than unrelated " +
      "classes).",
    spec: {
      $schema: SCHEMA,
      title: "Beyond the paper — Map quality and seed stability",
      config: CONFIG,
      vconcat: as.map((a, i) => ({
        title: { text: a.model, fontSize: 14, anchor: "start" },
        hconcat: _METRICS.map((m) =>
          _panel(a, m, CATEGORY_COLORS[i % CATEGORY_COLORS.length], width)
        ).filter((p) => p !== null),
      })),
    },
  };
}

/**
 * U-matrix of every map: mean cosine distance of each unit's weights to its 8 torus neighbours,
 * one row of panels per model.
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
  const h = heatFigure(
    as.map((a) => ({
      title: a.model,
      panels: a.layers.map((l) => ({
        title: l.layer,
        m: l.grid.m,
        n: l.grid.n,
        value: (u: number) => l.quality.uMatrix[u],
      })),
    })),
    {
      title: "Beyond the paper — U-matrix",
      colorTitle: "neighbour cosine distance",
      scheme: "magma",
    },
  );
  return {
    id: "extra_umatrix",
    paper: "beyond the paper",
    title: "U-matrix per layer",
    caption: "Mean cosine distance of each unit's weights to its 8 torus neighbours; bright " +
      "ridges separate regions of the map, dark basins are regions of similar units." +
      (h.perPanel
        ? " Each panel has its own colour scale (the layers' ranges differ by more than 10×)."
        : " One colour scale for all layers."),
    spec: h.spec,
  };
}
