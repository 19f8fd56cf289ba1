/**
 * The TypeScript reference of the SOM (`shared/SOM.md`): clear, slow, and computed in float64
 * from the float32 weights and inputs, so that it matches QuickSOM's test vector as closely as
 * float32 storage allows. The WebGPU kernels and the fast CPU path are tested against it.
 *
 * @module
 */

import { torusD2 } from "../geometry/torus.ts";
import type { EpochArgs, EpochResult, SomBackend, SomGeometry, TopK } from "./backend.ts";

/** Learning rate and neighbourhood width at one point of the `exp` schedule. */
export interface ScheduleValue {
  /** `f = exp(−5·t/T)`. */
  factor: number;
  /** `α = α₀·f`. */
  alpha: number;
  /** `σ = σ₀·f` (no floor). */
  sigma: number;
}

/**
 * QuickSOM's `exp` schedule: `f = exp(−5·t/T)`, `α = α₀f`, `σ = σ₀f`, evaluated before a batch
 * with the sample counter `t` (which advances by the nominal batch size after every batch).
 *
 * @param step Sample counter `t` before the batch.
 * @param totalSteps `T = N · epochs`.
 * @param alpha0 Initial learning rate α₀.
 * @param sigma0 Initial neighbourhood width σ₀.
 * @returns The factor, α and σ (float64).
 * @example
 * ```ts
 * import { somSchedule } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(somSchedule(0, 40, 0.1, 10), { factor: 1, alpha: 0.1, sigma: 10 });
 * ```
 */
export function somSchedule(
  step: number,
  totalSteps: number,
  alpha0: number,
  sigma0: number,
): ScheduleValue {
  const factor = Math.exp(-5 * step / totalSteps);
  return { factor, alpha: alpha0 * factor, sigma: sigma0 * factor };
}

/**
 * The neighbourhood weight `exp(−D2 / (2σ² + 1e-5))` of a unit at squared grid distance `D2`
 * from the BMU (the `1e-5` is QuickSOM's, and keeps σ → 0 finite).
 *
 * @param d2 Squared grid distance.
 * @param sigma Neighbourhood width σ.
 * @returns The weight in (0, 1].
 * @example
 * ```ts
 * import { somNeighbourhood } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(somNeighbourhood(0, 3), 1);
 * ```
 */
export function somNeighbourhood(d2: number, sigma: number): number {
  return Math.exp(-d2 / (2 * sigma * sigma + 1e-5));
}

/** Sort key of a distance: NaN sorts after every number (same rule as the WGSL kernels). */
function _key(d: number): number {
  return Number.isNaN(d) ? Infinity : d;
}

/** `max(‖v‖, 1e-8)` of `v = a[off .. off+d)`, in float64. */
function _norm(a: Float32Array, off: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += a[off + j] * a[off + j];
  return Math.max(Math.sqrt(s), 1e-8);
}

/** Cosine distance `1 − x·w / (‖x‖ ‖w‖)` of `x = X[xo .. xo+d)` and `w = W[wo .. wo+d)`. */
function _cosine(
  X: Float32Array,
  xo: number,
  xn: number,
  W: Float32Array,
  wo: number,
  wn: number,
  d: number,
): number {
  let dot = 0;
  for (let j = 0; j < d; j++) dot += X[xo + j] * W[wo + j];
  return 1 - dot / (xn * wn);
}

/**
 * The reference backend: a direct float64 transcription of `SOM.md`.
 *
 * @returns A {@linkcode SomBackend} named `"reference"`.
 * @example Train one batch and query it
 * ```ts
 * import { referenceBackend } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const be = referenceBackend();
 * const weights = new Float32Array([1, 0, 0, 1, -1, 0, 0, -1]); // 2×2 map, d = 2
 * const r = await be.topk(weights, 2, new Float32Array([0.9, 0.1]), 2);
 * assertEquals(Array.from(r.index), [0, 1]);
 * ```
 */
export function referenceBackend(): SomBackend {
  return {
    name: "reference",
    trainEpoch(geometry: SomGeometry, args: EpochArgs): Promise<EpochResult> {
      return Promise.resolve(_referenceEpoch(geometry, args));
    },
    topk(weights: Float32Array, dim: number, data: Float32Array, k: number): Promise<TopK> {
      return Promise.resolve(_referenceTopk(weights, dim, data, k));
    },
    dispose() {},
  };
}

function _referenceEpoch(g: SomGeometry, a: EpochArgs): EpochResult {
  const { weights: W, dim: d, data: X, order, batchSize: B } = a;
  const K = g.m * g.n;
  const nb = Math.ceil(order.length / B);
  const losses = new Float32Array(nb);
  const bmusOut = a.returnBmus ? new Int32Array(order.length) : undefined;
  const wn = new Float64Array(K);
  const acc = new Float64Array(d);
  let t = a.step;
  for (let bi = 0; bi < nb; bi++) {
    const r0 = bi * B, b = Math.min(B, order.length - r0);
    const { alpha, sigma } = somSchedule(t, a.totalSteps, a.alpha0, a.sigma0);
    for (let k = 0; k < K; k++) wn[k] = _norm(W, k * d, d);
    const bmu = new Int32Array(b);
    let loss = 0;
    for (let r = 0; r < b; r++) {
      const xo = order[r0 + r] * d;
      const xn = _norm(X, xo, d);
      let best = 0, bestKey = Infinity, bestD = NaN;
      for (let k = 0; k < K; k++) {
        const dist = _cosine(X, xo, xn, W, k * d, wn[k], d);
        const key = _key(dist);
        if (key < bestKey || k === 0) {
          best = k;
          bestKey = key;
          bestD = dist;
        }
      }
      bmu[r] = best;
      loss += bestD;
      if (bmusOut) bmusOut[r0 + r] = best;
    }
    losses[bi] = loss / b;
    const denom = 2 * sigma * sigma + 1e-5;
    const h = new Float64Array(b);
    const scale = alpha / b;
    for (let k = 0; k < K; k++) {
      for (let r = 0; r < b; r++) {
        h[r] = Math.exp(-torusD2(k, bmu[r], g.m, g.n, g.periodic) / denom);
      }
      const wo = k * d;
      acc.fill(0);
      for (let r = 0; r < b; r++) {
        const xo = order[r0 + r] * d, hr = h[r];
        for (let j = 0; j < d; j++) acc[j] += hr * (X[xo + j] - W[wo + j]);
      }
      for (let j = 0; j < d; j++) W[wo + j] = W[wo + j] + scale * acc[j];
    }
    t += B;
    a.onProgress?.(bi + 1, nb);
  }
  return { losses, step: t, ...(bmusOut ? { bmus: bmusOut } : {}) };
}

function _referenceTopk(W: Float32Array, d: number, X: Float32Array, k: number): TopK {
  const K = W.length / d, N = X.length / d;
  const index = new Int32Array(N * k), distance = new Float32Array(N * k);
  const wn = new Float64Array(K);
  for (let u = 0; u < K; u++) wn[u] = _norm(W, u * d, d);
  const bestI = new Int32Array(k), bestD = new Float64Array(k);
  for (let i = 0; i < N; i++) {
    const xo = i * d, xn = _norm(X, xo, d);
    let len = 0;
    for (let u = 0; u < K; u++) {
      const dist = _cosine(X, xo, xn, W, u * d, wn[u], d);
      const key = _key(dist);
      // Units arrive in ascending index order, so "strictly smaller" keeps ties at the lower index.
      if (len === k && !(key < _key(bestD[k - 1]))) continue;
      let p = len < k ? len++ : k - 1;
      while (p > 0 && key < _key(bestD[p - 1])) {
        bestD[p] = bestD[p - 1];
        bestI[p] = bestI[p - 1];
        p--;
      }
      bestD[p] = dist;
      bestI[p] = u;
    }
    for (let q = 0; q < k; q++) {
      index[i * k + q] = q < len ? bestI[q] : -1;
      distance[i * k + q] = q < len ? bestD[q] : NaN;
    }
  }
  return { index, distance };
}
