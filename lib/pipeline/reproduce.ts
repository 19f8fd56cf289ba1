/**
 * `reproduce`: the paper's analyses end to end, as a short list of stages over a run folder.
 *
 * For every model: codes (sample SOM-tr/SOM-val, extract through the shared codes cache) →
 * SOMs (every size and seed, with their top-k BMUs) → attack (PGD and noise control, with the
 * BMUs of the perturbed images) → analyses and claims; then the report (claims.json, tables,
 * figures, report.html) and the manifest. Every computed artefact is kept in the run folder,
 * keyed by the settings that produced it (see `run_folder.ts`), so a re-run reuses codes,
 * SOMs and attacks and a change of analysis options recomputes only analyses and report.
 *
 * @module
 */

import { DataFormatError } from "../errors.ts";
import type { Manifest } from "../manifest.ts";
import { readClassIndex } from "../data/class_index.ts";
import { parseDataSpec } from "../data/spec.ts";
import { sha256Hex } from "../model/load.ts";
import type { ModelAnalysis } from "../analysis/analyze.ts";
import { type ReproduceConfig, runSettings, validateConfig } from "./config.ts";
import { RunFolder } from "./run_folder.ts";
import { startRun } from "./run_context.ts";
import { codesShard, codesStage } from "./stages/codes.ts";
import type { Shard } from "../extract/shard.ts";
import { GpuContext } from "../gpu/context.ts";
import { newManifest } from "../manifest.ts";
import { somsStage } from "./stages/soms.ts";
import { attackStage } from "./stages/attack.ts";
import { analysesStage, type ModelResult } from "./stages/analyses.ts";
import { reportStage } from "./stages/report.ts";

/** Options for {@linkcode reproduce}. */
export interface ReproduceOptions {
  /** Replace a folder that holds another run or foreign files (moved aside, never deleted). */
  force?: boolean;
  /** Recompute only analyses and report from the artefacts in the run folder (no model work). */
  analysisOnly?: boolean;
  /**
   * Print progress and stage messages on stderr. Default false: as a library `reproduce` is
   * silent unless asked (the `reproduce` command asks unless `--quiet`).
   */
  progress?: boolean;
  /** Silence progress output (overrides `progress`). */
  quiet?: boolean;
  /** Where stage messages go. Default: stderr with `progress`, else nowhere. */
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

function _stderr(msg: string): void {
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(msg + "\n"));
  } catch { /* closed */ }
}

/**
 * Runs (or resumes) a whole reproduction: for every model, SOM-tr/SOM-val sampling, code
 * extraction (through the shared codes cache), SOMs at every size and seed, top-k BMUs, the PGD
 * attack and noise control with the BMU shifts, then the analyses, claims, tables, figures and
 * `report.html`, and `manifest.json`.
 *
 * @param config The run configuration (see `defaultConfig`).
 * @param options `force`, `analysisOnly`, `progress` (default off), `quiet`, `log`.
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
  const t0 = performance.now();
  const c = validateConfig({ ...config, models: config.models.map((m) => ({ ...m })) });
  const runKey = await sha256Hex(JSON.stringify(runSettings(c)));
  if (!options.analysisOnly) await _preflight(c);
  const quiet = options.quiet ?? !options.progress;
  const log = options.log ?? (quiet ? () => {} : _stderr);
  const folder = await RunFolder.open(c.out || `runs/${c.name}`, runKey, {
    ...options,
    note: options.log ?? _stderr,
  });
  const run = await startRun(c, folder, runKey, { quiet, log });
  const results: ModelResult[] = [];
  let classNames: string[] | undefined;
  try {
    for (const [i, mc] of c.models.entries()) {
      log(`[${i + 1}/${c.models.length}] ${mc.name}: ${mc.path}`);
      const codes = await codesStage(run, mc);
      const maps = await somsStage(run, codes);
      const attack = await attackStage(run, codes, maps);
      results.push(await analysesStage(run, codes, maps, attack));
      classNames ??= codes.state.classNames;
    }
  } finally {
    run.gpu?.dispose();
  }
  const files = await reportStage(run, results, classNames, t0);
  return {
    dir: folder.dir,
    report: files.report,
    manifest: run.manifest,
    analyses: results.map((r) => r.analysis),
  };
}

/** One model's share of a shard job: positions `[start, end)` of each split, and what ran. */
export interface ShardModelResult {
  /** Model name. */
  model: string;
  /** SOM-tr slice and examples computed by this job. */
  train: { start: number; end: number; of: number; computed: number };
  /** SOM-val slice and examples computed by this job. */
  val: { start: number; end: number; of: number; computed: number };
}

/**
 * The codes stage of a run for one shard only (e.g. one task of a Slurm job array): for every
 * model, the shard's slice of SOM-tr and SOM-val (whole batches, see `shardRange`) is extracted
 * into the shared codes cache (`$SOMSCOPE_CACHE`). No run folder is written, so any number of
 * shards may run at once. The full `reproduce` with the same configuration afterwards finds
 * every shard's codes in the cache and computes none; its results are byte-identical to a run
 * that extracted everything itself (with the same runtime).
 *
 * @param config The run configuration (as for {@linkcode reproduce}).
 * @param shard The shard.
 * @param options `quiet`, `log`.
 * @returns Per model: the slices and how many examples this job computed.
 * @throws {DataFormatError} On missing model files or unreadable data.
 * @throws {RangeError} On a bad configuration value or shard.
 *
 * @example Two shards, then the full run finds everything (not run by the doc tests)
 * ```ts ignore
 * import { defaultConfig, reproduce, reproduceShard } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const c = { ...defaultConfig(true), out: "runs/sharded" };
 * await reproduceShard(c, { index: 0, count: 2 });
 * await reproduceShard(c, { index: 1, count: 2 });
 * const r = await reproduce(c);
 * assertEquals(r.dir, "runs/sharded");
 * ```
 */
export async function reproduceShard(
  config: ReproduceConfig,
  shard: Shard,
  options: Pick<ReproduceOptions, "quiet" | "log"> = {},
): Promise<ShardModelResult[]> {
  const c = validateConfig({ ...config, models: config.models.map((m) => ({ ...m })) });
  await _preflight(c);
  const log = options.log ?? (options.quiet ? () => {} : _stderr);
  const auto = await GpuContext.auto();
  const run = {
    config: c,
    manifest: newManifest("reproduce-shard", { ...(c as unknown as Record<string, unknown>) }),
    streams: {},
    inputs: {},
    gpu: auto.ctx ?? null,
    quiet: !!options.quiet,
  };
  const out: ShardModelResult[] = [];
  try {
    for (const [i, mc] of c.models.entries()) {
      log(`[${i + 1}/${c.models.length}] ${mc.name}: shard ${shard.index}/${shard.count}`);
      const r = await codesShard(run, mc, shard);
      const part = (x: typeof r.train) => ({
        start: x.shard!.start,
        end: x.shard!.end,
        of: x.shard!.total,
        computed: x.computed,
      });
      out.push({ model: mc.name, train: part(r.train), val: part(r.val) });
    }
  } finally {
    run.gpu?.dispose();
  }
  return out;
}

/** Bad inputs fail before anything is written: the data spec and every local model file. */
async function _preflight(c: ReproduceConfig): Promise<void> {
  await parseDataSpec(c.data);
  if (c.classIndex !== undefined) await readClassIndex(c.classIndex);
  for (const m of c.models) {
    const local = m.path.startsWith("file:") ? new URL(m.path) : m.path;
    if (/^https?:\/\//.test(m.path)) continue;
    try {
      await Deno.stat(local);
    } catch {
      throw new DataFormatError(
        `Cannot reproduce: model file ${m.path} does not exist; expected an ONNX file path`,
      );
    }
  }
}
