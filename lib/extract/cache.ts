/**
 * A content-addressed, crash-safe store for per-example rows (vector codes, predictions).
 *
 * An entry is a folder named by a key (a SHA-256 of everything that determines its contents).
 * While a run fills it, every batch lands as its own chunk file `rows_<start>_<end>.<sum>.npy`
 * (positions `[start, end)` of the run's index list; `<sum>` the first 16 hex digits of the
 * SHA-256 of the file's bytes), written atomically: temp file, fsync, rename. Every read checks
 * the checksum: a damaged file is deleted with a warning and its rows count as missing, so the
 * caller recomputes them. A run killed at any point leaves only whole chunks (and perhaps a stray
 * `*.tmp`, which is ignored, removed once it is a minute old, and removed at once when the entry
 * is complete), so a resumed run computes just the missing positions.
 *
 * Several processes may fill one entry at once (e.g. the shards of a job array): chunks of the
 * same rows are identical, and a chunk that vanishes while being read (another process merged
 * the entry) makes the reader look again instead of recomputing. When every position is
 * covered, an entry of at most {@linkcode MERGE_BYTES} is merged into one file
 * `rows.<sum>.npy` (atomically) and its chunks deleted; a larger one stays in chunks, so no
 * file ever exceeds that size.
 *
 * @module
 */

import { decodeNpy, encodeNpy } from "../npy.ts";
import { exists, writeFileAtomic } from "../fs_atomic.ts";
import { sha256Hex } from "../hash.ts";

const CHUNK = /^rows_(\d+)_(\d+)\.([0-9a-f]{16})\.npy$/;
const MERGED = /^rows\.([0-9a-f]{16})\.npy$/;
const STALE_TMP_MS = 60_000;

/**
 * Entries up to this many bytes of rows are merged into one file when complete; larger ones
 * stay in chunks (256 MiB: one SHA-256 pass and one allocation stay small).
 *
 * @example
 * ```ts
 * import { MERGE_BYTES } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(MERGE_BYTES, 256 * 1024 * 1024);
 * ```
 */
export const MERGE_BYTES = 256 * 1024 * 1024;

/** Options of {@linkcode RowStore.open}. */
export interface RowStoreOptions {
  /** Receives a warning (e.g. a file that failed its checksum). Default: `console.warn`. */
  onWarning?: (message: string) => void;
}

interface _File {
  start: number;
  end: number;
  file: string;
  sum: string;
}

/**
 * One entry of the store: `total` rows of `dim` values.
 *
 * @example
 * ```ts
 * import { RowStore } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const dir = await Deno.makeTempDir();
 * const s = await RowStore.open(dir, 3, 2);
 * await s.put(0, Float32Array.of(1, 2, 3, 4)); // rows 0 and 1
 * assertEquals([s.has(1), s.has(2), s.complete], [true, false, false]);
 * await s.put(2, Float32Array.of(5, 6));
 * const again = await RowStore.open(dir, 3, 2); // e.g. after a restart
 * assertEquals(again.complete, true);
 * assertEquals(await again.read(), { rows: Float32Array.of(1, 2, 3, 4, 5, 6) });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class RowStore {
  /** Entry folder. */
  readonly dir: string;
  #covered: Uint8Array;
  #files: _File[] = [];
  #warn: (message: string) => void;

  private constructor(
    dir: string,
    readonly total: number,
    readonly dim: number,
    readonly dtype: "f4" | "i4",
    options: RowStoreOptions,
  ) {
    this.dir = dir;
    this.#covered = new Uint8Array(total);
    this.#warn = options.onWarning ?? ((m) => console.warn(m));
  }

  /**
   * Opens (creating if needed) an entry and lists what it holds (file names only: contents are
   * read, and their checksums checked, by {@linkcode RowStore.read}).
   *
   * @param dir Entry folder.
   * @param total Number of rows.
   * @param dim Values per row.
   * @param dtype `"f4"` (float32) or `"i4"` (int32).
   * @param options Warning sink.
   * @returns The store.
   * @throws {Deno.errors.PermissionDenied} If the folder cannot be created.
   */
  static async open(
    dir: string,
    total: number,
    dim: number,
    dtype: "f4" | "i4" = "f4",
    options: RowStoreOptions = {},
  ): Promise<RowStore> {
    await Deno.mkdir(dir, { recursive: true });
    const s = new RowStore(dir, total, dim, dtype, options);
    await s.#scan();
    return s;
  }

  async #scan(): Promise<void> {
    this.#files = [];
    this.#covered.fill(0);
    const temps: string[] = [];
    for await (const e of Deno.readDir(this.dir)) {
      if (!e.isFile) continue;
      if (e.name.endsWith(".tmp")) {
        temps.push(`${this.dir}/${e.name}`);
        continue;
      }
      const merged = MERGED.exec(e.name);
      const m = merged ? null : CHUNK.exec(e.name);
      const [start, end, sum] = merged
        ? [0, this.total, merged[1]]
        : m
        ? [Number(m[1]), Number(m[2]), m[3]]
        : [0, 0, ""];
      if (!(start < end && end <= this.total)) continue;
      this.#files.push({ start, end, sum, file: `${this.dir}/${e.name}` });
      this.#covered.fill(1, start, end);
    }
    // A merged file makes every chunk redundant (a concurrent run's leftovers).
    const full = this.#files.find((f) => MERGED.test(_name(f.file)));
    if (full) this.#files = [full];
    await this.#removeTemps(temps, this.complete);
  }

  /**
   * Temp files were never renamed, so never part of the entry. In a complete entry all of them
   * are useless (a writer still in flight finds its rows present, see `put`); otherwise one
   * younger than a minute may belong to a run sharing this entry and stays.
   */
  async #removeTemps(temps: string[], all: boolean): Promise<void> {
    for (const path of temps) {
      if (!all) {
        const st = await Deno.stat(path).catch(() => null);
        if (!(st?.mtime && Date.now() - st.mtime.getTime() > STALE_TMP_MS)) continue;
      }
      await Deno.remove(path).catch(() => {});
    }
  }

  #fits(shape: number[], data: unknown, rows: number): boolean {
    const ok = this.dtype === "f4" ? data instanceof Float32Array : data instanceof Int32Array;
    return ok && shape.length === 2 && shape[0] === rows && shape[1] === this.dim;
  }

  /** True when every row is present (by the file names; {@linkcode RowStore.read} verifies). */
  get complete(): boolean {
    return this.#covered.every((x) => x === 1);
  }

  /**
   * Whether row `i` is present.
   *
   * @param i Position.
   * @returns True if stored.
   */
  has(i: number): boolean {
    return this.#covered[i] === 1;
  }

  /**
   * Stores rows `[start, end)` atomically, with their checksum in the file name. A no-op when
   * the entry is already complete.
   *
   * @param start First position.
   * @param rows `(end − start)×dim` values.
   * @throws {RangeError} If the values are not whole rows inside the entry.
   */
  async put(start: number, rows: Float32Array | Int32Array): Promise<void> {
    const n = rows.length / this.dim;
    if (!Number.isInteger(n) || n <= 0 || start + n > this.total) {
      throw new RangeError(
        `Cannot store rows: ${rows.length} values at ${start} do not make whole rows of ` +
          `${this.dim} within ${this.total}`,
      );
    }
    if (this.complete) return;
    const bytes = encodeNpy({ data: rows, shape: [n, this.dim] });
    const sum = (await sha256Hex(bytes)).slice(0, 16);
    const file = `${this.dir}/rows_${start}_${start + n}.${sum}.npy`;
    try {
      await writeFileAtomic(file, bytes);
    } catch (e) {
      // Another process completed the entry and removed our temp file: the rows are there.
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      await this.#scan();
      if (!this.complete) throw e;
      return;
    }
    this.#files.push({ start, end: start + n, file, sum });
    this.#covered.fill(1, start, start + n);
  }

  /**
   * Rows `[start, end)` (default: all), checking the checksum of every file they come from; a
   * full read of a complete entry of at most {@linkcode MERGE_BYTES} merges its chunks into one
   * file the first time. A file that fails its checksum or cannot be decoded is deleted with a
   * warning and its rows reported missing, so the caller can recompute them; one that vanished
   * (another process merged the entry) is looked for again first.
   *
   * @param start First position. Default 0.
   * @param end End position (exclusive). Default `total`.
   * @returns `(end − start)×dim` values, or the positions in the range that turned out to be
   * missing.
   * @throws {RangeError} If the range is not inside the entry.
   */
  async read(
    start = 0,
    end: number = this.total,
  ): Promise<{ rows: Float32Array | Int32Array } | { missing: number[] }> {
    if (
      !(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end &&
        end <= this.total)
    ) {
      throw new RangeError(
        `Cannot read rows: range [${start}, ${end}) is not inside 0..${this.total}`,
      );
    }
    let r = await this.#readFiles(start, end);
    if (r.vanished) {
      await this.#scan();
      r = await this.#readFiles(start, end);
    }
    if (r.lost.size) {
      this.#files = this.#files.filter((f) => !r.lost.has(f));
      this.#covered.fill(0);
      for (const f of this.#files) this.#covered.fill(1, f.start, f.end);
    }
    const missing: number[] = [];
    for (let i = start; i < end; i++) if (!r.got[i - start]) missing.push(i);
    if (missing.length) return { missing };
    if (start === 0 && end === this.total) await this.#finish(r.out);
    return { rows: r.out };
  }

  async #readFiles(start: number, end: number) {
    const dim = this.dim;
    // One file holding exactly the range (a merged entry): its decoded rows, without a copy.
    const only = this.#files.length === 1 && this.#files[0].start === start &&
      this.#files[0].end === end;
    let out: Float32Array | Int32Array = only
      ? new Float32Array(0)
      : this.dtype === "f4"
      ? new Float32Array((end - start) * dim)
      : new Int32Array((end - start) * dim);
    const got = new Uint8Array(end - start);
    const lost = new Set<_File>();
    let vanished = false;
    for (const f of this.#files) {
      const a = Math.max(start, f.start), b = Math.min(end, f.end);
      if (a >= b) continue;
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(f.file);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) vanished = true;
        else this.#warn(`somscope: cannot read cache file ${f.file} (${e}); recomputing its rows`);
        lost.add(f);
        continue;
      }
      const checked = await this.#check(f, bytes);
      if (typeof checked === "string") {
        this.#warn(`somscope: cache file ${f.file} ${checked}; recomputing its rows`);
        await Deno.remove(f.file).catch(() => {});
        lost.add(f);
        continue;
      }
      if (only) out = checked;
      else out.set(checked.subarray((a - f.start) * dim, (b - f.start) * dim), (a - start) * dim);
      got.fill(1, a - start, b - start);
    }
    return { out, got, lost, vanished };
  }

  /** A file's rows, or why its bytes are not a valid part of the entry. */
  async #check(f: _File, bytes: Uint8Array): Promise<Float32Array | Int32Array | string> {
    const sum = (await sha256Hex(bytes)).slice(0, 16);
    if (sum !== f.sum) return `failed its checksum (SHA-256 ${sum}…, expected ${f.sum}…)`;
    try {
      const a = decodeNpy(bytes, f.file);
      if (this.#fits(a.shape, a.data, f.end - f.start)) return a.data as Float32Array | Int32Array;
      return `holds shape [${a.shape}] but expected [${
        f.end - f.start
      }, ${this.dim}] ${this.dtype}`;
    } catch (e) {
      return `is not a readable .npy file (${(e as Error).message})`;
    }
  }

  /** Merges a complete entry into one file (when small enough) and removes leftovers. */
  async #finish(rows: Float32Array | Int32Array): Promise<void> {
    const merged = this.#files.length === 1 && MERGED.test(_name(this.#files[0].file));
    if (!merged && rows.byteLength <= MERGE_BYTES) {
      const bytes = encodeNpy({ data: rows, shape: [this.total, this.dim] });
      const sum = (await sha256Hex(bytes)).slice(0, 16);
      const file = `${this.dir}/rows.${sum}.npy`;
      try {
        await writeFileAtomic(file, bytes);
      } catch (e) {
        // Another process merged the same entry at the same time and removed our temp file:
        // the merged file (same bytes, same name) is there.
        if (!(e instanceof Deno.errors.NotFound) || !(await exists(file))) throw e;
      }
      for (const f of this.#files) await Deno.remove(f.file).catch(() => {});
      this.#files = [{ start: 0, end: this.total, file, sum }];
    }
    // Leftovers: temp files, and chunks a concurrent run wrote beside the merged file.
    const keep = new Set(this.#files.map((f) => f.file));
    for await (const e of Deno.readDir(this.dir)) {
      const path = `${this.dir}/${e.name}`;
      if (e.isFile && !keep.has(path) && (e.name.endsWith(".tmp") || CHUNK.test(e.name))) {
        await Deno.remove(path).catch(() => {});
      }
    }
  }
}

function _name(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
