/**
 * Atomic file output: write to a temporary file beside the target, fsync, then rename, so a
 * reader (or a resumed run after SIGKILL) never sees a half-written file. A failed write names
 * the file in its message (e.g. a full disk) and keeps the error's class.
 *
 * Fault injection for the reliability tests (the one test-only switch): when the environment
 * variable `SOMSCOPE_TEST_FAIL_WRITE` holds a regular expression, the first write whose path
 * matches it in a process fails as a full disk would (`No space left on device`).
 *
 * @module
 */

let _failPattern: RegExp | null | undefined;

/** The test-only write-failure pattern (read once; absent without env permission). */
function _injectedFailure(path: string): boolean {
  if (_failPattern === undefined) {
    let v: string | undefined;
    try {
      v = Deno.env.get("SOMSCOPE_TEST_FAIL_WRITE");
    } catch { /* no env permission */ }
    _failPattern = v ? new RegExp(v) : null;
  }
  if (!_failPattern || !_failPattern.test(path)) return false;
  _failPattern = null;
  return true;
}

function _named(e: unknown, path: string): unknown {
  if (e instanceof Error && !e.message.includes(path)) {
    e.message = `Cannot write ${path}: ${e.message}`;
  }
  return e;
}

/**
 * Writes bytes or text to `path` atomically.
 *
 * @param path Destination path; its folder must exist.
 * @param data Bytes or a string (UTF-8).
 * @throws {Deno.errors.NotFound} If the folder does not exist (no temp file is left behind).
 * @throws {Error} Any other write error (e.g. a full disk), its message naming `path`.
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
      if (_injectedFailure(path)) {
        throw new Error("No space left on device (os error 28; SOMSCOPE_TEST_FAIL_WRITE)");
      }
      let off = 0;
      while (off < bytes.length) off += await f.write(bytes.subarray(off));
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw _named(e, path);
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
