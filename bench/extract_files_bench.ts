/**
 * Extraction from real image files, side by side with a torch/torchvision loop in the same run
 * (issue 14 point 1). For each of a JPEG and a PNG folder of ImageNet-shaped images (~500×375,
 * resize 256, centre crop 224), alternating, `--reps` times:
 *
 * - somscope as a whole process: `somscope codes resnet18.onnx --data folder:DIR --batch B`
 *   with a fresh cache (decode, forward with the four CL taps, vector codes, predictions, cache
 *   writes, tables); in-process rate = images / the manifest's `forward` seconds (decode,
 *   forward, reduction, cache writes), whole-process rate = images / wall seconds from spawn
 *   to exit.
 * - `bench/torch_extract.py` (torchvision ImageFolder + PIL decode + Resize/CenterCrop/ToTensor,
 *   ResNet18 forward, no taps) at 1 and at 2 torch threads; in-process = images / loop seconds,
 *   whole process = images / wall seconds.
 *
 * CPU seconds of every process come from `/usr/bin/time`. Prints a Markdown table (median and
 * best over the repetitions, ratios against torch's better thread setting) for
 * `bench/RESULTS.md`, and writes the raw runs to `.cache/bench/extract_files.json`.
 *
 * Needs `/usr/bin/python3` with torch and torchvision (Debian python3-torch/torchvision). Makes
 * what is missing: `.cache/bench/resnet18.onnx` (tools/conformance/export_torchvision.py, random
 * weights) and the image folders (bench/make_images.py).
 *
 * Usage: deno run -A bench/extract_files_bench.ts [--reps 3] [--batch 8] [--per-class 48]
 *
 * @module
 */

import { parseArgs } from "node:util";

const PY = "/usr/bin/python3";
const ROOT = ".cache/bench";
const MODEL = `${ROOT}/resnet18.onnx`;

interface Run {
  tool: string;
  format: string;
  images: number;
  inProcess: number;
  wholeProcess: number;
  cpuMsPerImage: number;
}

async function _exists(p: string): Promise<boolean> {
  return await Deno.stat(p).then(() => true, () => false);
}

/** Runs a command under /usr/bin/time; returns stdout, wall seconds and CPU seconds. */
async function _timed(cmd: string[], env: Record<string, string> = {}) {
  const t0 = performance.now();
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "TIME %U %S", ...cmd],
    stdout: "piped",
    stderr: "piped",
    env,
  }).output();
  const wall = (performance.now() - t0) / 1000;
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd.join(" ")} failed:\n${stderr.slice(-2000)}`);
  const m = /TIME ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  return { stdout: new TextDecoder().decode(out.stdout), wall, cpu: Number(m![1]) + Number(m![2]) };
}

async function _prepare(perClass: number): Promise<void> {
  if (!await _exists(MODEL)) {
    await _timed([
      PY,
      "tools/conformance/export_torchvision.py",
      "--models",
      "resnet18",
      "--no-hooks",
      "--out",
      ROOT,
    ]);
  }
  for (const format of ["jpeg", "png"]) {
    const dir = `${ROOT}/img_${format}`;
    if (await _exists(`${dir}/class_index.json`)) continue;
    await _timed([
      PY,
      "bench/make_images.py",
      "--out",
      dir,
      "--format",
      format,
      "--per-class",
      String(perClass),
    ]);
  }
}

async function _somscope(format: string, batch: number): Promise<Run> {
  const tmp = await Deno.makeTempDir({ prefix: "somscope_bench_" });
  try {
    const r = await _timed([
      Deno.execPath(),
      "run",
      "-A",
      "tasks/somscope.ts",
      "codes",
      MODEL,
      "--data",
      `folder:${ROOT}/img_${format}`,
      "--class-index",
      `${ROOT}/img_${format}/class_index.json`,
      "--split",
      "train",
      "--batch",
      String(batch),
      "--out",
      `${tmp}/out`,
      "--cache",
      `${tmp}/cache`,
      "--quiet",
    ]);
    const m = JSON.parse(await Deno.readTextFile(`${tmp}/out/manifest.json`));
    const n = m.sample.n as number;
    return {
      tool: "somscope",
      format,
      images: n,
      inProcess: n / m.timings.forward,
      wholeProcess: n / r.wall,
      cpuMsPerImage: (1000 * r.cpu) / n,
    };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

async function _torch(format: string, batch: number, threads: number): Promise<Run> {
  const r = await _timed([
    PY,
    "bench/torch_extract.py",
    "--data",
    `${ROOT}/img_${format}/train`,
    "--batch",
    String(batch),
    "--threads",
    String(threads),
  ]);
  const j = JSON.parse(r.stdout.trim().split("\n").pop()!);
  return {
    tool: `torch ${threads}t`,
    format,
    images: j.images,
    inProcess: j.images_per_s,
    wholeProcess: j.images / r.wall,
    cpuMsPerImage: (1000 * r.cpu) / j.images,
  };
}

function _median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function _table(runs: Run[]): string {
  const lines = [
    "| format | tool | in-process img/s (median / best) | whole process img/s (median / best) | CPU-ms/img (median) |",
    "| --- | --- | ---: | ---: | ---: |",
  ];
  const ratios: string[] = [];
  for (const format of ["jpeg", "png"]) {
    const stats = new Map<string, { inMed: number; wholeMed: number }>();
    for (const tool of ["somscope", "torch 1t", "torch 2t"]) {
      const rs = runs.filter((r) => r.format === format && r.tool === tool);
      if (!rs.length) continue;
      const inP = rs.map((r) => r.inProcess), whole = rs.map((r) => r.wholeProcess);
      stats.set(tool, { inMed: _median(inP), wholeMed: _median(whole) });
      lines.push(
        `| ${format} | ${tool} | ${_median(inP).toFixed(1)} / ${Math.max(...inP).toFixed(1)} | ` +
          `${_median(whole).toFixed(1)} / ${Math.max(...whole).toFixed(1)} | ` +
          `${_median(rs.map((r) => r.cpuMsPerImage)).toFixed(1)} |`,
      );
    }
    const s = stats.get("somscope"), t1 = stats.get("torch 1t"), t2 = stats.get("torch 2t");
    if (s && t1 && t2) {
      const bestIn = Math.max(t1.inMed, t2.inMed), bestWhole = Math.max(t1.wholeMed, t2.wholeMed);
      ratios.push(
        `${format}: somscope / torch (better thread setting, medians): in-process ` +
          `${(s.inMed / bestIn).toFixed(2)}×, whole process ${
            (s.wholeMed / bestWhole).toFixed(2)
          }×`,
      );
    }
  }
  return [...lines, "", ...ratios].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      reps: { type: "string", default: "3" },
      batch: { type: "string", default: "8" },
      "per-class": { type: "string", default: "48" },
    },
  });
  const reps = Number(values.reps), batch = Number(values.batch);
  await _prepare(Number(values["per-class"]));
  const load0 = await Deno.readTextFile("/proc/loadavg").catch(() => "?");
  const runs: Run[] = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const format of ["jpeg", "png"]) {
      // Alternate the order so that drifting machine load hits every tool alike.
      const jobs = [
        () => _somscope(format, batch),
        () => _torch(format, batch, 1),
        () => _torch(format, batch, 2),
      ];
      if (rep % 2) jobs.reverse();
      for (const job of jobs) {
        const r = await job();
        runs.push(r);
        console.error(
          `${r.format} ${r.tool}: ${r.inProcess.toFixed(1)} img/s in-process, ` +
            `${r.wholeProcess.toFixed(1)} whole, ${r.cpuMsPerImage.toFixed(1)} CPU-ms/img`,
        );
      }
    }
  }
  const load1 = await Deno.readTextFile("/proc/loadavg").catch(() => "?");
  await Deno.writeTextFile(
    `${ROOT}/extract_files.json`,
    JSON.stringify({ load0, load1, runs }, null, 2),
  );
  console.log(
    `${new Date().toISOString()}, ${navigator.hardwareConcurrency} CPUs, batch ${batch}, ` +
      `${reps} repetitions; load average before: ${load0.trim()}, after: ${load1.trim()}\n`,
  );
  console.log(_table(runs));
}
