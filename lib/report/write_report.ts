/**
 * The report stage: claims, tables, figures (SVG + PNG) and `report.html` for a set of
 * analysed models, written into a run folder.
 *
 * @module
 */

import { writeFileAtomic, writeJsonAtomic } from "../fs_atomic.ts";
import type { ModelAnalysis } from "../analysis/analyze.ts";
import type { ClaimOptions, ClaimResult } from "../analysis/claim_types.ts";
import { claimsDocument } from "../analysis/claims.ts";
import { buildFigures } from "./figures.ts";
import { buildReportHtml, type RenderedFigure, type RunSummary } from "./html.ts";
import { type AttackSheetInput, attackViews } from "./html/attack.ts";
import { renderSvg, svgToPng } from "./render.ts";
import { analysisTables, writeTables } from "./tables.ts";

/** Options for {@linkcode writeReport}. */
export interface WriteReportOptions {
  /** Class names by label. */
  classNames?: string[];
  /** Bootstrap replicates the claims were evaluated with (recorded in `claims.json`). Default 1000. */
  resamples?: number;
  /** Seed the claims were evaluated with (recorded in `claims.json`). Default: the run's root seed. */
  seed?: number | string;
  /** The claim options the claims used (thresholds and adjustment, stated in `claims.json`). */
  claimOptions?: ClaimOptions;
  /** Write PNGs beside the SVGs. Default true. */
  png?: boolean;
  /** Called after each figure, for progress. */
  onFigure?: (id: string, done: number, total: number) => void;
  /** PGD results by model name, for the report's attack section and contact sheets. */
  attacks?: Record<string, AttackSheetInput>;
  /** Data set of each model by name (Fig. 8 is drawn when there are several). */
  datasets?: Record<string, string>;
}

/** What {@linkcode writeReport} wrote. */
export interface ReportFiles {
  /** Path of `report.html`. */
  report: string;
  /** Path of `claims.json`. */
  claims: string;
  /** Figure files (SVG and PNG). */
  figures: string[];
  /** Table files (Arrow and CSV). */
  tables: string[];
  /** The claims, as given. */
  claimResults: readonly ClaimResult[];
}

/**
 * Makes the `id`s of an inline SVG unique within a page by prefixing them (Vega reuses ids such
 * as `clip1` or `gradient_0` in every figure; inlined together they would collide).
 *
 * @param svg SVG markup.
 * @param prefix Prefix, e.g. the figure id.
 * @returns The markup with `id="…"`, `url(#…)` and `href="#…"` rewritten.
 *
 * @example
 * ```ts
 * import { scopeSvgIds } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(scopeSvgIds('<g id="a" clip-path="url(#a)"/>', "f"), '<g id="f-a" clip-path="url(#f-a)"/>');
 * ```
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid=\x22([^\x22]+)\x22/g)) ids.add(m[1]);
  if (ids.size === 0) return svg;
  return svg
    .replace(/(\sid=\x22)([^\x22]+)\x22/g, (_, a, id) => `${a}${prefix}-${id}\x22`)
    .replace(/url\(#([^)]+)\)/g, (s, id) => (ids.has(id) ? `url(#${prefix}-${id})` : s))
    .replace(
      /href=\x22#([^\x22]+)\x22/g,
      (s, id) => (ids.has(id) ? `href=\x22#${prefix}-${id}\x22` : s),
    );
}

/**
 * Writes `claims.json`, `tables/`, `figures/` and `report.html` into `dir`, each file
 * atomically, from analyses and claims evaluated beforehand (it renders, never evaluates).
 *
 * @param dir Run folder (created if missing).
 * @param summary Run facts for the page.
 * @param analyses Per-model analyses.
 * @param claimResults The evaluated claims of every model (see `evaluateClaims`).
 * @param options Class names, and the bootstrap size and seed the claims used.
 * @returns The files written and the claims.
 *
 * @example
 * ```ts
 * import { analyzeModel, evaluateClaims, writeReport } from "../../mod.ts";
 * import { ok } from "node:assert";
 * const grid = { m: 4, n: 4 }, dim = 2, k = 2;
 * const weights = Float32Array.from({ length: 16 * dim }, (_, i) => Math.sin(i));
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const analysis = analyzeModel("toy", [
 *   { layer: "CL1", grid, dim, weights, losses: [0.5, 0.4], k, train: split, val: split },
 * ]);
 * const summary = {
 *   name: "demo",
 *   models: [{ name: "toy", path: "toy.onnx", layers: ["CL1"] }],
 *   data: "synthetic",
 *   seed: 0,
 *   adapter: "none",
 *   timings: {},
 *   parameters: {},
 *   versions: {},
 *   started: new Date().toISOString(),
 * };
 * const claims = evaluateClaims(analysis, { resamples: 50 });
 * const files = await writeReport(await Deno.makeTempDir(), summary, [analysis], claims, {
 *   resamples: 50,
 * });
 * ok(files.report.endsWith("/report.html"));
 * ok((await Deno.readTextFile(files.report)).includes("<html"));
 * ```
 */
export async function writeReport(
  dir: string,
  summary: RunSummary,
  analyses: readonly ModelAnalysis[],
  claimResults: readonly ClaimResult[],
  options: WriteReportOptions = {},
): Promise<ReportFiles> {
  await Deno.mkdir(`${dir}/figures`, { recursive: true });
  const claimsPath = `${dir}/claims.json`;
  await writeJsonAtomic(claimsPath, {
    ...claimsDocument(summary.name, analyses, claimResults, {
      ...options.claimOptions,
      resamples: options.resamples,
    }),
    seed: options.seed ?? summary.seed,
  });
  const tables = await writeTables(`${dir}/tables`, analysisTables(analyses, claimResults));
  const specs = buildFigures(analyses, {
    classNames: options.classNames,
    datasets: options.datasets,
  });
  const rendered: RenderedFigure[] = [];
  const figFiles: string[] = [];
  for (const [i, f] of specs.entries()) {
    const svg = await renderSvg(f.spec);
    await writeFileAtomic(`${dir}/figures/${f.id}.svg`, svg);
    await writeJsonAtomic(`${dir}/figures/${f.id}.vl.json`, f.spec);
    figFiles.push(`${dir}/figures/${f.id}.svg`, `${dir}/figures/${f.id}.vl.json`);
    if (options.png ?? true) {
      await writeFileAtomic(`${dir}/figures/${f.id}.png`, await svgToPng(svg));
      figFiles.push(`${dir}/figures/${f.id}.png`);
    }
    rendered.push({
      id: f.id,
      paper: f.paper,
      title: f.title,
      caption: f.caption,
      svg: scopeSvgIds(svg.replace(/^<\?xml[^>]*>\s*/, ""), f.id),
    });
    options.onFigure?.(f.id, i + 1, specs.length);
  }
  const html = buildReportHtml(summary, rendered, claimResults, analyses, {
    classNames: options.classNames,
    attacks: options.attacks ? await attackViews(options.attacks) : [],
  });
  const reportPath = `${dir}/report.html`;
  await writeFileAtomic(reportPath, html);
  return { report: reportPath, claims: claimsPath, figures: figFiles, tables, claimResults };
}
