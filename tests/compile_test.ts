import { assert, assertEquals } from "./asserts.ts";
import { explainCompileFailure, requiredFiles } from "../tasks/compile.ts";
import { inTempDir } from "./temp_dir.ts";

const TASK = new URL("../tasks/compile.ts", import.meta.url).pathname;

Deno.test("compile explains a failed denort download and points at DENORT_BIN", () => {
  const msg = explainCompileFailure(
    "error: Writing deno compile executable to temporary file\nCaused by:\n 0: Setting up base " +
      "binary.\n 1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64" +
      "-unknown-linux-gnu.zip): dns error",
  );
  assert(msg.includes("DENORT_BIN"), msg);
  assert(msg.includes("No binary was written"), msg);
});

Deno.test(
  "compile with a DENORT_BIN that does not exist fails with exit 1 and writes nothing",
  inTempDir(async (dir) => {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", TASK, "--output", `${dir}/somscope`],
      env: { DENORT_BIN: `${dir}/no-such-denort`, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(r.stderr);
    assertEquals(r.code, 1, err);
    assert(err.includes("DENORT_BIN"), err);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), []);
  }),
);

Deno.test("every file the binary embeds (fixtures, ORT wasm) exists", async () => {
  assertEquals(await requiredFiles(), []);
});

Deno.test("compile --help documents DENORT_BIN and exits 0", async () => {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", TASK, "--help"],
    stdout: "piped",
  }).output();
  assertEquals(r.code, 0);
  assert(new TextDecoder().decode(r.stdout).includes("DENORT_BIN=/path/to/denort"));
});
