import { assert, assertEquals } from "./asserts.ts";

const ROOT = new URL("../", import.meta.url);

const TYPES: Record<string, string> = {
  ".ts": "application/typescript; charset=utf-8",
  ".wgsl": "text/plain; charset=utf-8",
  ".json": "application/json",
};

/** Serves the repository read-only on a loopback port, as a static web server would. */
function serveRepo(): { url: string; close: () => Promise<void>; requests: string[] } {
  const requests: string[] = [];
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname);
      requests.push(path);
      if (path.includes("..")) return new Response("bad path", { status: 400 });
      try {
        const body = await Deno.readFile(new URL(`.${path}`, ROOT));
        const ext = path.slice(path.lastIndexOf("."));
        return new Response(body, {
          headers: { "content-type": TYPES[ext] ?? "application/octet-stream" },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    close: async () => {
      ac.abort();
      await server.finished;
    },
  };
}

Deno.test("mod.ts imported over HTTP trains a SOM, reduces a feature map and loads a built-in model", async () => {
  const srv = serveRepo();
  const dir = await Deno.makeTempDir({ prefix: "somscope-http-" });
  try {
    const script = `
import { builtinModelUrl, loadModel, reduceFeatureMaps, Rng, Som } from "${srv.url}/mod.ts";
const rng = new Rng(1);
const data = Float32Array.from({ length: 40 * 6 }, () => rng.normal());
const som = new Som({ m: 3, n: 4, dim: 6, epochs: 2, batchSize: 5, seed: 0, backend: "reference" });
const losses = await som.train(data, 40);
const fm = Float32Array.from({ length: 2 * 3 * 5 * 5 }, (_, i) => (i % 7) - 3);
const codes = await reduceFeatureMaps(fm, [2, 3, 5, 5], { backend: "cpu" });
const url = builtinModelUrl("fmnist-resnet");
const model = await loadModel(url);
console.log(JSON.stringify({
  losses: losses.length, finite: Array.from(losses).every(Number.isFinite),
  codes: codes.length, url: url.href, input: model.input, sha: model.sha256.length,
}));
`;
    await Deno.writeTextFile(`${dir}/client.ts`, script);
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-lock", "--no-config", `--reload=${srv.url}`, "client.ts"],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(r.stdout);
    const err = new TextDecoder().decode(r.stderr);
    assertEquals(r.code, 0, `client failed:\n${err}`);
    const res = JSON.parse(out.trim().split("\n").pop()!);
    assertEquals(res.losses, 16, "2 epochs × 8 batches of 5");
    assert(res.finite);
    assertEquals(res.codes, 2 * 4 * 3);
    assert(res.url.startsWith(srv.url), `model URL ${res.url} is served over HTTP`);
    assertEquals(res.sha, 64);
    assert(srv.requests.includes("/mod.ts"));
    assert(srv.requests.some((p) => p.endsWith(".wgsl")), "shaders were fetched over HTTP");
    assert(srv.requests.includes("/fixtures/models/fmnist_resnet.onnx"));
  } finally {
    await srv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
