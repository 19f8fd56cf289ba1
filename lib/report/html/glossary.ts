/**
 * The report's glossary: every term and operational choice, worded from the run's own settings
 * (k, the attack's ε and steps) rather than the paper's defaults.
 *
 * @module
 */

import { esc } from "./format.ts";

/** Run settings the glossary mentions. */
export interface GlossarySettings {
  /** BMUs per example. */
  k?: number;
  /** The attack in words, e.g. `ε = 4/255, 50 steps`. */
  attack?: string;
}

function _glossary(s: GlossarySettings): [string, string][] {
  const k = s.k ?? 10;
  return [
    [
      "Vector code",
      "Per channel of a feature map: max, mean, population std and centre of mass of the flattened activations, concatenated (dimension 4C); CLS tokens are used as they are.",
    ],
    [
      "SOM-tr / SOM-val",
      "n examples per class drawn (seeded) from the training and the validation/test split. Only SOM-tr trains SOMs and estimates class centres.",
    ],
    [
      "BMU, top-k BMUs",
      `Best-matching unit: the SOM unit whose weight has the smallest cosine distance to a code (ties: lowest unit index); the top-k BMUs are the k closest units in ascending order (k = ${k} in this run).`,
    ],
    [
      "Torus distance",
      "Euclidean distance between grid positions with wrap-around: √(min(|Δr|, m−|Δr|)² + min(|Δc|, n−|Δc|)²), in grid units.",
    ],
    [
      "Loss (Fig. 3)",
      "Per training batch, the mean cosine distance between inputs and their BMUs before the update (QuickSOM's loss). Final loss: mean of the last 10 % of batches.",
    ],
    [
      "BMU density",
      "Periodic Gaussian kernel density of SOM-tr first BMUs over the torus, per unit area (integrates to 1), bandwidth per axis by Scott's rule N^(−1/6)·σ̂ with σ̂ the circular standard deviation (floor 0.5 units); drawn ×100 as in the paper.",
    ],
    [
      "Class centre",
      "Mode unit u* of the class's SOM-tr top-k BMUs; each BMU unfolded to its image on the 3×3 tiling nearest to u*; centre = mean of unfolded positions wrapped into the grid; centre unit = nearest grid unit on the torus (ties: lowest index).",
    ],
    [
      "D_class",
      "For a class: the mean torus distance between its examples' top-k BMUs and its class centre (centres from SOM-tr, also for SOM-val).",
    ],
    [
      "Box plot",
      "Box from the first to the third quartile (linear interpolation), line at the median, whiskers to the most extreme values within 1.5 IQR, circles beyond (outliers).",
    ],
    [
      "Weight cosine distance",
      "1 − wᵢ·wⱼ/(‖wᵢ‖‖wⱼ‖) between SOM unit weights (norms floored at 1e-8); over all K(K−1)/2 unit pairs.",
    ],
    [
      "Class-centre cosine distance",
      "Cosine distance between the weights of the centre units of two classes (a seeded subset of at most 100 classes when there are more), per SOM size.",
    ],
    [
      "Label-centre distance (Supp. Fig. 3)",
      "For a SOM-val example, the mean torus distance of its top-k BMUs to its label's centre; averaged per class over correctly (Corr) and wrongly (InCorr) predicted examples.",
    ],
    [
      "BMU shift",
      `Torus distance between an image's i-th clean BMU and its i-th perturbed BMU, i = 1..${k}, under PGD (L∞, ${
        s.attack ?? "ε and steps as in the PGD section"
      }) or uniform [0, ε] noise.`,
    ],
    ["Quantization error", "Mean cosine distance between each SOM-tr code and its BMU."],
    [
      "Topographic error",
      "Share of SOM-tr codes whose first and second BMUs are not among each other's 4 direct torus neighbours.",
    ],
    [
      "U-matrix",
      "Per unit, the mean cosine distance between its weight and those of its 8 torus neighbours.",
    ],
    [
      "Placement stability",
      "SOMs trained with different seeds are aligned over the torus symmetries (translations, row/column flips, transposition on square grids, hence 90° rotations) by minimising the mean cosine distance of matched unit weights; then 1 − (mean displacement of each class centre) / (mean distance between different classes' centres). 1 = classes land in the same place; 0 = no better than unrelated classes.",
    ],
    [
      "Bootstrap interval",
      "Interval of the statistic over seeded resamples (with replacement) of its independent units — classes and their examples, attacked images, or SOM seeds; each claim names what it resampled and how many times.",
    ],
    [
      "Verdict",
      "holds: the claim's interval lies wholly on the claimed side of its threshold (and, for class-structure claims, the label-permutation null is beaten); does not hold: wholly on the other side; inconclusive: it straddles the threshold, is within numerical noise of it, or inputs were missing; invalid: a validity guard failed (e.g. collapsed maps or chance-level accuracy), so the verdict is not evidence either way. Each claim states its own rule, level and adjustment.",
    ],
  ];
}

/**
 * The glossary section.
 *
 * @param settings What the run used.
 * @returns HTML.
 */
export function glossarySection(settings: GlossarySettings = {}): string {
  return `<section id="glossary"><h2>Glossary</h2><dl>${
    _glossary(settings).map(([t, d]) => `<dt><b>${esc(t)}</b></dt><dd>${esc(d)}</dd>`).join("")
  }</dl></section>`;
}
