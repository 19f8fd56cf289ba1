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
 */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}
