/**
 * Private helpers for precomputed box plots (quartiles from {@linkcode boxStats}, drawn as a
 * whisker rule, an IQR bar, a median tick and outlier points) and the one-column-per-model
 * layout most box figures share.
 *
 * @module
 */

import type { BoxStats } from "../../analysis/box_stats.ts";
import { round6, type Row, specHead } from "./_common.ts";

/** Inline rows of one box: a `box` row with the quartiles and one `outlier` row per outlier. */
export function boxRows(base: Row, b: BoxStats): Row[] {
  return [
    {
      ...base,
      part: "box",
      q1: round6(b.q1),
      median: round6(b.median),
      q3: round6(b.q3),
      lo: round6(b.whiskerLow),
      hi: round6(b.whiskerHigh),
      n: b.n,
      value: null,
    },
    ...b.outliers.map((v) => ({ ...base, part: "outlier", value: round6(v) })),
  ];
}

/** Layers of a precomputed box plot: whisker rule, IQR bar, median tick, outlier points. */
export function boxLayers(
  x: Record<string, unknown>,
  offset: string | null,
  color: Record<string, unknown>,
  yTitle: string,
): Record<string, unknown>[] {
  const off = offset ? { xOffset: { field: offset, type: "nominal" } } : {};
  const box = { filter: "datum.part === 'box'" };
  const tooltip = [
    { field: "q1", type: "quantitative", format: ".3f" },
    { field: "median", type: "quantitative", format: ".3f" },
    { field: "q3", type: "quantitative", format: ".3f" },
  ];
  return [
    {
      transform: [box],
      mark: { type: "rule" },
      encoding: {
        x,
        ...off,
        y: { field: "lo", type: "quantitative", title: yTitle },
        y2: { field: "hi" },
        color,
      },
    },
    {
      transform: [box],
      mark: { type: "bar", size: 9, stroke: "black", strokeWidth: 0.5 },
      encoding: {
        x,
        ...off,
        y: { field: "q1", type: "quantitative" },
        y2: { field: "q3" },
        color,
        tooltip,
      },
    },
    {
      transform: [box],
      mark: { type: "tick", color: "black", size: 9, thickness: 1.5 },
      encoding: { x, ...off, y: { field: "median", type: "quantitative" } },
    },
    {
      transform: [{ filter: "datum.part === 'outlier'" }],
      mark: { type: "point", filled: false, size: 14 },
      encoding: { x, ...off, y: { field: "value", type: "quantitative" }, color },
    },
  ];
}

/** A nominal colour encoding with a fixed domain and colours. */
export function fixedColor(
  field: string,
  title: string,
  domain: string[],
  range: string[],
): Record<string, unknown> {
  return { field, type: "nominal", title, scale: { domain, range } };
}

/** The nominal x encoding of per-layer box plots, layers in `order`. */
export function layerX(order: string[]): Record<string, unknown> {
  return { field: "layer", type: "nominal", sort: order, title: "layer" };
}

/**
 * A box figure with one column per model: boxes per layer (x), side by side per `offset`
 * group, coloured by `color`.
 */
export function modelColumnBoxSpec(
  title: string,
  rows: Row[],
  order: string[],
  offset: string,
  color: Record<string, unknown>,
  yTitle: string,
  width: number,
): Record<string, unknown> {
  return {
    ...specHead(title, rows),
    facet: { column: { field: "model", type: "nominal", title: "model" } },
    resolve: { scale: { x: "independent", xOffset: "independent" } },
    spec: {
      width,
      height: 200,
      layer: boxLayers(layerX(order), offset, color, yTitle),
    },
  };
}
