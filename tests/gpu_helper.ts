/**
 * Test helper: a GPU context, or a loud failure when no adapter exists. Skipping is allowed only
 * with SOMSCOPE_ALLOW_NO_GPU=1 outside CI (CI set ⇒ never skip). This switch exists only for the
 * tests; the library has none.
 *
 * @module
 */

import { GpuContext } from "../mod.ts";

/**
 * Whether GPU tests may be skipped: only when `SOMSCOPE_ALLOW_NO_GPU=1` and not on CI (`CI`
 * unset). On CI a missing adapter must fail loudly.
 *
 * @returns True if skipping GPU work for lack of an adapter is allowed.
 */
export function gpuSkipAllowed(): boolean {
  let ci: string | undefined, allow: string | undefined;
  try {
    ci = Deno.env.get("CI");
    allow = Deno.env.get("SOMSCOPE_ALLOW_NO_GPU");
  } catch {
    return false;
  }
  return allow === "1" && !ci;
}

/**
 * A fresh context, or `undefined` when skipping is allowed and no adapter exists.
 *
 * @returns The context or undefined.
 */
export async function gpuContextOrSkip(): Promise<GpuContext | undefined> {
  try {
    return await GpuContext.create();
  } catch (e) {
    if (gpuSkipAllowed()) {
      console.warn(`GPU test skipped (SOMSCOPE_ALLOW_NO_GPU=1): ${(e as Error).message}`);
      return undefined;
    }
    throw e;
  }
}

/**
 * Runs `fn` with a fresh context and disposes of it afterwards; does nothing when skipping is
 * allowed and no adapter exists.
 *
 * @param fn The GPU part of a test.
 */
export async function withGpu(fn: (ctx: GpuContext) => Promise<void>): Promise<void> {
  const ctx = await gpuContextOrSkip();
  if (!ctx) return;
  try {
    await fn(ctx);
  } finally {
    ctx.dispose();
  }
}
