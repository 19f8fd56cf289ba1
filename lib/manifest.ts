/**
 * Run manifests: every run writes its parameters, seeds, software versions, adapter and
 * per-stage timings as JSON beside its outputs.
 *
 * @module
 */

import { writeJsonAtomic } from "./fs_atomic.ts";

/**
 * Pinned versions of the npm packages somscope imports.
 *
 * @example
 * ```ts
 * import { PACKAGE_VERSIONS } from "../mod.ts";
 * import { strictEqual } from "node:assert";
 * strictEqual(PACKAGE_VERSIONS["onnxruntime-node"], "1.30.0");
 * ```
 */
export const PACKAGE_VERSIONS: Readonly<Record<string, string>> = Object.freeze({
  "onnxruntime-web": "1.30.0",
  "onnxruntime-node": "1.30.0",
  "sharp": "0.35.5",
  "arquero": "8.0.3",
  "@uwdata/flechette": "2.6.0",
  "onnx-proto": "8.0.1",
});

/**
 * The somscope version, recorded in every manifest.
 *
 * @example
 * ```ts
 * import { SOMSCOPE_VERSION } from "../mod.ts";
 * import { match } from "node:assert";
 * match(SOMSCOPE_VERSION, /^\d+\.\d+\.\d+$/);
 * ```
 */
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
  /** The adapter's facts (`GpuContext.adapter`), when a GPU context was made. */
  adapter?: object | null;
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
 * @example
 * ```ts
 * import { newManifest } from "../mod.ts";
 * import { strictEqual } from "node:assert";
 * const m = newManifest("train", { grid: "20x20" });
 * strictEqual(m.versions.deno, Deno.version.deno);
 * strictEqual(m.parameters.grid, "20x20");
 * ```
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
 * @example
 * ```ts
 * import { newManifest, timed } from "../mod.ts";
 * import { ok } from "node:assert";
 * const m = newManifest("demo", {});
 * const v = await timed(m, "stage", () => Promise.resolve(42));
 * ok(v === 42 && m.timings.stage >= 0);
 * ```
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
 * @example
 * ```ts
 * import { newManifest, writeManifest } from "../mod.ts";
 * import { strictEqual } from "node:assert";
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * await writeManifest(path, newManifest("demo", { seed: 1 }));
 * strictEqual(JSON.parse(await Deno.readTextFile(path)).parameters.seed, 1);
 * await Deno.remove(path);
 * ```
 */
export async function writeManifest(path: string, manifest: Manifest): Promise<void> {
  manifest.finished = new Date().toISOString();
  await writeJsonAtomic(path, manifest);
}
