/**
 * Private helpers for unit heat maps: one panel per map (or K×K matrix), each with unit
 * row/column axes, integer-pixel cells (no seams between cells), and a colour scale that is
 * shared when the panels have comparable ranges and per panel when their ranges differ by more
 * than an order of magnitude (then every panel carries its own colour bar and its range).
 *
 * @module
 */

import { CONFIG, fmt, maxOf, minOf, panelWidth, round6, type Row, SCHEMA } from "./_common.ts";

/** One heat-map panel: an `m × n` row-major array of values. */
export interface HeatPanel {
  /** Panel title, e.g. `fmnist_resnet · CL1`. */
  title: string;
  /** Rows. */
  m: number;
  /** Columns. */
  n: number;
  /** Value of cell `i` (row-major). */
  value: (i: number) => number;
  /** Whether cell `i` counts for the colour range (e.g. not the zero diagonal). Default all. */
  inRange?: (i: number) => boolean;
}

/** How the heat maps are drawn. */
export interface HeatOptions {
  /** Figure title. */
  title: string;
  /** What the colour shows, with its unit. */
  colorTitle: string;
  /** Vega colour scheme (viridis, cividis, magma: all colour-blind-safe). */
  scheme: string;
  /** Axis titles. Default `SOM column` / `SOM row`. */
  axes?: { x: string; y: string };
  /** Units per cell along each axis (block-mean matrices), for the tick labels. Default 1. */
  unitsPerCell?: number;
  /** Most panels per row. Default 4. */
  columns?: number;
  /** Largest panel side in px. Default 200. */
  maxSide?: number;
}

/** The figure and whether its panels got their own colour scales. */
export interface HeatFigure {
  /** The Vega-Lite spec. */
  spec: Record<string, unknown>;
  /** True when each panel has its own colour scale. */
  perPanel: boolean;
  /** The shared colour range (when `perPanel` is false). */
  range: [number, number];
}

/** Tick positions every 1, 2, 5, 10… cells, about five per axis. */
function _ticks(size: number): number[] {
  const step = [1, 2, 5, 10, 20, 50, 100, 200, 500].find((s) => s >= size / 5) ?? 1000;
  return Array.from({ length: Math.ceil(size / step) }, (_, i) => i * step);
}

function _range(p: HeatPanel): [number, number] {
  const vs: number[] = [];
  for (let i = 0; i < p.m * p.n; i++) if (!p.inRange || p.inRange(i)) vs.push(p.value(i));
  const lo = round6(minOf(vs)), hi = round6(maxOf(vs));
  return lo !== null && hi !== null ? [lo, hi] : [0, 1];
}

/** A non-empty colour domain: a flat panel gets a small symmetric range around its value. */
function _domain([lo, hi]: [number, number]): [number, number] {
  if (hi - lo > 1e-12 * Math.max(1, Math.abs(hi))) return [lo, hi];
  const half = Math.max(Math.abs(hi) * 0.01, 1e-9);
  return [lo - half, hi + half];
}

/**
 * Panels differ "by orders of magnitude" when the widest colour range is more than 10 times the
 * narrowest: one shared scale would then draw the narrow panels as one flat colour.
 */
function _needsOwnScales(ranges: [number, number][]): boolean {
  const spans = ranges.map(([lo, hi]) => Math.max(hi - lo, 0)).filter((s) => s > 0);
  return spans.length > 1 && Math.max(...spans) > 10 * Math.min(...spans);
}

/** A titled group of panels (e.g. the layers of one model), drawn as its own row(s). */
export interface HeatGroup {
  /** Row title, e.g. the model name. */
  title: string;
  /** The panels. */
  panels: HeatPanel[];
}

/** Rows of panels: each group starts a new row, long groups wrap after `columns`. */
function _layout(groups: HeatGroup[], columns: number): { title: string; items: number[] }[] {
  const rows: { title: string; items: number[] }[] = [];
  let i = 0;
  for (const g of groups) {
    for (let j = 0; j < g.panels.length; j += columns) {
      const items = g.panels.slice(j, j + columns).map((_, k) => i + j + k);
      rows.push({ title: j === 0 ? g.title : "", items });
    }
    i += g.panels.length;
  }
  return rows;
}

/**
 * A heat-map figure of several panels.
 *
 * @param input The panels in reading order, or titled groups of panels (one row per group,
 *   e.g. per model).
 * @param o Title, colour title, scheme, axes.
 * @returns The spec and the colour-scale decision.
 */
export function heatFigure(input: HeatPanel[] | HeatGroup[], o: HeatOptions): HeatFigure {
  const grouped = input.length > 0 && "panels" in input[0];
  const groups = grouped ? input as HeatGroup[] : [{ title: "", panels: input as HeatPanel[] }];
  const panels = groups.flatMap((g) => g.panels);
  const ranges = panels.map(_range);
  const perPanel = _needsOwnScales(ranges);
  const shared: [number, number] = [minOf(ranges.map((r) => r[0])), maxOf(ranges.map((r) => r[1]))];
  const most = Math.max(1, ...groups.map((g) => g.panels.length));
  const columns = Math.min(o.columns ?? 4, most);
  const side = Math.min(o.maxSide ?? 200, panelWidth(columns, perPanel ? 120 : 220));
  const axes = o.axes ?? { x: "SOM column", y: "SOM row" };
  const upc = o.unitsPerCell ?? 1;
  const labelExpr = upc === 1 ? {} : { labelExpr: `format(datum.value * ${upc}, 'd')` };
  const cellSpecs = panels.map((p, pi) => {
    const cell = Math.max(1, Math.floor(side / Math.max(p.m, p.n)));
    const rows: Row[] = [];
    for (let i = 0; i < p.m * p.n; i++) {
      rows.push({ row: Math.floor(i / p.n), col: i % p.n, value: round6(p.value(i)) });
    }
    const domain = _domain(perPanel ? ranges[pi] : shared);
    const width = p.n * cell;
    return {
      title: {
        text: p.title,
        fontSize: 12,
        limit: width + 40,
        ...(perPanel ? { subtitle: `range ${fmt(ranges[pi][0])} – ${fmt(ranges[pi][1])}` } : {}),
      },
      width,
      height: p.m * cell,
      data: { values: rows },
      // One ARIA label per cell would be hundreds of "row 3, col 5" labels: the caption says it all.
      mark: { type: "rect", strokeWidth: 0, aria: false },
      encoding: {
        x: {
          field: "col",
          type: "ordinal",
          title: axes.x,
          scale: { paddingInner: 0, paddingOuter: 0 },
          axis: { values: _ticks(p.n), labelAngle: 0, ...labelExpr },
        },
        y: {
          field: "row",
          type: "ordinal",
          title: axes.y,
          scale: { paddingInner: 0, paddingOuter: 0 },
          axis: { values: _ticks(p.m), ...labelExpr },
        },
        color: {
          field: "value",
          type: "quantitative",
          title: perPanel ? null : o.colorTitle,
          scale: { scheme: o.scheme, domain, clamp: true, nice: false },
          legend: perPanel
            ? {
              orient: "bottom",
              direction: "horizontal",
              gradientLength: Math.max(80, width - 10),
              tickCount: 3,
              format: ".3~g",
            }
            : { format: ".3~g", gradientLength: 160 },
        },
      },
    };
  });
  const subtitle = perPanel
    ? `${o.colorTitle}; each panel has its own colour scale (the ranges differ by more than 10×)`
    : `${o.colorTitle}; one colour scale, range ${fmt(shared[0])} – ${fmt(shared[1])}`;
  const resolve = { scale: { color: perPanel ? "independent" : "shared" } };
  return {
    spec: {
      $schema: SCHEMA,
      title: { text: o.title, subtitle },
      config: CONFIG,
      vconcat: _layout(groups, columns).map((r) => ({
        ...(r.title ? { title: { text: r.title, fontSize: 13, anchor: "start" } } : {}),
        hconcat: r.items.map((i) => cellSpecs[i]),
        resolve,
      })),
      resolve,
    },
    perPanel,
    range: shared,
  };
}
