/**
 * Planted analysis inputs shared by the claims, report and figure tests (no tests here).
 *
 * @module
 */
import type { LayerInput } from "../lib/analysis/analyze.ts";
import { Rng } from "../lib/rng.ts";

/**
 * A planted model: 10 classes, 20×20 maps. In layer i (0..3) each class's BMUs scatter around
 * its own unit with spread `spread[i]`; weights get more diverse with depth; the loss ends
 * higher in deeper layers; adversarial shifts grow with depth, noise shifts are 0 or 1 unit;
 * wrong predictions land `wrongOffset` units farther from their centre.
 */
export function planted(
  opts: {
    spread: number[];
    weightNoise: number[];
    finalLoss: number[];
    advShift: number[];
    wrongOffset: number;
  },
  extra: {
    /** SOM seeds per layer (main included; the others are noisy copies). Default 1. */
    seeds?: number;
    /**
     * Weights that vary smoothly over the grid with amplitude `weightNoise` (instead of
     * independent noise per unit), so that distant class centres have distant weights.
     */
    smooth?: boolean;
    /**
     * Share of BMUs that land near one hub unit whatever the class (maps have popular units,
     * Fig. 4), so that shuffled-label pseudo-classes all centre on the hub. Default 0.
     */
    hub?: number;
  } = {},
): LayerInput[] {
  const grid = { m: 20, n: 20 }, K = 400, dim = 8, k = 3, C = 10, per = 20;
  const rng = new Rng(1);
  const labelsOf = (n: number) => Array.from({ length: n * C }, (_, i) => Math.floor(i / n));
  const home = (c: number) => ((c * 2) % 20) * 20 + ((c * 7) % 20);
  const scatter = (u: number, s: number) => {
    const r = Math.floor(u / 20) + Math.round(rng.normal() * s);
    const c = (u % 20) + Math.round(rng.normal() * s);
    return (((r % 20) + 20) % 20) * 20 + (((c % 20) + 20) % 20);
  };
  const shift = (u: number, by: number) => {
    const r = Math.floor(u / 20), c = (u % 20 + by) % 20;
    return r * 20 + c;
  };
  return opts.spread.map((s, li) => {
    const trL = labelsOf(per), vaL = labelsOf(per);
    const at = (c: number) =>
      extra.hub && rng.float() < extra.hub ? scatter(210, 0.3) : scatter(home(c), s);
    const tr = Int32Array.from(trL.flatMap((c) => [0, 1, 2].map(() => at(c))));
    const correct = vaL.map((_, i) => (i % 5 === 0 ? 0 : 1));
    const va = Int32Array.from(
      vaL.flatMap((c, i) =>
        [0, 1, 2].map(() => correct[i] ? at(c) : shift(at(c), opts.wrongOffset))
      ),
    );
    const base = Float32Array.from({ length: dim }, () => rng.normal());
    const phase = Float32Array.from({ length: 2 * dim }, () => rng.float() * 2 * Math.PI);
    const field = (i: number) => {
      const u = Math.floor(i / dim), j = i % dim, r = Math.floor(u / 20), c = u % 20;
      return Math.sin((2 * Math.PI * r) / 20 + phase[j]) +
        Math.cos((2 * Math.PI * c) / 20 + phase[dim + j]);
    };
    const weights = Float32Array.from(
      { length: K * dim },
      (_, i) =>
        base[i % dim] +
        opts.weightNoise[li] * (extra.smooth ? field(i) + 0.1 * rng.normal() : rng.normal()),
    );
    const losses = Float32Array.from(
      { length: 100 },
      (_, t) => opts.finalLoss[li] + Math.exp(-t / 10) + 0.01 * rng.normal(),
    );
    const clean = Int32Array.from({ length: 50 * k }, () => rng.int(K));
    const adversarial = clean.map((u) => shift(u, opts.advShift[li] + rng.int(2)));
    const noise = clean.map((u) => (rng.float() < 0.2 ? shift(u, 1) : u));
    const ensemble = Array.from({ length: (extra.seeds ?? 1) - 1 }, (_, j) => ({
      seed: j + 1,
      weights: Float32Array.from(weights, (w) => w + 0.01 * opts.weightNoise[li] * rng.normal()),
      train: { topk: tr, labels: trL },
      val: { topk: va, labels: vaL },
      finalLoss: opts.finalLoss[li] * (1 + 0.01 * rng.normal()),
    }));
    return {
      ...(ensemble.length ? { ensemble, seed: 0 } : {}),
      layer: `CL${li + 1}`,
      grid,
      dim,
      weights,
      losses,
      k,
      train: { topk: tr, labels: trL },
      val: { topk: va, labels: vaL, correct },
      shifts: { clean, adversarial, noise },
    };
  });
}

export const PAPER_LIKE = {
  spread: [4, 3, 1.5, 0.5],
  weightNoise: [0.05, 0.1, 1, 2],
  finalLoss: [0.1, 0.15, 0.2, 0.4],
  advShift: [0, 1, 3, 6],
  wrongOffset: 5,
};
