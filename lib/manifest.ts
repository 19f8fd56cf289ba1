/**
 * Run manifests: every run writes its parameters, seeds, software versions, adapter and
 * per-stage timings as JSON beside its outputs.
 *
 * @module
 */

import type { AdapterFacts } from "./gpu/context.ts";
import { writeJsonAtomic } from "./fs_atomic.ts";

/** Pinned versions of the npm packages somscope imports. */
export const PACKAGE_VERSIONS: Readonly<Record<string, string>> = Object.freeze({
  "onnxruntime-web": "1.30.0",
  "onnxruntime-node": "1.30.0",
  "sharp": "0.35.5",
  "arquero": "8.0.3",
  "@uwdata/flechette": "2.6.0",
  "onnx-proto": "8.0.1",
});

/** The somscope version (also the vector-code/cache format version). */
export const SOMSCOPE_VERSION = "0.1.0";

/** A run manifest under construction. */
export interface Manifest {
  /** What ran, e.g. `"train"` or `"reproduce"`. */
  command: string;
  /** somscope version. */
  somscope: string;
  /** ISO time the run started. */
  started: string;
  /** ISO time the manifest was written. */
  finished?: string;
  /** Deno, V8, TypeScript and npm package versions. */
  versions: Record<string, string>;
  /** Operating system and CPU facts. */
  machine: { os: string; arch: string; cpus: number; hostname?: string };
  /** The adapter, when a GPU context was made. */
  adapter?: AdapterFacts | null;
  /** All parameters as given and as defaulted. */
  parameters: Record<string, unknown>;
  /** Root seed and derived stream names. */
  seeds: Record<string, unknown>;
  /** Seconds per stage. */
  timings: Record<string, number>;
  /** Anything else (input hashes, runtimes, counts). */
  [extra: string]: unknown;
}

/**
 * Starts a manifest with versions and machine facts filled in.
 *
 * @param command What runs.
 * @param parameters The run's parameters.
 * @returns A manifest to fill and then {@linkcode writeManifest}.
 */
export function newManifest(command: string, parameters: Record<string, unknown>): Manifest {
  let hostname: string | undefined;
  try {
    hostname = Deno.hostname();
  } catch { /* no permission */ }
  return {
    command,
    somscope: SOMSCOPE_VERSION,
    started: new Date().toISOString(),
    versions: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
      ...PACKAGE_VERSIONS,
    },
    machine: {
      os: Deno.build.os,
      arch: Deno.build.arch,
      cpus: navigator.hardwareConcurrency ?? 0,
      hostname,
    },
    parameters,
    seeds: {},
    timings: {},
  };
}

/**
 * Times an async stage and records its seconds in `manifest.timings[name]`.
 *
 * @param manifest The manifest.
 * @param name Stage name.
 * @param fn The stage.
 * @returns What `fn` returned.
 */
export async function timed<T>(manifest: Manifest, name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    manifest.timings[name] = (manifest.timings[name] ?? 0) + (performance.now() - t0) / 1000;
  }
}

/**
 * Writes the manifest atomically, stamping `finished`.
 *
 * @param path Destination (usually `DIR/manifest.json`).
 * @param manifest The manifest.
 */
export async function writeManifest(path: string, manifest: Manifest): Promise<void> {
  manifest.finished = new Date().toISOString();
  await writeJsonAtomic(path, manifest);
}
