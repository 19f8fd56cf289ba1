/**
 * Whole-process benchmark of `somscope train` on the paper-scale SOM case of issue 14 §3:
 * 20,000 × 2,048 float32 codes, a 20×20 torus, 1 epoch, batch 10 — the case QuickSOM's `fit`
 * took 26.5 s on (recorded earlier on this machine type). With `--quicksom DIR` (a folder holding
 * QuickSOM's `som.py`, e.g. a checkout of bougui505/quicksom; it is not on PyPI's mirror here and
 * is not vendored) QuickSOM's fit runs in the same rounds through `bench/quicksom_fit.py`
 * (Debian's torch) and its median is the reference. Each variant runs as its own process
 * (module loading, the WebGPU probe, reading the codes, training, QE/TE, writing the map), after
 * one warm-up, and the median wall and CPU seconds are printed with the ratio to QuickSOM.
 *
 * `deno run -A bench/train_process_bench.ts [--runs 5] [--quicksom DIR]` (the codes are generated once, seeded,
 * into `.cache/bench/train_codes_20000x2048.npy`: 10 non-negative clusters plus noise, like
 * ReLU codes).
 *
 * @module
 */

import { Rng, writeNpy } from "../mod.ts";

/** QuickSOM's fit recorded earlier on this machine type, used when `--quicksom` is not given. */
const QUICKSOM_RECORDED_SECONDS = 26.5;
const N = 20_000, D = 2048;
const arg = (name: string) => {
  const i = Deno.args.indexOf(name);
  return i < 0 ? undefined : Deno.args[i + 1];
};
const runs = Number(arg("--runs") || 5);
/** A folder holding QuickSOM's `som.py`: then its fit runs side by side, alternating. */
const quicksomDir = arg("--quicksom");
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

/** QuickSOM's fit seconds and whole-process seconds (bench/quicksom_fit.py, 2 torch threads). */
async function quicksom(dir: string): Promise<{ fit: number; wall: number }> {
  const t0 = performance.now();
  const r = await new Deno.Command("/usr/bin/python3", {
    args: ["bench/quicksom_fit.py", dir, codes, String(navigator.hardwareConcurrency)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wall = (performance.now() - t0) / 1000;
  const out = new TextDecoder().decode(r.stdout);
  const m = out.match(/quicksom fit_s ([\d.]+)/);
  if (!r.success || !m) {
    throw new Error(`QuickSOM's fit failed:\n${new TextDecoder().decode(r.stderr)}`);
  }
  return { fit: Number(m[1]), wall };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const variants = [["default (QE/TE in one pass)", []], ["--no-quality", ["--no-quality"]]] as const;
const times = variants.map(() => [] as { wall: number; cpu: number }[]);
const qs: { fit: number; wall: number }[] = [];
for (const [, extra] of variants) await once([...extra]); // warm-up
// Alternating rounds: one run of each variant (and of QuickSOM), so that load changes hit all.
for (let i = 0; i < runs; i++) {
  for (let v = 0; v < variants.length; v++) times[v].push(await once([...variants[v][1]]));
  if (quicksomDir) qs.push(await quicksom(quicksomDir));
}
const reference = quicksomDir ? median(qs.map((q) => q.fit)) : QUICKSOM_RECORDED_SECONDS;
console.log(
  quicksomDir
    ? `QuickSOM fit (same run, median of ${runs}): ${reference.toFixed(2)} s ` +
      `(min ${Math.min(...qs.map((q) => q.fit)).toFixed(2)}, max ` +
      `${Math.max(...qs.map((q) => q.fit)).toFixed(2)}); its whole process ` +
      `${median(qs.map((q) => q.wall)).toFixed(2)} s`
    : `QuickSOM fit: ${reference} s (recorded earlier; pass --quicksom DIR to run it here)`,
);
console.log(`| variant | wall s, median of ${runs} (min–max) | CPU s | QuickSOM fit / wall |`);
console.log("| --- | ---: | ---: | ---: |");
variants.forEach(([name], v) => {
  const w = times[v].map((x) => x.wall);
  const wall = median(w), cpu = median(times[v].map((x) => x.cpu));
  console.log(
    `| ${name} | ${wall.toFixed(2)} (${Math.min(...w).toFixed(2)}–${
      Math.max(...w).toFixed(2)
    }) | ` +
      `${cpu.toFixed(2)} | ${(reference / wall).toFixed(1)}× |`,
  );
});
