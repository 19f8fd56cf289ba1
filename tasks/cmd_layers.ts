/**
 * `somscope layers`: not built yet (see the open issues). Exits 1 with a clear message.
 *
 * @module
 */

import type { CommandSpec } from "../lib/cli_util.ts";

/** The `layers` command (placeholder until its issue lands). */
export const command: CommandSpec = {
  name: "layers",
  summary: "not available in this build yet",
  usage: "",
  options: {},
  run() {
    throw new Error("somscope layers is not implemented in this build yet");
  },
};
