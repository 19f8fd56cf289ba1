/**
 * Atomic file output: write to a temporary file beside the target, fsync, then rename, so a
 * reader (or a resumed run after SIGKILL) never sees a half-written file.
 *
 * @module
 */

/**
 * Writes bytes or text to `path` atomically.
 *
 * @param path Destination path; its folder must exist.
 * @param data Bytes or a string (UTF-8).
 * @throws {Deno.errors.NotFound} If the folder does not exist (no temp file is left behind).
 * @example
 * ```ts
 * import { writeFileAtomic } from "../mod.ts";
 * import { strictEqual } from "node:assert";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.txt`, "hello");
 * strictEqual(await Deno.readTextFile(`${dir}/a.txt`), "hello");
 * strictEqual([...Deno.readDirSync(dir)].length, 1); // no temp file left
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const tmp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      let off = 0;
      while (off < bytes.length) off += await f.write(bytes.subarray(off));
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Writes a JSON value atomically, pretty-printed.
 *
 * @param path Destination path.
 * @param value Any JSON-serialisable value.
 * @throws {TypeError} If `value` cannot be serialised (e.g. a BigInt).
 * @example
 * ```ts
 * import { writeJsonAtomic } from "../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * await writeJsonAtomic(path, { seed: 0 });
 * assertEquals(JSON.parse(await Deno.readTextFile(path)), { seed: 0 });
 * await Deno.remove(path);
 * ```
 */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}
