import { assert, assertEquals } from "./asserts.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const DENO_DIR = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;
const PATH = Deno.env.get("PATH") ?? "";

// Imported as a library, somscope writes nothing to stderr and nothing in the working directory:
// progress only when asked, the codes cache in the platform cache directory.
const SCRIPT = `
import { extractCodes, loadModel } from "${ROOT}mod.ts";
const model = await loadModel(await Deno.readFile("${ROOT}tests/data/models/toy_cnn.onnx"));
const pixels = new Float32Array(4 * 28 * 28).fill(0.5);
const data = {
  size: 4, channels: 1, height: 28, width: 28, labels: Int32Array.of(0, 1, 2, 3),
  load: (ids) => Promise.resolve(pixels.slice(0, ids.length * 28 * 28)),
  identity: () => Promise.resolve("quiet-test"),
};
const r = await extractCodes(model, data, [0, 1, 2, 3], { runtime: "node", threads: 1 });
const loud = Deno.args[0] === "loud";
if (loud) await extractCodes(model, data, [0, 1, 2, 3], { runtime: "node", threads: 1, cacheDir: Deno.cwd() + "/c2", progress: { context: "toy SOM-tr" } });
console.log(r.layers.length);
`;

async function run(mode: string, home: string, cwd: string) {
  await Deno.writeTextFile(`${cwd}/script.js`, SCRIPT);
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", `${ROOT}deno.json`, `${cwd}/script.js`, mode],
    cwd,
    // A fresh HOME (so the default cache is under it), but Deno's own module cache as before.
    env: { HOME: home, NO_COLOR: "1", XDG_RUNTIME_DIR: home, DENO_DIR: DENO_DIR, PATH: PATH },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
}

Deno.test("as a library somscope is silent and caches in ~/.cache/somscope, not the working folder", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "somscope_quiet_" });
  try {
    const home = `${tmp}/home`, cwd = `${tmp}/work`;
    await Deno.mkdir(home);
    await Deno.mkdir(cwd);
    const r = await run("quiet", home, cwd);
    assertEquals(r.code, 0, r.err);
    assertEquals(r.err, "", "nothing on stderr");
    const entries = [...Deno.readDirSync(cwd)].map((e) => e.name);
    assertEquals(entries, ["script.js"], "nothing written in the working folder");
    assert((await Deno.stat(`${home}/.cache/somscope/codes`)).isDirectory);
    const loud = await run("loud", home, cwd);
    assertEquals(loud.code, 0, loud.err);
    assert(/^codes toy SOM-tr layers .+: 4 img in /m.test(loud.err), loud.err);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
