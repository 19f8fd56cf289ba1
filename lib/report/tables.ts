/**
 * The analyses as tables (arquero), one per analysis, written as Arrow IPC and CSV so that they
 * can be read by arquero, pandas/pyarrow, R or a spreadsheet.
 *
 * @module
 */

import * as aq from "npm:arquero@8.0.3";
import { writeFileAtomic } from "../fs_atomic.ts";
import type { ModelAnalysis } from "../analysis/analyze.ts";
import type { ClaimResult } from "../analysis/claim_types.ts";

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
  const loss: Row[] = [], dens: Row[] = [], cent: Row[] = [], dcl: Row[] = [], box: Row[] = [];
  const wcd: Row[] = [], ccd: Row[] = [], corr: Row[] = [], shifts: Row[] = [], shs: Row[] = [];
  const qual: Row[] = [], um: Row[] = [], place: Row[] = [], bbc: Row[] = [];
  for (const a of analyses) {
    const model = a.model;
    for (const l of a.layers) {
      const layer = l.layer, { m, n } = l.grid;
      l.losses.forEach((v, i) => loss.push({ model, layer, batch: i, loss: v }));
      for (let u = 0; u < m * n; u++) {
        dens.push({
          model,
          layer,
          unit: u,
          row: Math.floor(u / n),
          col: u % n,
          density: l.density.density[u],
          count: l.density.counts[u],
        });
        um.push({
          model,
          layer,
          unit: u,
          row: Math.floor(u / n),
          col: u % n,
          umatrix: l.quality.uMatrix[u],
        });
      }
      for (const cc of l.centreCd) {
        for (const c of cc.centres) {
          cent.push({
            model,
            layer,
            size: cc.size,
            label: c.label,
            count: c.count,
            mode_unit: c.modeUnit,
            row: c.row,
            col: c.col,
            centre_unit: c.centreUnit,
          });
        }
        for (const [x, y, d] of cc.pairs) {
          ccd.push({ model, layer, size: cc.size, label_a: x, label_b: y, cosine_distance: d });
        }
      }
      for (const [split, ds] of [["SOM-tr", l.dClassTrain], ["SOM-val", l.dClassVal]] as const) {
        for (const d of ds) {
          dcl.push({ model, layer, split, label: d.label, count: d.count, d_class: d.dClass });
        }
      }
      for (const [split, b] of [["SOM-tr", l.dClassTrainBox], ["SOM-val", l.dClassValBox]]) {
        const bs = b as typeof l.dClassTrainBox;
        box.push({
          model,
          layer,
          split: split as string,
          n: bs.n,
          mean: _num(bs.mean),
          q1: _num(bs.q1),
          median: _num(bs.median),
          q3: _num(bs.q3),
          whisker_low: _num(bs.whiskerLow),
          whisker_high: _num(bs.whiskerHigh),
          outliers: bs.outliers.length,
        });
      }
      wcd.push({
        model,
        layer,
        units: m * n,
        pairs: l.weightCd.n,
        mean: l.weightCd.mean,
        std: l.weightCd.std,
        min: l.weightCd.min,
        q1: l.weightCd.q1,
        median: l.weightCd.median,
        q3: l.weightCd.q3,
        max: l.weightCd.max,
      });
      for (const c of l.correctness) {
        corr.push({
          model,
          layer,
          label: c.label,
          n_correct: c.nCorrect,
          correct: _num(c.correct),
          n_incorrect: c.nIncorrect,
          incorrect: _num(c.incorrect),
        });
      }
      for (const kind of ["adversarial", "noise"] as const) {
        const s = l.shifts?.[kind];
        if (!s) continue;
        const k = s.byRank.length;
        for (let i = 0; i < s.distances.length; i++) {
          shifts.push({
            model,
            layer,
            kind,
            image: Math.floor(i / k),
            rank: (i % k) + 1,
            distance: s.distances[i],
          });
        }
        shs.push({
          model,
          layer,
          kind,
          n: s.box.n,
          mean: s.box.mean,
          q1: s.box.q1,
          median: s.box.median,
          q3: s.box.q3,
          max: s.box.max,
        });
      }
      qual.push({
        model,
        layer,
        m,
        n,
        dim: l.dim,
        final_loss: _num(l.finalLoss),
        quantization_error: _num(l.quality.quantizationError),
        topographic_error: _num(l.quality.topographicError),
        umatrix_mean: l.quality.uMatrix.reduce((s, v) => s + v, 0) / (m * n),
        placement_stability: l.ensemble ? _num(l.ensemble.stability) : null,
        stability_low: l.ensemble ? _num(l.ensemble.stabilityInterval?.[0] ?? NaN) : null,
        stability_high: l.ensemble ? _num(l.ensemble.stabilityInterval?.[1] ?? NaN) : null,
        seeds: l.ensemble ? l.ensemble.dClassTrainBySeed.length : 1,
      });
      for (const p of l.ensemble?.pairs ?? []) {
        for (const [label, d] of p.displacement) {
          place.push({
            model,
            layer,
            seed_a: String(p.seedA),
            seed_b: String(p.seedB),
            label,
            displacement: d,
            null_displacement: p.nullDisplacement,
            align_cost: p.alignment.cost,
            identity_cost: p.alignment.identityCost,
          });
        }
      }
      for (
        const [split, list] of [["SOM-tr", l.bmusByClass.train], ["SOM-val", l.bmusByClass.val]]
      ) {
        for (const c of list as typeof l.bmusByClass.train) {
          for (const [u, cnt] of c.units) {
            bbc.push({
              model,
              layer,
              split: split as string,
              label: c.label,
              unit: u,
              row: Math.floor(u / n),
              col: u % n,
              count: cnt,
            });
          }
        }
      }
    }
  }
  const claimRows: Row[] = [];
  for (const c of claims) {
    for (const pl of c.perLayer.length ? c.perLayer : [null]) {
      claimRows.push({
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
      });
    }
  }
  return {
    loss: _t(loss, ["model", "layer", "batch", "loss"]),
    bmu_density: _t(dens, ["model", "layer", "unit", "row", "col", "density", "count"]),
    class_centres: _t(cent, [
      "model",
      "layer",
      "size",
      "label",
      "count",
      "mode_unit",
      "row",
      "col",
      "centre_unit",
    ]),
    dclass: _t(dcl, ["model", "layer", "split", "label", "count", "d_class"]),
    dclass_box: _t(box, [
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
    ]),
    weight_cd: _t(wcd, [
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
    ]),
    centre_cd: _t(ccd, ["model", "layer", "size", "label_a", "label_b", "cosine_distance"]),
    correctness: _t(corr, [
      "model",
      "layer",
      "label",
      "n_correct",
      "correct",
      "n_incorrect",
      "incorrect",
    ]),
    bmu_shifts: _t(shifts, ["model", "layer", "kind", "image", "rank", "distance"]),
    bmu_shift_summary: _t(shs, [
      "model",
      "layer",
      "kind",
      "n",
      "mean",
      "q1",
      "median",
      "q3",
      "max",
    ]),
    map_quality: _t(qual, [
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
    ]),
    umatrix: _t(um, ["model", "layer", "unit", "row", "col", "umatrix"]),
    placement: _t(place, [
      "model",
      "layer",
      "seed_a",
      "seed_b",
      "label",
      "displacement",
      "null_displacement",
      "align_cost",
      "identity_cost",
    ]),
    bmus_by_class: _t(bbc, ["model", "layer", "split", "label", "unit", "row", "col", "count"]),
    claims: _t(claimRows, [
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
    ]),
  };
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
