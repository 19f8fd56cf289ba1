/**
 * The `reproduce` orchestration: data → codes → SOMs → BMUs → attack → analyses → claims →
 * report, for every model of a run, with every computed artefact cached in the run folder
 * (keyed by the settings that produced it) so that a re-run reuses codes and trained SOMs and a
 * change of analysis options recomputes only the analyses.
 *
 * @module
 */

import { DataFormatError } from "../errors.ts";
import { writeFileAtomic, writeJsonAtomic } from "../fs_atomic.ts";
import { GpuContext } from "../gpu/context.ts";
import { type Manifest, newManifest, timed, writeManifest } from "../manifest.ts";
import { readNpy, writeNpy } from "../npy.ts";
import { Progress } from "../progress.ts";
import { Rng } from "../rng.ts";
import { openDataset } from "../data/dataset.ts";
import { samplePerClass } from "../data/sampling.ts";
import { parseDataSpec } from "../data/spec.ts";
import { type LoadedModel, loadModel, sha256Hex } from "../model/load.ts";
import { type DatasetLike, extractCodes, type ExtractResult } from "../extract/extract.ts";
import { Som } from "../som/som.ts";
import { runAttack } from "../attack/attack.ts";
import {
  analyzeModel,
  type EnsembleMap,
  type LayerInput,
  type ModelAnalysis,
  type SizedMap,
} from "../analysis/analyze.ts";
import { writeReport } from "../report/write_report.ts";
import type { RunSummary } from "../report/html.ts";
import { type ReproduceConfig, runSettings, validateConfig } from "./config.ts";

/** Options for {@linkcode reproduce}. */
export interface ReproduceOptions {
  /** Write into a folder that holds another run's manifest or foreign files (never deletes). */
  force?: boolean;
  /** Recompute only analyses and report from the artefacts in the run folder (no model work). */
  analysisOnly?: boolean;
  /** Silence progress output. */
  quiet?: boolean;
  /** Where stage messages go. Default: stderr. */
  log?: (message: string) => void;
}

/** What {@linkcode reproduce} produced. */
export interface ReproduceResult {
  /** Run folder. */
  dir: string;
  /** Path of `report.html`. */
  report: string;
  /** The manifest written. */
  manifest: Manifest;
  /** Per-model analyses. */
  analyses: ModelAnalysis[];
}

/**
 * The run folder holds another run, or files that are not a somscope run.
 *
 * @example
 * ```ts
 * import { RunFolderError } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const e = new RunFolderError("Cannot write runs/x: it holds another run");
 * assertEquals(e.name, "RunFolderError");
 * assertEquals(e instanceof Error, true);
 * ```
 */
export class RunFolderError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is in the way and how to proceed.
   */
  constructor(message: string) {
    super(message);
    this.name = "RunFolderError";
  }
}

interface LayerState {
  label: string;
  tensor: string;
  dim: number;
}

interface ModelState {
  key: string;
  model: string;
  path: string;
  sha256: string;
  layers: LayerState[];
  classNames: string[];
  counts: { train: number[]; val: number[] };
  runtime: string | null;
  dataIdentity: { train: string; val: string };
}

function _stderr(msg: string): void {
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(msg + "\n"));
  } catch { /* closed */ }
}

async function _exists(p: string | URL): Promise<boolean> {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
}

async function _readJson<T>(p: string): Promise<T | null> {
  try {
    return JSON.parse(await Deno.readTextFile(p)) as T;
  } catch {
    return null;
  }
}

/** Seeds of one run, derived from the root seed by named streams. */
function _seedOf(root: number, stream: string): number {
  return new Rng(root).stream(stream).nextU32();
}

async function _checkFolder(dir: string, runKey: string, opts: ReproduceOptions): Promise<void> {
  const entries: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) entries.push(e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      if (opts.analysisOnly) {
        throw new RunFolderError(`Cannot regenerate the report: run folder ${dir} does not exist`);
      }
      return;
    }
    throw e;
  }
  const m = await _readJson<{ runKey?: string; command?: string }>(`${dir}/manifest.json`);
  if (opts.analysisOnly) {
    if (!m) {
      throw new RunFolderError(
        `Cannot regenerate the report: ${dir} has no manifest.json; expected a folder written by ` +
          "`deno task reproduce`",
      );
    }
    return;
  }
  if (opts.force) return;
  if (m && m.runKey !== undefined && m.runKey !== runKey) {
    throw new RunFolderError(
      `Cannot write run into ${dir}: it holds another run (manifest runKey ${
        m.runKey.slice(0, 12)
      }… but this run is ${runKey.slice(0, 12)}…); choose another --out/--name or pass --force ` +
        "(files are overwritten, never deleted)",
    );
  }
  if (!m && entries.length > 0) {
    throw new RunFolderError(
      `Cannot write run into ${dir}: the folder exists and holds ${entries.length} file(s) that ` +
        "are not a somscope run (no manifest.json); choose another --out or pass --force",
    );
  }
}

/** An in-memory image set (attack outputs) as extraction input. */
function _arrayDataset(
  images: Float32Array,
  shape: number[],
  labels: Int32Array,
  identity: string,
): DatasetLike {
  const [n, c, h, w] = shape;
  const per = c * h * w;
  return {
    size: n,
    channels: c,
    height: h,
    width: w,
    labels,
    load: (ix: number[]) => {
      const out = new Float32Array(ix.length * per);
      ix.forEach((i, j) => out.set(images.subarray(i * per, (i + 1) * per), j * per));
      return Promise.resolve(out);
    },
    identity: () => Promise.resolve(identity),
  };
}

interface MapArtefacts {
  grid: { m: number; n: number };
  seed: number;
  weights: Float32Array;
  losses: Float32Array;
  train: { topk: Int32Array; distance: Float32Array };
  val: { topk: Int32Array; distance: Float32Array };
  dir: string;
  backend: string | null;
}

async function _loadMap(dir: string, key: string | null): Promise<MapArtefacts | null> {
  const head = await _readJson<
    { cacheKey?: string; m: number; n: number; seed: number; losses: number[]; backend: string }
  >(`${dir}/som.json`);
  if (!head || (key !== null && head.cacheKey !== key)) return null;
  try {
    const [w, tt, dt, tv, dv] = await Promise.all(
      ["weights", "topk_train", "dist_train", "topk_val", "dist_val"].map((f) =>
        readNpy(`${dir}/${f}.npy`)
      ),
    );
    return {
      grid: { m: head.m, n: head.n },
      seed: head.seed,
      weights: w.data as Float32Array,
      losses: Float32Array.from(head.losses),
      train: { topk: tt.data as Int32Array, distance: dt.data as Float32Array },
      val: { topk: tv.data as Int32Array, distance: dv.data as Float32Array },
      dir,
      backend: head.backend ?? null,
    };
  } catch {
    return null;
  }
}

/**
 * Runs (or resumes) a whole reproduction: for every model, SOM-tr/SOM-val sampling, code
 * extraction (through the shared codes cache), SOMs at every size and seed, top-k BMUs, the PGD
 * attack and noise control with the BMU shifts, then the analyses, claims, tables, figures and
 * `report.html`, and `manifest.json`.
 *
 * @param config The run configuration (see `defaultConfig`).
 * @param options `force`, `analysisOnly`, `quiet`, `log`.
 * @returns The run folder, report path, manifest and analyses.
 * @throws {RunFolderError} If the output folder holds another run (without `force`).
 * @throws {DataFormatError} On missing model files, unreadable data, or a class present in
 *   SOM-val but not in SOM-tr.
 * @throws {RangeError} On a bad configuration value.
 *
 * @example The whole quick pipeline (about a minute; not run by the doc tests)
 * ```ts ignore
 * import { defaultConfig, reproduce } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const r = await reproduce({ ...defaultConfig(true), out: "runs/demo" });
 * assertEquals(r.report, "runs/demo/report.html");
 * ```
 */
export async function reproduce(
  config: ReproduceConfig,
  options: ReproduceOptions = {},
): Promise<ReproduceResult> {
  const c = validateConfig({ ...config, models: config.models.map((m) => ({ ...m })) });
  const dir = c.out || `runs/${c.name}`;
  const log = options.log ?? (options.quiet ? () => {} : _stderr);
  const settings = runSettings(c);
  const runKey = await sha256Hex(JSON.stringify(settings));
  if (!options.analysisOnly) {
    // Pre-flight: bad inputs fail before anything is written.
    await parseDataSpec(c.data);
    for (const m of c.models) {
      const local = m.path.startsWith("file:") ? new URL(m.path) : m.path;
      const remote = /^https?:\/\//.test(m.path);
      if (!remote && !(await _exists(local))) {
        throw new DataFormatError(
          `Cannot reproduce: model file ${m.path} does not exist; expected an ONNX file path`,
        );
      }
    }
  }
  await _checkFolder(dir, runKey, options);
  await Deno.mkdir(dir, { recursive: true });
  const previous = options.analysisOnly
    ? await _readJson<Manifest & { runKey: string; config: ReproduceConfig }>(
      `${dir}/manifest.json`,
    )
    : null;
  const manifest = newManifest(options.analysisOnly ? "report" : "reproduce", {
    ...(c as unknown as Record<string, unknown>),
  });
  manifest.runKey = options.analysisOnly ? previous!.runKey : runKey;
  manifest.versions["vega"] = "6.4.0";
  manifest.versions["vega-lite"] = "6.5.0";
  manifest.seeds = { root: c.seed, streams: {} as Record<string, number | string> };
  const streams = manifest.seeds.streams as Record<string, number | string>;
  // A report-only run keeps the input hashes of the run that computed the artefacts.
  const inputs: Record<string, unknown> = { ...((previous?.inputs as object) ?? {}) };
  const runtimes: Record<string, unknown> = {};
  manifest.inputs = inputs;
  manifest.runtimes = runtimes;
  if (previous) manifest.computeTimings = previous.timings;
  const t0 = performance.now();

  let ctx: GpuContext | null = null;
  if (!options.analysisOnly) {
    try {
      ctx = await GpuContext.create();
      manifest.adapter = ctx.adapter;
    } catch (e) {
      manifest.adapter = null;
      runtimes.gpu = `no WebGPU adapter: ${(e as Error).message}`;
    }
  } else {
    manifest.adapter = previous?.adapter ?? null;
  }

  const analyses: ModelAnalysis[] = [];
  const summaries: RunSummary["models"] = [];
  let classNames: string[] | undefined;
  const totalModels = c.models.length;
  try {
    for (const [mi, mc] of c.models.entries()) {
      const tag = mc.name;
      const work = `${dir}/work/${tag}`;
      await Deno.mkdir(work, { recursive: true });
      log(`[${mi + 1}/${totalModels}] ${tag}: ${mc.path}`);
      let state: ModelState;
      let model: LoadedModel | null = null;
      let codes: { train: ExtractResult; val: ExtractResult } | null = null;
      let trainIdx: Int32Array | null = null, valIdx: Int32Array | null = null;
      let valDs: Awaited<ReturnType<typeof openDataset>> | null = null;
      if (options.analysisOnly) {
        const s = await _readJson<ModelState>(`${work}/state.json`);
        if (!s) {
          throw new RunFolderError(
            `Cannot regenerate the report: ${work}/state.json is missing; run reproduce first`,
          );
        }
        state = s;
      } else {
        model = await timed(manifest, `${tag}/load`, () => loadModel(mc.path));
        const dsOpts = {
          channels: (model.input.channels ?? undefined) as 1 | 3 | undefined,
          height: model.input.height ?? undefined,
          width: model.input.width ?? undefined,
        };
        const [trDs, vaDs] = await timed(manifest, `${tag}/data`, () =>
          Promise.all([
            openDataset(c.data, { split: "train", ...dsOpts }),
            openDataset(c.data, { split: "val", ...dsOpts }),
          ]));
        valDs = vaDs;
        classNames ??= trDs.classes;
        const trSet = new Set(trDs.labels),
          missing = [...new Set(vaDs.labels)].filter((l) => !trSet.has(l));
        if (missing.length) {
          throw new DataFormatError(
            `Cannot reproduce: class(es) ${
              missing.map((l) => vaDs.classes[l] ?? l).join(", ")
            } are present in the validation split but not in the training split; expected ` +
              "every validation class to have training examples",
          );
        }
        streams["sample-train"] = "sample-train";
        streams["sample-val"] = "sample-val";
        const rng = new Rng(c.seed);
        const trS = samplePerClass(trDs.labels, c.perClass, rng.stream("sample-train"), {
          allowFewer: c.allowFewer,
          classNames: trDs.classes,
        });
        const vaS = samplePerClass(vaDs.labels, c.valPerClass, rng.stream("sample-val"), {
          allowFewer: c.allowFewer,
          classNames: vaDs.classes,
        });
        trainIdx = trS.indices;
        valIdx = vaS.indices;
        const dataIdentity = { train: await trDs.identity(), val: await vaDs.identity() };
        inputs[tag] = {
          model: mc.path,
          sha256: model.sha256,
          data: c.data,
          dataIdentity: {
            train: await sha256Hex(dataIdentity.train),
            val: await sha256Hex(dataIdentity.val),
          },
          counts: { train: trS.counts, val: vaS.counts },
        };
        const key = await sha256Hex(JSON.stringify({
          v: 1,
          model: model.sha256,
          data: dataIdentity,
          train: await sha256Hex(new Uint8Array(trainIdx.buffer)),
          val: await sha256Hex(new Uint8Array(valIdx.buffer)),
          layers: mc.layers ?? "auto",
          normalize: mc.normalize ?? "none",
        }));
        const old = await _readJson<ModelState>(`${work}/state.json`);
        const labelsOk = await _exists(`${work}/labels_val.npy`);
        if (old && old.key === key && labelsOk) {
          state = old;
        } else {
          codes = await timed(manifest, `${tag}/codes`, async () => ({
            train: await extractCodes(model!, trDs, trainIdx!, {
              layers: mc.layers ?? "auto",
              normalize: mc.normalize,
              runtime: c.runtime,
              ctx: ctx ?? undefined,
              progress: options.quiet ? false : undefined,
            }),
            val: await extractCodes(model!, vaDs, valIdx!, {
              layers: mc.layers ?? "auto",
              normalize: mc.normalize,
              runtime: c.runtime,
              ctx: ctx ?? undefined,
              progress: options.quiet ? false : undefined,
            }),
          }));
          state = {
            key,
            model: tag,
            path: mc.path,
            sha256: model.sha256,
            layers: codes.train.layers.map((l) => ({
              label: l.label,
              tensor: l.tensor,
              dim: l.dim,
            })),
            classNames: trDs.classes,
            counts: { train: trS.counts, val: vaS.counts },
            runtime: codes.train.runtime?.kind ?? codes.val.runtime?.kind ?? "cache",
            dataIdentity,
          };
          await writeNpy(`${work}/labels_train.npy`, {
            data: codes.train.labels,
            shape: [codes.train.labels.length],
          });
          await writeNpy(`${work}/labels_val.npy`, {
            data: codes.val.labels,
            shape: [codes.val.labels.length],
          });
          await writeNpy(`${work}/correct_val.npy`, {
            data: Int32Array.from(codes.val.correct),
            shape: [codes.val.correct.length],
          });
          await writeJsonAtomic(`${work}/state.json`, state);
        }
      }
      runtimes[tag] = { extraction: state.runtime };
      classNames ??= state.classNames;
      const labelsTrain = (await readNpy(`${work}/labels_train.npy`)).data as Int32Array;
      const labelsVal = (await readNpy(`${work}/labels_val.npy`)).data as Int32Array;
      const correctVal = (await readNpy(`${work}/correct_val.npy`)).data as Int32Array;

      const ensureCodes = async () => {
        if (options.analysisOnly) {
          throw new RunFolderError(
            `Cannot regenerate the report: trained SOMs or BMUs of ${tag} are missing from ${work}; ` +
              "run reproduce with the same settings first",
          );
        }
        codes ??= await timed(manifest, `${tag}/codes`, async () => ({
          train: await extractCodes(
            model!,
            await openDataset(c.data, {
              split: "train",
              channels: (model!.input.channels ?? undefined) as 1 | 3 | undefined,
              height: model!.input.height ?? undefined,
              width: model!.input.width ?? undefined,
            }),
            trainIdx!,
            {
              layers: mc.layers ?? "auto",
              normalize: mc.normalize,
              runtime: c.runtime,
              ctx: ctx ?? undefined,
              progress: options.quiet ? false : undefined,
            },
          ),
          val: await extractCodes(model!, valDs!, valIdx!, {
            layers: mc.layers ?? "auto",
            normalize: mc.normalize,
            runtime: c.runtime,
            ctx: ctx ?? undefined,
            progress: options.quiet ? false : undefined,
          }),
        }));
        return codes;
      };

      // SOMs: every size once, the main size `seeds` times.
      const plan: { layer: LayerState; li: number; size: number; rep: number }[] = [];
      state.layers.forEach((layer, li) => {
        for (const size of c.sizes) {
          const reps = size === c.grid ? c.seeds : 1;
          for (let rep = 0; rep < reps; rep++) plan.push({ layer, li, size, rep });
        }
      });
      const maps = new Map<string, MapArtefacts>();
      const somBackends = new Set<string>();
      const prog = new Progress(`${tag}: SOMs`, plan.length, {
        unit: "map",
        quiet: options.quiet,
      });
      await timed(manifest, `${tag}/soms`, async () => {
        for (const p of plan) {
          const stream = `som/${tag}/${p.layer.label}/${p.size}/${p.rep}`;
          const seed = _seedOf(c.seed, stream);
          streams[stream] = seed;
          const mdir = `${work}/maps/${
            p.layer.label.replace(/[^A-Za-z0-9_.-]/g, "_")
          }/${p.size}x${p.size}_r${p.rep}`;
          const key = options.analysisOnly ? null : await sha256Hex(JSON.stringify({
            state: state.key,
            tensor: p.layer.tensor,
            size: p.size,
            seed,
            epochs: c.epochs,
            batch: c.batch,
            sigma0: c.sigma0,
            alpha0: c.alpha0,
            k: c.k,
          }));
          let art = await _loadMap(mdir, key);
          if (!art) {
            const cd = await ensureCodes();
            const tr = cd.train.layers[p.li], va = cd.val.layers[p.li];
            const som = new Som({
              m: p.size,
              n: p.size,
              dim: tr.dim,
              sigma0: c.sigma0,
              alpha0: c.alpha0,
              batchSize: c.batch,
              epochs: c.epochs,
              seed,
              backend: c.backend,
              ctx: ctx ?? undefined,
              layer: p.layer.label,
            });
            try {
              await som.train(tr.codes);
              const kk = Math.min(c.k, p.size * p.size);
              const ttr = await som.topk(tr.codes, kk);
              const tva = await som.topk(va.codes, kk);
              await Deno.mkdir(mdir, { recursive: true });
              for (const [split, r] of [["train", ttr], ["val", tva]] as const) {
                const shape = [r.index.length / kk, kk];
                await writeNpy(`${mdir}/topk_${split}.npy`, { data: r.index, shape });
                await writeNpy(`${mdir}/dist_${split}.npy`, { data: r.distance, shape });
              }
              // som.json last: its presence with the key marks the entry complete.
              await som.save(mdir, { cacheKey: key });
            } finally {
              som.dispose();
            }
            art = await _loadMap(mdir, key);
            if (!art) {
              throw new DataFormatError(`Cannot reproduce: SOM entry ${mdir} did not round-trip`);
            }
          }
          if (art.backend) somBackends.add(art.backend);
          maps.set(`${p.li}/${p.size}/${p.rep}`, art);
          prog.tick();
        }
      });
      prog.done();
      runtimes[tag] = { ...(runtimes[tag] as object), som: [...somBackends] };

      // Attack and noise control on the main map (rep 0), for every layer.
      const shifts = new Map<
        number,
        { clean: Int32Array; adversarial: Int32Array; noise: Int32Array }
      >();
      if (c.attackN > 0) {
        const attackSeed = _seedOf(c.seed, `attack/${tag}`);
        streams[`attack/${tag}`] = attackSeed;
        const akey = options.analysisOnly ? null : (await sha256Hex(JSON.stringify({
          state: state.key,
          n: c.attackN,
          eps: c.eps,
          steps: c.steps,
          seed: attackSeed,
        }))).slice(0, 24);
        const adir = `${work}/attack`;
        const head = await _readJson<{ key: string; summary: unknown }>(`${adir}/attack.json`);
        const shiftFile = (li: number, kind: string) => {
          const art = maps.get(`${li}/${c.grid}/0`)!;
          return `${art.dir}/shift_${kind}.npy`;
        };
        const haveShifts = async () => {
          if (!head || (akey !== null && head.key !== akey)) return false;
          for (let li = 0; li < state.layers.length; li++) {
            for (const kind of ["clean", "adversarial", "noise"]) {
              const f = shiftFile(li, kind);
              if (!(await _exists(f))) return false;
              const h = await _readJson<{ key: string }>(`${f}.json`);
              if (!h || h.key !== head.key) return false;
            }
          }
          return true;
        };
        if (!(await haveShifts())) {
          if (options.analysisOnly) {
            throw new RunFolderError(
              `Cannot regenerate the report: attack results of ${tag} are missing; run reproduce first`,
            );
          }
          const ap = new Progress(`${tag}: PGD`, 0, { unit: "step", quiet: options.quiet });
          const result = await timed(
            manifest,
            `${tag}/attack`,
            () =>
              runAttack(model!.bytes, valDs!, {
                n: Math.min(c.attackN, valDs!.size),
                seed: attackSeed,
                eps: c.eps,
                steps: c.steps,
                normalize: mc.normalize,
                name: tag,
                onProgress: (done: number, total: number) => {
                  (ap as unknown as { total: number }).total = total;
                  ap.tick(done - ap.count);
                },
              }),
          );
          ap.done();
          await Deno.mkdir(adir, { recursive: true });
          const labels = Int32Array.from(result.examples.map((e) => e.label));
          await timed(manifest, `${tag}/attack-bmus`, async () => {
            for (const kind of ["clean", "adversarial", "noise"] as const) {
              const ds = _arrayDataset(
                result[kind],
                result.shape,
                labels,
                `attack:${akey}:${kind}`,
              );
              const ex = await extractCodes(
                model!,
                ds,
                Array.from({ length: ds.size }, (_, i) => i),
                {
                  layers: state.layers.map((l) => l.label),
                  normalize: mc.normalize,
                  runtime: c.runtime,
                  ctx: ctx ?? undefined,
                  progress: false,
                },
              );
              for (let li = 0; li < state.layers.length; li++) {
                const art = maps.get(`${li}/${c.grid}/0`)!;
                const som = await Som.load(art.dir, { backend: c.backend, ctx: ctx ?? undefined });
                try {
                  const kk = Math.min(c.k, c.grid * c.grid);
                  const tk = await som.topk(ex.layers[li].codes, kk);
                  await writeNpy(shiftFile(li, kind), {
                    data: tk.index,
                    shape: [tk.index.length / kk, kk],
                  });
                  await writeJsonAtomic(`${shiftFile(li, kind)}.json`, { key: akey });
                } finally {
                  som.dispose();
                }
              }
            }
          });
          await writeJsonAtomic(`${adir}/examples.json`, result.examples);
          await writeJsonAtomic(`${adir}/attack.json`, { key: akey, summary: result.summary });
        }
        const ah = await _readJson<{ summary: unknown }>(`${adir}/attack.json`);
        runtimes[tag] = { ...(runtimes[tag] as object), attack: ah?.summary };
        for (let li = 0; li < state.layers.length; li++) {
          const rd = async (k: string) => (await readNpy(shiftFile(li, k))).data as Int32Array;
          shifts.set(li, {
            clean: await rd("clean"),
            adversarial: await rd("adversarial"),
            noise: await rd("noise"),
          });
        }
      }

      // Analyses.
      const layerInputs: LayerInput[] = state.layers.map((layer, li) => {
        const main = maps.get(`${li}/${c.grid}/0`)!;
        const k = main.train.topk.length / labelsTrain.length;
        const sizes: SizedMap[] = c.sizes.filter((s) => s !== c.grid).map((s) => {
          const a = maps.get(`${li}/${s}/0`)!;
          return {
            grid: a.grid,
            weights: a.weights,
            train: { topk: a.train.topk, distance: a.train.distance, labels: labelsTrain },
          };
        });
        const ensemble: EnsembleMap[] = [];
        for (let rep = 1; rep < c.seeds; rep++) {
          const a = maps.get(`${li}/${c.grid}/${rep}`)!;
          const tail = Math.max(1, Math.ceil(a.losses.length * 0.1));
          ensemble.push({
            seed: a.seed,
            weights: a.weights,
            train: { topk: a.train.topk, distance: a.train.distance, labels: labelsTrain },
            val: { topk: a.val.topk, distance: a.val.distance, labels: labelsVal },
            finalLoss: a.losses.subarray(a.losses.length - tail).reduce((s, v) => s + v, 0) /
              tail,
          });
        }
        return {
          layer: layer.label,
          grid: main.grid,
          dim: layer.dim,
          weights: main.weights,
          losses: main.losses,
          batchesPerEpoch: Math.ceil(labelsTrain.length / c.batch),
          k,
          seed: main.seed,
          train: { topk: main.train.topk, distance: main.train.distance, labels: labelsTrain },
          val: {
            topk: main.val.topk,
            distance: main.val.distance,
            labels: labelsVal,
            correct: correctVal,
          },
          sizes,
          ensemble: ensemble.length ? ensemble : undefined,
          shifts: shifts.get(li),
        };
      });
      const analysis = await timed(
        manifest,
        `${tag}/analyses`,
        () =>
          Promise.resolve(analyzeModel(tag, layerInputs, {
            featuredClasses: c.featuredClasses,
            density: c.bandwidth !== undefined ? { bandwidth: c.bandwidth } : undefined,
            maxCentreClasses: c.maxCentreClasses,
            seed: c.seed,
          })),
      );
      analysis.classNames = state.classNames;
      analyses.push(analysis);
      summaries.push({
        name: tag,
        path: mc.path,
        sha256: state.sha256,
        runtime: `extraction ${state.runtime ?? "?"}; SOM ${[...somBackends].join("/") || "?"}`,
        layers: state.layers.map((l) => `${l.label} (d=${l.dim})`),
      });
    }
  } finally {
    ctx?.dispose();
  }

  const summary: RunSummary = {
    name: c.name,
    models: summaries,
    data: `${c.data}; SOM-tr ${c.perClass}/class, SOM-val ${c.valPerClass}/class; ` +
      `${c.grid}×${c.grid} SOMs (sizes ${c.sizes.join(", ")}; ${c.seeds} seeds), ` +
      `${c.epochs} epochs, batch ${c.batch}; PGD on ${c.attackN} images, ${c.steps} steps, ` +
      `ε = ${c.eps.toFixed(5)}`,
    seed: c.seed,
    adapter: manifest.adapter
      ? `${manifest.adapter.description || manifest.adapter.device || manifest.adapter.vendor}${
        manifest.adapter.isFallbackAdapter ? " (software fallback)" : ""
      }`
      : "none",
    timings: {
      ...((manifest.computeTimings as Record<string, number>) ?? {}),
      ...manifest.timings,
    },
    parameters: runSettings(c) as Record<string, unknown>,
    versions: manifest.versions,
    started: manifest.started,
    quick: c.quick,
  };
  log(`report: rendering figures and report.html into ${dir}`);
  const files = await timed(manifest, "report", () =>
    writeReport(dir, summary, analyses, {
      classNames,
      resamples: c.resamples,
      seed: c.seed,
    }));
  manifest.timings.total = (performance.now() - t0) / 1000;
  manifest.config = c;
  manifest.outputs = {
    report: "report.html",
    claims: "claims.json",
    tables: files.tables.map((p) => p.slice(dir.length + 1)),
    figures: files.figures.map((p) => p.slice(dir.length + 1)),
  };
  await writeManifest(`${dir}/manifest.json`, manifest);
  await writeFileAtomic(`${dir}/README.txt`, _readme(c));
  return { dir, report: files.report, manifest, analyses };
}

function _readme(c: ReproduceConfig): string {
  return [
    `somscope run "${c.name}"`,
    "",
    "report.html     the report (open in any browser; works offline)",
    "claims.json     each of the paper's claims: statistic, per-layer values, 95 % interval, verdict",
    "manifest.json   parameters, seeds, versions, adapter, runtimes, timings, input hashes",
    "tables/         every analysis as Arrow IPC (.arrow) and CSV",
    "figures/        one SVG + PNG (+ Vega-Lite spec) per paper figure",
    "work/           cached artefacts (SOMs, BMUs, attack results) reused by re-runs",
    "",
    "Regenerate analyses and report only: deno task somscope report <this folder>",
    "",
  ].join("\n");
}
