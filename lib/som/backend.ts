/**
 * The contract between the {@linkcode Som} class and its compute backends (`webgpu`, `cpu`,
 * `reference`). A backend trains one epoch at a time and answers top-k BMU queries; the Som
 * owns the weights, the schedule bookkeeping, shuffling and the loss curve.
 *
 * Semantics are QuickSOM's exactly (`shared/SOM.md`): cosine distance with
 * `max(‖·‖, 1e-8)` norms, BMU ties to the lowest unit index, neighbourhood
 * `exp(−D2/(2σ²+1e-5))` on the (optionally periodic) grid, update
 * `W ← W + (α/b)(HᵀX − diag(Hᵀ1)W)` with the pre-batch weights, batch loss = mean BMU distance,
 * step counter `t` advancing by the nominal batch size after every batch, `f = exp(−5t/T)`,
 * `α = α₀f`, `σ = σ₀f` computed before the batch.
 *
 * @module
 */

/** Grid shape of a map: `K = m·n` units, unit `k` at row `floor(k/n)`, column `k mod n`. */
export interface SomGeometry {
  /** Rows. */
  m: number;
  /** Columns. */
  n: number;
  /** Torus (wrap-around) grid distances. */
  periodic: boolean;
}

/** One epoch's work for {@linkcode SomBackend.trainEpoch}. */
export interface EpochArgs {
  /** `K×dim` weights, row-major; updated in place. */
  weights: Float32Array;
  /** Code dimension `d`. */
  dim: number;
  /** `N×dim` training rows. */
  data: Float32Array;
  /** Row indices in visiting order (length may be less than N, e.g. a single batch). */
  order: Int32Array;
  /** Nominal batch size `B` (the last batch may be shorter). */
  batchSize: number;
  /** Sample counter `t` at the start of this call. */
  step: number;
  /** `T = N · epochs`. */
  totalSteps: number;
  /** Initial learning rate α₀. */
  alpha0: number;
  /** Initial neighbourhood width σ₀. */
  sigma0: number;
  /** Also return each visited row's BMU (pre-update weights), in visiting order. */
  returnBmus?: boolean;
  /**
   * Optional progress callback, called with (batches done, batches in this call) at least once
   * at the end; backends may call it more often. Ignoring it is allowed.
   */
  onProgress?: (batchesDone: number, batchesTotal: number) => void;
}

/** What {@linkcode SomBackend.trainEpoch} returns. */
export interface EpochResult {
  /** Loss of every batch, in order. */
  losses: Float32Array;
  /** Sample counter after the last batch (start + batches·B). */
  step: number;
  /** BMU of every visited row (only with `returnBmus`). */
  bmus?: Int32Array;
}

/** Top-k BMUs of many rows. */
export interface TopK {
  /** `N×k` unit indices, ascending distance, ties to the lowest index. */
  index: Int32Array;
  /** `N×k` cosine distances matching `index`. */
  distance: Float32Array;
}

/** A compute backend for the SOM. */
export interface SomBackend {
  /** Backend name as recorded in manifests. */
  readonly name: "webgpu" | "cpu" | "reference";
  /**
   * Trains over `args.order` in batches, updating `args.weights` in place.
   *
   * @param geometry Grid shape.
   * @param args The epoch's data and schedule state.
   * @returns Per-batch losses and the new step counter.
   */
  trainEpoch(geometry: SomGeometry, args: EpochArgs): Promise<EpochResult>;
  /**
   * Top-k BMUs of `data` rows against `weights`, processed in chunks (never N×K at once for
   * large N).
   *
   * @param weights `K×dim` weights.
   * @param dim Code dimension.
   * @param data `N×dim` rows.
   * @param k Number of BMUs per row (1..16).
   * @returns Indices and distances, `N×k`.
   */
  topk(weights: Float32Array, dim: number, data: Float32Array, k: number): Promise<TopK>;
  /** Releases GPU buffers / ORT sessions. */
  dispose(): void;
}
