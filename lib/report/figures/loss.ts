/**
 * Fig. 3: SOM training loss per layer, one panel per model.
 *
 * @module
 */

import type { ModelAnalysis } from "../../analysis/analyze.ts";
import { layerScheme, round6, type Row, specHead } from "./_common.ts";
import type { FigureSpec } from "./spec.ts";

/** Window means of a loss curve, at most `maxPoints` points `[batch, mean loss]`. */
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

/**
 * Fig. 3: the training loss of every layer's SOM against training progress in epochs.
 *
 * @param as Analysed models (one panel each).
 * @returns The figure `fig03_loss`.
 * @example
 * ```ts
 * import { analyzeModel } from "../../../mod.ts";
 * import { lossFigure } from "./loss.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const weights = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
 * const a = analyzeModel("toy", [{
 *   layer: "CL1", grid: { m: 4, n: 4 }, dim: 2, weights, losses: [0.5, 0.4], k: 2, train: split, val: split,
 * }]);
 * assertEquals(lossFigure([a]).id, "fig03_loss");
 * ```
 */
export function lossFigure(as: readonly ModelAnalysis[]): FigureSpec {
  const rows: Row[] = [];
  for (const a of as) {
    for (const l of a.layers) {
      const bpe = l.batchesPerEpoch ?? l.losses.length;
      for (const [i, v] of _downsampleCurve(l.losses, 150)) {
        rows.push({ model: a.model, layer: l.layer, epoch: round6(i / bpe), loss: round6(v) });
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
      ...specHead("Fig. 3 — SOM training loss per layer", rows),
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
              scale: { domain: order, scheme: layerScheme(order.length) },
            },
          },
        };
      }),
      resolve: { scale: { color: "independent", y: "independent" } },
    },
  };
}
