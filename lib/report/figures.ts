/**
 * Vega-Lite specifications of the paper's figures (Figs. 3–12, Supp. Figs. 1–3) and of the
 * beyond-paper figures, built from {@linkcode ModelAnalysis} results. Each figure family lives in
 * its own module under `figures/` (shared helpers in `figures/_*.ts`); this module lists them in
 * paper order and decides which models each figure shows.
 *
 * To add a figure: write a builder `(analyses) => FigureSpec` in a module under `figures/`, push
 * it here, and (for a paper figure) name its claims in `html.ts`.
 *
 * @module
 */

import type { ModelAnalysis } from "../analysis/analyze.ts";
import { bmusByClassFigure } from "./figures/bmus_by_class.ts";
import { datasetsFigure } from "./figures/datasets.ts";
import { correctnessFigure, dClassFigure } from "./figures/dclass.ts";
import { densityAllLayersFigure, densityFigure } from "./figures/density.ts";
import { lossFigure } from "./figures/loss.ts";
import { mapQualityFigure, uMatrixFigure } from "./figures/quality.ts";
import { shiftFigure } from "./figures/shifts.ts";
import type { FigureSpec } from "./figures/spec.ts";
import { centreDistanceFigure, weightDistanceFigure } from "./figures/weights.ts";

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
  const out: FigureSpec[] = [lossFigure(analyses), densityFigure(analyses)];
  const first = cnn[0] ?? analyses[0];
  out.push(bmusByClassFigure(first, "fig05_bmus_by_class", "Fig. 5", options.classNames));
  out.push(dClassFigure(analyses));
  if (cnn.length) {
    const title = "cosine distance between SOM unit weights";
    out.push(weightDistanceFigure(cnn, "fig06cd_weight_cd", "Fig. 6C,D", title));
    out.push(centreDistanceFigure(cnn, "fig07_centre_cd", "Fig. 7", true));
  }
  out.push(datasetsFigure(analyses));
  if (vit.length) {
    const title = "cosine distance between SOM unit weights (ViT)";
    out.push(weightDistanceFigure(vit, "fig09_vit_weight_cd", "Fig. 9", title));
    out.push(centreDistanceFigure(vit, "fig10_vit_centre_cd", "Fig. 10", false));
  }
  if (cnn.some((a) => a.layers.some((l) => l.shifts))) {
    out.push(shiftFigure(cnn, "fig11_bmu_shifts", "Fig. 11"));
  }
  if (vit.some((a) => a.layers.some((l) => l.shifts))) {
    out.push(shiftFigure(vit, "fig12_vit_bmu_shifts", "Fig. 12"));
  }
  out.push(densityAllLayersFigure(analyses));
  const second = analyses.find((a) => a !== first);
  if (second) {
    out.push(bmusByClassFigure(second, "supp02_bmus_by_class", "Supp. Fig. 2", options.classNames));
  }
  out.push(correctnessFigure(analyses));
  out.push(mapQualityFigure(analyses), uMatrixFigure(analyses));
  return out;
}
