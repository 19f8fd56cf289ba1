/**
 * Child process for `gpu_context_test.ts`: creates a GPU context and prints the runtime
 * directory it ran with and that directory's mode, as JSON.
 *
 * @module
 */

import { GpuContext } from "../mod.ts";

const ctx = await GpuContext.create();
const dir = Deno.env.get("XDG_RUNTIME_DIR") ?? null;
const mode = dir ? Deno.statSync(dir).mode! & 0o777 : null;
ctx.dispose();
console.log(JSON.stringify({ dir, mode }));
