/**
 * The analyses and claims stage alone, on an existing run folder (issue 14 point 4): loads the
 * folder's codes state, SOMs, BMUs and attack the way `somscope report` does, then times
 * `analysesStage` (analyses + claims) `--repeat` times and prints a digest of its output (the
 * bits of every number of the analyses and claims, typed arrays included; `--dump` writes the
 * digests of each part), so that two versions of the analysis code can be compared for identical
 * results on the same folder.
 *
 * Usage: deno run -A bench/analyses_bench.ts RUN_DIR [--repeat 3] [--dump digests.json]
 * (e.g. a run folder made by `somscope reproduce … --out RUN_DIR` on the workload of
 * `bench/make_scale_workload.py`; see bench/RESULTS.md).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createHash, type Hash } from "node:crypto";
import { defaultConfig, type ReproduceConfig, validateConfig } from "../lib/pipeline/config.ts";
import { RunFolder } from "../lib/pipeline/run_folder.ts";
import { startRun } from "../lib/pipeline/run_context.ts";
import { codesStage } from "../lib/pipeline/stages/codes.ts";
import { somsStage } from "../lib/pipeline/stages/soms.ts";
import { attackStage } from "../lib/pipeline/stages/attack.ts";
import { analysesStage } from "../lib/pipeline/stages/analyses.ts";

/** CPU seconds of this process so far (user + system, from /proc/self/stat; 100 ticks/s). */
function _cpuSeconds(): number {
  const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Feeds every value into the hash: numbers by their float64 bits, typed arrays by their bytes. */
function _feed(h: Hash, v: unknown): void {
  if (ArrayBuffer.isView(v)) {
    h.update(`${v.constructor.name}:${v.byteLength}:`);
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  } else if (typeof v === "number") {
    h.update(new Uint8Array(Float64Array.of(v).buffer));
  } else if (Array.isArray(v)) {
    h.update(`[${v.length}`);
    for (const x of v) _feed(h, x);
    h.update("]");
  } else if (v && typeof v === "object") {
    const keys = Object.keys(v).sort();
    h.update(`{${keys.length}`);
    for (const k of keys) {
      h.update(JSON.stringify(k));
      _feed(h, (v as Record<string, unknown>)[k]);
    }
    h.update("}");
  } else h.update(JSON.stringify(v) ?? "undefined");
}

/** Digests of the value and of each part two levels down (`layers.0.classStats`, …). */
function _digests(v: unknown, path = "", depth = 0, out: Record<string, string> = {}) {
  const h = createHash("sha256");
  _feed(h, v);
  out[path || "all"] = h.digest("hex").slice(0, 16);
  if (depth < 3 && v && typeof v === "object" && !ArrayBuffer.isView(v)) {
    for (const [k, x] of Object.entries(v)) _digests(x, path ? `${path}.${k}` : k, depth + 1, out);
  }
  return out;
}

async function _main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { repeat: { type: "string", default: "3" }, dump: { type: "string" } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new Error("usage: analyses_bench.ts RUN_DIR [--repeat N]");
  const dir = positionals[0].replace(/\/+$/, "");
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  const c: ReproduceConfig = validateConfig({
    ...defaultConfig(),
    ...manifest.config,
    out: dir,
  });
  const folder = await RunFolder.open(dir, manifest.runKey, { analysisOnly: true, note: () => {} });
  const run = await startRun(c, folder, manifest.runKey, { quiet: true, log: () => {} });
  const times: number[] = [];
  const digests = new Set<string>();
  for (const mc of c.models) {
    const codes = await codesStage(run, mc);
    const maps = await somsStage(run, codes);
    const attack = await attackStage(run, codes, maps);
    for (let i = 0; i < Number(values.repeat); i++) {
      const tm = run.manifest.timings as Record<string, number>;
      const before = { a: tm[`${mc.name}/analyses`] ?? 0, c: tm[`${mc.name}/claims`] ?? 0 };
      const t0 = performance.now(), cpu0 = _cpuSeconds();
      const r = await analysesStage(run, codes, maps, attack);
      times.push((performance.now() - t0) / 1000);
      const cpu = _cpuSeconds() - cpu0;
      const parts = _digests({ analysis: r.analysis, claims: r.claims });
      digests.add(parts.all);
      console.log(
        `${mc.name} #${i + 1}: ${times.at(-1)!.toFixed(2)} s, CPU ${cpu.toFixed(2)} s (analyses ${
          (tm[`${mc.name}/analyses`] - before.a).toFixed(2)
        } s, claims ${(tm[`${mc.name}/claims`] - before.c).toFixed(2)} s)`,
      );
      if (values.dump && i === 0) {
        await Deno.writeTextFile(values.dump, JSON.stringify(parts, null, 1));
      }
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} s of ${times.length}`);
  console.log(`digest ${[...digests].join(" ")}`);
  if (digests.size !== 1) throw new Error("the repeats gave different results");
}

if (import.meta.main) await _main();
