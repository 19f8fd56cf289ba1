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
