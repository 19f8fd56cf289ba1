/**
 * Private helpers shared by the figure-family modules: the row type of inline data, the
 * Vega-Lite schema and page config, number rounding and layer ordering.
 *
 * @module
 */

import type { ModelAnalysis } from "../../analysis/analyze.ts";

/** One row of a figure's inline data. */
export type Row = Record<string, string | number | null>;

/** Vega-Lite schema every spec names. */
export const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** Fonts and sizes shared by every figure. */
export const CONFIG = {
  font: "DejaVu Sans, Helvetica, Arial, sans-serif",
  title: { fontSize: 14, anchor: "start" },
  axis: { labelFontSize: 10, titleFontSize: 11 },
  legend: { labelFontSize: 10, titleFontSize: 11, titleLimit: 400 },
  header: { labelFontSize: 11, titleFontSize: 11 },
  view: { stroke: "#bbb" },
};

/** The keys every top-level spec opens with: schema, title, config and inline data. */
export function specHead(title: unknown, rows: Row[]): Record<string, unknown> {
  return { $schema: SCHEMA, title, config: CONFIG, data: { values: rows } };
}

/**
 * Facets of a panel grid: one row per value of `rowField` (untitled), one column per model; x
 * and y scales independent per panel.
 */
export function modelGridFacet(rowField: string, columnTitle: string): Record<string, unknown> {
  return {
    facet: {
      row: { field: rowField, type: "nominal", title: null },
      column: { field: "model", type: "nominal", title: columnTitle },
    },
    resolve: { scale: { x: "independent", y: "independent" } },
  };
}

/** Categorical scheme with enough colours for `n` layers. */
export function layerScheme(n: number): string {
  return n <= 10 ? "category10" : "tableau20";
}

/** A finite number rounded to 6 significant digits (keeps inline data small); else null. */
export function round6(x: number): number | null {
  return Number.isFinite(x) ? +x.toPrecision(6) : null;
}

/** Largest finite value, or −Infinity when there is none. */
export function maxOf(xs: Iterable<number>): number {
  let m = -Infinity;
  for (const x of xs) if (Number.isFinite(x) && x > m) m = x;
  return m;
}

/** Layer labels of several models in first-seen order (the x order of per-layer plots). */
export function layerOrder(as: readonly ModelAnalysis[]): string[] {
  const out: string[] = [];
  for (const a of as) for (const l of a.layers) if (!out.includes(l.layer)) out.push(l.layer);
  return out;
}

/** Values of a numeric column of rows. */
export function values(rows: readonly Row[], field = "value"): number[] {
  return rows.map((r) => r[field] as number);
}
