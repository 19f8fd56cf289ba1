/**
 * Whole-process benchmark of `somscope train` on the paper-scale SOM case of issue 14 §3:
 * 20,000 × 2,048 float32 codes, a 20×20 torus, 1 epoch, batch 10 — the case QuickSOM's `fit`
 * took 26.5 s on (measured earlier on this machine type; QuickSOM itself cannot be installed
 * here, no PyPI, so its recorded time is the reference). Each variant runs as its own process
 * (module loading, the WebGPU probe, reading the codes, training, QE/TE, writing the map), after
 * one warm-up, and the median wall and CPU seconds are printed with the ratio to QuickSOM.
 *
 * `deno run -A bench/train_process_bench.ts [--runs 5]` (the codes are generated once, seeded,
 * into `.cache/bench/train_codes_20000x2048.npy`: 10 non-negative clusters plus noise, like
 * ReLU codes).
 *
 * @module
 */

import { Rng, writeNpy } from "../mod.ts";

const QUICKSOM_FIT_SECONDS = 26.5;
const N = 20_000, D = 2048;
const runs = Number(Deno.args[Deno.args.indexOf("--runs") + 1] || 5);
const codes = `.cache/bench/train_codes_${N}x${D}.npy`;

if (!(await Deno.stat(codes).then(() => true, () => false))) {
  await Deno.mkdir(".cache/bench", { recursive: true });
  const rng = new Rng(0);
  const centres = Array.from(
    { length: 10 },
    () => Float32Array.from({ length: D }, () => Math.abs(rng.normal())),
  );
  const x = new Float32Array(N * D);
  for (let i = 0; i < N; i++) {
    const c = centres[i % 10];
    for (let j = 0; j < D; j++) x[i * D + j] = Math.max(0, c[j] + 0.5 * rng.normal());
  }
  await writeNpy(codes, { data: x, shape: [N, D] });
}

/** Wall and CPU seconds of one whole `somscope train` process (CPU from /proc of the child). */
async function once(extra: string[]): Promise<{ wall: number; cpu: number }> {
  const out = await Deno.makeTempDir();
  try {
    const args = ["run", "-A", "tasks/somscope.ts", "train", "--codes", codes, "--grid", "20x20"];
    const t0 = performance.now();
    // `sh -c 'cmd; times'` prints the children's user and system time after the command.
    const sh = `"${Deno.execPath()}" ${
      [...args, "--epochs", "1", "--out", out, "-q", ...extra]
        .map((a) => `'${a}'`).join(" ")
    } >/dev/null && times`;
    const r = await new Deno.Command("sh", { args: ["-c", sh], stdout: "piped" }).output();
    const wall = (performance.now() - t0) / 1000;
    if (!r.success) throw new Error(`somscope train ${extra.join(" ")} failed`);
    const lines = new TextDecoder().decode(r.stdout).trim().split("\n");
    const [u, s] = lines[lines.length - 1].split(/\s+/).map((t) => {
      const m = t.match(/(\d+)m([\d.]+)s/)!;
      return Number(m[1]) * 60 + Number(m[2]);
    });
    return { wall, cpu: u + s };
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(`| variant | wall s (median of ${runs}) | CPU s | QuickSOM fit / wall |`);
console.log("| --- | ---: | ---: | ---: |");
for (
  const [name, extra] of [["default (QE/TE in one pass)", []], ["--no-quality", [
    "--no-quality",
  ]]] as const
) {
  await once([...extra]); // warm-up
  const r = [];
  for (let i = 0; i < runs; i++) r.push(await once([...extra]));
  const wall = median(r.map((x) => x.wall)), cpu = median(r.map((x) => x.cpu));
  console.log(
    `| ${name} | ${wall.toFixed(2)} | ${cpu.toFixed(2)} | ${
      (QUICKSOM_FIT_SECONDS / wall).toFixed(1)
    }× |`,
  );
}
