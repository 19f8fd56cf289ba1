/**
 * What every stage of a run shares: the validated configuration, the run-folder store, the
 * manifest being filled (seeds, inputs, runtimes, timings), the GPU context and the log.
 *
 * @module
 */

import { GpuContext } from "../gpu/context.ts";
import { type Manifest, newManifest } from "../manifest.ts";
import { Rng } from "../rng.ts";
import type { ReproduceConfig } from "./config.ts";
import type { RunFolder } from "./run_folder.ts";

/** The shared state of one run, handed to every stage. */
export interface RunContext {
  /** The validated configuration. */
  config: ReproduceConfig;
  /** The run-folder store. */
  folder: RunFolder;
  /** The manifest being filled. */
  manifest: Manifest;
  /** Input hashes per model (`manifest.inputs`). */
  inputs: Record<string, unknown>;
  /** Runtimes per model, and the GPU note (`manifest.runtimes`). */
  runtimes: Record<string, unknown>;
  /** Seed streams (`manifest.seeds.streams`). */
  streams: Record<string, number | string>;
  /** GPU context, or null (none, or report-only). */
  gpu: GpuContext | null;
  /** No progress bars. */
  quiet: boolean;
  /** Stage messages. */
  log: (message: string) => void;
}

/**
 * Derives the seed of a named stream from the root seed and records it in the manifest.
 *
 * @param run The run.
 * @param stream Stream name, e.g. `som/<model>/<layer>/<size>/<rep>`.
 * @returns The seed.
 */
export function streamSeed(run: RunContext, stream: string): number {
  const seed = new Rng(run.config.seed).stream(stream).nextU32();
  run.streams[stream] = seed;
  return seed;
}

/**
 * Records one runtime fact of a model in the manifest.
 *
 * @param run The run.
 * @param model Model name.
 * @param field What ran, e.g. `extraction`, `som`, `attack`.
 * @param value The fact.
 */
export function recordRuntime(run: RunContext, model: string, field: string, value: unknown): void {
  run.runtimes[model] = { ...(run.runtimes[model] as object | undefined), [field]: value };
}

/**
 * Starts a run: the manifest (carrying over a report-only run's inputs, adapter and compute
 * timings) and, unless report-only, the GPU context.
 *
 * @param config The validated configuration.
 * @param folder The store.
 * @param runKey Key of the run-defining settings.
 * @param options `quiet`, `log`.
 * @returns The run context (dispose `gpu` when done).
 */
export async function startRun(
  config: ReproduceConfig,
  folder: RunFolder,
  runKey: string,
  options: { quiet: boolean; log: (message: string) => void },
): Promise<RunContext> {
  const previous = folder.analysisOnly
    ? folder.previousManifest<Manifest & { runKey: string }>()
    : null;
  const manifest = newManifest(folder.analysisOnly ? "report" : "reproduce", {
    ...(config as unknown as Record<string, unknown>),
  });
  manifest.runKey = folder.analysisOnly ? previous!.runKey : runKey;
  manifest.versions["vega"] = "6.4.0";
  manifest.versions["vega-lite"] = "6.5.0";
  const streams: Record<string, number | string> = {};
  manifest.seeds = { root: config.seed, streams };
  // A report-only run keeps the input hashes of the run that computed the artefacts.
  const inputs: Record<string, unknown> = { ...((previous?.inputs as object) ?? {}) };
  const runtimes: Record<string, unknown> = {};
  manifest.inputs = inputs;
  manifest.runtimes = runtimes;
  if (previous) manifest.computeTimings = previous.timings;
  let gpu: GpuContext | null = null;
  if (!folder.analysisOnly) {
    const auto = await GpuContext.auto();
    gpu = auto.ctx ?? null;
    manifest.adapter = gpu?.adapter ?? null;
    runtimes.gpu = auto.policy.reason;
  } else {
    manifest.adapter = previous?.adapter ?? null;
  }
  return { config, folder, manifest, inputs, runtimes, streams, gpu, ...options };
}
