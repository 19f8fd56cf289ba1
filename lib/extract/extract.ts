/**
 * Extraction of vector codes (SPEC §2) from a model over a data set, batch by batch, with a
 * content-addressed cache: every tap is reduced to codes right after the forward pass (on the
 * GPU when the taps live there), and each batch's codes are stored atomically, so a repeated run
 * does no model work and an interrupted one resumes.
 *
 * @module
 */

import { DataFormatError, ModelFormatError } from "../errors.ts";
import { type GpuContext, gpuPolicy } from "../gpu/context.ts";
import { Progress, type ProgressOptions } from "../progress.ts";
import {
  codeDimension,
  type ComMode,
  type GpuCodes,
  reduceFeatureMaps,
  reduceFeatureMapsGpuToBuffer,
} from "../codes/feature_map_reduce.ts";
import { type LoadedModel, sha256Hex } from "../model/load.ts";
import { type LayerList, type LayerSpec, listLayers, resolveLayers } from "../model/layers.ts";
import { type Normalize, prepareModel, resolveNormalize, tapOutputName } from "../model/surgery.ts";
import {
  createRuntime,
  type ModelRuntime,
  type RunResult,
  type RuntimeChoice,
  type RuntimeKind,
  type TapOutput,
} from "../model/runtime.ts";
import { RowStore } from "./cache.ts";
import { checkFiniteLogits } from "../grad/validate.ts";
import { createThreadedRuntime } from "./threaded_runtime.ts";
import { type Shard, shardRange } from "./shard.ts";
import { writeJsonAtomic } from "../fs_atomic.ts";

/**
 * Version of the code definition and cache layout. Part of every cache key: change it when
 * codes computed by an older build must not be reused.
 *
 * @example
 * ```ts
 * import { CODE_VERSION } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(CODE_VERSION, "codes-2");
 * ```
 */
export const CODE_VERSION = "codes-2";

/**
 * What extraction needs from a data set (the `Dataset` of `openDataset` has it): pixels in
 * `[0,1]`, `N×C×H×W`, loaded by index, and a stable identity of the underlying files and
 * preprocessing.
 */
export interface DatasetLike {
  /** Number of examples. */
  readonly size: number;
  /** Channels of the loaded pixels. */
  readonly channels: number;
  /** Height of the loaded pixels. */
  readonly height: number;
  /** Width of the loaded pixels. */
  readonly width: number;
  /** Label of every example. */
  readonly labels: Int32Array;
  /** Loads examples as `N×C×H×W` float32 in `[0,1]`. */
  load(indices: number[]): Promise<Float32Array>;
  /** A string that changes whenever the files or the preprocessing change. */
  identity(): Promise<string>;
}

/** Options for {@linkcode extractCodes}. */
export interface ExtractOptions {
  /** `"auto"` (default), aliases, tensor names (comma-separated or an array), or resolved specs. */
  layers?: string | string[] | LayerSpec[];
  /** Runtime. Default `"auto"`. */
  runtime?: RuntimeChoice;
  /** GPU context (shared with the WebGPU EP and used for the reduction). */
  ctx?: GpuContext;
  /** CPU runtime threads. Default: all cores. */
  threads?: number;
  /** Examples per forward pass. Default 32. */
  batchSize?: number;
  /** Cache folder. Default {@linkcode defaultCacheDir} (`~/.cache/somscope/codes` on Linux). */
  cacheDir?: string;
  /** Centre-of-mass mode of the codes. Default `"flat"`. */
  com?: ComMode;
  /** Input normalisation inside the graph. Default `"none"`. */
  normalize?: Normalize;
  /**
   * Progress on stderr: `true`, or options (e.g. a `context` naming the model and split; the
   * layers are added). Default: none, the library is silent unless asked.
   */
  progress?: boolean | ProgressOptions;
  /**
   * Examples per cache chunk: rows are written (temp file, fsync, rename) once this many are
   * done, or after `chunkSeconds`, whichever is first. A killed run loses at most that much work.
   * Default 1024.
   */
  chunkImages?: number;
  /** Seconds after which pending rows are written anyway. Default 5. */
  chunkSeconds?: number;
  /** Called after every batch with positions done and total (tests use it to interrupt). */
  onBatch?: (done: number, total: number) => void | Promise<void>;
  /**
   * Compute only this shard's slice of the positions (see {@linkcode shardRange}): the codes
   * land in the shared cache, and the result describes just the slice. A later run without
   * `shard` (same model, data and indices) finds every shard's rows and computes nothing; at
   * the same `batchSize` they are byte-identical to a one-process run's. Default: all.
   */
  shard?: Shard;
  /** Receives warnings (e.g. a cache file that failed its checksum). Default: `console.warn`. */
  onWarning?: (message: string) => void;
  /**
   * Leave the layers' codes in the cache instead of returning them in memory (for data sets
   * whose codes do not fit at once: ResNet50's CL4 on 50,000 images is 1.6 GB): `layers[i]`
   * then has only `read()`. Predictions and labels are returned either way. Default false.
   */
  lazy?: boolean;
  /**
   * Run CPU model sessions in a worker thread, so that decoding the next batch and reducing the
   * previous one overlap the forward pass (onnxruntime-node's `run()` blocks the thread that
   * calls it). Default true; results are the same either way.
   */
  offThread?: boolean;
}

/** Codes of one layer. */
export interface LayerCodes extends LayerSpec {
  /**
   * `n×dim` codes, row-major, in the order of the given indices. With `lazy: true` they stay
   * in the cache and reading this throws a `TypeError`: use {@linkcode LayerCodes.read}.
   */
  readonly codes: Float32Array;
  /**
   * The codes: those in memory, or (with `lazy: true`) read from the cache now, checksums
   * verified; rows found damaged are recomputed first. Each call reads afresh, so a caller
   * holds one layer at a time.
   */
  read(): Promise<Float32Array>;
  /** Code dimension. */
  dim: number;
  /** Cache entry key. */
  key: string;
  /** True when nothing had to be computed for this layer. */
  cached: boolean;
}

/** What {@linkcode extractCodes} returns. */
export interface ExtractResult {
  /** Example indices, as given (a shard's: its slice of them). */
  indices: Int32Array;
  /** Their labels. */
  labels: Int32Array;
  /** Predicted class (argmax of the logits). */
  predictions: Int32Array;
  /** 1 where the prediction equals the label. */
  correct: Uint8Array;
  /** Per-layer codes, in the order selected. */
  layers: LayerCodes[];
  /** The runtime that ran, or null when everything came from the cache. */
  runtime: { kind: RuntimeKind; reason: string; threads: number } | null;
  /**
   * Distinct examples this call ran through the model (0 on a full cache hit; never more than
   * the examples asked for, whatever concurrent runs on the same cache did).
   */
  computed: number;
  /** Forward passes run. */
  batches: number;
  /** Cache key of the run (model, preprocessing, data, indices, code version). */
  runKey: string;
  /** The shard, its positions `[start, end)` and the run's `total` positions; null for a whole run. */
  shard: (Shard & { start: number; end: number; total: number }) | null;
  /** The layer list used to resolve the selection. */
  layerList: LayerList;
  /** Seconds: layers, model preparation, forward+reduce, total. */
  timings: Record<string, number>;
}

/**
 * Runs a model over examples of a data set and returns per-layer vector codes, predictions and
 * correctness, through the cache.
 *
 * The cache key of a layer entry covers the model bytes (SHA-256), the normalisation, the data
 * set identity, the index list, the tapped tensor and token choice, the centre-of-mass mode and
 * {@linkcode CODE_VERSION}; batch size and runtime are not part of it (they do not change the
 * codes beyond float rounding).
 *
 * @param model A loaded model.
 * @param dataset The data set.
 * @param indices Example indices.
 * @param options Layers, runtime, batch size, cache folder, code options.
 * @returns Codes, predictions and run facts.
 * @throws {DataFormatError} If the data's channels or size do not match the model input, or a
 *   batch has the wrong number of values.
 * @throws {RangeError} If an index is out of range, the batch size is not a positive integer, or
 *   a layer name is unknown (the message lists valid names).
 *
 * @example
 * ```ts
 * import { extractCodes, loadModel } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const model = await loadModel("tests/data/models/toy_cnn.onnx");
 * const data = {
 *   size: 4, channels: 1, height: 28, width: 28, labels: Int32Array.of(0, 1, 2, 3),
 *   load: (ix: number[]) => Promise.resolve(new Float32Array(ix.length * 784).fill(0.5)),
 *   identity: () => Promise.resolve("constant-0.5"),
 * };
 * const cacheDir = await Deno.makeTempDir();
 * const r = await extractCodes(model, data, [0, 1, 2, 3], { runtime: "node", cacheDir, progress: false });
 * assertEquals(r.layers.map((l) => [l.label, l.dim]), [["CL1", 32], ["CL2", 64], ["CL3", 128]]);
 * const again = await extractCodes(model, data, [0, 1, 2, 3], { cacheDir, progress: false });
 * assertEquals([again.computed, again.runtime], [0, null]);
 * await Deno.remove(cacheDir, { recursive: true });
 * ```
 */
export async function extractCodes(
  model: LoadedModel,
  dataset: DatasetLike,
  indices: ArrayLike<number>,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const idx = _checkIndices(indices, dataset.size);
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(
      `Cannot extract codes: batchSize is ${batchSize} but must be an integer ≥ 1`,
    );
  }
  _checkDataMatchesModel(model, dataset);
  const com = options.com ?? "flat";
  const norm = resolveNormalize(options.normalize, model.input.channels ?? dataset.channels);
  const cacheDir = options.cacheDir ?? defaultCacheDir();

  // Layer selection (the layer list itself is cached: it costs a model session).
  const t = performance.now();
  const inputShape: [number, number, number] = [dataset.channels, dataset.height, dataset.width];
  const layerList = await _cachedLayerList(model, inputShape, cacheDir, options.runtime);
  const specs = Array.isArray(options.layers) && typeof options.layers[0] === "object"
    ? options.layers as LayerSpec[]
    : await resolveLayers(model, layerList, (options.layers ?? "auto") as string | string[]);
  timings.layers = (performance.now() - t) / 1000;

  const entry = await _openEntry(model, dataset, idx, specs, {
    com,
    norm,
    cacheDir,
    inputShape,
    onWarning: options.onWarning,
  });
  const [start, end] = options.shard ? shardRange(idx.length, batchSize, options.shard) : [
    0,
    idx.length,
  ];
  const run = await _fillEntry(model, dataset, idx, specs, entry, {
    ...options,
    progress: _progressWithLayers(options.progress, specs),
    batchSize,
    com,
    normalize: norm ?? "none",
    range: [start, end],
  }, timings);
  const mine = idx.subarray(start, end);
  const labels = Int32Array.from(mine, (i) => dataset.labels[i]);
  const correct = Uint8Array.from(labels, (l, i) => (l === run.predictions[i] ? 1 : 0));
  timings.total = (performance.now() - t0) / 1000;
  return {
    indices: mine,
    labels,
    predictions: run.predictions,
    correct,
    layers: entry.stores.map((s, i) =>
      _layerCodes(s, run.codes[i], async () => {
        const r = await s.store.read(start, end);
        if ("rows" in r) return r.rows as Float32Array;
        // Damaged since: recompute the missing rows of this layer (the rest is a cache hit).
        const again = await extractCodes(model, dataset, indices, {
          ...options,
          layers: [s.spec],
          lazy: false,
          progress: false,
        });
        return again.layers[0].codes;
      })
    ),
    runtime: run.runtime,
    computed: run.computed,
    batches: run.batches,
    runKey: entry.runKey,
    shard: options.shard ? { ...options.shard, start, end, total: idx.length } : null,
    layerList,
    timings,
  };
}

/**
 * The model session of an extraction. CPU sessions run in a worker thread (unless
 * `offThread: false`), so that decoding and the reduction proceed during each forward pass; a
 * worker that cannot start (e.g. in a binary compiled without its module) falls back to the
 * main thread.
 */
async function _openRuntime(
  bytes: Uint8Array,
  logits: string,
  options: ExtractOptions,
): Promise<ModelRuntime> {
  const want = options.runtime ?? "auto";
  const ctx = options.ctx;
  const policy = gpuPolicy(ctx);
  // onnxruntime-node only: onnxruntime-web's wasm threads are workers of their own.
  const node = want === "node" || (want === "auto" && !policy.wgsl);
  if (node && options.offThread !== false) {
    try {
      return await createThreadedRuntime("node", bytes, {
        threads: options.threads,
        logits,
        reason: want === "auto" ? `auto: ${policy.reason}` : undefined,
      });
    } catch (e) {
      if (e instanceof ModelFormatError || e instanceof RangeError) throw e;
      // The worker could not start or load onnxruntime-node: the main thread decides again
      // (for auto: wasm where the native module cannot load).
    }
  }
  return await createRuntime(want, bytes, { ctx, threads: options.threads, logits });
}

/** One layer's result: codes in memory, or (lazy) a reader of the cache. */
function _layerCodes(
  s: _LayerStore,
  codes: Float32Array | null,
  fromCache: () => Promise<Float32Array>,
): LayerCodes {
  const label = s.spec.label;
  return {
    ...s.spec,
    get codes(): Float32Array {
      if (codes) return codes;
      throw new TypeError(
        `Cannot get the codes of layer ${label}: they were extracted with lazy: true and stay ` +
          "in the cache; expected read()",
      );
    },
    read: () => codes ? Promise.resolve(codes) : fromCache(),
    dim: s.dim,
    key: s.key,
    cached: s.wasComplete,
  };
}

/** Checks that every index is an integer inside the data set; returns them as an Int32Array. */
function _checkIndices(indices: ArrayLike<number>, size: number): Int32Array {
  const idx = Int32Array.from(indices);
  for (let i = 0; i < idx.length; i++) {
    if (!(idx[i] >= 0 && idx[i] < size) || idx[i] !== indices[i]) {
      throw new RangeError(
        `Cannot extract codes: index ${indices[i]} at position ${i} is outside the data set ` +
          `(0..${size - 1})`,
      );
    }
  }
  return idx;
}

/** One layer's store inside a cache entry. */
interface _LayerStore {
  spec: LayerSpec;
  key: string;
  dim: number;
  store: RowStore;
  wasComplete: boolean;
}

/** A run's cache entry: its key, folder, the predictions store and one store per layer. */
interface _Entry {
  runKey: string;
  runDir: string;
  preds: RowStore;
  stores: _LayerStore[];
}

/** Opens (creating) the cache entry of a run and the stores of its layers. */
async function _openEntry(
  model: LoadedModel,
  dataset: DatasetLike,
  idx: Int32Array,
  specs: LayerSpec[],
  o: {
    com: ComMode;
    norm: unknown;
    cacheDir: string;
    inputShape: [number, number, number];
    onWarning?: (message: string) => void;
  },
): Promise<_Entry> {
  const warn = { onWarning: o.onWarning };
  const n = idx.length;
  const runKey = await sha256Hex(JSON.stringify({
    code: CODE_VERSION,
    model: model.sha256,
    normalize: o.norm,
    data: await dataset.identity(),
    shape: o.inputShape,
    n,
    indices: await sha256Hex(new Uint8Array(idx.buffer, idx.byteOffset, idx.byteLength)),
  }));
  const runDir = `${o.cacheDir}/${runKey.slice(0, 32)}`;
  await Deno.mkdir(runDir, { recursive: true });
  const preds = await RowStore.open(`${runDir}/predictions`, n, 1, "i4", warn);
  const stores: _LayerStore[] = [];
  for (const spec of specs) {
    const key = (await sha256Hex(JSON.stringify({
      tensor: spec.tensor,
      token0: spec.token0,
      ...(spec.channelsLast ? { channelsLast: true } : {}),
      com: o.com,
    }))).slice(0, 24);
    const dim = codeDimension(spec.shape, o.com);
    const store = await RowStore.open(`${runDir}/layer_${key}`, n, dim, "f4", warn);
    stores.push({ spec, key, dim, store, wasComplete: store.complete });
  }
  return { runKey, runDir, preds, stores };
}

/**
 * Computes every row of `options.range` the entry lacks (creating the runtime only if there is
 * any) and reads the range back; retries when files turn out damaged.
 */
async function _fillEntry(
  model: LoadedModel,
  dataset: DatasetLike,
  idx: Int32Array,
  specs: LayerSpec[],
  entry: _Entry,
  options: ExtractOptions & {
    batchSize: number;
    com: ComMode;
    normalize: Normalize;
    range: [number, number];
  },
  timings: Record<string, number>,
): Promise<{
  predictions: Int32Array;
  codes: (Float32Array | null)[];
  runtime: ExtractResult["runtime"];
  computed: number;
  batches: number;
}> {
  const { preds, stores } = entry;
  const [start, end] = options.range;
  let runtime: ModelRuntime | null = null;
  const ran = new Uint8Array(end - start); // distinct positions this call computed
  let batches = 0;
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      const todo: number[] = [];
      for (let i = start; i < end; i++) {
        if (!preds.has(i) || stores.some((s) => !s.store.has(i))) todo.push(i);
      }
      if (todo.length) {
        if (!runtime) {
          const t = performance.now();
          const prepared = prepareModel(model, {
            taps: specs.map((s) => ({
              tensor: s.tensor,
              token0: s.token0,
              channelsLast: s.channelsLast,
            })),
            normalize: options.normalize,
          });
          runtime = await _openRuntime(prepared.bytes, prepared.logitsName, options);
          timings.prepare = (performance.now() - t) / 1000;
        }
        const t = performance.now();
        const layers = stores.map((s) => ({
          store: s.store,
          output: tapOutputName(s.spec),
          com: options.com,
        }));
        const done = await _runBatches(
          runtime,
          dataset,
          idx,
          todo,
          preds,
          layers,
          options,
          model.name,
        );
        for (const p of todo.slice(0, done.images)) ran[p - start] = 1;
        batches += done.batches;
        timings.forward = (timings.forward ?? 0) + (performance.now() - t) / 1000;
      }
      const p = await preds.read(start, end);
      const layerRows = [];
      for (const s of stores) {
        // Lazy: complete by its file names is enough here; `read()` verifies the contents.
        if (options.lazy && s.store.complete) layerRows.push({ rows: null });
        else layerRows.push(await s.store.read(start, end));
      }
      if ("rows" in p && layerRows.every((r) => "rows" in r)) {
        const info = runtime
          ? { kind: runtime.kind, reason: runtime.reason, threads: runtime.threads }
          : null;
        return {
          predictions: p.rows as Int32Array,
          codes: layerRows.map((r) => (r as { rows: Float32Array | null }).rows),
          runtime: info,
          computed: ran.reduce((a, b) => a + b, 0),
          batches,
        };
      }
    }
  } finally {
    if (runtime) await runtime.dispose();
  }
  throw new DataFormatError(
    `Cannot extract codes: cache entry ${entry.runDir} keeps losing chunks; expected readable files`,
  );
}

/**
 * Reduces GPU taps to codes on the GPU and reads all of them back with one copy and one map
 * (instead of one round trip per layer).
 */
async function _reduceOnGpu(
  ctx: GpuContext,
  taps: TapOutput[],
  layers: { com: ComMode }[],
): Promise<Float32Array[]> {
  const parts: GpuCodes[] = [];
  try {
    for (let i = 0; i < taps.length; i++) {
      parts.push(
        await reduceFeatureMapsGpuToBuffer(ctx, taps[i].gpuBuffer!, taps[i].dims, {
          com: layers[i].com,
        }),
      );
    }
    const sizes = parts.map((p) => p.shape[0] * p.shape[1] * 4);
    const total = sizes.reduce((a, b) => a + b, 0);
    const all = ctx.acquire(total, "codes of one batch");
    try {
      await ctx.scoped("gather the codes of one batch", () => {
        const enc = ctx.device.createCommandEncoder({ label: "gather codes" });
        let off = 0;
        parts.forEach((p, i) => {
          enc.copyBufferToBuffer(p.buffer, 0, all, off, sizes[i]);
          off += sizes[i];
        });
        ctx.device.queue.submit([enc.finish()]);
      });
      const bytes = await ctx.read(all, total);
      let off = 0;
      return sizes.map((n) => {
        const codes = new Float32Array(bytes, off, n / 4);
        off += n;
        return codes;
      });
    } finally {
      ctx.release(all);
    }
  } finally {
    ctx.release(...parts.map((p) => p.buffer));
  }
}

function _concat(parts: (Float32Array | Int32Array)[]): Float32Array | Int32Array {
  if (parts.length === 1) return parts[0];
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = parts[0] instanceof Int32Array ? new Int32Array(n) : new Float32Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * The default cache folder: `$SOMSCOPE_CACHE/codes` when set, else `somscope/codes` in the
 * platform's cache directory — `$XDG_CACHE_HOME` or `~/.cache` on Linux and other Unixes,
 * `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows — never the working directory.
 *
 * @returns The folder path.
 * @example
 * ```ts
 * import { defaultCacheDir } from "../../mod.ts";
 * import { ok } from "node:assert";
 * ok(defaultCacheDir().endsWith("/codes"));
 * ```
 */
export function defaultCacheDir(): string {
  const env = (k: string) => {
    try {
      return Deno.env.get(k) || undefined;
    } catch {
      return undefined; // no env permission
    }
  };
  const own = env("SOMSCOPE_CACHE");
  if (own) return `${own}/codes`;
  const home = env("HOME") ?? env("USERPROFILE");
  const base = Deno.build.os === "windows"
    ? env("LOCALAPPDATA") ?? (home && `${home}/AppData/Local`)
    : Deno.build.os === "darwin"
    ? home && `${home}/Library/Caches`
    : env("XDG_CACHE_HOME") ?? (home && `${home}/.cache`);
  return `${base ?? ".cache"}/somscope/codes`;
}

/** Progress options naming the layers extracted (`layers CL1–CL4`), or false for none. */
function _progressWithLayers(
  p: boolean | ProgressOptions | undefined,
  specs: LayerSpec[],
): false | ProgressOptions {
  if (!p) return false;
  const o = p === true ? {} : p;
  const names = specs.map((l) => l.label);
  const layers = names.length > 2 ? `${names[0]}–${names.at(-1)}` : names.join(", ");
  return { ...o, context: [o.context, `layers ${layers}`].filter(Boolean).join(" ") };
}

function _checkDataMatchesModel(model: LoadedModel, d: DatasetLike): void {
  const { channels, height, width } = model.input;
  if (channels !== null && channels !== d.channels) {
    throw new DataFormatError(
      `Cannot extract codes: the data set has ${d.channels} channel${
        d.channels === 1 ? "" : "s"
      } ` +
        `but model ${model.name} expects ${channels} (input "${model.input.name}")`,
    );
  }
  if ((height !== null && height !== d.height) || (width !== null && width !== d.width)) {
    throw new DataFormatError(
      `Cannot extract codes: the data set's images are ${d.height}×${d.width} but model ` +
        `${model.name} expects ${height ?? "any"}×${width ?? "any"}`,
    );
  }
}

async function _cachedLayerList(
  model: LoadedModel,
  inputShape: [number, number, number],
  cacheDir: string,
  runtime: RuntimeChoice | undefined,
): Promise<LayerList> {
  const dir = `${cacheDir}/layers`;
  const file = `${dir}/${model.sha256.slice(0, 32)}_${inputShape.join("x")}_${CODE_VERSION}.json`;
  try {
    return JSON.parse(await Deno.readTextFile(file)) as LayerList;
  } catch { /* not cached */ }
  const list = await listLayers(model, {
    inputSize: [inputShape[1], inputShape[2]],
    channels: inputShape[0],
    runtime: runtime === "node" || runtime === "wasm" ? runtime : "node",
  });
  await Deno.mkdir(dir, { recursive: true });
  await writeJsonAtomic(file, list);
  return list;
}

async function _runBatches(
  runtime: ModelRuntime,
  dataset: DatasetLike,
  idx: Int32Array,
  todo: number[],
  preds: RowStore,
  layers: { store: RowStore; output: string; com: ComMode }[],
  options: ExtractOptions & { batchSize: number },
  name: string,
): Promise<{ images: number; batches: number }> {
  const batchSize = options.batchSize;
  // Contiguous runs of positions, at most batchSize long: each becomes one chunk per store.
  const groups: number[][] = [];
  for (const p of todo) {
    const g = groups[groups.length - 1];
    if (g && g.length < batchSize && g[g.length - 1] === p - 1) g.push(p);
    else groups.push([p]);
  }
  const popt = options.progress;
  const progress = new Progress(
    "codes",
    todo.length,
    !popt ? { unit: "img", quiet: true } : { unit: "img", ...(popt === true ? {} : popt) },
  );
  const { channels: C, height: H, width: W } = dataset;
  const load = (g: number[]) => dataset.load(g.map((p) => idx[p]));
  // Rows wait in memory until a chunk is full (chunkImages) or old (chunkSeconds): each chunk
  // costs one fsync per store, which dominates on a busy disk when batches are small.
  const chunkImages = options.chunkImages ?? 1024;
  const chunkMs = (options.chunkSeconds ?? 5) * 1000;
  const stores = [...layers.map((l) => l.store), preds];
  let pending: { start: number; count: number; rows: (Float32Array | Int32Array)[][] } | null =
    null;
  let lastFlush = performance.now();
  const flush = async () => {
    if (!pending) return;
    const p = pending;
    pending = null;
    for (let s = 0; s < stores.length; s++) await stores[s].put(p.start, _concat(p.rows[s]));
    lastFlush = performance.now();
  };
  let images = 0;
  // Reduces one finished forward pass and queues its rows.
  const finish = async (g: number[], r: RunResult) => {
    const rows: (Float32Array | Int32Array)[] = [];
    try {
      if (runtime.ctx && layers.length && layers.every((l) => r.taps[l.output].gpuBuffer)) {
        rows.push(...await _reduceOnGpu(runtime.ctx, layers.map((l) => r.taps[l.output]), layers));
      } else {
        for (const l of layers) {
          const tap = r.taps[l.output];
          rows.push(await reduceFeatureMaps(tap.data!, tap.dims, { backend: "cpu", com: l.com }));
        }
      }
      const K = r.logitsDims[1] ?? 1;
      checkFiniteLogits(r.logits, K, g.map((p) => idx[p]), name);
      const pred = new Int32Array(g.length);
      for (let i = 0; i < g.length; i++) {
        let best = 0;
        for (let k = 1; k < K; k++) if (r.logits[i * K + k] > r.logits[i * K + best]) best = k;
        pred[i] = best;
      }
      rows.push(pred);
    } finally {
      r.dispose();
    }
    if (pending && pending.start + pending.count !== g[0]) await flush();
    if (!pending) pending = { start: g[0], count: 0, rows: stores.map(() => []) };
    pending.count += g.length;
    rows.forEach((x, s) => pending!.rows[s].push(x));
    if (pending.count >= chunkImages || performance.now() - lastFlush >= chunkMs) await flush();
    images += g.length;
    progress.tick(g.length);
    await options.onBatch?.(images, todo.length);
  };
  // Three stages overlap: batch b+1 is read while batch b runs, and batch b−1 is reduced while
  // batch b runs (onnxruntime runs off the JS thread; one run is in flight at a time).
  let next = groups.length ? load(groups[0]) : null;
  let done: { g: number[]; r: RunResult } | null = null;
  let running: Promise<RunResult> | null = null;
  try {
    for (let b = 0; b < groups.length; b++) {
      const g = groups[b];
      const pixels = await next!;
      next = b + 1 < groups.length ? load(groups[b + 1]) : null;
      if (pixels.length !== g.length * C * H * W) {
        throw new DataFormatError(
          `Cannot extract codes: the data set returned ${pixels.length} values for ` +
            `${g.length} images but expected ${g.length}×${C}×${H}×${W}`,
        );
      }
      running = runtime.run(pixels, [g.length, C, H, W]);
      if (done) {
        const d = done;
        done = null;
        await finish(d.g, d.r);
      }
      done = { g, r: await running };
      running = null;
    }
    if (done) {
      const d = done;
      done = null;
      await finish(d.g, d.r);
    }
  } finally {
    // On failure: free what ran but was not reduced, and keep every row already computed.
    (done as { r: RunResult } | null)?.r.dispose();
    await (running as Promise<RunResult> | null)?.then((r) => r.dispose(), () => {});
    await flush();
    await next?.catch(() => {});
  }
  progress.done();
  return { images, batches: groups.length };
}
