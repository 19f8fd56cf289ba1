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
import { codesStage } from "./stages/codes.ts";
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
  const t0 = performance.now();
  const c = validateConfig({ ...config, models: config.models.map((m) => ({ ...m })) });
  const runKey = await sha256Hex(JSON.stringify(runSettings(c)));
  if (!options.analysisOnly) await _preflight(c);
  const log = options.log ?? (options.quiet ? () => {} : _stderr);
  const folder = await RunFolder.open(c.out || `runs/${c.name}`, runKey, {
    ...options,
    note: options.log ?? _stderr,
  });
  const run = await startRun(c, folder, runKey, { quiet: !!options.quiet, log });
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
