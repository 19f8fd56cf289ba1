/**
 * Output folders that belong to one run and commit whole.
 *
 * A command that writes a folder `DIR` first checks that it may (the folder is absent, empty,
 * or holds a run of the same kind whose manifest lists every entry; anything else needs
 * `force`), then writes into the sibling staging folder `.DIR.staging` and finally switches it
 * in: the manifest (with the run id and the list of entries) is written last into the staging
 * folder, `DIR` is renamed aside and the staging folder renamed to `DIR`. After a kill or a full
 * disk at any instant, `DIR` holds the old run or the new one, never a mix; the one window where
 * `DIR` is briefly absent (between the two renames) is repaired by the next
 * {@linkcode StagedFolder.begin} on that folder. A resumable command (`reproduce`) keeps its
 * staging folder after a failure and continues in it when rerun with the same settings.
 *
 * With `force`, the folder's previous contents are moved aside to `DIR.replaced-<time>` (never
 * deleted); without it, the previous contents are those of an earlier run of the same kind and
 * are removed once the new run is in place.
 *
 * @module
 */

import { writeJsonAtomic } from "./fs_atomic.ts";

/**
 * An output folder may not receive a run: it is a file, holds files its run did not write, or
 * holds another run; or a run folder lacks what a report-only run needs.
 *
 * @example
 * ```ts
 * import { RunFolderError } from "../mod.ts";
 * import { strictEqual } from "node:assert";
 * const e = new RunFolderError("Cannot write into runs/x: it holds another run");
 * strictEqual(e.name, "RunFolderError");
 * strictEqual(e instanceof Error, true);
 * ```
 */
export class RunFolderError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is in the way and how to proceed.
   */
  constructor(message: string) {
    super(message);
    this.name = "RunFolderError";
  }
}

/** The ownership record a committed folder's manifest carries. */
export interface Ownership {
  /** Kind of run that owns the folder (e.g. `codes`, `reproduce`). */
  kind: string;
  /** Unique id of the run that wrote it. */
  runId: string;
  /** Key of the settings that define the run (same key: the same run). */
  runKey: string;
  /** Every top-level entry of the folder. */
  entries: string[];
}

/** Options of {@linkcode StagedFolder.begin}. */
export interface BeginOptions {
  /** Kind of run; a folder owned by another kind is another run. */
  kind: string;
  /** Key of the run-defining settings. */
  runKey: string;
  /** Replace a folder that holds another run or foreign files (moved aside, never deleted). */
  force?: boolean;
  /** File holding the manifest (with the ownership record). Default `manifest.json`. */
  manifest?: string;
  /** Keep the staging folder after a failure and resume in it (same kind and key). */
  resumable?: boolean;
  /** Entries of the previous run of the same kind to bring into the staging folder (hard links). */
  carry?: string[];
  /** The folder must already hold a run of this kind (e.g. report-only runs). */
  mustExist?: boolean;
  /** Commands of older manifests (without an ownership record) that count as this kind. */
  legacyCommands?: string[];
  /** Called with a note for the user (e.g. where replaced contents went). */
  note?: (message: string) => void;
}

/** What the folder held before a run began. */
export interface PreviousRun {
  /** Its manifest (null: none or unreadable). */
  manifest: Record<string, unknown> | null;
  /** Its ownership record, when it has one (or is an older somscope run without). */
  ownership: Ownership | null;
}

const MARKER = ".somscope-staging.json";
const LIST = 5;

function _split(dir: string): { parent: string; base: string } {
  const clean = dir.replace(/\/+$/, "") || "/";
  const i = clean.lastIndexOf("/");
  return i < 0
    ? { parent: ".", base: clean }
    : { parent: i === 0 ? "/" : clean.slice(0, i), base: clean.slice(i + 1) };
}

async function _stat(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

async function _entries(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

async function _readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    const v = JSON.parse(await Deno.readTextFile(path));
    return v && typeof v === "object" && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

function _names(list: string[]): string {
  const shown = list.slice(0, LIST).join(", ");
  return list.length > LIST ? `${shown} and ${list.length - LIST} more` : shown;
}

/** The ownership record of a manifest; older somscope manifests (no record) own everything. */
function _ownership(
  m: Record<string, unknown> | null,
  entries: string[],
  o: BeginOptions,
): Ownership | null {
  if (!m || typeof m.somscope !== "string") return null;
  const rec = m.ownership as Ownership | undefined;
  if (rec && typeof rec.kind === "string" && Array.isArray(rec.entries)) return rec;
  const command = String(m.command ?? "");
  return {
    kind: (o.legacyCommands ?? [o.kind]).includes(command) ? o.kind : command,
    runId: "",
    runKey: String(m.runKey ?? ""),
    entries,
  };
}

/** Hard-links (or copies) every file of `src` into `dst` that `dst` does not have yet. */
async function _carry(src: string, dst: string): Promise<void> {
  const info = await _stat(src);
  if (!info) return;
  if (info.isDirectory) {
    await Deno.mkdir(dst, { recursive: true });
    for await (const e of Deno.readDir(src)) await _carry(`${src}/${e.name}`, `${dst}/${e.name}`);
    return;
  }
  if (!info.isFile || (await _stat(dst))) return;
  try {
    await Deno.link(src, dst);
  } catch {
    await Deno.copyFile(src, dst);
  }
}

/** An output folder being written through its staging sibling. */
export class StagedFolder {
  /** The final folder. */
  readonly dir: string;
  /** The staging folder to write into. */
  readonly path: string;
  /** This run's id. */
  readonly runId: string;
  /** What the folder held when the run began. */
  readonly previous: PreviousRun;
  readonly #options: BeginOptions;
  #replace: "remove" | "keep" | null;

  private constructor(
    dir: string,
    path: string,
    runId: string,
    previous: PreviousRun,
    options: BeginOptions,
    replace: "remove" | "keep" | null,
  ) {
    this.dir = dir;
    this.path = path;
    this.runId = runId;
    this.previous = previous;
    this.#options = options;
    this.#replace = replace;
  }

  /**
   * Checks that `dir` may receive the run and prepares its staging folder (resuming a staging
   * folder of the same run when `resumable`).
   *
   * @param dir The output folder.
   * @param options Kind, key, `force`, manifest file, resume and carry-over.
   * @returns The staged folder.
   * @throws {RunFolderError} If `dir` is a file, holds files this kind of run did not write,
   *   or holds another run (without `force`); or, with `mustExist`, holds no run of this kind.
   *
   * @example
   * ```ts
   * import { StagedFolder } from "../mod.ts";
   * import { deepStrictEqual as assertEquals, rejects } from "node:assert";
   * const dir = `${await Deno.makeTempDir()}/out`;
   * const s = await StagedFolder.begin(dir, { kind: "demo", runKey: "k1" });
   * await Deno.writeTextFile(`${s.path}/a.txt`, "new");
   * await s.commit({ somscope: "0.1.0", command: "demo" });
   * assertEquals((await Deno.readTextFile(`${dir}/a.txt`)), "new");
   * await rejects(StagedFolder.begin(dir, { kind: "demo", runKey: "k2" }), /another run/);
   * await Deno.writeTextFile(`${dir}/notes.txt`, "mine");
   * await rejects(StagedFolder.begin(dir, { kind: "demo", runKey: "k1" }), /notes\.txt/);
   * ```
   */
  static async begin(dir: string, options: BeginOptions): Promise<StagedFolder> {
    const { parent, base } = _split(dir);
    const staging = `${parent}/.${base}.staging`;
    await _recover(dir, staging, options.manifest ?? "manifest.json");
    const previous = await _checkFolder(dir, options);
    const replace = previous === null ? null : await _replacement(dir, previous, options);
    await _prepareStaging(staging, options);
    if (options.carry && previous?.ownership?.kind === options.kind) {
      for (const e of options.carry) await _carry(`${dir}/${e}`, `${staging}/${e}`);
    }
    return new StagedFolder(
      dir,
      staging,
      crypto.randomUUID(),
      previous ?? { manifest: null, ownership: null },
      options,
      replace,
    );
  }

  /**
   * Writes the manifest (with the ownership record) into the staging folder and switches the
   * staging folder in as the output folder.
   *
   * @param manifest The run's manifest.
   * @returns Where the folder's previous contents went when they were kept (`force`), or null.
   */
  async commit(manifest: Record<string, unknown>): Promise<string | null> {
    const file = this.#options.manifest ?? "manifest.json";
    const entries = (await _entries(this.path)).filter((e) => e !== MARKER);
    if (!entries.includes(file)) entries.push(file);
    const ownership: Ownership = {
      kind: this.#options.kind,
      runId: this.runId,
      runKey: this.#options.runKey,
      entries: entries.sort(),
    };
    await writeJsonAtomic(`${this.path}/${file}`, { ...manifest, ownership });
    const { parent, base } = _split(this.dir);
    let aside: string | null = null;
    if (this.#replace) {
      aside = this.#replace === "keep"
        ? `${parent}/${base}.replaced-${new Date().toISOString().replace(/[:.]/g, "-")}`
        : `${parent}/.${base}.old-${this.runId.slice(0, 8)}`;
      await Deno.rename(this.dir, aside);
    }
    await Deno.rename(this.path, this.dir);
    await Deno.remove(`${this.dir}/${MARKER}`).catch(() => {});
    if (aside && this.#replace === "remove") {
      await Deno.remove(aside, { recursive: true }).catch(() => {});
      return null;
    }
    if (aside) this.#options.note?.(`the folder's previous contents were moved to ${aside}`);
    return aside;
  }

  /** Removes the staging folder (a failed run that cannot resume). */
  async abort(): Promise<void> {
    await Deno.remove(this.path, { recursive: true }).catch(() => {});
  }
}

/** Repairs a commit cut between its two renames, and removes finished leftovers. */
async function _recover(dir: string, staging: string, manifest: string) {
  const { parent, base } = _split(dir);
  let names: string[] = [];
  try {
    names = (await _entries(parent)).filter((n) => n.startsWith(`.${base}.old-`));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    return;
  }
  if (!(await _stat(dir))) {
    const head = await _readJson(`${staging}/${manifest}`);
    const committed = !!(head?.ownership as Ownership | undefined)?.runId;
    if (committed) await Deno.rename(staging, dir);
    else if (names.length) await Deno.rename(`${parent}/${names[0]}`, dir);
  }
  for (const n of names) {
    await Deno.remove(`${parent}/${n}`, { recursive: true }).catch(() => {});
  }
  await Deno.remove(`${dir}/${MARKER}`).catch(() => {});
}

/** What `dir` holds; throws when it may not receive the run. */
async function _checkFolder(dir: string, o: BeginOptions): Promise<PreviousRun | null> {
  const info = await _stat(dir);
  if (!info) {
    if (o.mustExist) throw new RunFolderError(`Cannot use ${dir}: the folder does not exist`);
    return null;
  }
  if (!info.isDirectory) {
    throw new RunFolderError(
      `Cannot write into ${dir}: it is a file, but a folder is expected; choose another path`,
    );
  }
  const entries = await _entries(dir);
  const manifest = await _readJson(`${dir}/${o.manifest ?? "manifest.json"}`);
  const ownership = _ownership(manifest, entries, o);
  if (o.mustExist && ownership?.kind !== o.kind) {
    throw new RunFolderError(
      `Cannot use ${dir}: it holds no ${o.kind} run (no somscope ${o.manifest ?? "manifest.json"})`,
    );
  }
  if (entries.length === 0 || o.force) return { manifest, ownership };
  if (!ownership) {
    throw new RunFolderError(
      `Cannot write into ${dir}: it holds ${entries.length} file(s) that are not a somscope run ` +
        `(${_names(entries)}); choose another folder or pass --force (they are moved aside)`,
    );
  }
  const foreign = entries.filter((e) => !ownership.entries.includes(e) && e !== MARKER);
  if (foreign.length) {
    throw new RunFolderError(
      `Cannot write into ${dir}: it holds ${foreign.length} file(s) that its run did not write ` +
        `(${_names(foreign)}); move them away or pass --force (they are moved aside)`,
    );
  }
  if (ownership.kind !== o.kind || ownership.runKey !== o.runKey) {
    throw new RunFolderError(
      `Cannot write into ${dir}: it holds another run (${ownership.kind || "somscope"} run ${
        ownership.runKey.slice(0, 12) || "?"
      }… but this ${o.kind} run is ${o.runKey.slice(0, 12)}…); choose another folder or pass ` +
        "--force (the old run is moved aside)",
    );
  }
  return { manifest, ownership };
}

/** Whether the previous contents are removed (same run) or kept aside (`force`). */
async function _replacement(
  dir: string,
  previous: PreviousRun,
  o: BeginOptions,
): Promise<"remove" | "keep"> {
  if (!o.force) return "remove";
  const o2 = previous.ownership;
  if ((await _entries(dir)).length === 0) return "remove";
  const same = o2 && o2.kind === o.kind && o2.runKey === o.runKey;
  return same ? "remove" : "keep";
}

/** Creates the staging folder, or resumes or clears one left by an earlier attempt. */
async function _prepareStaging(staging: string, o: BeginOptions): Promise<void> {
  const info = await _stat(staging);
  if (info) {
    const marker = await _readJson(`${staging}/${MARKER}`);
    if (!info.isDirectory || !marker) {
      throw new RunFolderError(
        `Cannot stage the run in ${staging}: it exists but was not made by somscope; remove it`,
      );
    }
    const same = marker.kind === o.kind && marker.runKey === o.runKey;
    if (same && o.resumable) return;
    await Deno.remove(staging, { recursive: true });
  }
  await Deno.mkdir(staging, { recursive: true });
  await writeJsonAtomic(`${staging}/${MARKER}`, { kind: o.kind, runKey: o.runKey });
}
