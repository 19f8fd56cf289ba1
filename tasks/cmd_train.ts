/**
 * `somscope train`: not built yet (see the open issues). Exits 1 with a clear message.
 *
 * @module
 */

import type { CommandSpec } from "../lib/cli_util.ts";

/** The `train` command (placeholder until its issue lands). */
export const command: CommandSpec = {
  name: "train",
  summary: "not available in this build yet",
  usage: "",
  options: {},
  run() {
    throw new Error("somscope train is not implemented in this build yet");
  },
};
