/**
 * Private helpers for unit heat maps: one rect per SOM unit (or per cell of a K×K matrix),
 * faceted into one panel per model · layer, with one colour scale.
 *
 * @module
 */

import { round6, type Row, specHead } from "./_common.ts";

/** Rows `{panel, row, col, value}` of a row-major `m × n` array of values. */
export function gridRows(
  panel: string,
  m: number,
  n: number,
  value: (u: number) => number,
): Row[] {
  const rows: Row[] = [];
  for (let u = 0; u < m * n; u++) {
    rows.push({ panel, row: Math.floor(u / n), col: u % n, value: round6(value(u)) });
  }
  return rows;
}

/** Faceted heat map of `{panel, row, col, value}` rows with one shared colour scale. */
export function heatSpec(
  rows: Row[],
  title: string,
  colorTitle: string,
  scheme: string,
  domain: [number, number] | null,
  columns: number,
  cell = 130,
  facetField = "panel",
  facetOrder?: string[],
): Record<string, unknown> {
  return {
    ...specHead(title, rows),
    facet: {
      field: facetField,
      type: "nominal",
      sort: facetOrder ?? null,
      title: null,
    },
    columns,
    spec: {
      width: cell,
      height: cell,
      mark: { type: "rect" },
      encoding: {
        x: { field: "col", type: "ordinal", axis: null, title: "SOM column" },
        y: { field: "row", type: "ordinal", axis: null, title: "SOM row" },
        color: {
          field: "value",
          type: "quantitative",
          title: colorTitle,
          scale: { scheme, ...(domain ? { domain } : {}) },
        },
      },
    },
    resolve: { scale: { color: "shared" } },
  };
}
