/**
 * Figs. 11 and 12: BMU shifts between clean and perturbed (random noise, PGD) images.
 *
 * @module
 */

import type { ModelAnalysis } from "../../analysis/analyze.ts";
import { layerOrder, type Row } from "./_common.ts";
import { boxRows, fixedColor, modelColumnBoxSpec } from "./_box.ts";
import type { FigureSpec } from "./spec.ts";

const _KIND = { noise: "random noise", adversarial: "PGD (adversarial)" } as const;

/**
 * Boxes of the torus distance between each image's i-th clean and i-th perturbed BMU, per layer
 * and perturbation, one column per model.
 *
 * @param as Analysed models (CNNs for Fig. 11, ViTs for Fig. 12).
 * @param id File stem.
 * @param paper Paper figure mirrored.
 * @returns The figure.
 * @example
 * ```ts
 * import { analyzeModel } from "../../../mod.ts";
 * import { shiftFigure } from "./shifts.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const weights = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
 * const a = analyzeModel("toy", [{
 *   layer: "CL1", grid: { m: 4, n: 4 }, dim: 2, weights, losses: [0.5, 0.4], k: 2, train: split, val: split,
 * }]);
 * assertEquals(shiftFigure([a], "fig11_bmu_shifts", "Fig. 11").paper, "Fig. 11");
 * ```
 */
export function shiftFigure(as: readonly ModelAnalysis[], id: string, paper: string): FigureSpec {
  const rows: Row[] = [];
  for (const a of as) {
    for (const l of a.layers) {
      for (const kind of ["noise", "adversarial"] as const) {
        const s = l.shifts?.[kind];
        if (s) rows.push(...boxRows({ model: a.model, layer: l.layer, kind: _KIND[kind] }, s.box));
      }
    }
  }
  const kinds = [_KIND.noise, _KIND.adversarial];
  return {
    id,
    paper,
    title: "BMU shifts under random noise and PGD",
    caption: "Torus distance between each image's i-th clean BMU and its i-th perturbed BMU " +
      "(i = 1..10), over all attacked images; box = quartiles, whiskers 1.5 IQR.",
    spec: modelColumnBoxSpec(
      `${paper} — BMU shift between clean and perturbed images`,
      rows,
      layerOrder(as),
      "kind",
      fixedColor("kind", "perturbation", kinds, ["#2ca02c", "#d62728"]),
      "BMU shift (grid units)",
      320,
    ),
  };
}
