/**
 * Private helpers shared by the figure-family modules: the row type of inline data, the
 * Vega-Lite schema and page config, the colour-blind-safe palette, page-sized panel widths,
 * axis domains with headroom, and number rounding.
 *
 * @module
 */

import type { ModelAnalysis } from "../../analysis/analyze.ts";

/** One row of a figure's inline data. */
export type Row = Record<string, string | number | null>;

/** Vega-Lite schema every spec names. */
export const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/**
 * Natural width of a figure in pixels. The report page is 1,200 px wide with a margin; figures
 * are drawn at about this width so that they fill the page at 1:1 and are never scaled up.
 */
export const PAGE_WIDTH = 1000;

/** Fonts and sizes shared by every figure. */
export const CONFIG = {
  font: "DejaVu Sans, Helvetica, Arial, sans-serif",
  title: { fontSize: 15, anchor: "start", subtitleFontSize: 12, subtitleColor: "#444" },
  axis: { labelFontSize: 11, titleFontSize: 12, labelOverlap: true, labelFlush: false },
  axisX: { labelAngle: 0 },
  legend: { labelFontSize: 11, titleFontSize: 12, titleLimit: 400, labelLimit: 300 },
  header: { labelFontSize: 12, titleFontSize: 12, labelAngle: 0 },
  view: { stroke: "#bbb" },
  concat: { spacing: 24 },
  facet: { spacing: 24 },
};

/**
 * Okabe & Ito's colour-blind-safe palette (Color Universal Design). Pairs drawn side by side
 * use blue with orange or vermillion, never red with green.
 */
export const OKABE_ITO = {
  blue: "#0072B2",
  orange: "#E69F00",
  sky: "#56B4E9",
  green: "#009E73",
  yellow: "#F0E442",
  vermillion: "#D55E00",
  purple: "#CC79A7",
  grey: "#666666",
};

/** Okabe–Ito colours in the order categories (e.g. models) get them. */
export const CATEGORY_COLORS = [
  OKABE_ITO.blue,
  OKABE_ITO.orange,
  OKABE_ITO.green,
  OKABE_ITO.vermillion,
  OKABE_ITO.purple,
  OKABE_ITO.sky,
  OKABE_ITO.grey,
  OKABE_ITO.yellow,
];

/** The two example splits, blue (SOM-tr) and orange (SOM-val), in every figure. */
export const SPLIT_COLORS = {
  domain: ["SOM-tr", "SOM-val"],
  range: [OKABE_ITO.blue, OKABE_ITO.orange],
};

/** The keys every top-level spec opens with: schema, title, config and inline data. */
export function specHead(title: unknown, rows: Row[]): Record<string, unknown> {
  return { $schema: SCHEMA, title, config: CONFIG, data: { values: rows } };
}

/**
 * Colour scale for layers in depth order: a sequential, colour-blind-safe ramp (plasma, dark
 * blue to orange, without its faint yellow end), so shallow and deep layers read as an order.
 */
export function layerColorScale(order: string[]): Record<string, unknown> {
  return { domain: order, scheme: { name: "plasma", extent: [0, 0.82] } };
}

/** A nominal colour encoding for categories (models), Okabe–Ito colours in order. */
export function categoryColor(
  field: string,
  title: string,
  domain: string[],
): Record<string, unknown> {
  return {
    field,
    type: "nominal",
    title,
    sort: domain,
    scale: { domain, range: CATEGORY_COLORS.slice(0, Math.max(1, domain.length)) },
    ...(domain.length < 2 ? { legend: null } : {}),
  };
}

/**
 * Width of each of `columns` panels side by side so that the figure is about
 * {@linkcode PAGE_WIDTH} wide, leaving `reserve` px for a legend and the y axis.
 */
export function panelWidth(columns: number, reserve = 150, min = 160, max = 520): number {
  const w = (PAGE_WIDTH - reserve) / Math.max(1, columns) - 60;
  return Math.round(Math.min(max, Math.max(min, w)));
}

/**
 * A finite number rounded to 6 significant digits (keeps inline data small), with values within
 * 1e-12 of 0 drawn as 0 (no `−2.2e-16` ticks); null when not finite.
 */
export function round6(x: number): number | null {
  if (!Number.isFinite(x)) return null;
  return Math.abs(x) < 1e-12 ? 0 : +x.toPrecision(6);
}

/** Largest finite value, or −Infinity when there is none. */
export function maxOf(xs: Iterable<number | null>): number {
  let m = -Infinity;
  for (const x of xs) if (x !== null && Number.isFinite(x) && x > m) m = x;
  return m;
}

/** Smallest finite value, or Infinity when there is none. */
export function minOf(xs: Iterable<number | null>): number {
  let m = Infinity;
  for (const x of xs) if (x !== null && Number.isFinite(x) && x < m) m = x;
  return m;
}

function _niceStep(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x)), f = x / p;
  return p * (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10);
}

/**
 * An axis domain for `values` that ends on a tick above the largest value (headroom: no bar or
 * whisker touches the frame) and, with `zero`, starts at 0. A degenerate range (all values
 * equal, or none) becomes a unit-wide domain, so tick labels never show rounding noise.
 *
 * @param values The values drawn.
 * @param zero Include 0. Default true.
 * @returns `[low, high]`.
 */
export function niceDomain(values: Iterable<number | null>, zero = true): [number, number] {
  let lo = minOf(values), hi = maxOf(values);
  if (!Number.isFinite(lo)) return [0, 1];
  if (zero) [lo, hi] = [Math.min(lo, 0), Math.max(hi, 0)];
  const scale = Math.max(Math.abs(lo), Math.abs(hi));
  // Values within 1e-12 of 0 are 0 (rounding noise such as −2.2e-16).
  if (scale < 1e-12) return zero ? [0, 1] : [-0.5, 0.5];
  if (hi - lo <= 1e-9 * scale) {
    const half = _niceStep(scale / 2);
    return zero && lo >= 0 ? [0, _clean(hi + half)] : [_clean(lo - half), _clean(hi + half)];
  }
  const step = _niceStep((hi - lo) / 5), pad = 0.02 * (hi - lo);
  const top = Math.ceil((hi + pad) / step) * step;
  const bottom = lo === 0 ? 0 : Math.floor((lo - (zero && lo >= 0 ? 0 : pad)) / step) * step;
  return [_clean(bottom), _clean(top)];
}

function _clean(x: number): number {
  return Math.abs(x) < 1e-15 ? 0 : +x.toPrecision(12);
}

/**
 * A short, precision-aware rendering of a number for titles and legends: 3 significant digits,
 * exponent form below 1e-3 or from 1e5, `0` for values within 1e-12 of 0.
 */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return "—";
  const a = Math.abs(x);
  if (a < 1e-12) return "0";
  if (a < 1e-3 || a >= 1e5) return x.toExponential(2).replace("e+", "e");
  return String(+x.toPrecision(3));
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
