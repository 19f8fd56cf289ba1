/**
 * Helpers shared by the benchmark files.
 *
 * @module
 */

/**
 * Whether a file or folder exists (benches skip with a message when an optional model is absent).
 *
 * @param p Path.
 * @returns True when `Deno.stat` succeeds.
 */
export async function exists(p: string): Promise<boolean> {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
}
