/**
 * The run folder as a store: the check that a folder may receive a run, the artefact layout and
 * cache keys under `work/`, and "load or compute", with every file written atomically.
 *
 * Layout (kept stable so that re-runs resume):
 *
 * ```text
 * DIR/manifest.json, README.txt, report.html, claims.json, tables/, figures/
 * DIR/work/<model>/state.json                    model facts and the codes key
 * DIR/work/<model>/labels_{train,val}.npy        labels of SOM-tr and SOM-val
 * DIR/work/<model>/correct_val.npy               SOM-val correctness
 * DIR/work/<model>/maps/<layer>/<s>x<s>_r<rep>/  one SOM: som.json (last), weights, top-k BMUs
 *   …/shift_{clean,adversarial,noise}.npy(.json) attack BMUs on the main maps
 * DIR/work/<model>/attack/attack.json, examples.json
 * ```
 *
 * @module
 */

import { writeFileAtomic, writeJsonAtomic } from "../fs_atomic.ts";
import type { Manifest } from "../manifest.ts";
import { RunFolderError, StagedFolder } from "../output_folder.ts";
import { readNpy, writeNpy } from "../npy.ts";
import { sha256Hex } from "../model/load.ts";
import type { Som } from "../som/som.ts";
import type { TopK } from "../som/backend.ts";

/** One analysed layer of a model, as recorded in `state.json`. */
export interface LayerState {
  /** Layer label, e.g. `CL1`. */
  label: string;
  /** Tapped tensor. */
  tensor: string;
  /** Code dimension. */
  dim: number;
}

/** What the codes stage records about a model (`work/<model>/state.json`). */
export interface ModelState {
  /** Codes key: model, data, sampled indices, layers, normalisation. */
  key: string;
  /** Model name. */
  model: string;
  /** Model path or URL. */
  path: string;
  /** SHA-256 of the model bytes. */
  sha256: string;
  /** Layers analysed. */
  layers: LayerState[];
  /** Class names by label. */
  classNames: string[];
  /** Examples per class sampled. */
  counts: { train: number[]; val: number[] };
  /** Extraction runtime, `"cache"` when every code came from the cache. */
  runtime: string | null;
  /** Data set identities of the two splits. */
  dataIdentity: { train: string; val: string };
}

/** Labels of SOM-tr and SOM-val and SOM-val correctness. */
export interface ModelLabels {
  /** SOM-tr labels. */
  train: Int32Array;
  /** SOM-val labels. */
  val: Int32Array;
  /** 1 where the SOM-val prediction is right. */
  correct: Int32Array;
}

/** A trained SOM and its top-k BMUs on SOM-tr and SOM-val. */
export interface MapArtefacts {
  /** Grid shape. */
  grid: { m: number; n: number };
  /** Training seed. */
  seed: number;
  /** `K×d` weights. */
  weights: Float32Array;
  /** Per-batch losses. */
  losses: Float32Array;
  /** SOM-tr BMUs. */
  train: { topk: Int32Array; distance: Float32Array };
  /** SOM-val BMUs. */
  val: { topk: Int32Array; distance: Float32Array };
  /** Folder of the map. */
  dir: string;
  /** Backend that trained it. */
  backend: string | null;
}

/** The perturbation kinds whose BMUs are kept. */
export const SHIFT_KINDS = ["clean", "adversarial", "noise"] as const;

/** Top-k BMUs of the attacked images (clean and perturbed) on one layer's main map. */
export type ShiftSet = Record<typeof SHIFT_KINDS[number], Int32Array>;

/** How a stage finds, makes and keeps one artefact. */
export interface Artefact<T> {
  /** What it is, for the message when it is missing in a report-only run. */
  what: string;
  /** Reads it; `null` when absent or stale. */
  load: () => Promise<T | null>;
  /** Computes it. */
  compute: () => Promise<T>;
  /** Persists a computed value. */
  save: (value: T) => Promise<void>;
}

/** Options of {@linkcode RunFolder.open}. */
export interface RunFolderOptions {
  /** Replace a folder that holds another run or foreign files (moved aside, never deleted). */
  force?: boolean;
  /** Report-only: the folder must hold a finished run; nothing may be computed. */
  analysisOnly?: boolean;
  /** Where notes for the user go (e.g. where replaced contents were moved). */
  note?: (message: string) => void;
}

async function _readJson<T>(p: string): Promise<T | null> {
  try {
    return JSON.parse(await Deno.readTextFile(p)) as T;
  } catch {
    return null;
  }
}

async function _exists(p: string): Promise<boolean> {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
}

/** SHA-256 of a value's JSON. */
function _key(value: unknown): Promise<string> {
  return sha256Hex(JSON.stringify(value));
}

/**
 * The run folder of one `reproduce` (or report-only) run. Everything is written into the
 * folder's staging sibling (see `output_folder.ts`), which starts with the previous run's
 * `work/` (hard links) and is switched in whole by {@linkcode RunFolder.finish}; a failed or
 * killed run leaves the folder as it was and its staging folder to resume from.
 */
export class RunFolder {
  /** The run folder. */
  readonly dir: string;
  /** Where this run writes (the staging folder). */
  readonly path: string;
  /** Report-only: artefacts are read, never computed. */
  readonly analysisOnly: boolean;
  readonly #staged: StagedFolder;

  private constructor(staged: StagedFolder, analysisOnly: boolean) {
    this.dir = staged.dir;
    this.path = staged.path;
    this.analysisOnly = analysisOnly;
    this.#staged = staged;
  }

  /**
   * Checks that `dir` may receive the run `runKey` and opens its staging folder (resuming an
   * interrupted attempt at the same run).
   *
   * @param dir Run folder.
   * @param runKey Key of the run-defining settings.
   * @param options `force`, `analysisOnly`.
   * @returns The store.
   * @throws {RunFolderError} If `dir` is a file, holds foreign files or another run (without
   *   `force`), or, report-only, holds no run.
   */
  static async open(dir: string, runKey: string, options: RunFolderOptions): Promise<RunFolder> {
    const staged = await StagedFolder.begin(dir, {
      kind: "reproduce",
      legacyCommands: ["reproduce", "report"],
      runKey,
      force: !options.analysisOnly && options.force,
      resumable: true,
      carry: ["work"],
      mustExist: options.analysisOnly,
      note: options.note,
    });
    return new RunFolder(staged, options.analysisOnly ?? false);
  }

  /**
   * The manifest of the run already in the folder.
   *
   * @returns It, or null.
   */
  previousManifest<T extends Manifest>(): T | null {
    return this.#staged.previous.manifest as T | null;
  }

  /**
   * Returns the stored artefact when present, else computes and saves it; report-only runs
   * fail instead of computing.
   *
   * @param a The artefact.
   * @returns Its value.
   * @throws {RunFolderError} Report-only, when it is missing.
   */
  async loadOrCompute<T>(a: Artefact<T>): Promise<T> {
    const hit = await a.load();
    if (hit !== null) return hit;
    if (this.analysisOnly) {
      throw new RunFolderError(
        `Cannot regenerate the report: ${a.what} missing from ${this.dir}/work; run reproduce with ` +
          "the same settings first",
      );
    }
    const value = await a.compute();
    await a.save(value);
    return value;
  }

  /**
   * Work folder of a model.
   *
   * @param model Model name.
   * @returns `DIR/work/<model>`.
   */
  modelDir(model: string): string {
    return `${this.path}/work/${model}`;
  }

  /**
   * Folder of one SOM.
   *
   * @param model Model name.
   * @param layer Layer label.
   * @param size Grid side.
   * @param rep Seed replicate.
   * @returns The folder.
   */
  mapDir(model: string, layer: string, size: number, rep: number): string {
    return `${this.modelDir(model)}/maps/${
      layer.replace(/[^A-Za-z0-9_.-]/g, "_")
    }/${size}x${size}_r${rep}`;
  }

  /**
   * Reads a model's state and labels.
   *
   * @param model Model name.
   * @param key Expected codes key, or null to accept any.
   * @returns They, or null when absent or stale.
   */
  async readModel(
    model: string,
    key: string | null,
  ): Promise<{ state: ModelState; labels: ModelLabels } | null> {
    const work = this.modelDir(model);
    const state = await _readJson<ModelState>(`${work}/state.json`);
    if (!state || (key !== null && state.key !== key)) return null;
    try {
      const [train, val, correct] = await Promise.all(
        ["labels_train", "labels_val", "correct_val"].map(async (f) =>
          (await readNpy(`${work}/${f}.npy`)).data as Int32Array
        ),
      );
      return { state, labels: { train, val, correct } };
    } catch {
      return null;
    }
  }

  /**
   * Writes a model's labels, then its state (last: it marks the entry complete).
   *
   * @param state The state.
   * @param labels The labels.
   */
  async writeModel(state: ModelState, labels: ModelLabels): Promise<void> {
    const work = this.modelDir(state.model);
    await Deno.mkdir(work, { recursive: true });
    for (
      const [f, data] of [["labels_train", labels.train], ["labels_val", labels.val], [
        "correct_val",
        labels.correct,
      ]] as const
    ) {
      await writeNpy(`${work}/${f}.npy`, { data, shape: [data.length] });
    }
    await writeJsonAtomic(`${work}/state.json`, state);
  }

  /**
   * Reads a trained SOM and its BMUs.
   *
   * @param dir The map folder.
   * @param key Expected key, or null to accept any.
   * @returns It, or null when absent, stale or unreadable.
   */
  async readMap(dir: string, key: string | null): Promise<MapArtefacts | null> {
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
   * Writes a trained SOM's BMUs, then the map (`som.json` last, with its key).
   *
   * @param dir The map folder.
   * @param key The map's key.
   * @param som The trained map.
   * @param bmus Its top-k BMUs on SOM-tr and SOM-val, `k` per row.
   */
  async writeMap(
    dir: string,
    key: string,
    som: Som,
    bmus: { train: TopK; val: TopK; k: number },
  ): Promise<void> {
    await Deno.mkdir(dir, { recursive: true });
    for (const [split, r] of [["train", bmus.train], ["val", bmus.val]] as const) {
      const shape = [r.index.length / bmus.k, bmus.k];
      await writeNpy(`${dir}/topk_${split}.npy`, { data: r.index, shape });
      await writeNpy(`${dir}/dist_${split}.npy`, { data: r.distance, shape });
    }
    await som.save(dir, { cacheKey: key });
  }

  /**
   * Reads the attack summary and the attack BMUs on the main maps.
   *
   * @param model Model name.
   * @param mapDirs Main map folder per layer.
   * @param key Expected attack key, or null to accept any.
   * @returns Summary and per-layer BMUs, or null when absent or stale.
   */
  async readAttack(
    model: string,
    mapDirs: string[],
    key: string | null,
  ): Promise<{ summary: unknown; shifts: ShiftSet[] } | null> {
    const head = await _readJson<{ key: string; summary: unknown }>(
      `${this.modelDir(model)}/attack/attack.json`,
    );
    if (!head || (key !== null && head.key !== key)) return null;
    const shifts: ShiftSet[] = [];
    for (const dir of mapDirs) {
      const set: Partial<ShiftSet> = {};
      for (const kind of SHIFT_KINDS) {
        const f = `${dir}/shift_${kind}.npy`;
        if (!(await _exists(f))) return null;
        const h = await _readJson<{ key: string }>(`${f}.json`);
        if (!h || h.key !== head.key) return null;
        set[kind] = (await readNpy(f)).data as Int32Array;
      }
      shifts.push(set as ShiftSet);
    }
    return { summary: head.summary, shifts };
  }

  /**
   * Writes the attack BMUs beside each main map, the examples, then `attack.json` (last).
   *
   * @param model Model name.
   * @param key The attack key.
   * @param mapDirs Main map folder per layer.
   * @param result Summary, per-example rows, per-layer BMUs and BMUs per row.
   */
  async writeAttack(
    model: string,
    key: string,
    mapDirs: string[],
    result: { summary: unknown; examples: unknown; shifts: ShiftSet[]; k: number },
  ): Promise<void> {
    const adir = `${this.modelDir(model)}/attack`;
    await Deno.mkdir(adir, { recursive: true });
    for (const kind of SHIFT_KINDS) {
      for (const [li, dir] of mapDirs.entries()) {
        const data = result.shifts[li][kind];
        await writeNpy(`${dir}/shift_${kind}.npy`, {
          data,
          shape: [data.length / result.k, result.k],
        });
        await writeJsonAtomic(`${dir}/shift_${kind}.npy.json`, { key });
      }
    }
    await writeJsonAtomic(`${adir}/examples.json`, result.examples);
    await writeJsonAtomic(`${adir}/attack.json`, { key, summary: result.summary });
  }

  /**
   * Writes the folder's README and the manifest, and switches the staging folder in.
   *
   * @param manifest The manifest.
   * @param readme README text.
   */
  async finish(manifest: Manifest, readme: string): Promise<void> {
    await writeFileAtomic(`${this.path}/README.txt`, readme);
    manifest.finished = new Date().toISOString();
    await this.#staged.commit(manifest);
  }
}

/**
 * Key of a model's codes and state: model bytes, data identity, sampled indices, layers and
 * normalisation.
 *
 * @param v The inputs.
 * @returns The key.
 */
export async function codesKey(v: {
  model: string;
  data: { train: string; val: string };
  train: Int32Array;
  val: Int32Array;
  layers: string | string[];
  normalize: unknown;
}): Promise<string> {
  return await _key({
    v: 1,
    model: v.model,
    data: v.data,
    train: await sha256Hex(new Uint8Array(v.train.buffer)),
    val: await sha256Hex(new Uint8Array(v.val.buffer)),
    layers: v.layers,
    normalize: v.normalize,
  });
}

/**
 * Key of one SOM: the codes key, the layer, size, seed and training settings.
 *
 * @param v The inputs (in this key order).
 * @returns The key.
 */
export function mapKey(v: {
  state: string;
  tensor: string;
  size: number;
  seed: number;
  epochs: number;
  batch: number;
  sigma0: number;
  alpha0: number;
  k: number;
}): Promise<string> {
  return _key(v);
}

/**
 * Key of a model's attack: the codes key and the PGD settings.
 *
 * @param v The inputs (in this key order).
 * @returns The key (24 hex digits).
 */
export async function attackKey(
  v: { state: string; n: number; eps: number; steps: number; seed: number },
): Promise<string> {
  return (await _key(v)).slice(0, 24);
}
