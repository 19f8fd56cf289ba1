/**
 * Private helpers for precomputed box plots (quartiles from {@linkcode boxStats}, drawn as a
 * whisker rule, an IQR bar, a median tick and outlier points) and the one-panel-per-model
 * layout most box figures share.
 *
 * @module
 */

import type { BoxStats } from "../../analysis/box_stats.ts";
import { niceDomain, panelWidth, round6, type Row, specHead } from "./_common.ts";

/** Inline rows of one box: a `box` row with the quartiles and one `outlier` row per outlier. */
export function boxRows(base: Row, b: BoxStats): Row[] {
  if (b.n === 0) return [];
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

/** Every value a set of box rows draws (whiskers and outliers), for the axis domain. */
export function boxExtent(rows: readonly Row[]): number[] {
  return rows.flatMap((r) =>
    [r.lo, r.hi, r.value].filter((v): v is number => typeof v === "number")
  );
}

/** Layers of a precomputed box plot: whisker rule, IQR bar, median tick, outlier points. */
export function boxLayers(
  x: Record<string, unknown>,
  offset: string | null,
  color: Record<string, unknown>,
  yTitle: string,
  yDomain: [number, number],
): Record<string, unknown>[] {
  const off = offset ? { xOffset: { field: offset, type: "nominal", sort: color.sort } } : {};
  const box = { filter: "datum.part === 'box'" };
  const tooltip = [
    { field: "q1", type: "quantitative", format: ".3~g" },
    { field: "median", type: "quantitative", format: ".3~g" },
    { field: "q3", type: "quantitative", format: ".3~g" },
  ];
  const y = (field: string, title?: string) => ({
    field,
    type: "quantitative",
    ...(title ? { title } : {}),
    scale: { domain: yDomain, nice: false, zero: false },
    axis: { format: "~g", tickCount: 6 },
  });
  return [
    {
      transform: [box],
      mark: { type: "rule" },
      encoding: { x, ...off, y: y("lo", yTitle), y2: { field: "hi" }, color },
    },
    {
      transform: [box],
      mark: { type: "bar", size: 10, stroke: "black", strokeWidth: 0.5 },
      encoding: { x, ...off, y: y("q1"), y2: { field: "q3" }, color, tooltip },
    },
    {
      transform: [box],
      mark: { type: "tick", color: "black", size: 10, thickness: 1.5 },
      encoding: { x, ...off, y: y("median") },
    },
    {
      transform: [{ filter: "datum.part === 'outlier'" }],
      mark: { type: "point", filled: false, size: 16 },
      encoding: { x, ...off, y: y("value"), color },
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
  return { field, type: "nominal", title, sort: domain, scale: { domain, range } };
}

/** The nominal x encoding of per-layer box plots, layers in `order`. */
export function layerX(order: string[]): Record<string, unknown> {
  return { field: "layer", type: "nominal", sort: order, title: "layer", axis: { labelAngle: 0 } };
}

/**
 * A box figure with one panel per value of `panelField` (the model, by default): boxes per layer
 * (x), side by side per `offset` group, coloured by `color`; one y scale (with headroom above
 * the highest whisker or outlier) for all panels so they can be compared.
 */
export function panelBoxSpec(
  title: unknown,
  rows: Row[],
  order: string[],
  offset: string | null,
  color: Record<string, unknown>,
  yTitle: string,
  panelField = "model",
  zero = true,
): Record<string, unknown> {
  const panels = [...new Set(rows.map((r) => String(r[panelField])))];
  return {
    ...specHead(title, rows),
    facet: {
      column: { field: panelField, type: "nominal", title: null, sort: panels },
    },
    resolve: { scale: { x: "independent", xOffset: "independent" } },
    spec: {
      width: panelWidth(panels.length, 160, 220, 520),
      height: 240,
      layer: boxLayers(layerX(order), offset, color, yTitle, niceDomain(boxExtent(rows), zero)),
    },
  };
}
