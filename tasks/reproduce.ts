/**
 * `deno task reproduce`: the paper's analyses end to end. Delegates to the `reproduce` command.
 *
 * @module
 */

import { main } from "./somscope.ts";

if (import.meta.main) Deno.exit(await main(["reproduce", ...Deno.args]));
