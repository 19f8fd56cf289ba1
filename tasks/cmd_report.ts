/**
 * `somscope report RUN_DIR`: recompute the analyses, claims, tables, figures and report.html of
 * an existing run folder from its cached SOMs and BMUs (no model work, no model files needed).
 *
 * @module
 */

import { ANALYSIS_OPTIONS, applyAnalysisOptions, type CommandSpec, UsageError } from "./cli.ts";
import { defaultConfig, type ReproduceConfig, validateConfig } from "../lib/pipeline/config.ts";

/** The `report` command. */
export const command: CommandSpec = {
  name: "report",
  summary: "analyses, claims and report.html for a run folder",
  usage: "RUN_DIR [options]",
  options: {
    ...ANALYSIS_OPTIONS,
    quiet: { type: "boolean", help: "no progress output" },
  },
  notes: "RUN_DIR is a folder written by `deno task reproduce` (it holds manifest.json and work/).",
  async run(v, positionals) {
    if (positionals.length !== 1) {
      throw new UsageError(`expected one RUN_DIR but got ${positionals.length} arguments`);
    }
    const dir = positionals[0].replace(/\/+$/, "");
    let manifest: { config?: ReproduceConfig };
    try {
      manifest = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    } catch (e) {
      throw new Error(
        `Cannot regenerate the report: ${dir}/manifest.json is unreadable (${
          (e as Error).message
        }); expected a folder written by \`deno task reproduce\``,
      );
    }
    if (!manifest.config) {
      throw new Error(`Cannot regenerate the report: ${dir}/manifest.json has no run config`);
    }
    const c: ReproduceConfig = { ...defaultConfig(), ...manifest.config, out: dir };
    applyAnalysisOptions(c, v);
    try {
      validateConfig({ ...c, models: c.models.map((m) => ({ ...m })) });
    } catch (e) {
      if (e instanceof RangeError) throw new UsageError(e.message);
      throw e;
    }
    const { reproduce } = await import("../lib/pipeline/reproduce.ts");
    const r = await reproduce(c, { analysisOnly: true, quiet: !!v.quiet });
    console.log(`Report: ${await Deno.realPath(r.report)}`);
  },
};
