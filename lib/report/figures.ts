/**
 * Vega-Lite specifications of the paper's figures (Figs. 3–12, Supp. Figs. 1–3) and of the
 * beyond-paper figures, built from {@linkcode ModelAnalysis} results. Every figure has a title,
 * axis titles with units, a legend, and one colour scale shared across its layers.
 *
 * @module
 */

import type { LayerAnalysis, ModelAnalysis } from "../analysis/analyze.ts";
import { type BoxStats, boxStats } from "../analysis/box_stats.ts";

/** A figure: its file stem, the paper figure it mirrors, a caption and the Vega-Lite spec. */
export interface FigureSpec {
  /** File stem, e.g. `fig06ab_dclass`. */
  id: string;
  /** Paper figure mirrored, e.g. `Fig. 6A,B`; `beyond the paper` for extras. */
  paper: string;
  /** Title. */
  title: string;
  /** What is drawn and how to read it. */
  caption: string;
  /** Vega-Lite spec (data inline). */
  spec: Record<string, unknown>;
}

type Row = Record<string, string | number | null>;

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const CONFIG = {
  font: "DejaVu Sans, Helvetica, Arial, sans-serif",
  title: { fontSize: 14, anchor: "start" },
  axis: { labelFontSize: 10, titleFontSize: 11 },
  legend: { labelFontSize: 10, titleFontSize: 11, titleLimit: 400 },
  header: { labelFontSize: 11, titleFontSize: 11 },
  view: { stroke: "#bbb" },
};

/**
 * Whether an analysed model is a ViT-style model (CLS-token layers) rather than a CNN.
 *
 * @param a The analysed model.
 * @returns True if its name contains "vit" or every layer label starts with "cls".
 * @example
 * ```ts
 * import { isVit, type ModelAnalysis } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(isVit({ model: "my_vit", layers: [] } as unknown as ModelAnalysis), true);
 * ```
 */
export function isVit(a: ModelAnalysis): boolean {
  return /vit/i.test(a.model) || a.layers.every((l) => /^cls/i.test(l.layer));
}

function _layerScheme(n: number): string {
  return n <= 10 ? "category10" : "tableau20";
}

function _f(x: number): number | null {
  return Number.isFinite(x) ? +x.toPrecision(6) : null;
}

function _boxRows(base: Row, b: BoxStats): Row[] {
  return [
    {
      ...base,
      part: "box",
      q1: _f(b.q1),
      median: _f(b.median),
      q3: _f(b.q3),
      lo: _f(b.whiskerLow),
      hi: _f(b.whiskerHigh),
      n: b.n,
      value: null,
    },
    ...b.outliers.map((v) => ({ ...base, part: "outlier", value: _f(v) })),
  ];
}

/** Layers of a precomputed box plot: whisker rule, IQR bar, median tick, outlier points. */
function _boxLayers(
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

function _heatSpec(
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
    $schema: SCHEMA,
    title,
    config: CONFIG,
    data: { values: rows },
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

function _maxOf(xs: Iterable<number>): number {
  let m = -Infinity;
  for (const x of xs) if (Number.isFinite(x) && x > m) m = x;
  return m;
}

function _downsampleCurve(losses: Float64Array, maxPoints: number): [number, number][] {
  const n = losses.length;
  if (n <= maxPoints) return Array.from(losses, (v, i) => [i, v]);
  const w = n / maxPoints, out: [number, number][] = [];
  for (let p = 0; p < maxPoints; p++) {
    const a = Math.floor(p * w), b = Math.max(a + 1, Math.floor((p + 1) * w));
    let s = 0;
    for (let i = a; i < b; i++) s += losses[i];
    out.push([(a + b - 1) / 2, s / (b - a)]);
  }
  return out;
}

function _layerOrder(as: readonly ModelAnalysis[]): string[] {
  const out: string[] = [];
  for (const a of as) for (const l of a.layers) if (!out.includes(l.layer)) out.push(l.layer);
  return out;
}

function fig03(as: readonly ModelAnalysis[]): FigureSpec {
  const rows: Row[] = [];
  for (const a of as) {
    for (const l of a.layers) {
      const bpe = l.batchesPerEpoch ?? l.losses.length;
      for (const [i, v] of _downsampleCurve(l.losses, 150)) {
        rows.push({ model: a.model, layer: l.layer, epoch: _f(i / bpe), loss: _f(v) });
      }
    }
  }
  return {
    id: "fig03_loss",
    paper: "Fig. 3",
    title: "SOM training loss per layer",
    caption: "Mean cosine distance between each batch's inputs and their BMUs during training " +
      "(batch losses averaged in windows). One curve per layer; panels are models.",
    spec: {
      $schema: SCHEMA,
      title: "Fig. 3 — SOM training loss per layer",
      config: CONFIG,
      data: { values: rows },
      hconcat: as.map((a) => {
        const order = a.layers.map((l) => l.layer);
        return {
          title: { text: a.model, fontSize: 12 },
          width: 260,
          height: 180,
          transform: [{ filter: { field: "model", equal: a.model } }],
          mark: { type: "line", strokeWidth: 1.5 },
          encoding: {
            x: { field: "epoch", type: "quantitative", title: "training progress (epochs)" },
            y: {
              field: "loss",
              type: "quantitative",
              title: "loss (mean cosine distance to BMU)",
            },
            color: {
              field: "layer",
              type: "nominal",
              title: `layer (${a.model})`,
              sort: order,
              scale: { domain: order, scheme: _layerScheme(order.length) },
            },
          },
        };
      }),
      resolve: { scale: { color: "independent", y: "independent" } },
    },
  };
}

function _densityRows(a: ModelAnalysis, layers: readonly LayerAnalysis[], scale = 100): Row[] {
  const rows: Row[] = [];
  for (const l of layers) {
    for (let u = 0; u < l.grid.m * l.grid.n; u++) {
      rows.push({
        panel: `${a.model} · ${l.layer}`,
        row: Math.floor(u / l.grid.n),
        col: u % l.grid.n,
        value: _f(l.density.density[u] * scale),
      });
    }
  }
  return rows;
}

function fig04(as: readonly ModelAnalysis[]): FigureSpec {
  const rows: Row[] = [];
  for (const a of as) {
    const l = a.layers[Math.min(1, a.layers.length - 1)];
    rows.push(..._densityRows(a, [l]));
  }
  return {
    id: "fig04_bmu_density",
    paper: "Fig. 4",
    title: "BMU density (second layer)",
    caption: "Periodic Gaussian kernel density of SOM-tr first BMUs (Scott's bandwidth), " +
      "×100 as in the paper, for the second layer of each model (CL2 for CNNs).",
    spec: _heatSpec(
      rows,
      "Fig. 4 — BMU density, second layer (×100, per unit²)",
      "density ×100 (per unit²)",
      "viridis",
      [0, _maxOf(rows.map((r) => r.value as number))],
      4,
      160,
    ),
  };
}

function supp01(as: readonly ModelAnalysis[]): FigureSpec {
  const rows: Row[] = [];
  for (const a of as) rows.push(..._densityRows(a, a.layers));
  const order = [...new Set(rows.map((r) => r.panel as string))];
  return {
    id: "supp01_bmu_density",
    paper: "Supp. Fig. 1",
    title: "BMU density, every layer",
    caption: "As Fig. 4 for every layer of every model; one colour scale for all panels.",
    spec: _heatSpec(
      rows,
      "Supp. Fig. 1 — BMU density per layer (×100, per unit²)",
      "density ×100 (per unit²)",
      "viridis",
      [0, _maxOf(rows.map((r) => r.value as number))],
      4,
      120,
      "panel",
      order,
    ),
  };
}

function _bmusByClassFig(
  a: ModelAnalysis,
  id: string,
  paper: string,
  names?: string[],
): FigureSpec {
  const rows: Row[] = [];
  const g = a.layers[0].grid;
  for (const l of a.layers) {
    for (const [split, list] of [["SOM-tr", l.bmusByClass.train], ["SOM-val", l.bmusByClass.val]]) {
      for (const c of list as LayerAnalysis["bmusByClass"]["train"]) {
        const cls = names?.[c.label] ? `${c.label} ${names[c.label]}` : `class ${c.label}`;
        for (const [u, cnt] of c.units) {
          rows.push({
            panel: `${l.layer} · ${split}`,
            cls,
            split: split as string,
            row: Math.floor(u / l.grid.n),
            col: u % l.grid.n,
            count: cnt,
          });
        }
      }
    }
  }
  const order = a.layers.flatMap((l) => [`${l.layer} · SOM-tr`, `${l.layer} · SOM-val`]);
  return {
    id,
    paper,
    title: `BMUs of selected classes (${a.model})`,
    caption:
      `Top-10 BMUs of SOM-tr (training) and SOM-val (unseen) examples of ${a.featuredClasses.length} classes, per layer of ${a.model}; dot area = how many BMUs hit the unit.`,
    spec: {
      $schema: SCHEMA,
      title: `${paper} — BMUs of selected classes, ${a.model}`,
      config: CONFIG,
      data: { values: rows },
      facet: {
        row: { field: "panel", type: "nominal", sort: order, title: "layer · split" },
        column: { field: "cls", type: "nominal", title: "class" },
      },
      spec: {
        width: 110,
        height: 110,
        mark: { type: "circle", fillOpacity: 0.7, opacity: 1 },
        encoding: {
          x: {
            field: "col",
            type: "quantitative",
            title: "SOM column",
            scale: { domain: [-0.5, g.n - 0.5], nice: false },
            axis: { tickCount: 3 },
          },
          y: {
            field: "row",
            type: "quantitative",
            title: "SOM row",
            scale: { domain: [g.m - 0.5, -0.5], nice: false },
            axis: { tickCount: 3 },
          },
          size: { field: "count", type: "quantitative", title: "BMU hits" },
          color: {
            field: "split",
            type: "nominal",
            title: "examples",
            scale: { domain: ["SOM-tr", "SOM-val"], range: ["#1f77b4", "#d62728"] },
          },
        },
      },
    },
  };
}

function fig06ab(as: readonly ModelAnalysis[]): FigureSpec {
  const rows: Row[] = [];
  for (const a of as) {
    for (const l of a.layers) {
      rows.push(..._boxRows({ model: a.model, layer: l.layer, split: "SOM-tr" }, l.dClassTrainBox));
      rows.push(..._boxRows({ model: a.model, layer: l.layer, split: "SOM-val" }, l.dClassValBox));
    }
  }
  const x = { field: "layer", type: "nominal", sort: _layerOrder(as), title: "layer" };
  const color = {
    field: "split",
    type: "nominal",
    title: "examples",
    scale: { domain: ["SOM-tr", "SOM-val"], range: ["#1f77b4", "#ff7f0e"] },
  };
  return {
    id: "fig06ab_dclass",
    paper: "Fig. 6A,B",
    title: "D_class: distance of BMUs to their class centre",
    caption: "Per class, the mean torus distance between its examples' top-10 BMUs and the " +
      "class centre (centres from SOM-tr); box = quartiles over classes, whiskers 1.5 IQR, " +
      "circles = outlier classes.",
    spec: {
      $schema: SCHEMA,
      title: "Fig. 6A,B — D_class per layer (box over classes)",
      config: CONFIG,
      data: { values: rows },
      facet: { column: { field: "model", type: "nominal", title: "model" } },
      resolve: { scale: { x: "independent", xOffset: "independent" } },
      spec: {
        width: 300,
        height: 200,
        layer: _boxLayers(x, "split", color, "D_class (grid units)"),
      },
    },
  };
}

function _weightHeatFig(
  as: readonly ModelAnalysis[],
  id: string,
  paper: string,
  title: string,
): FigureSpec {
  const rows: Row[] = [];
  const order: string[] = [];
  for (const a of as) {
    for (const l of a.layers) {
      const s = l.heatSize, panel = `${a.model} · ${l.layer}`;
      order.push(panel);
      for (let i = 0; i < s; i++) {
        for (let j = 0; j < s; j++) {
          rows.push({ panel, row: i, col: j, value: _f(l.weightCdHeat[i * s + j]) });
        }
      }
    }
  }
  return {
    id,
    paper,
    title,
    caption: "Cosine distance between the weights of every pair of SOM units (units in " +
      "row-major order on both axes; block means of the full K×K matrix); one colour scale " +
      "for all layers. Small = similar weights.",
    spec: _heatSpec(
      rows,
      `${paper} — ${title}`,
      "cosine distance",
      "viridis",
      [0, Math.max(0.01, _maxOf(rows.map((r) => r.value as number)))],
      4,
      130,
      "panel",
      order,
    ),
  };
}

function _centreCdFig(
  as: readonly ModelAnalysis[],
  id: string,
  paper: string,
  byModel: boolean,
): FigureSpec {
  const rows: Row[] = [];
  for (const a of as) {
    for (const l of a.layers) {
      for (const c of l.centreCd) {
        rows.push(
          ..._boxRows({ model: a.model, layer: l.layer, size: c.size }, c.box),
        );
      }
    }
  }
  const sizes = [...new Set(rows.map((r) => r.size as string))].sort((p, q) =>
    parseInt(p) - parseInt(q)
  );
  const x = { field: "layer", type: "nominal", sort: _layerOrder(as), title: "layer" };
  const color = byModel ? { field: "model", type: "nominal", title: "model" } : {
    field: "size",
    type: "nominal",
    title: "SOM size",
    sort: sizes,
    scale: { scheme: "category10" },
  };
  const spec = byModel
    ? {
      $schema: SCHEMA,
      title: `${paper} — cosine distance between class-centre weights`,
      config: CONFIG,
      data: { values: rows },
      facet: {
        row: { field: "model", type: "nominal", title: "model" },
        column: { field: "size", type: "nominal", sort: sizes, title: "SOM size" },
      },
      resolve: { scale: { x: "independent", xOffset: "independent" } },
      spec: { width: 170, height: 150, layer: _boxLayers(x, null, color, "cosine distance") },
    }
    : {
      $schema: SCHEMA,
      title: `${paper} — cosine distance between class-centre weights`,
      config: CONFIG,
      data: { values: rows },
      facet: { row: { field: "model", type: "nominal", title: "model" } },
      resolve: { scale: { x: "independent", xOffset: "independent" } },
      spec: { width: 520, height: 200, layer: _boxLayers(x, "size", color, "cosine distance") },
    };
  return {
    id,
    paper,
    title: "Cosine distance between class-centre weights",
    caption: "For each SOM size, the cosine distances between the weights of the centre units " +
      "of up to 100 classes (all pairs); box = quartiles over pairs.",
    spec,
  };
}

function fig08(as: readonly ModelAnalysis[]): FigureSpec {
  const rows: Row[] = [];
  for (const a of as) {
    a.layers.forEach((l, i) => {
      const depth = `${i + 1}/${a.layers.length}`;
      rows.push(
        ..._boxRows({
          model: a.model,
          layer: l.layer,
          depth,
          what: "A: D_class, SOM-val (grid units)",
        }, l.dClassValBox),
      );
      const main = l.centreCd.find((c) => c.grid.m === l.grid.m && c.grid.n === l.grid.n);
      if (main) {
        rows.push(
          ..._boxRows({
            model: a.model,
            layer: l.layer,
            depth,
            what: "B: class-centre cosine distance",
          }, main.box),
        );
      }
    });
  }
  const x = { field: "layer", type: "nominal", sort: _layerOrder(as), title: "layer" };
  const color = { field: "model", type: "nominal", title: "model / data set" };
  return {
    id: "fig08_datasets",
    paper: "Fig. 8",
    title: "Across models and data sets",
    caption: "The paper's Fig. 8 compares ResNet50 on CIFAR10, CIFAR100 and SVHN; this run " +
      "compares the models and data sets it analysed: (A) D_class of SOM-val, (B) class-centre " +
      "cosine distances at the main SOM size.",
    spec: {
      $schema: SCHEMA,
      title: "Fig. 8 — D_class and class-centre distances across models/data sets",
      config: CONFIG,
      data: { values: rows },
      facet: {
        row: { field: "what", type: "nominal", title: null },
        column: { field: "model", type: "nominal", title: "model / data set" },
      },
      resolve: { scale: { x: "independent", y: "independent" } },
      spec: { width: 260, height: 150, layer: _boxLayers(x, null, color, "value") },
    },
  };
}

function _shiftFig(as: readonly ModelAnalysis[], id: string, paper: string): FigureSpec {
  const rows: Row[] = [];
  for (const a of as) {
    for (const l of a.layers) {
      for (const kind of ["noise", "adversarial"] as const) {
        const s = l.shifts?.[kind];
        if (s) {
          rows.push(
            ..._boxRows({
              model: a.model,
              layer: l.layer,
              kind: kind === "noise" ? "random noise" : "PGD (adversarial)",
            }, s.box),
          );
        }
      }
    }
  }
  const x = { field: "layer", type: "nominal", sort: _layerOrder(as), title: "layer" };
  const color = {
    field: "kind",
    type: "nominal",
    title: "perturbation",
    scale: { domain: ["random noise", "PGD (adversarial)"], range: ["#2ca02c", "#d62728"] },
  };
  return {
    id,
    paper,
    title: "BMU shifts under random noise and PGD",
    caption: "Torus distance between each image's i-th clean BMU and its i-th perturbed BMU " +
      "(i = 1..10), over all attacked images; box = quartiles, whiskers 1.5 IQR.",
    spec: {
      $schema: SCHEMA,
      title: `${paper} — BMU shift between clean and perturbed images`,
      config: CONFIG,
      data: { values: rows },
      facet: { column: { field: "model", type: "nominal", title: "model" } },
      resolve: { scale: { x: "independent", xOffset: "independent" } },
      spec: {
        width: 320,
        height: 200,
        layer: _boxLayers(x, "kind", color, "BMU shift (grid units)"),
      },
    },
  };
}

function supp03(as: readonly ModelAnalysis[]): FigureSpec {
  const rows: Row[] = [];
  for (const a of as) {
    for (const l of a.layers) {
      rows.push(
        ..._boxRows(
          { model: a.model, layer: l.layer, group: "Corr" },
          boxStats(l.correctness.map((c) => c.correct)),
        ),
      );
      rows.push(
        ..._boxRows(
          { model: a.model, layer: l.layer, group: "InCorr" },
          boxStats(l.correctness.map((c) => c.incorrect)),
        ),
      );
    }
  }
  const x = { field: "layer", type: "nominal", sort: _layerOrder(as), title: "layer" };
  const color = {
    field: "group",
    type: "nominal",
    title: "prediction",
    scale: { domain: ["Corr", "InCorr"], range: ["#1f77b4", "#d62728"] },
  };
  return {
    id: "supp03_correct_incorrect",
    paper: "Supp. Fig. 3",
    title: "Distance to the label centre, right vs wrong predictions",
    caption: "Per class, the mean torus distance between SOM-val examples' top-10 BMUs and " +
      "their label's centre (from SOM-tr), separately for correctly (Corr) and wrongly " +
      "(InCorr) predicted examples; box over classes.",
    spec: {
      $schema: SCHEMA,
      title: "Supp. Fig. 3 — distance to the label centre by prediction correctness",
      config: CONFIG,
      data: { values: rows },
      facet: { column: { field: "model", type: "nominal", title: "model" } },
      resolve: { scale: { x: "independent", xOffset: "independent" } },
      spec: {
        width: 300,
        height: 200,
        layer: _boxLayers(x, "group", color, "distance to label centre (grid units)"),
      },
    },
  };
}

function extraQuality(as: readonly ModelAnalysis[]): FigureSpec {
  const rows: Row[] = [];
  for (const a of as) {
    for (const l of a.layers) {
      rows.push({
        model: a.model,
        layer: l.layer,
        metric: "quantization error (cosine distance)",
        value: _f(l.quality.quantizationError),
      });
      rows.push({
        model: a.model,
        layer: l.layer,
        metric: "topographic error (fraction)",
        value: _f(l.quality.topographicError),
      });
      if (l.ensemble) {
        rows.push({
          model: a.model,
          layer: l.layer,
          metric: "placement stability (1 = same place)",
          value: _f(l.ensemble.stability),
        });
      }
    }
  }
  const order = _layerOrder(as);
  return {
    id: "extra_map_quality",
    paper: "beyond the paper",
    title: "Map quality and seed stability per layer",
    caption: "Quantization error (mean cosine distance to the BMU), topographic error (share " +
      "of inputs whose two best units are not torus neighbours) and, with a seed ensemble, " +
      "class-placement stability after aligning the maps modulo torus symmetries.",
    spec: {
      $schema: SCHEMA,
      title: "Beyond the paper — map quality and seed stability",
      config: CONFIG,
      data: { values: rows },
      facet: {
        row: { field: "metric", type: "nominal", title: null },
        column: { field: "model", type: "nominal", title: "model" },
      },
      resolve: { scale: { x: "independent", y: "independent" } },
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
            scale: { scheme: _layerScheme(order.length) },
          },
        },
      },
    },
  };
}

function extraUMatrix(as: readonly ModelAnalysis[]): FigureSpec {
  const rows: Row[] = [];
  const order: string[] = [];
  for (const a of as) {
    for (const l of a.layers) {
      const panel = `${a.model} · ${l.layer}`;
      order.push(panel);
      for (let u = 0; u < l.grid.m * l.grid.n; u++) {
        rows.push({
          panel,
          row: Math.floor(u / l.grid.n),
          col: u % l.grid.n,
          value: _f(l.quality.uMatrix[u]),
        });
      }
    }
  }
  return {
    id: "extra_umatrix",
    paper: "beyond the paper",
    title: "U-matrix per layer",
    caption: "Mean cosine distance of each unit's weights to its 8 torus neighbours; bright " +
      "ridges separate regions of the map. One colour scale for all layers.",
    spec: _heatSpec(
      rows,
      "Beyond the paper — U-matrix (mean neighbour cosine distance)",
      "cosine distance",
      "magma",
      [0, Math.max(1e-6, _maxOf(rows.map((r) => r.value as number)))],
      4,
      120,
      "panel",
      order,
    ),
  };
}

/**
 * Builds every figure spec for a run: one per paper figure (Figs. 3–12 and Supp. Figs. 1–3)
 * plus the beyond-paper figures. CNN figures (6C,D, 7, 11) use the CNN models and ViT figures
 * (9, 10, 12) the ViT models; a figure whose kind of model is absent from the run is omitted.
 *
 * @param analyses Per-model analyses.
 * @param options Class names by label, for legends.
 * @returns The figure specs, in paper order.
 *
 * @example
 * ```ts
 * import { analyzeModel, buildFigures } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const weights = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
 * const layer = (name: string) => ({
 *   layer: name, grid: { m: 4, n: 4 }, dim: 2, weights, losses: [0.5, 0.4], k: 2, train: split, val: split,
 * });
 * const a = analyzeModel("toy", [layer("CL1"), layer("CL2")]);
 * const ids = buildFigures([a]).map((f) => f.id);
 * assertEquals(ids.slice(0, 3), ["fig03_loss", "fig04_bmu_density", "fig05_bmus_by_class"]);
 * ```
 */
export function buildFigures(
  analyses: readonly ModelAnalysis[],
  options: { classNames?: string[] } = {},
): FigureSpec[] {
  const cnn = analyses.filter((a) => !isVit(a)), vit = analyses.filter(isVit);
  const out: FigureSpec[] = [fig03(analyses), fig04(analyses)];
  const first = cnn[0] ?? analyses[0];
  out.push(_bmusByClassFig(first, "fig05_bmus_by_class", "Fig. 5", options.classNames));
  out.push(fig06ab(analyses));
  if (cnn.length) {
    out.push(
      _weightHeatFig(
        cnn,
        "fig06cd_weight_cd",
        "Fig. 6C,D",
        "cosine distance between SOM unit weights",
      ),
    );
    out.push(_centreCdFig(cnn, "fig07_centre_cd", "Fig. 7", true));
  }
  out.push(fig08(analyses));
  if (vit.length) {
    out.push(
      _weightHeatFig(
        vit,
        "fig09_vit_weight_cd",
        "Fig. 9",
        "cosine distance between SOM unit weights (ViT)",
      ),
    );
    out.push(_centreCdFig(vit, "fig10_vit_centre_cd", "Fig. 10", false));
  }
  if (cnn.some((a) => a.layers.some((l) => l.shifts))) {
    out.push(_shiftFig(cnn, "fig11_bmu_shifts", "Fig. 11"));
  }
  if (vit.some((a) => a.layers.some((l) => l.shifts))) {
    out.push(_shiftFig(vit, "fig12_vit_bmu_shifts", "Fig. 12"));
  }
  out.push(supp01(analyses));
  const second = analyses.find((a) => a !== first);
  if (second) {
    out.push(_bmusByClassFig(second, "supp02_bmus_by_class", "Supp. Fig. 2", options.classNames));
  }
  out.push(supp03(analyses));
  out.push(extraQuality(analyses), extraUMatrix(analyses));
  return out;
}
