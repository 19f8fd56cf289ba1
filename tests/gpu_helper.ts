/**
 * Test helper: a GPU context, or a loud failure when no adapter exists. Skipping is allowed only
 * with SOMSCOPE_ALLOW_NO_GPU=1 outside CI (CI set ⇒ never skip).
 *
 * @module
 */

import { GpuContext, gpuSkipAllowed } from "../mod.ts";

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
