/**
 * `somscope report`: not built yet (see the open issues). Exits 1 with a clear message.
 *
 * @module
 */

import type { CommandSpec } from "../lib/cli_util.ts";

/** The `report` command (placeholder until its issue lands). */
export const command: CommandSpec = {
  name: "report",
  summary: "not available in this build yet",
  usage: "",
  options: {},
  run() {
    throw new Error("somscope report is not implemented in this build yet");
  },
};
