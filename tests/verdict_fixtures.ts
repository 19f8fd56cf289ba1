import { ACCURACY_CONDITIONS, type AccuracyCondition } from "../lib/analysis/attack_outcome.ts";
/**
 * Synthetic codes for the verdict tests (no tests here): each class has a home position on the
 * torus; an example's code is the torus embedding `[cos, sin, cos, sin]` of its class home plus
 * Gaussian noise of `spread` grid units, and its BMUs are the k units whose weights (the
 * embeddings of the unit positions, plus a little noise per map) are nearest in cosine distance —
 * a fixed, perfectly organised "SOM", so that what a test plants is known exactly.
 *
 * @module
 */
import type { EnsembleMap, LayerInput } from "../lib/analysis/analyze.ts";
import { Rng } from "../lib/rng.ts";
import type { AttackExample, AttackSummary } from "../lib/attack/attack.ts";

/** Options of {@linkcode synthLayers}. */
export interface SynthOptions {
  /** Classes. */
  classes: number;
  /** SOM-tr examples per class. */
  perClass: number;
  /** SOM-val examples per class (default perClass). */
  valPerClass?: number;
  /** Main grid side. */
  grid: number;
  /** Other map sides (class-centre analysis). */
  sizes?: number[];
  /** BMUs per example. */
  k: number;
  /** Per layer, the spread of an example around its class home, in grid units of the main map. */
  spreads: number[];
  /** Per layer, how different the map's weights are from the plain embedding (depth diversity). */
  weightNoise?: number[];
  /** Per layer, the final loss (ensemble maps get ±1 % noise). */
  finalLoss?: number[];
  /** SOM seeds per layer (main included). Default 1. */
  seeds?: number;
  /** Share of SOM-val examples predicted right. Default 0.8 (wrong ones are moved off home). */
  correctRate?: number;
  /** Shuffle all labels after drawing (no class structure left). */
  permuteLabels?: boolean;
  /** Attacked images and per-layer PGD shifts in main-grid units (noise shifts are 0 or 1). */
  attack?: { images: number; advShift: number[] };
  /** Seed. */
  seed?: number;
}

const TAU = 2 * Math.PI;

function _embed(r: number, c: number, m: number, n: number, out: Float32Array, at: number): void {
  out[at] = Math.cos((TAU * r) / m);
  out[at + 1] = Math.sin((TAU * r) / m);
  out[at + 2] = Math.cos((TAU * c) / n);
  out[at + 3] = Math.sin((TAU * c) / n);
}

/** Unit weights of a side×side map: embeddings of the unit positions plus noise. */
function _weights(side: number, noise: number, rng: Rng): Float32Array {
  const w = new Float32Array(side * side * 4);
  for (let u = 0; u < side * side; u++) {
    _embed(Math.floor(u / side), u % side, side, side, w, u * 4);
    for (let j = 0; j < 4; j++) w[u * 4 + j] += noise * rng.normal();
  }
  return w;
}

/** Top-k units by cosine distance for every code. */
export function topkOf(codes: Float32Array, weights: Float32Array, k: number): Int32Array {
  const N = codes.length / 4, K = weights.length / 4, out = new Int32Array(N * k);
  const norms = new Float64Array(K);
  for (let u = 0; u < K; u++) {
    let s = 0;
    for (let j = 0; j < 4; j++) s += weights[u * 4 + j] ** 2;
    norms[u] = Math.sqrt(s) || 1e-8;
  }
  const sim = new Float64Array(K), idx = new Int32Array(K);
  for (let i = 0; i < N; i++) {
    for (let u = 0; u < K; u++) {
      let s = 0;
      for (let j = 0; j < 4; j++) s += codes[i * 4 + j] * weights[u * 4 + j];
      sim[u] = s / norms[u];
      idx[u] = u;
    }
    const order = Array.from(idx).sort((a, b) => sim[b] - sim[a] || a - b);
    for (let j = 0; j < k; j++) out[i * k + j] = order[j];
  }
  return out;
}

/** Codes of examples of the given classes: home position plus `spread` noise (main-grid units). */
function _codes(
  labels: ArrayLike<number>,
  homes: [number, number][],
  spread: number,
  side: number,
  rng: Rng,
  offset?: (i: number) => number,
): Float32Array {
  const out = new Float32Array(labels.length * 4);
  for (let i = 0; i < labels.length; i++) {
    const [r, c] = homes[labels[i]];
    _embed(
      r + spread * rng.normal() + (offset?.(i) ?? 0),
      c + spread * rng.normal(),
      side,
      side,
      out,
      i * 4,
    );
  }
  return out;
}

/**
 * Per-layer analysis inputs from synthetic codes (see the module doc).
 *
 * @param o What to plant.
 * @returns Layers in depth order.
 */
export function synthLayers(o: SynthOptions): LayerInput[] {
  const rng = new Rng(o.seed ?? 1);
  const C = o.classes, side = o.grid, k = o.k;
  const homes: [number, number][] = Array.from(
    { length: C },
    () => [rng.float() * side, rng.float() * side],
  );
  const trLabels = Array.from({ length: C * o.perClass }, (_, i) => i % C);
  const vaN = o.valPerClass ?? o.perClass;
  const vaLabels = Array.from({ length: C * vaN }, (_, i) => i % C);
  const correct = vaLabels.map(() => (rng.float() < (o.correctRate ?? 0.8) ? 1 : 0));
  const outTr = o.permuteLabels ? rng.shuffle(trLabels.slice()) : trLabels;
  const outVa = o.permuteLabels ? rng.shuffle(vaLabels.slice()) : vaLabels;
  const attackLabels = o.attack
    ? Array.from({ length: o.attack.images }, (_, i) => i % C)
    : undefined;
  return o.spreads.map((spread, li) => {
    const wn = o.weightNoise?.[li] ?? 0.05;
    const weights = _weights(side, wn, rng);
    const trCodes = _codes(trLabels, homes, spread, side, rng);
    // Wrong predictions sit 3 spreads (at least 2 units) off their class home.
    const vaCodes = _codes(
      vaLabels,
      homes,
      spread,
      side,
      rng,
      (i) => (correct[i] ? 0 : Math.max(2, 3 * spread)),
    );
    const loss = o.finalLoss?.[li] ?? 0.1 * (li + 1);
    const losses = Float32Array.from({ length: 50 }, (_, t) => loss + Math.exp(-t / 5));
    const sizes = (o.sizes ?? []).filter((s) => s !== side).map((s) => {
      const w = _weights(s, wn, rng);
      // Class homes scale with the map: the same code space, a finer grid.
      const codes = _codes(trLabels, homes, spread, side, rng);
      return {
        grid: { m: s, n: s },
        weights: w,
        train: { topk: topkOf(codes, w, k), labels: outTr },
      };
    });
    const ensemble: EnsembleMap[] = [];
    for (let j = 1; j < (o.seeds ?? 1); j++) {
      const w = _weights(side, wn, rng);
      ensemble.push({
        seed: j,
        weights: w,
        train: { topk: topkOf(trCodes, w, k), labels: outTr },
        val: { topk: topkOf(vaCodes, w, k), labels: outVa },
        finalLoss: loss * (1 + 0.01 * rng.normal()),
      });
    }
    const layer: LayerInput = {
      layer: `CL${li + 1}`,
      grid: { m: side, n: side },
      dim: 4,
      weights,
      losses,
      k,
      seed: 0,
      train: { topk: topkOf(trCodes, weights, k), labels: outTr },
      val: { topk: topkOf(vaCodes, weights, k), labels: outVa, correct },
      sizes,
      ensemble: ensemble.length ? ensemble : undefined,
    };
    if (o.attack && attackLabels) {
      // BMU-level shifts: PGD moves every BMU by advShift (+0/1) columns, noise moves 20 % by 1.
      const cleanTop = topkOf(_codes(attackLabels, homes, spread, side, rng), weights, k);
      const move = (u: number, by: number) =>
        Math.floor(u / side) * side + ((u % side) + by) % side;
      const adv = cleanTop.map((u) => move(u, o.attack!.advShift[li] + rng.int(2)));
      const noise = cleanTop.map((u) => (rng.float() < 0.2 ? move(u, 1) : u));
      layer.shifts = { clean: cleanTop, adversarial: adv, noise };
    }
    return layer;
  });
}

/** An attack on 100 images: clean accuracy 0.8; PGD leaves `advRight` right; noise keeps all. */
export function syntheticAttack(advRight: number): {
  summary: AttackSummary;
  examples: AttackExample[];
} {
  const examples: AttackExample[] = Array.from({ length: 100 }, (_, i) => {
    const label = i % 10, right = i % 5 !== 0;
    const clean = right ? label : (label + 1) % 10;
    return {
      id: i,
      label,
      clean,
      adversarial: right && i < advRight * 1.25 ? label : (label + 2) % 10,
      noise: clean,
      matched: clean,
      quantized: (label + 2) % 10,
      success: true,
      advLinf: 4 / 255,
      advL2: 0.5,
      noiseLinf: 4 / 255,
      noiseL2: 0.3,
      matchedLinf: 4 / 255,
      matchedL2: 0.4,
    };
  });
  const acc = (k: AccuracyCondition) => examples.filter((e) => e[k] === e.label).length / 100;
  const n = { linf: { mean: 4 / 255, max: 4 / 255 }, l2: { mean: 0.5, max: 0.6 } };
  return {
    summary: {
      n: 100,
      settings: {
        eps: 4 / 255,
        steps: 50,
        stepSize: (4 / 255) * 0.02,
        seed: 0,
        batch: 16,
        normalize: "none",
        runtime: "node",
      },
      accuracy: Object.fromEntries(ACCURACY_CONDITIONS.map((k) => [k, acc(k)])) as Record<
        AccuracyCondition,
        number
      >,
      successRate: 1 - acc("adversarial"),
      successRateOnCorrect: 0.9,
      norms: { adversarial: n, noise: n, matched: n },
      quantized: { stillSucceed: 90, of: 95, linf: n.linf },
    },
    examples,
  };
}
