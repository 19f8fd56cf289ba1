/**
 * A toroidal cosine self-organizing map with QuickSOM's exact training semantics
 * (`shared/SOM.md`) and a MiniSom-like API: make it, `train()` it, ask for BMUs, errors and the
 * U-matrix, `save()` it and `Som.load()` it back bit-identically.
 *
 * The map owns the weights, the schedule bookkeeping, shuffling and the loss curve; a
 * {@linkcode SomBackend} (`webgpu`, `cpu` or `reference`) does the arithmetic. Initialisation
 * lives in `init.ts`, the file format in `som_file.ts`, the quality measures in `quality.ts`.
 *
 * @module
 */

import type { EpochResult, SomBackend, SomGeometry, TopK } from "./backend.ts";
import { referenceBackend } from "./reference.ts";
import { webgpuBackend } from "./webgpu_backend.ts";
import { cpuBackend } from "./cpu_backend.ts";
import { normalWeights, pcaWeights, sampleWeights, type SomInit } from "./init.ts";
import { readSomFile, SOM_WEIGHTS_FILE, type SomFile, writeSomFile } from "./som_file.ts";
import { quantizationError, topographicError, uMatrix } from "./quality.ts";
import { checkCodes, nonNegative, positiveInt } from "./validate.ts";
import { checkSomSize } from "./size.ts";
import { type GpuContext, gpuPolicy } from "../gpu/context.ts";
import { Rng } from "../rng.ts";
import { DataFormatError } from "../errors.ts";
import { SOMSCOPE_VERSION } from "../manifest.ts";

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
   * Compute backend, by name or as an object. `"auto"` follows {@linkcode gpuPolicy} for `ctx`:
   * `webgpu` on a hardware adapter, `cpu` on a software adapter (llvmpipe) or without a context
   * (falling back to `reference` if the `cpu` backend cannot load). `"webgpu"` needs `ctx`.
   * Default `"auto"`.
   */
  backend?: SomBackendName | SomBackend;
  /**
   * GPU context for the `webgpu` backend (not disposed by the SOM), e.g. from
   * {@linkcode GpuContext.auto}. Default none: the map never makes a context of its own.
   */
  ctx?: GpuContext;
  /** Name of the layer the codes come from (kept in the saved file). */
  layer?: string;
  /**
   * Called as training advances: at least at the end of every epoch, and as often as the backend
   * reports (webgpu: every ≤ 256 batches; reference: every batch). Calls may repeat a position.
   */
  onProgress?: (progress: SomProgress) => void;
}

/** What {@linkcode Som.quality} returns. */
export interface SomQuality {
  /** Mean cosine distance of each row to its BMU. */
  quantizationError: number;
  /** Fraction of rows whose first and second BMUs are not direct grid neighbours. */
  topographicError: number;
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
  #onProgress: ((p: SomProgress) => void) | undefined;

  /**
   * Makes a map. Weights are drawn now for `"normal"` or copied from explicit weights; the
   * data-driven inits wait for the first {@linkcode Som.train}.
   *
   * @param options Grid, hyper-parameters, init, backend.
   * @throws {RangeError} On a non-positive grid side, dimension, batch size or epoch count, a
   * negative or non-finite σ₀/α₀, an unknown init or backend name, a grid too large for its
   * backend or this machine ({@linkcode checkSomSize}), or explicit weights of the wrong length
   * or with non-finite values.
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
    this.dim = positiveInt(what, "dim", dim);
    this.periodic = options.periodic ?? true;
    this.sigma0 = nonNegative(what, "sigma0 (σ₀)", options.sigma0 ?? 10);
    this.alpha0 = nonNegative(what, "alpha0 (α₀)", options.alpha0 ?? 0.1);
    this.batchSize = positiveInt(what, "batchSize", options.batchSize ?? 10);
    this.epochs = positiveInt(what, "epochs", options.epochs ?? 5);
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
    // Limits derived from the options, before any work (e.g. a 1000×1000 grid's K×K table).
    const sizedFor = typeof be !== "string"
      ? be.name
      : be === "auto" && gpuPolicy(options.ctx).wgsl
      ? "webgpu"
      : be;
    checkSomSize({ m, n, dim: this.dim, backend: sizedFor });
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
      checkCodes(what + " from initial weights", init, d);
      this.#weights = init.slice();
      this.#init = "explicit";
    } else if (init === "normal") {
      this.#weights = normalWeights(K, d, seed);
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

  /** The GPU context given in the options, if any. */
  get gpuContext(): GpuContext | undefined {
    return this.#ctx;
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
    if (opt === "cpu") return await cpuBackend();
    if (opt === "webgpu") {
      if (!this.#ctx) {
        throw new TypeError(
          'Cannot use SOM backend "webgpu": options.ctx is missing (pass a GpuContext, e.g. ' +
            "from GpuContext.create())",
        );
      }
      return webgpuBackend(this.#ctx);
    }
    const policy = gpuPolicy(this.#ctx);
    if (policy.wgsl) return webgpuBackend(this.#ctx!);
    this.#note = policy.reason;
    try {
      return await cpuBackend();
    } catch (e) {
      this.#note += `; cpu backend unavailable (${(e as Error).message}), using reference`;
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
    const N = checkCodes(what, data, this.dim, rows);
    const orders = this.#orders(what, N);
    if (!this.#weights) {
      this.#weights = this.#init === "sample"
        ? sampleWeights(data, N, this.units, this.dim, this.seed)
        : pcaWeights(data, N, this, this.dim, this.seed);
    }
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
    const N = checkCodes(what, data, this.dim);
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
   * Quantization error: the mean cosine distance of each row to its BMU (see `quality.ts`).
   *
   * @param data `rows×dim` float32 codes.
   * @returns The mean distance.
   * @throws {RangeError} As {@linkcode Som.topk}.
   */
  async quantizationError(data: Float32Array): Promise<number> {
    return quantizationError((await this.topk(data, 1)).distance, 1);
  }

  /**
   * Topographic error on the grid (torus-aware when periodic): the fraction of rows whose first
   * and second BMUs are not direct neighbours, i.e. have squared grid distance `D2 > 1` (see
   * `quality.ts` for small grids). A one-unit map has error 0.
   *
   * @param data `rows×dim` float32 codes.
   * @returns The fraction in [0, 1].
   * @throws {RangeError} As {@linkcode Som.topk}.
   */
  async topographicError(data: Float32Array): Promise<number> {
    if (this.units < 2) {
      checkCodes("query SOM", data, this.dim);
      return 0;
    }
    return topographicError((await this.topk(data, 2)).index, 2, this.geometry);
  }

  /**
   * Quantization and topographic error together, from one top-2 BMU pass over `data` (half the
   * work of calling {@linkcode Som.quantizationError} and {@linkcode Som.topographicError}, with
   * the same values).
   *
   * @param data `rows×dim` float32 codes.
   * @returns Both errors (a one-unit map has topographic error 0).
   * @throws {RangeError} As {@linkcode Som.topk}.
   *
   * @example
   * ```ts
   * import { Som } from "../../mod.ts";
   * import { deepStrictEqual as assertEquals } from "node:assert";
   * const w = new Float32Array([1, 0, 0, 1, -1, 0, 0, -1]); // 1×4 ring of directions
   * const som = new Som({ m: 1, n: 4, dim: 2, init: w, backend: "reference" });
   * const q = await som.quality(new Float32Array([1, 0.2, -1, 0.1]));
   * assertEquals(q.topographicError, 0); // second BMUs are ring neighbours
   * assertEquals(q.quantizationError, await som.quantizationError(new Float32Array([1, 0.2, -1, 0.1])));
   * ```
   */
  async quality(data: Float32Array): Promise<SomQuality> {
    const k = Math.min(2, this.units);
    const { index, distance } = await this.topk(data, k);
    return {
      quantizationError: quantizationError(distance, k),
      topographicError: k < 2 ? 0 : topographicError(index, 2, this.geometry),
    };
  }

  /**
   * U-matrix: for every unit, the mean cosine distance between its weights and those of its
   * distinct neighbours among the 8 surrounding grid positions (wrapping on a torus; on a flat
   * grid, the positions that exist; see `quality.ts` for small grids).
   *
   * @returns `m×n` row-major mean distances.
   * @throws {RangeError} Before a data-driven init has happened.
   */
  uMatrix(): Float32Array {
    return Float32Array.from(uMatrix(this.#w("compute U-matrix"), this.dim, this.geometry));
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
      weights: SOM_WEIGHTS_FILE,
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
    await writeSomFile(dir, this.toJSON(), this.#w("save SOM"), extra);
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
    const { head, weights } = await readSomFile(dir);
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
        init: weights,
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
    som.#init = head.init;
    som.#losses = Float32Array.from(head.losses);
    som.#step = head.step;
    som.#trainedBy = typeof head.backend === "string" ? head.backend : null;
    return som;
  }

  /**
   * Releases the backend's resources (never the GPU context, which the caller owns). The map can
   * still be saved or inspected; a later query or train call resolves a backend again.
   */
  dispose(): void {
    this.#resolved?.dispose();
    this.#resolved = undefined;
    this.#backend = undefined;
  }
}
