/**
 * `somscope grad`: not built yet (see the open issues). Exits 1 with a clear message.
 *
 * @module
 */

import type { CommandSpec } from "../lib/cli_util.ts";

/** The `grad` command (placeholder until its issue lands). */
export const command: CommandSpec = {
  name: "grad",
  summary: "not available in this build yet",
  usage: "",
  options: {},
  run() {
    throw new Error("somscope grad is not implemented in this build yet");
  },
};
