/**
 * A toroidal cosine self-organizing map with QuickSOM's exact training semantics
 * (`shared/SOM.md`) and a MiniSom-like API: make it, `train()` it, ask for BMUs, errors and the
 * U-matrix, `save()` it and `Som.load()` it back bit-identically.
 *
 * The map owns the weights, the schedule bookkeeping, seeded initialisation and shuffling, and
 * the loss curve; a {@linkcode SomBackend} (`webgpu`, `cpu` or `reference`) does the arithmetic.
 *
 * @module
 */

import type { EpochResult, SomBackend, SomGeometry, TopK } from "./backend.ts";
import { referenceBackend } from "./reference.ts";
import { webgpuBackend } from "./webgpu_backend.ts";
import { torusD2 } from "./torus.ts";
import { GpuContext } from "../gpu/context.ts";
import { Rng } from "../rng.ts";
import { readNpy, writeNpy } from "../npy.ts";
import { writeJsonAtomic } from "../fs_atomic.ts";
import { DataFormatError } from "../errors.ts";
import { SOMSCOPE_VERSION } from "../manifest.ts";

/** How the weights start: a named strategy or explicit `K×dim` weights. */
export type SomInit = "normal" | "pca" | "sample" | Float32Array;

/** Backend names accepted by {@linkcode SomOptions.backend}. */
export type SomBackendName = "auto" | "webgpu" | "cpu" | "reference";

/**
 * The backend names, for messages and CLI help.
 *
 * @example
 * ```ts
 * import { SOM_BACKENDS } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(SOM_BACKENDS, ["auto", "webgpu", "cpu", "reference"]);
 * ```
 */
export const SOM_BACKENDS: readonly SomBackendName[] = Object.freeze([
  "auto",
  "webgpu",
  "cpu",
  "reference",
]);

/** Progress of {@linkcode Som.train}, passed to {@linkcode SomOptions.onProgress}. */
export interface SomProgress {
  /** Epoch in progress (0-based). */
  epoch: number;
  /** Epochs in this call. */
  epochs: number;
  /** Batches finished in this epoch. */
  batch: number;
  /** Batches per epoch. */
  batches: number;
}

/** Options of a {@linkcode Som}. */
export interface SomOptions {
  /** Grid rows (positive integer). */
  m: number;
  /** Grid columns (positive integer). */
  n: number;
  /** Code dimension `d` (positive integer). */
  dim: number;
  /** Torus (wrap-around) grid. Default true. */
  periodic?: boolean;
  /** Initial neighbourhood width σ₀ (≥ 0). Default 10. */
  sigma0?: number;
  /** Initial learning rate α₀ (≥ 0). Default 0.1. */
  alpha0?: number;
  /** Nominal batch size B. Default 10. */
  batchSize?: number;
  /** Epochs per {@linkcode Som.train} call. Default 5. */
  epochs?: number;
  /** Root seed; init draws from stream `"som-init"`, shuffling from `"som-shuffle"`. Default 0. */
  seed?: number;
  /**
   * Initial weights: `"normal"` (standard normal, seeded; QuickSOM's choice), `"pca"` (the plane
   * of the data's first two principal components around its mean), `"sample"` (random training
   * rows) or explicit `K×dim` weights (copied). Data-driven inits happen at the first `train()`.
   * Default `"normal"`.
   */
  init?: SomInit;
  /** Visit each epoch in a fresh seeded permutation; false = the given order. Default true. */
  shuffle?: boolean;
  /**
   * Explicit visiting order: one `Int32Array` used for every epoch, or one per epoch. Overrides
   * `shuffle`. Entries must be row indices of the training data.
   */
  order?: Int32Array | Int32Array[];
  /**
   * Compute backend, by name or as an object. `"auto"` picks `webgpu` on a hardware adapter and
   * `cpu` on a software adapter (llvmpipe) or none (falling back to `reference` if the `cpu`
   * backend cannot load). Default `"auto"`.
   */
  backend?: SomBackendName | SomBackend;
  /** GPU context to use (not disposed by the SOM). Default: one made on demand. */
  ctx?: GpuContext;
  /** Name of the layer the codes come from (kept in the saved file). */
  layer?: string;
  /**
   * Called as training advances: at least at the end of every epoch, and as often as the backend
   * reports (webgpu: every ≤ 256 batches; reference: every batch). Calls may repeat a position.
   */
  onProgress?: (progress: SomProgress) => void;
}

/** Options of {@linkcode Som.load}. */
export interface SomLoadOptions {
  /** Backend for the loaded map. Default `"auto"`. */
  backend?: SomBackendName | SomBackend;
  /** GPU context to use. */
  ctx?: GpuContext;
  /** Progress callback for further training. */
  onProgress?: (progress: SomProgress) => void;
}

/** The JSON header of a saved map (`som.json`). */
export interface SomFile {
  /** Always `"somscope-som"`. */
  format: "somscope-som";
  /** File format version (1). */
  formatVersion: 1;
  /** somscope version that wrote it. */
  somscope: string;
  /** Grid rows. */
  m: number;
  /** Grid columns. */
  n: number;
  /** Code dimension. */
  dim: number;
  /** Torus grid. */
  periodic: boolean;
  /** σ₀. */
  sigma0: number;
  /** α₀. */
  alpha0: number;
  /** Nominal batch size. */
  batchSize: number;
  /** Epochs per train call. */
  epochs: number;
  /** Root seed. */
  seed: number;
  /** Init strategy (`"explicit"` for given weights). */
  init: "normal" | "pca" | "sample" | "explicit";
  /** Shuffling on. */
  shuffle: boolean;
  /** Backend that trained the map, or null if never trained. */
  backend: string | null;
  /** Layer name, or null. */
  layer: string | null;
  /** Sample counter after the last batch of the last train call. */
  step: number;
  /** Per-batch losses (float32 values). */
  losses: number[];
  /** Weights file beside this one (`K×dim` float32 `.npy`). */
  weights: string;
}

const _FILE = "som.json", _WEIGHTS = "weights.npy";

function _posInt(what: string, name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new RangeError(`Cannot ${what}: ${name} is ${String(v)} but must be a positive integer`);
  }
  return v;
}

function _nonNeg(what: string, name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new RangeError(
      `Cannot ${what}: ${name} is ${String(v)} but must be a finite number ≥ 0`,
    );
  }
  return v;
}

/**
 * Checks that `data` is a finite `rows×dim` float32 matrix and returns `rows`.
 *
 * @throws {TypeError} If `data` is not a Float32Array.
 * @throws {RangeError} On an empty input, a shape mismatch or a non-finite value (naming the row).
 */
function _checkData(what: string, data: unknown, dim: number, rows?: number): number {
  if (!(data instanceof Float32Array)) {
    throw new TypeError(
      `Cannot ${what}: codes are a ${
        (data as object)?.constructor?.name ?? typeof data
      } but expected a Float32Array`,
    );
  }
  if (data.length === 0 || rows === 0) {
    throw new RangeError(`Cannot ${what}: codes are empty but expected at least one row`);
  }
  if (rows !== undefined) {
    if (!Number.isInteger(rows) || rows < 0) {
      throw new RangeError(`Cannot ${what}: rows is ${rows} but must be a positive integer`);
    }
    if (data.length % rows !== 0) {
      throw new RangeError(
        `Cannot ${what}: codes have ${data.length} values, not a whole number of ${rows} rows`,
      );
    }
    const cols = data.length / rows;
    if (cols !== dim) {
      throw new RangeError(`Cannot ${what}: codes have ${cols} columns but the map has ${dim}`);
    }
  } else if (data.length % dim !== 0) {
    throw new RangeError(
      `Cannot ${what}: codes have ${data.length} values, not a whole number of rows of ${dim} ` +
        `columns (the map has ${dim})`,
    );
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // v - v is 0 for finite v and NaN for NaN/±Infinity: one comparison per element.
    if (v - v !== 0) {
      const row = Math.floor(i / dim), col = i - row * dim;
      throw new RangeError(
        `Cannot ${what}: row ${row} has ${v} at column ${col} but codes must be finite`,
      );
    }
  }
  return data.length / dim;
}

/** Loads the `cpu` backend (another module; optional until it lands). */
async function _cpuBackend(): Promise<SomBackend> {
  const mod = await import("./cpu_backend.ts") as { cpuBackend: () => Promise<SomBackend> };
  return await mod.cpuBackend();
}

/**
 * A self-organizing map on an `m×n` (toroidal) grid with cosine distance.
 *
 * @example Train a small map and query it
 * ```ts
 * import { Rng, Som } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const rng = new Rng(1);
 * const data = Float32Array.from({ length: 60 * 4 }, () => rng.normal());
 * const som = new Som({ m: 4, n: 5, dim: 4, epochs: 2, backend: "reference" });
 * const losses = await som.train(data);
 * assertEquals(losses.length, 2 * 6); // 2 epochs × 6 batches of 10
 * assertEquals((await som.bmus(data.subarray(0, 8))).length, 2);
 * som.dispose();
 * ```
 */
export class Som {
  /** Grid rows. */
  readonly m: number;
  /** Grid columns. */
  readonly n: number;
  /** Number of units `m·n`. */
  readonly units: number;
  /** Code dimension. */
  readonly dim: number;
  /** Torus grid. */
  readonly periodic: boolean;
  /** σ₀. */
  readonly sigma0: number;
  /** α₀. */
  readonly alpha0: number;
  /** Nominal batch size. */
  readonly batchSize: number;
  /** Epochs per train call. */
  readonly epochs: number;
  /** Root seed. */
  readonly seed: number;
  /** Shuffling on. */
  readonly shuffle: boolean;
  /** Layer name (optional, saved with the map). */
  layer: string | undefined;
  #init: "normal" | "pca" | "sample" | "explicit";
  #weights: Float32Array | undefined;
  #losses: Float32Array = new Float32Array(0);
  #step = 0;
  #order: Int32Array | Int32Array[] | undefined;
  #shuffleRng: Rng;
  #backendOpt: SomBackendName | SomBackend;
  #backend: Promise<SomBackend> | undefined;
  #resolved: SomBackend | undefined;
  #backendName: string | null = null;
  #trainedBy: string | null = null;
  #note: string | undefined;
  #ctx: GpuContext | undefined;
  #ownCtx: GpuContext | undefined;
  #onProgress: ((p: SomProgress) => void) | undefined;

  /**
   * Makes a map. Weights are drawn now for `"normal"` or copied from explicit weights; the
   * data-driven inits wait for the first {@linkcode Som.train}.
   *
   * @param options Grid, hyper-parameters, init, backend.
   * @throws {RangeError} On a non-positive grid side, dimension, batch size or epoch count, a
   * negative or non-finite σ₀/α₀, an unknown init or backend name, or explicit weights of the
   * wrong length or with non-finite values.
   */
  constructor(options: SomOptions) {
    const what = "create SOM";
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Cannot ${what}: options are ${options} but expected an object`);
    }
    const { m, n, dim } = options;
    if (
      typeof m !== "number" || typeof n !== "number" || !Number.isInteger(m) ||
      !Number.isInteger(n) || m < 1 || n < 1
    ) {
      throw new RangeError(
        `Cannot ${what}: grid is ${m}×${n} but both sides must be positive integers`,
      );
    }
    this.m = m;
    this.n = n;
    this.units = m * n;
    this.dim = _posInt(what, "dim", dim);
    this.periodic = options.periodic ?? true;
    this.sigma0 = _nonNeg(what, "sigma0 (σ₀)", options.sigma0 ?? 10);
    this.alpha0 = _nonNeg(what, "alpha0 (α₀)", options.alpha0 ?? 0.1);
    this.batchSize = _posInt(what, "batchSize", options.batchSize ?? 10);
    this.epochs = _posInt(what, "epochs", options.epochs ?? 5);
    const seed = options.seed ?? 0;
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`Cannot ${what}: seed is ${seed} but must be a safe integer`);
    }
    this.seed = seed;
    this.shuffle = options.shuffle ?? true;
    this.layer = options.layer;
    this.#order = options.order;
    this.#onProgress = options.onProgress;
    this.#ctx = options.ctx;
    const be = options.backend ?? "auto";
    if (typeof be === "string") {
      if (!SOM_BACKENDS.includes(be as SomBackendName)) {
        throw new RangeError(
          `Cannot ${what}: backend is "${be}" but expected one of ${SOM_BACKENDS.join(", ")}`,
        );
      }
    } else if (typeof be !== "object" || typeof be?.trainEpoch !== "function") {
      throw new TypeError(
        `Cannot ${what}: backend is ${typeof be} but expected a name (${
          SOM_BACKENDS.join(", ")
        }) or a SomBackend object`,
      );
    }
    this.#backendOpt = be;
    this.#shuffleRng = new Rng(seed).stream("som-shuffle");
    const init = options.init ?? "normal";
    const K = this.units, d = this.dim;
    if (init instanceof Float32Array) {
      if (init.length !== K * d) {
        throw new RangeError(
          `Cannot ${what}: initial weights have ${init.length} values but the ${m}×${n} map ` +
            `with dim ${d} needs ${K * d}`,
        );
      }
      _checkData(what + " from initial weights", init, d);
      this.#weights = init.slice();
      this.#init = "explicit";
    } else if (init === "normal") {
      const rng = new Rng(seed).stream("som-init");
      this.#weights = Float32Array.from({ length: K * d }, () => rng.normal());
      this.#init = "normal";
    } else if (init === "pca" || init === "sample") {
      this.#init = init;
    } else {
      throw new RangeError(
        `Cannot ${what}: init is ${JSON.stringify(init)} but expected one of normal, pca, ` +
          `sample or a Float32Array`,
      );
    }
  }

  /** The geometry passed to backends. */
  get geometry(): SomGeometry {
    return { m: this.m, n: this.n, periodic: this.periodic };
  }

  /**
   * The `K×dim` weights, row-major (the live array; copy before changing it).
   *
   * @throws {RangeError} Before the first train call of a map with a data-driven init.
   */
  get weights(): Float32Array {
    return this.#w("read weights");
  }

  /** Init strategy (`"explicit"` for given weights). */
  get init(): "normal" | "pca" | "sample" | "explicit" {
    return this.#init;
  }

  /** Every batch loss so far (all train calls, in order). A copy. */
  get losses(): Float32Array {
    return this.#losses.slice();
  }

  /** Sample counter after the last batch. */
  get step(): number {
    return this.#step;
  }

  /** The backend in use (`"webgpu"`, `"cpu"`, `"reference"`), or null before first use. */
  get backendName(): string | null {
    return this.#backendName;
  }

  /** The backend of the last train call (saved in `som.json`), or null if never trained. */
  get trainedBy(): string | null {
    return this.#trainedBy;
  }

  /** Why `auto` chose what it chose (e.g. the cpu backend was unavailable), if noteworthy. */
  get backendNote(): string | undefined {
    return this.#note;
  }

  /** The GPU context in use, if any. */
  get gpuContext(): GpuContext | undefined {
    return this.#ctx ?? this.#ownCtx;
  }

  #w(what: string): Float32Array {
    if (!this.#weights) {
      throw new RangeError(
        `Cannot ${what}: the map has init "${this.#init}" and is not initialised until train()`,
      );
    }
    return this.#weights;
  }

  /**
   * Resolves (once) and returns the compute backend.
   *
   * @returns The backend.
   * @throws {GpuUnavailableError} If `webgpu` was asked for and no adapter exists.
   */
  backend(): Promise<SomBackend> {
    this.#backend ??= this.#resolve().then((b) => {
      this.#backendName = b.name;
      this.#resolved = b;
      return b;
    });
    return this.#backend;
  }

  async #resolve(): Promise<SomBackend> {
    const opt = this.#backendOpt;
    if (typeof opt !== "string") return opt;
    if (opt === "reference") return referenceBackend();
    if (opt === "cpu") return await _cpuBackend();
    if (opt === "webgpu") {
      const ctx = this.#ctx ?? (this.#ownCtx = await GpuContext.create());
      return webgpuBackend(ctx);
    }
    // auto
    let ctx = this.#ctx;
    if (!ctx) {
      try {
        ctx = this.#ownCtx = await GpuContext.create();
      } catch (e) {
        this.#note = `no WebGPU adapter (${(e as Error).message})`;
      }
    }
    if (ctx && !ctx.adapter.isFallbackAdapter) return webgpuBackend(ctx);
    if (ctx) this.#note = `software adapter (${ctx.adapter.description || "fallback"})`;
    if (this.#ownCtx) {
      this.#ownCtx.dispose();
      this.#ownCtx = undefined;
    }
    try {
      return await _cpuBackend();
    } catch (e) {
      this.#note = `${this.#note ? this.#note + "; " : ""}cpu backend unavailable (${
        (e as Error).message
      }), using reference`;
      return referenceBackend();
    }
  }

  /**
   * Trains the map: `epochs` passes over the rows of `data` in batches of `batchSize`, with the
   * `exp` schedule run from `t = 0` to `T = rows·epochs` (each call runs a full schedule on the
   * current weights). Losses of every batch are appended to {@linkcode Som.losses}.
   *
   * @param data `rows×dim` float32 codes, row-major.
   * @param rows Number of rows. Default `data.length / dim`.
   * @returns The losses of this call's batches.
   * @throws {RangeError} On empty input, a column count other than `dim`, a non-finite value
   * (naming the row) or an explicit order with an index outside the data.
   */
  async train(data: Float32Array, rows?: number): Promise<Float32Array> {
    const what = "train SOM";
    const N = _checkData(what, data, this.dim, rows);
    const orders = this.#orders(what, N);
    if (!this.#weights) this.#weights = this.#dataInit(data, N);
    const be = await this.backend();
    const T = N * this.epochs;
    const B = this.batchSize;
    const out: Float32Array[] = [];
    let step = 0;
    for (let e = 0; e < this.epochs; e++) {
      const order = orders(e);
      const perEpoch = Math.ceil(order.length / B);
      const res: EpochResult = await be.trainEpoch(this.geometry, {
        weights: this.#weights,
        dim: this.dim,
        data,
        order,
        batchSize: B,
        step,
        totalSteps: T,
        alpha0: this.alpha0,
        sigma0: this.sigma0,
        onProgress: this.#onProgress
          ? (done) =>
            this.#onProgress!({ epoch: e, epochs: this.epochs, batch: done, batches: perEpoch })
          : undefined,
      });
      step = res.step;
      out.push(res.losses);
      // Backends may report progress less often (or not at all): always report epoch ends.
      this.#onProgress?.({ epoch: e, epochs: this.epochs, batch: perEpoch, batches: perEpoch });
    }
    const all = new Float32Array(out.reduce((s, l) => s + l.length, 0));
    let o = 0;
    for (const l of out) {
      all.set(l, o);
      o += l.length;
    }
    const merged = new Float32Array(this.#losses.length + all.length);
    merged.set(this.#losses);
    merged.set(all, this.#losses.length);
    this.#losses = merged;
    this.#step = step;
    this.#trainedBy = be.name;
    return all;
  }

  #orders(what: string, N: number): (epoch: number) => Int32Array {
    const given = this.#order;
    if (given !== undefined) {
      const list = given instanceof Int32Array ? [given] : given;
      if (!Array.isArray(list) || list.length === 0) {
        throw new TypeError(`Cannot ${what}: order must be an Int32Array or a non-empty array`);
      }
      if (list.length !== 1 && list.length !== this.epochs) {
        throw new RangeError(
          `Cannot ${what}: order has ${list.length} epochs but expected 1 or ${this.epochs}`,
        );
      }
      for (const [e, o] of list.entries()) {
        if (!(o instanceof Int32Array) || o.length === 0) {
          throw new TypeError(`Cannot ${what}: order of epoch ${e} must be a non-empty Int32Array`);
        }
        for (let i = 0; i < o.length; i++) {
          if (o[i] < 0 || o[i] >= N) {
            throw new RangeError(
              `Cannot ${what}: order of epoch ${e} has row ${o[i]} at position ${i} but the ` +
                `codes have ${N} rows`,
            );
          }
        }
      }
      return (e) => list[list.length === 1 ? 0 : e];
    }
    if (!this.shuffle) {
      const id = Int32Array.from({ length: N }, (_, i) => i);
      return () => id;
    }
    return () => this.#shuffleRng.permutation(N);
  }

  #dataInit(data: Float32Array, N: number): Float32Array {
    const K = this.units, d = this.dim;
    const rng = new Rng(this.seed).stream("som-init");
    const w = new Float32Array(K * d);
    if (this.#init === "sample") {
      // Without replacement when there are enough rows.
      const pick = N >= K ? rng.permutation(N).subarray(0, K) : Int32Array.from(
        { length: K },
        () => rng.int(N),
      );
      for (let k = 0; k < K; k++) w.set(data.subarray(pick[k] * d, pick[k] * d + d), k * d);
      return w;
    }
    // PCA: mean + c1·s1·pc1 + c2·s2·pc2 with c over [−1, 1] along rows / columns, s = the
    // component's standard deviation. Components by power iteration on at most 4096 rows
    // (never forming the d×d covariance, which is 268 MB at d = 8192).
    const S = Math.min(N, 4096);
    const rows = N > S
      ? rng.permutation(N).subarray(0, S)
      : Int32Array.from({ length: N }, (_, i) => i);
    const mean = new Float64Array(d);
    for (const r of rows) for (let j = 0; j < d; j++) mean[j] += data[r * d + j];
    for (let j = 0; j < d; j++) mean[j] /= S;
    const comps: Float64Array[] = [], sds: number[] = [];
    const proj = new Float64Array(S);
    for (let c = 0; c < 2; c++) {
      let v = Float64Array.from({ length: d }, () => rng.normal());
      let lambda = 0;
      for (let it = 0; it < 50; it++) {
        for (const p of comps) _deflate(v, p);
        for (let s = 0; s < S; s++) {
          let dot = 0;
          const o = rows[s] * d;
          for (let j = 0; j < d; j++) dot += (data[o + j] - mean[j]) * v[j];
          proj[s] = dot;
        }
        const nv = new Float64Array(d);
        for (let s = 0; s < S; s++) {
          const o = rows[s] * d, p = proj[s];
          for (let j = 0; j < d; j++) nv[j] += (data[o + j] - mean[j]) * p;
        }
        for (const p of comps) _deflate(nv, p);
        let sq = 0;
        for (let j = 0; j < d; j++) sq += nv[j] * nv[j];
        const norm = Math.sqrt(sq);
        if (norm === 0) break;
        lambda = norm / Math.max(1, S - 1);
        for (let j = 0; j < d; j++) nv[j] /= norm;
        v = nv;
      }
      comps.push(v);
      sds.push(Math.sqrt(lambda));
    }
    for (let i = 0; i < this.m; i++) {
      const c1 = this.m > 1 ? -1 + 2 * i / (this.m - 1) : 0;
      for (let jj = 0; jj < this.n; jj++) {
        const c2 = this.n > 1 ? -1 + 2 * jj / (this.n - 1) : 0;
        const o = (i * this.n + jj) * d;
        for (let j = 0; j < d; j++) {
          w[o + j] = mean[j] + c1 * sds[0] * comps[0][j] + c2 * sds[1] * comps[1][j];
        }
      }
    }
    return w;
  }

  /**
   * The `k` best-matching units of every row, ascending cosine distance, ties to the lowest unit
   * index. Rows are processed in chunks, so any number of rows works without an `N×K` matrix.
   *
   * @param data `rows×dim` float32 codes.
   * @param k BMUs per row (1..min(16, K)). Default 10 (clamped to K).
   * @returns `rows×k` indices and distances.
   * @throws {RangeError} On empty input, wrong columns, non-finite values (naming the row) or
   * a bad `k`.
   */
  async topk(data: Float32Array, k: number = Math.min(10, this.units)): Promise<TopK> {
    const what = "query SOM";
    const N = _checkData(what, data, this.dim);
    if (!Number.isInteger(k) || k < 1 || k > Math.min(16, this.units)) {
      throw new RangeError(
        `Cannot ${what}: k is ${k} but must be an integer in 1..${Math.min(16, this.units)}`,
      );
    }
    const w = this.#w(what);
    const be = await this.backend();
    // At most ~16 M distances (64 MB) per backend call, whatever N is.
    const chunk = Math.max(1, Math.floor((1 << 24) / this.units));
    if (N <= chunk) return await be.topk(w, this.dim, data, k);
    const index = new Int32Array(N * k), distance = new Float32Array(N * k);
    for (let r0 = 0; r0 < N; r0 += chunk) {
      const r1 = Math.min(N, r0 + chunk);
      const part = await be.topk(w, this.dim, data.subarray(r0 * this.dim, r1 * this.dim), k);
      index.set(part.index, r0 * k);
      distance.set(part.distance, r0 * k);
    }
    return { index, distance };
  }

  /**
   * The BMU of every row.
   *
   * @param data `rows×dim` float32 codes.
   * @returns Unit index per row.
   * @throws {RangeError} As {@linkcode Som.topk}.
   */
  async bmus(data: Float32Array): Promise<Int32Array> {
    return (await this.topk(data, 1)).index;
  }

  /**
   * Quantization error: the mean cosine distance of each row to its BMU.
   *
   * @param data `rows×dim` float32 codes.
   * @returns The mean distance.
   * @throws {RangeError} As {@linkcode Som.topk}.
   */
  async quantizationError(data: Float32Array): Promise<number> {
    const { distance } = await this.topk(data, 1);
    let s = 0;
    for (const v of distance) s += v;
    return s / distance.length;
  }

  /**
   * Topographic error on the grid (torus-aware when periodic): the fraction of rows whose first
   * and second BMUs are not adjacent, i.e. have squared grid distance `D2 > 1`. Only the four
   * direct neighbours count as adjacent (diagonal units, `D2 = 2`, do not). A one-unit map has
   * error 0.
   *
   * @param data `rows×dim` float32 codes.
   * @returns The fraction in [0, 1].
   * @throws {RangeError} As {@linkcode Som.topk}.
   */
  async topographicError(data: Float32Array): Promise<number> {
    if (this.units < 2) {
      _checkData("query SOM", data, this.dim);
      return 0;
    }
    const { index } = await this.topk(data, 2);
    let bad = 0;
    const N = index.length / 2;
    for (let i = 0; i < N; i++) {
      if (torusD2(index[2 * i], index[2 * i + 1], this.m, this.n, this.periodic) > 1) bad++;
    }
    return bad / N;
  }

  /**
   * U-matrix: for every unit, the mean cosine distance between its weights and those of its 8
   * grid neighbours (wrapping on a torus; on a flat grid, the neighbours that exist).
   *
   * @returns `m×n` row-major mean distances.
   * @throws {RangeError} Before a data-driven init has happened.
   */
  uMatrix(): Float32Array {
    const w = this.#w("compute U-matrix"), d = this.dim, { m, n } = this;
    const norms = new Float64Array(this.units);
    for (let k = 0; k < this.units; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += w[k * d + j] * w[k * d + j];
      norms[k] = Math.max(Math.sqrt(s), 1e-8);
    }
    const out = new Float32Array(this.units);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const a = i * n + j;
        let sum = 0, cnt = 0;
        for (let di = -1; di <= 1; di++) {
          for (let dj = -1; dj <= 1; dj++) {
            if (di === 0 && dj === 0) continue;
            let ii = i + di, jj = j + dj;
            if (this.periodic) {
              ii = (ii + m) % m;
              jj = (jj + n) % n;
            } else if (ii < 0 || jj < 0 || ii >= m || jj >= n) continue;
            const b = ii * n + jj;
            let dot = 0;
            for (let q = 0; q < d; q++) dot += w[a * d + q] * w[b * d + q];
            sum += 1 - dot / (norms[a] * norms[b]);
            cnt++;
          }
        }
        out[a] = cnt ? sum / cnt : 0;
      }
    }
    return out;
  }

  /**
   * The saved-file header of this map.
   *
   * @returns The JSON-ready header (losses as plain numbers).
   */
  toJSON(): SomFile {
    return {
      format: "somscope-som",
      formatVersion: 1,
      somscope: SOMSCOPE_VERSION,
      m: this.m,
      n: this.n,
      dim: this.dim,
      periodic: this.periodic,
      sigma0: this.sigma0,
      alpha0: this.alpha0,
      batchSize: this.batchSize,
      epochs: this.epochs,
      seed: this.seed,
      init: this.#init,
      shuffle: this.shuffle,
      backend: this.#trainedBy,
      layer: this.layer ?? null,
      step: this.#step,
      losses: Array.from(this.#losses),
      weights: _WEIGHTS,
    };
  }

  /**
   * Saves the map into folder `dir` (created if missing): `weights.npy` (`K×dim` float32) and
   * `som.json` (hyper-parameters, seed, backend, grid, layer, loss curve), each written
   * atomically; `som.json` is written last. {@linkcode Som.load} reads them back bit-identically.
   *
   * @param dir Destination folder.
   * @param extra Extra fields to merge into `som.json` (e.g. a manifest).
   * @throws {RangeError} Before a data-driven init has happened.
   */
  async save(dir: string, extra: Record<string, unknown> = {}): Promise<void> {
    const w = this.#w("save SOM");
    await Deno.mkdir(dir, { recursive: true });
    await writeNpy(`${dir}/${_WEIGHTS}`, { data: w, shape: [this.units, this.dim] });
    await writeJsonAtomic(`${dir}/${_FILE}`, { ...extra, ...this.toJSON() });
  }

  /**
   * Loads a map written by {@linkcode Som.save}. Only JSON and `.npy` are parsed; nothing is
   * executed.
   *
   * @param dir Folder holding `som.json` and `weights.npy`.
   * @param options Backend for the loaded map.
   * @returns The map, with weights, losses and step counter as saved.
   * @throws {DataFormatError} If a file is missing, malformed or inconsistent.
   */
  static async load(dir: string, options: SomLoadOptions = {}): Promise<Som> {
    const path = `${dir}/${_FILE}`;
    let head: SomFile;
    try {
      head = JSON.parse(await Deno.readTextFile(path));
    } catch (e) {
      throw new DataFormatError(
        `Cannot load SOM: ${path} is unreadable (${(e as Error).message})`,
        {
          cause: e,
        },
      );
    }
    if (head?.format !== "somscope-som" || head.formatVersion !== 1) {
      throw new DataFormatError(
        `Cannot load SOM: ${path} has format ${JSON.stringify(head?.format)} version ` +
          `${JSON.stringify(head?.formatVersion)} but expected "somscope-som" version 1`,
      );
    }
    for (const f of ["m", "n", "dim", "batchSize", "epochs", "seed", "step"] as const) {
      if (!Number.isSafeInteger(head[f])) {
        throw new DataFormatError(
          `Cannot load SOM: ${path} field ${f} is ${
            JSON.stringify(head[f])
          } but expected an integer`,
        );
      }
    }
    if (!Array.isArray(head.losses) || head.losses.some((v) => typeof v !== "number")) {
      throw new DataFormatError(`Cannot load SOM: ${path} field losses is not a list of numbers`);
    }
    const wname = typeof head.weights === "string" ? head.weights : _WEIGHTS;
    if (wname.includes("/") || wname.includes("\\") || wname.startsWith(".")) {
      throw new DataFormatError(
        `Cannot load SOM: weights file "${wname}" but expected a name inside ${dir}`,
      );
    }
    const wpath = `${dir}/${wname}`;
    const arr = await readNpy(wpath);
    const K = head.m * head.n;
    if (
      !(arr.data instanceof Float32Array) || arr.shape.length !== 2 || arr.shape[0] !== K ||
      arr.shape[1] !== head.dim
    ) {
      throw new DataFormatError(
        `Cannot load SOM: ${wpath} is ${arr.data.constructor.name} of shape ` +
          `[${arr.shape}] but expected Float32Array of shape [${K},${head.dim}]`,
      );
    }
    let som: Som;
    try {
      som = new Som({
        m: head.m,
        n: head.n,
        dim: head.dim,
        periodic: head.periodic !== false,
        sigma0: head.sigma0,
        alpha0: head.alpha0,
        batchSize: head.batchSize,
        epochs: head.epochs,
        seed: head.seed,
        shuffle: head.shuffle !== false,
        init: arr.data,
        layer: head.layer ?? undefined,
        backend: options.backend ?? "auto",
        ctx: options.ctx,
        onProgress: options.onProgress,
      });
    } catch (e) {
      throw new DataFormatError(`Cannot load SOM from ${dir}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    if (!["normal", "pca", "sample", "explicit"].includes(head.init)) {
      throw new DataFormatError(
        `Cannot load SOM: ${path} field init is ${JSON.stringify(head.init)} but expected one ` +
          "of normal, pca, sample, explicit",
      );
    }
    som.#init = head.init;
    som.#losses = Float32Array.from(head.losses);
    som.#step = head.step;
    som.#trainedBy = typeof head.backend === "string" ? head.backend : null;
    return som;
  }

  /**
   * Releases the backend's resources and a GPU context the map made itself. The map can still
   * be saved or inspected; a later query or train call resolves a backend again.
   */
  dispose(): void {
    this.#resolved?.dispose();
    this.#resolved = undefined;
    this.#backend = undefined;
    this.#ownCtx?.dispose();
    this.#ownCtx = undefined;
  }
}

function _deflate(v: Float64Array, p: Float64Array): void {
  let dot = 0;
  for (let j = 0; j < v.length; j++) dot += v[j] * p[j];
  for (let j = 0; j < v.length; j++) v[j] -= dot * p[j];
}
