/**
 * Stage 5, report: `claims.json`, tables, figures and `report.html` from the analysed models
 * and their evaluated claims, then the manifest and the folder's README (the last files of a
 * run).
 *
 * @module
 */

import { timed } from "../../manifest.ts";
import type { AdapterFacts } from "../../gpu/context.ts";
import type { RunSummary } from "../../report/html.ts";
import { type ReportFiles, writeReport } from "../../report/write_report.ts";
import { type ReproduceConfig, runSettings } from "../config.ts";
import type { RunContext } from "../run_context.ts";
import type { ModelResult } from "./analyses.ts";

/**
 * Writes the report of a run, then its manifest and README.
 *
 * @param run The run.
 * @param results Every model's analyses and claims, in run order.
 * @param classNames Class names by label.
 * @param t0 `performance.now()` at the start of the run (for the total time).
 * @returns The files written (paths in the committed run folder).
 */
export async function reportStage(
  run: RunContext,
  results: ModelResult[],
  classNames: string[] | undefined,
  t0: number,
): Promise<ReportFiles> {
  const c = run.config, manifest = run.manifest, dir = run.folder.path;
  run.log(`report: rendering figures and report.html into ${run.folder.dir}`);
  const files = await timed(manifest, "report", () =>
    writeReport(
      dir,
      _summary(run, results),
      results.map((r) => r.analysis),
      results.flatMap((r) => r.claims),
      { classNames, resamples: c.resamples, seed: c.seed },
    ));
  manifest.timings.total = (performance.now() - t0) / 1000;
  manifest.config = c;
  manifest.outputs = {
    report: "report.html",
    claims: "claims.json",
    tables: files.tables.map((p) => p.slice(dir.length + 1)),
    figures: files.figures.map((p) => p.slice(dir.length + 1)),
  };
  await run.folder.finish(manifest, _readme(c));
  const at = (p: string) => `${run.folder.dir}${p.slice(dir.length)}`;
  return {
    ...files,
    report: at(files.report),
    claims: at(files.claims),
    figures: files.figures.map(at),
    tables: files.tables.map(at),
  };
}

function _summary(run: RunContext, results: ModelResult[]): RunSummary {
  const c = run.config, manifest = run.manifest;
  const adapter = manifest.adapter as AdapterFacts | null | undefined;
  return {
    name: c.name,
    models: results.map((r) => r.summary),
    data: `${c.data}; SOM-tr ${c.perClass}/class, SOM-val ${c.valPerClass}/class; ` +
      `${c.grid}×${c.grid} SOMs (sizes ${c.sizes.join(", ")}; ${c.seeds} seeds), ` +
      `${c.epochs} epochs, batch ${c.batch}; PGD on ${c.attackN} images, ${c.steps} steps, ` +
      `ε = ${c.eps.toFixed(5)}`,
    seed: c.seed,
    adapter: adapter
      ? `${adapter.description || adapter.device || adapter.vendor}${
        adapter.isFallbackAdapter ? " (software fallback)" : ""
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
