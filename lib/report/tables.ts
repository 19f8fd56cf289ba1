/**
 * The analyses as tables (arquero), one per analysis, written as Arrow IPC and CSV so that they
 * can be read by arquero, pandas/pyarrow, R or a spreadsheet.
 *
 * @module
 */

import * as aq from "npm:arquero@8.0.3";
import { writeFileAtomic } from "../fs_atomic.ts";
import type { LayerAnalysis, ModelAnalysis, ShiftSummary } from "../analysis/analyze.ts";
import type { ClaimResult } from "../analysis/claims.ts";

/** An arquero table (`ColumnTable`). */
export type Table = aq.ColumnTable;

type Row = Record<string, string | number | null>;

function _t(rows: Row[], columns: string[]): Table {
  const cols: Record<string, (string | number | null)[]> = {};
  for (const c of columns) cols[c] = rows.map((r) => r[c] ?? null);
  return aq.table(cols);
}

function _num(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** Rows `{model, layer, unit, row, col, <name>: value(u)}`, one per unit of a layer's map. */
function _unitRows(
  model: string,
  l: LayerAnalysis,
  name: string,
  value: (u: number) => number,
  extra?: (u: number) => Row,
): Row[] {
  const { m, n } = l.grid, rows: Row[] = [];
  for (let u = 0; u < m * n; u++) {
    rows.push({
      model,
      layer: l.layer,
      unit: u,
      row: Math.floor(u / n),
      col: u % n,
      [name]: value(u),
      ...extra?.(u),
    });
  }
  return rows;
}

/** Per-layer rows of one table and its column order. */
interface _TableDef {
  columns: string[];
  rows: (model: string, l: LayerAnalysis) => Row[];
}

const _SPLITS = ["SOM-tr", "SOM-val"] as const;
const _WEIGHT_STATS = ["mean", "std", "min", "q1", "median", "q3", "max"] as const;

const _LAYER_TABLES: Record<string, _TableDef> = {
  loss: {
    columns: ["model", "layer", "batch", "loss"],
    rows: (model, l) =>
      Array.from(l.losses, (v, i) => ({ model, layer: l.layer, batch: i, loss: v })),
  },
  bmu_density: {
    columns: ["model", "layer", "unit", "row", "col", "density", "count"],
    rows: (model, l) =>
      _unitRows(model, l, "density", (u) => l.density.density[u], (u) => ({
        count: l.density.counts[u],
      })),
  },
  class_centres: {
    columns: ["model", "layer", "size", "label", "count", "mode_unit", "row", "col", "centre_unit"],
    rows: (model, l) =>
      l.centreCd.flatMap((cc) =>
        cc.centres.map((c) => ({
          model,
          layer: l.layer,
          size: cc.size,
          label: c.label,
          count: c.count,
          mode_unit: c.modeUnit,
          row: c.row,
          col: c.col,
          centre_unit: c.centreUnit,
        }))
      ),
  },
  dclass: {
    columns: ["model", "layer", "split", "label", "count", "d_class"],
    rows: (model, l) =>
      _SPLITS.flatMap((split) =>
        (split === "SOM-tr" ? l.dClassTrain : l.dClassVal).map((d) => ({
          model,
          layer: l.layer,
          split,
          label: d.label,
          count: d.count,
          d_class: d.dClass,
        }))
      ),
  },
  dclass_box: {
    columns: [
      "model",
      "layer",
      "split",
      "n",
      "mean",
      "q1",
      "median",
      "q3",
      "whisker_low",
      "whisker_high",
      "outliers",
    ],
    rows: (model, l) =>
      _SPLITS.map((split) => {
        const bs = split === "SOM-tr" ? l.dClassTrainBox : l.dClassValBox;
        return {
          model,
          layer: l.layer,
          split,
          n: bs.n,
          mean: _num(bs.mean),
          q1: _num(bs.q1),
          median: _num(bs.median),
          q3: _num(bs.q3),
          whisker_low: _num(bs.whiskerLow),
          whisker_high: _num(bs.whiskerHigh),
          outliers: bs.outliers.length,
        };
      }),
  },
  weight_cd: {
    columns: [
      "model",
      "layer",
      "units",
      "pairs",
      "mean",
      "std",
      "min",
      "q1",
      "median",
      "q3",
      "max",
    ],
    rows: (model, l) => {
      const w = l.weightCd;
      const stats = _WEIGHT_STATS.map((k) => [k, w[k]]);
      return [{
        model,
        layer: l.layer,
        units: l.grid.m * l.grid.n,
        pairs: w.n,
        ...Object.fromEntries(stats),
      }];
    },
  },
  centre_cd: {
    columns: ["model", "layer", "size", "label_a", "label_b", "cosine_distance"],
    rows: (model, l) =>
      l.centreCd.flatMap((cc) =>
        cc.pairs.map(([x, y, d]) => ({
          model,
          layer: l.layer,
          size: cc.size,
          label_a: x,
          label_b: y,
          cosine_distance: d,
        }))
      ),
  },
  correctness: {
    columns: ["model", "layer", "label", "n_correct", "correct", "n_incorrect", "incorrect"],
    rows: (model, l) =>
      l.correctness.map((c) => ({
        model,
        layer: l.layer,
        label: c.label,
        n_correct: c.nCorrect,
        correct: _num(c.correct),
        n_incorrect: c.nIncorrect,
        incorrect: _num(c.incorrect),
      })),
  },
  bmu_shifts: {
    columns: ["model", "layer", "kind", "image", "rank", "distance"],
    rows: (model, l) =>
      _shiftKinds(l).flatMap(([kind, s]) => {
        const k = s.byRank.length;
        return Array.from(s.distances, (distance, i) => ({
          model,
          layer: l.layer,
          kind,
          image: Math.floor(i / k),
          rank: (i % k) + 1,
          distance,
        }));
      }),
  },
  bmu_shift_summary: {
    columns: ["model", "layer", "kind", "n", "mean", "q1", "median", "q3", "max"],
    rows: (model, l) =>
      _shiftKinds(l).map(([kind, s]) => ({
        model,
        layer: l.layer,
        kind,
        n: s.box.n,
        mean: s.box.mean,
        q1: s.box.q1,
        median: s.box.median,
        q3: s.box.q3,
        max: s.box.max,
      })),
  },
  map_quality: {
    columns: [
      "model",
      "layer",
      "m",
      "n",
      "dim",
      "final_loss",
      "quantization_error",
      "topographic_error",
      "umatrix_mean",
      "placement_stability",
      "stability_low",
      "stability_high",
      "seeds",
    ],
    rows: (model, l) => {
      const { m, n } = l.grid, e = l.ensemble;
      return [{
        model,
        layer: l.layer,
        m,
        n,
        dim: l.dim,
        final_loss: _num(l.finalLoss),
        quantization_error: _num(l.quality.quantizationError),
        topographic_error: _num(l.quality.topographicError),
        umatrix_mean: l.quality.uMatrix.reduce((s, v) => s + v, 0) / (m * n),
        placement_stability: e ? _num(e.stability) : null,
        stability_low: e ? _num(e.stabilityInterval?.[0] ?? NaN) : null,
        stability_high: e ? _num(e.stabilityInterval?.[1] ?? NaN) : null,
        seeds: e ? e.dClassTrainBySeed.length : 1,
      }];
    },
  },
  umatrix: {
    columns: ["model", "layer", "unit", "row", "col", "umatrix"],
    rows: (model, l) => _unitRows(model, l, "umatrix", (u) => l.quality.uMatrix[u]),
  },
  placement: {
    columns: [
      "model",
      "layer",
      "seed_a",
      "seed_b",
      "label",
      "displacement",
      "null_displacement",
      "align_cost",
      "identity_cost",
    ],
    rows: (model, l) =>
      (l.ensemble?.pairs ?? []).flatMap((p) =>
        p.displacement.map(([label, d]) => ({
          model,
          layer: l.layer,
          seed_a: String(p.seedA),
          seed_b: String(p.seedB),
          label,
          displacement: d,
          null_displacement: p.nullDisplacement,
          align_cost: p.alignment.cost,
          identity_cost: p.alignment.identityCost,
        }))
      ),
  },
  bmus_by_class: {
    columns: ["model", "layer", "split", "label", "unit", "row", "col", "count"],
    rows: (model, l) =>
      _SPLITS.flatMap((split) =>
        (split === "SOM-tr" ? l.bmusByClass.train : l.bmusByClass.val).flatMap((c) =>
          c.units.map(([u, count]) => ({
            model,
            layer: l.layer,
            split,
            label: c.label,
            unit: u,
            row: Math.floor(u / l.grid.n),
            col: u % l.grid.n,
            count,
          }))
        )
      ),
  },
};

/** The BMU-shift summaries a layer has, adversarial first. */
function _shiftKinds(l: LayerAnalysis): ["adversarial" | "noise", ShiftSummary][] {
  return (["adversarial", "noise"] as const).flatMap((kind) => {
    const s = l.shifts?.[kind];
    return s ? [[kind, s] as ["adversarial" | "noise", ShiftSummary]] : [];
  });
}

const _CLAIM_COLUMNS = [
  "id",
  "model",
  "figure",
  "holds",
  "value",
  "low",
  "high",
  "layer",
  "layer_value",
  "layer_low",
  "layer_high",
];

function _claimRows(claims: readonly ClaimResult[]): Row[] {
  return claims.flatMap((c) =>
    (c.perLayer.length ? c.perLayer : [null]).map((pl) => ({
      id: c.id,
      model: c.model,
      figure: c.figure,
      holds: String(c.holds),
      value: c.value,
      low: c.interval[0],
      high: c.interval[1],
      layer: pl?.layer ?? null,
      layer_value: pl?.value ?? null,
      layer_low: pl?.interval[0] ?? null,
      layer_high: pl?.interval[1] ?? null,
    }))
  );
}

/**
 * Builds every analysis table of a run.
 *
 * @param analyses Per-model analyses.
 * @param claims Claim results (optional).
 * @returns Tables by name: `loss`, `bmu_density`, `class_centres`, `dclass`, `dclass_box`,
 *   `weight_cd`, `centre_cd`, `correctness`, `bmu_shifts`, `bmu_shift_summary`, `map_quality`,
 *   `umatrix`, `placement`, `bmus_by_class`, and `claims`.
 *
 * @example
 * ```ts
 * import { analysisTables, analyzeModel } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const weights = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
 * const layer = (name: string) => ({
 *   layer: name, grid: { m: 4, n: 4 }, dim: 2, weights, losses: [0.5, 0.4], k: 2, train: split, val: split,
 * });
 * const a = analyzeModel("toy", [layer("CL1"), layer("CL2")]);
 * const t = analysisTables([a]);
 * assertEquals(t.dclass.numRows(), 2 * 2 * 2); // layers × splits × classes
 * ```
 */
export function analysisTables(
  analyses: readonly ModelAnalysis[],
  claims: readonly ClaimResult[] = [],
): Record<string, Table> {
  const out: Record<string, Table> = {};
  for (const [name, def] of Object.entries(_LAYER_TABLES)) {
    const rows = analyses.flatMap((a) => a.layers.flatMap((l) => def.rows(a.model, l)));
    out[name] = _t(rows, def.columns);
  }
  out.claims = _t(_claimRows(claims), _CLAIM_COLUMNS);
  return out;
}

/**
 * Writes tables as `DIR/<name>.arrow` (Arrow IPC file) and `DIR/<name>.csv`, each atomically.
 *
 * @param dir Destination folder (created if missing).
 * @param tables Tables by name.
 * @returns The paths written.
 *
 * @example
 * ```ts
 * import { analysisTables, analyzeModel, writeTables } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const weights = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
 * const layer = (name: string) => ({
 *   layer: name, grid: { m: 4, n: 4 }, dim: 2, weights, losses: [0.5, 0.4], k: 2, train: split, val: split,
 * });
 * const a = analyzeModel("toy", [layer("CL1"), layer("CL2")]);
 * const dir = await Deno.makeTempDir();
 * const files = await writeTables(dir, analysisTables([a]));
 * assertEquals(files.includes(`${dir}/dclass.arrow`), true);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeTables(dir: string, tables: Record<string, Table>): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const [name, t] of Object.entries(tables)) {
    const arrow = aq.toArrowIPC(t, { format: "file" }) as Uint8Array;
    await writeFileAtomic(`${dir}/${name}.arrow`, arrow);
    await writeFileAtomic(`${dir}/${name}.csv`, aq.toCSV(t));
    paths.push(`${dir}/${name}.arrow`, `${dir}/${name}.csv`);
  }
  return paths;
}
