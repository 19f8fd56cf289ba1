import { runCli } from "./cli_helper.ts";
import { assert, assertEquals } from "./asserts.ts";

const COMMANDS = ["layers", "codes", "train", "bmus", "grad", "attack", "report", "reproduce"];

const cli = (...args: string[]) => runCli(args);

Deno.test("somscope --help lists every command and the exit codes", async () => {
  const r = await cli("--help");
  assertEquals(r.code, 0);
  for (const c of COMMANDS) assert(r.stdout.includes(`  ${c} `), `help lists ${c}`);
  assert(r.stdout.includes("Exit codes: 0 ok, 1 failure, 2 usage error"));
});

Deno.test("somscope <command> --help documents options with defaults and exits 0", async () => {
  for (const c of COMMANDS) {
    const r = await cli(c, "--help");
    assertEquals(r.code, 0, `${c} --help exit code; stderr: ${r.stderr}`);
    assert(r.stdout.includes(`somscope ${c}`), `${c} --help names the command`);
    assert(r.stdout.includes("Options:"), `${c} --help lists options`);
    assert(r.stdout.includes("Exit codes"), `${c} --help documents exit codes`);
  }
});

Deno.test("somscope exits 2 with a message on stderr for an unknown command or option", async () => {
  const r = await cli("frobnicate");
  assertEquals(r.code, 2);
  assert(r.stderr.includes('unknown command "frobnicate"'));
  assert(r.stderr.includes("layers, codes, train"));
  const none = await cli();
  assertEquals(none.code, 2);
  const bad = await cli("train", "--no-such-option");
  assertEquals(bad.code, 2);
  assert(bad.stderr.includes("no-such-option"), bad.stderr);
});

Deno.test("every folder-writing command refuses a file given as --out before any work", async () => {
  const file = await Deno.makeTempFile();
  try {
    // A model that does not exist: the refusal must come first, before any model or data work.
    const model = "no/such/model.onnx";
    for (
      const args of [
        ["codes", model, "--data", "builtin:fashion-mnist", "--out", file],
        ["attack", model, "--data", "builtin:fashion-mnist", "--out", file],
        ["train", "--codes", "no/such/codes.npy", "--out", file],
        ["reproduce", "--model", model, "--data", "builtin:fashion-mnist", "--out", file],
      ]
    ) {
      const r = await cli(...args);
      assertEquals(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert(r.stderr.includes("is a file but a folder is expected"), `${args[0]}: ${r.stderr}`);
    }
    assertEquals(await Deno.readTextFile(file), "");
  } finally {
    await Deno.remove(file);
  }
});
