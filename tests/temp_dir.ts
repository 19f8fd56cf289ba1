/**
 * Test helpers: a test body that runs in a fresh temporary folder, removed afterwards; removing
 * folders.
 *
 * @module
 */

/**
 * Wraps `fn` into a test function that makes a temporary folder, passes it to `fn` and removes
 * it (recursively) whether `fn` passes or throws.
 *
 * @param fn The test body, given the folder's path.
 * @param options Passed to `Deno.makeTempDir` (e.g. a prefix).
 * @returns The test function for `Deno.test`.
 */
export function inTempDir(
  fn: (dir: string) => Promise<void>,
  options?: Deno.MakeTempOptions,
): () => Promise<void> {
  return async () => {
    const dir = await Deno.makeTempDir(options);
    try {
      await fn(dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  };
}

/**
 * Removes folders (recursively), one after another.
 *
 * @param dirs The folders.
 */
export async function removeDirs(...dirs: string[]): Promise<void> {
  for (const d of dirs) await Deno.remove(d, { recursive: true });
}
