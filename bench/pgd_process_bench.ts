/**
 * PGD as a whole process, side by side with torch in the same run (issue 14 §2): 8 images of
 * torchvision ResNet18 (random weights) at 224×224, ε = 4/255, 50 steps, ImageNet normalisation.
 *
 * - somscope: `deno run -A tasks/somscope.ts attack` (start-up, model validation, gradient-graph
 *   derivation, PGD, the noise controls and every output file included);
 * - torch: `bench/pgd_torch.py`, advertorch's loop in plain torch 1.13 (start-up and model build
 *   included; the loop alone is printed too), as users run it (autograd also computes the
 *   parameters' gradients) and with the parameters frozen (input gradient only, like somscope).
 *
 * The two alternate, `--rounds` times (default 3), so that both see the same load; wall and CPU
 * seconds (user + system, from bash's `times`) are printed per run, with the median ratio.
 * Needs `.cache/bench/resnet18.onnx` (made with `tools/conformance/export_torchvision.py
 * --models resnet18 --no-hooks --out .cache/bench` when absent) and Debian's python3-torch.
 *
 * `deno run -A bench/pgd_process_bench.ts [--rounds 3] [--threads 2]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { encodeNpy } from "../lib/npy.ts";
import { Rng } from "../lib/rng.ts";

const MODEL = ".cache/bench/resnet18.onnx";
const PY = Deno.env.get("SOMSCOPE_PYTHON") ?? "/usr/bin/python3";

/** Runs a command under bash, returning wall seconds, CPU seconds and its stdout. */
async function timedRun(cmd: string): Promise<{ wall: number; cpu: number; out: string }> {
  const t0 = performance.now();
  const p = await new Deno.Command("bash", {
    args: ["-c", `${cmd} >&2; times`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wall = (performance.now() - t0) / 1000;
  const out = new TextDecoder().decode(p.stdout), err = new TextDecoder().decode(p.stderr);
  if (!p.success) throw new Error(`pgd_process_bench: ${cmd} failed:\n${err}`);
  // `times`: shell user/sys, then children's user/sys, as "0m1.234s 0m0.123s".
  const lines = out.trim().split("\n");
  const secs = (s: string) => {
    const m = /(\d+)m([\d.]+)s/.exec(s)!;
    return Number(m[1]) * 60 + Number(m[2]);
  };
  const [u, s] = lines[lines.length - 1].split(/\s+/).map(secs);
  return { wall, cpu: u + s, out: err };
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rounds: { type: "string", default: "3" },
      threads: { type: "string", default: "2" },
    },
  });
  const rounds = Number(values.rounds), threads = Number(values.threads);
  if (!(await Deno.stat(MODEL).then(() => true, () => false))) {
    const p = await new Deno.Command(PY, {
      args: [
        "tools/conformance/export_torchvision.py",
        "--models",
        "resnet18",
        "--no-hooks",
        "--out",
        ".cache/bench",
      ],
    }).output();
    if (!p.success) throw new Error("pgd_process_bench: cannot export resnet18 with torch");
  }
  const dir = await Deno.makeTempDir({ prefix: "somscope_pgd_bench_" });
  const rng = new Rng(0).stream("bench");
  const x = Float32Array.from({ length: 8 * 3 * 224 * 224 }, () => rng.float());
  await Deno.writeFile(`${dir}/images.npy`, encodeNpy({ data: x, shape: [8, 3, 224, 224] }));
  const labels = Int32Array.from({ length: 8 }, (_, i) => (i * 131) % 1000);
  await Deno.writeFile(`${dir}/labels.npy`, encodeNpy({ data: labels, shape: [8] }));
  const ours = `${Deno.execPath()} run -A tasks/somscope.ts attack ${MODEL} --data npy:${dir} ` +
    `--n 8 --batch 8 --steps 50 --normalize imagenet --threads ${threads} --out ${dir}/out`;
  const theirs = `${PY} bench/pgd_torch.py --data ${dir} --steps 50 --threads ${threads}`;
  const frozen = `${theirs} --freeze`;
  const ratios: number[] = [], frozenRatios: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const load = Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
      const a = await timedRun(ours);
      const b = await timedRun(theirs);
      const f = await timedRun(frozen);
      ratios.push(b.wall / a.wall);
      frozenRatios.push(f.wall / a.wall);
      console.log(
        `round ${r + 1} (load ${load}): somscope ${a.wall.toFixed(1)} s wall / ${
          a.cpu.toFixed(1)
        } CPU-s; torch ${b.wall.toFixed(1)} s wall / ${b.cpu.toFixed(1)} CPU-s ` +
          `(${b.out.trim().split("\n").pop()}); torch/somscope ${(b.wall / a.wall).toFixed(2)}×; ` +
          `torch with frozen parameters ${f.wall.toFixed(1)} s wall / ${f.cpu.toFixed(1)} CPU-s, ` +
          `${(f.wall / a.wall).toFixed(2)}×`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const median = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];
  console.log(
    `median torch/somscope wall ratio: ${median(ratios).toFixed(2)}× ` +
      `(frozen torch parameters: ${median(frozenRatios).toFixed(2)}×)`,
  );
}

if (import.meta.main) await main();
