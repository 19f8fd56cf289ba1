/**
 * A content-addressed, crash-safe store for per-example rows (vector codes, predictions).
 *
 * An entry is a folder named by a key (a SHA-256 of everything that determines its contents).
 * While a run fills it, every batch lands as its own chunk file `rows_<start>_<end>.npy`
 * (positions `[start, end)` of the run's index list), written atomically: temp file, fsync,
 * rename. A run killed at any point leaves only whole chunks (and perhaps a stray `*.tmp`, which
 * is ignored, and removed once it is a minute old), so a resumed run computes just the missing
 * positions. Two runs may share an entry: chunks of the same rows are identical. When every
 * position is covered the chunks are merged into `rows.npy` (atomically) and deleted; an entry
 * with `rows.npy` is complete and is read without any model work.
 *
 * @module
 */

import { decodeNpy, encodeNpy } from "../npy.ts";
import { writeFileAtomic } from "../fs_atomic.ts";

const CHUNK = /^rows_(\d+)_(\d+)\.npy$/;

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
  #chunks: { start: number; end: number; file: string }[] = [];
  #complete: Float32Array | Int32Array | null = null;

  private constructor(
    dir: string,
    readonly total: number,
    readonly dim: number,
    readonly dtype: "f4" | "i4",
  ) {
    this.dir = dir;
    this.#covered = new Uint8Array(total);
  }

  /**
   * Opens (creating if needed) an entry and scans what it holds.
   *
   * @param dir Entry folder.
   * @param total Number of rows.
   * @param dim Values per row.
   * @param dtype `"f4"` (float32) or `"i4"` (int32).
   * @returns The store.
   * @throws {Deno.errors.PermissionDenied} If the folder cannot be created.
   */
  static async open(
    dir: string,
    total: number,
    dim: number,
    dtype: "f4" | "i4" = "f4",
  ): Promise<RowStore> {
    await Deno.mkdir(dir, { recursive: true });
    const s = new RowStore(dir, total, dim, dtype);
    await s.#scan();
    return s;
  }

  async #scan(): Promise<void> {
    try {
      const a = decodeNpy(await Deno.readFile(`${this.dir}/rows.npy`));
      if (this.#fits(a.shape, a.data, this.total)) {
        this.#complete = a.data as Float32Array | Int32Array;
        this.#covered.fill(1);
        return;
      }
    } catch { /* absent or unreadable: rebuild from chunks */ }
    for await (const e of Deno.readDir(this.dir)) {
      if (!e.isFile) continue;
      if (e.name.endsWith(".tmp")) {
        // Never renamed, so never part of the entry. One older than a minute was left by a killed
        // writer; a younger one may belong to a run sharing this entry, and stays.
        const path = `${this.dir}/${e.name}`;
        const st = await Deno.stat(path).catch(() => null);
        if (st?.mtime && Date.now() - st.mtime.getTime() > 60_000) {
          await Deno.remove(path).catch(() => {});
        }
        continue;
      }
      const m = CHUNK.exec(e.name);
      if (!m) continue;
      const start = Number(m[1]), end = Number(m[2]);
      if (!(start < end && end <= this.total)) continue;
      this.#chunks.push({ start, end, file: `${this.dir}/${e.name}` });
      this.#covered.fill(1, start, end);
    }
  }

  #fits(shape: number[], data: unknown, rows: number): boolean {
    const ok = this.dtype === "f4" ? data instanceof Float32Array : data instanceof Int32Array;
    return ok && shape.length === 2 && shape[0] === rows && shape[1] === this.dim;
  }

  /** True when every row is present. */
  get complete(): boolean {
    return this.#complete !== null || this.#covered.every((x) => x === 1);
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
   * Stores rows `[start, end)` atomically.
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
    const file = `${this.dir}/rows_${start}_${start + n}.npy`;
    await writeFileAtomic(file, encodeNpy({ data: rows, shape: [n, this.dim] }));
    this.#chunks.push({ start, end: start + n, file });
    this.#covered.fill(1, start, start + n);
  }

  /**
   * All rows, merging chunks into `rows.npy` the first time (then deleting them). A chunk that
   * cannot be read is deleted and reported, so the caller can recompute its rows.
   *
   * @returns `total×dim` values, or the positions that turned out to be missing.
   */
  async read(): Promise<{ rows: Float32Array | Int32Array } | { missing: number[] }> {
    if (this.#complete) return { rows: this.#complete };
    const out = this.dtype === "f4"
      ? new Float32Array(this.total * this.dim)
      : new Int32Array(this.total * this.dim);
    const got = new Uint8Array(this.total);
    for (const c of this.#chunks) {
      try {
        const a = decodeNpy(await Deno.readFile(c.file), c.file);
        if (!this.#fits(a.shape, a.data, c.end - c.start)) throw new Error("wrong shape");
        out.set(a.data as Float32Array | Int32Array, c.start * this.dim);
        got.fill(1, c.start, c.end);
      } catch {
        await Deno.remove(c.file).catch(() => {});
      }
    }
    const missing: number[] = [];
    for (let i = 0; i < this.total; i++) if (!got[i]) missing.push(i);
    if (missing.length) {
      this.#covered = got;
      this.#chunks = this.#chunks.filter((c) => got[c.start]);
      return { missing };
    }
    await writeFileAtomic(
      `${this.dir}/rows.npy`,
      encodeNpy({ data: out, shape: [this.total, this.dim] }),
    );
    for (const c of this.#chunks) await Deno.remove(c.file).catch(() => {});
    this.#chunks = [];
    this.#complete = out;
    return { rows: out };
  }
}
