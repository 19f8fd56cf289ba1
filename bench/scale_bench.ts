/**
 * The whole pipeline at ImageNet shape (issue 14 point 4): `deno task bench:scale`.
 *
 * 1. For N = 5 and N = 50 images per class: an ImageNet-shaped synthetic workload (1000 class
 *    folders × N PNGs per split, 32×32, and a small CNN with 1000 logits whose CL1..CL4 codes
 *    have ResNet18's 256/512/1024/2048 dimensions; `bench/make_scale_workload.py`, no
 *    downloads), then `somscope reproduce --model … --data folder:… --per-class N` end to end
 *    with the default settings (SOM sizes 10–40, 3 seeds, 5 epochs, PGD 500 × 50) and a fresh
 *    codes cache. Prints per-stage seconds (the manifest's timings) and the peak RSS of each
 *    stage (VmRSS sampled every 100 ms, stages told apart by the progress lines) and of the
 *    whole process (VmHWM).
 * 2. A projection of the paper's full experiment (5 models at 224, 50 + 50 images per class of
 *    1000, 4 SOM sizes with 3 seeds at the main size, PGD on 500 images × 50 steps) on this
 *    machine, from measured per-unit costs: images/s of each model's extraction (forward, taps,
 *    codes; torchvision exports with random weights) plus the decode CPU time per JPEG, SOM
 *    training and top-k seconds per sample·unit·dimension, PGD seconds per image·step of each
 *    model, and the N = 50 run's analyses and report seconds per layer.
 *
 * Usage: deno run -A bench/scale_bench.ts [--n 5,50] [--no-projection] [--no-runs]
 *          [--models resnet18,resnet50,densenet121,vgg19,vit_b_16]
 * Needs /usr/bin/python3 with torch and torchvision. Writes `.cache/bench/scale.json`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  codeDimension,
  derivePgdStepGraph,
  extractCodes,
  listLayers,
  loadModel,
  openDataset,
  openGraphSession,
  Som,
} from "../mod.ts";
import { exists } from "../lib/fs_atomic.ts";
import { memoryImages } from "../tasks/memory_images.ts";

const PY = "/usr/bin/python3";
const ROOT = ".cache/bench";
const PAPER = { perClass: 50, classes: 1000, sizes: [10, 20, 30, 40], grid: 20, seeds: 3 };
const PAPER_PGD = { images: 500, steps: 50 };
const EPOCHS = 5;

async function _run(cmd: string[], what: string): Promise<string> {
  const o = await new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
    .output();
  if (!o.success) throw new Error(`${what} failed:\n${new TextDecoder().decode(o.stderr)}`);
  return new TextDecoder().decode(o.stdout);
}

/** The workload of N images per class (made once). */
async function _workload(n: number): Promise<string> {
  const dir = `${ROOT}/scale_${n}`;
  if (!await exists(`${dir}/model.onnx`) || !await exists(`${dir}/val/c0999`)) {
    console.error(`scale_bench: writing ${dir} (1000 classes × ${n} × 2 splits)`);
    await _run([PY, "bench/make_scale_workload.py", "--out", dir, "--per-class", String(n)], dir);
  }
  return dir;
}

function _status(pid: number): { rss: number; hwm: number } | null {
  try {
    const s = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
    return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
  } catch {
    return null;
  }
}

interface RunStats {
  n: number;
  wall: number;
  timings: Record<string, number>;
  peakMB: Record<string, number>;
  peakTotalMB: number;
}

/** `reproduce` on the workload as a child process, sampling its memory. */
async function _reproduce(dir: string, n: number): Promise<RunStats> {
  const tmp = await Deno.makeTempDir({ prefix: "somscope_scale_" });
  const out = `${tmp}/run`;
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "tasks/somscope.ts",
      "reproduce",
      "--model",
      `${dir}/model.onnx`,
      "--data",
      `folder:${dir}`,
      "--per-class",
      String(n),
      "--out",
      out,
      "--name",
      `scale_${n}`,
    ],
    env: { SOMSCOPE_CACHE: `${tmp}/cache`, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let phase = "codes";
  const peakMB: Record<string, number> = {};
  let hwm = 0;
  const timer = setInterval(() => {
    const s = _status(child.pid);
    if (!s) return;
    peakMB[phase] = Math.max(peakMB[phase] ?? 0, s.rss);
    hwm = Math.max(hwm, s.hwm);
  }, 100);
  const phases = (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of child.stderr) {
      buf += dec.decode(chunk, { stream: true });
      const lines = buf.split(/[\r\n]/);
      buf = lines.pop()!;
      for (const l of lines) {
        if (/^\[\d+\/\d+\]/.test(l)) phase = "codes";
        else if (/^SOMs |: SOMs:/.test(l)) phase = "soms";
        else if (/^PGD |: PGD:/.test(l)) phase = / in [\d.]+ s/.test(l) ? "analyses" : "attack";
        else if (l.startsWith("report:")) phase = "report";
      }
    }
  })();
  const [status] = await Promise.all([child.status, phases, child.stdout.cancel()]);
  clearInterval(timer);
  const wall = (performance.now() - t0) / 1000;
  if (!status.success) throw new Error(`reproduce on ${dir} failed (exit ${status.code})`);
  const m = JSON.parse(await Deno.readTextFile(`${out}/manifest.json`));
  await Deno.remove(tmp, { recursive: true });
  return { n, wall, timings: m.timings, peakMB, peakTotalMB: hwm };
}

function _runTable(runs: RunStats[]): string {
  const stage = (t: Record<string, number>, s: string) =>
    Object.entries(t).filter(([k]) => k === s || k.endsWith(`/${s}`)).reduce(
      (a, [, v]) => a + v,
      0,
    );
  const rows: [string, string[], string][] = [
    ["codes (load, data, extraction)", ["load", "data", "codes"], "codes"],
    ["SOMs + top-k BMUs", ["soms"], "soms"],
    ["attack (PGD + noise)", ["attack"], "attack"],
    ["attack BMUs, analyses, claims", ["attack-bmus", "analyses", "claims"], "analyses"],
    ["report", ["report"], "report"],
  ];
  const head = `| stage | ${runs.map((r) => `N = ${r.n}: s | peak RSS MB`).join(" | ")} |`;
  const lines = [head, `| --- |${runs.map(() => " ---: | ---: |").join("")}`];
  for (const [name, keys, phase] of rows) {
    lines.push(
      `| ${name} | ${
        runs.map((r) =>
          `${keys.reduce((a, k) => a + stage(r.timings, k), 0).toFixed(1)} | ` +
          `${(r.peakMB[phase] ?? 0).toFixed(0)}`
        ).join(" | ")
      } |`,
    );
  }
  lines.push(
    `| **whole process** | ${
      runs.map((r) => `**${r.wall.toFixed(1)}** | **${r.peakTotalMB.toFixed(0)}**`).join(" | ")
    } |`,
  );
  lines.push(
    "",
    `Of which analyses ${
      runs.map((r) => stage(r.timings, "analyses").toFixed(1)).join(" / ")
    } s, ` +
      `claims ${runs.map((r) => stage(r.timings, "claims").toFixed(1)).join(" / ")} s, ` +
      `report ${runs.map((r) => stage(r.timings, "report").toFixed(1)).join(" / ")} s ` +
      `(N = ${runs.map((r) => r.n).join(" / ")}).`,
  );
  return lines.join("\n");
}

function _random(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13, s ^= s >>> 17, s ^= s << 5;
    x[i] = (s >>> 0) / 4294967296;
  }
  return x;
}

interface ModelCost {
  model: string;
  dims: number[];
  imagesPerSecond: number;
  pgdSecondsPerImageStep: number | null;
}

/** Extraction rate (taps + codes, in-memory random images) and PGD cost of one model at 224. */
async function _modelCost(name: string): Promise<ModelCost> {
  const path = `${ROOT}/${name}.onnx`;
  if (!await exists(path)) {
    console.error(`scale_bench: exporting ${name} (torchvision layout, random weights)`);
    await _run(
      [
        PY,
        "tools/conformance/export_torchvision.py",
        "--models",
        name,
        "--no-hooks",
        "--out",
        ROOT,
      ],
      `export ${name}`,
    );
  }
  const model = await loadModel(path);
  const list = await listLayers(model);
  const dims = list.auto.map((l) => codeDimension(l.shape));
  const n = name === "vgg19" || name === "vit_b_16" ? 16 : 32;
  const per = 3 * 224 * 224;
  const px = _random(n * per, 7);
  const data = memoryImages(px, () => `scale-bench-random-${name}-${performance.now()}`);
  const cacheDir = await Deno.makeTempDir({ prefix: "somscope_scale_cost_" });
  let imagesPerSecond: number;
  try {
    const ix = Array.from({ length: n }, (_, i) => i);
    await extractCodes(model, { ...data, size: 8, labels: new Int32Array(8) }, ix.slice(0, 8), {
      batchSize: 8,
      cacheDir,
      progress: false,
      runtime: "node",
    }); // warm-up: session, layer list
    const r = await extractCodes(model, data, ix, {
      batchSize: 8,
      cacheDir,
      progress: false,
      runtime: "node",
    });
    imagesPerSecond = n / r.timings.forward;
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
  let pgd: number | null = null;
  try {
    const B = 2, steps = 2, dims4 = [B, 3, 224, 224];
    const s = await openGraphSession(
      derivePgdStepGraph(model.bytes, { batch: B, normalize: "imagenet" }),
      {},
    );
    const x = _random(B * per, 3);
    const feeds = {
      x_adv: { data: x, dims: dims4 },
      x0: { data: x, dims: dims4 },
      labels: { data: BigInt64Array.of(1n, 2n), dims: [B] },
      eps: { data: Float32Array.of(4 / 255), dims: [] },
      step: { data: Float32Array.of(0.0008), dims: [] },
    };
    await s.run(feeds, ["x_next"]); // warm-up
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await s.run(feeds, ["x_next"]);
    pgd = (performance.now() - t0) / 1000 / (B * steps);
    await s.release();
  } catch (e) {
    console.error(`scale_bench: PGD step of ${name} not measured: ${(e as Error).message}`);
  }
  return { model: name, dims, imagesPerSecond, pgdSecondsPerImageStep: pgd };
}

/** SOM training and top-k seconds per sample·unit·dimension (the CPU or WebGPU backend of auto). */
async function _somCost(): Promise<{ train: number; topk: number; backend: string }> {
  const rows: { train: number; topk: number }[] = [];
  let backend = "";
  for (const [side, dim] of [[10, 2048], [40, 256], [20, 1024]]) {
    const n = 4000;
    const x = _random(n * dim, side * dim);
    const som = new Som({ m: side, n: side, dim, epochs: 1, batchSize: 10, seed: 1 });
    try {
      let t0 = performance.now();
      await som.train(x);
      const train = (performance.now() - t0) / 1000 / (n * side * side * dim);
      t0 = performance.now();
      await som.topk(x, 10);
      const topk = (performance.now() - t0) / 1000 / (n * side * side * dim);
      rows.push({ train, topk });
      backend = som.toJSON().backend ?? "?";
    } finally {
      som.dispose();
    }
  }
  const mean = (f: (r: { train: number; topk: number }) => number) =>
    rows.reduce((a, r) => a + f(r), 0) / rows.length;
  return { train: mean((r) => r.train), topk: mean((r) => r.topk), backend };
}

/** Decode CPU seconds per ImageNet-like JPEG (resize 256, crop 224), all cores busy. */
async function _decodeSeconds(): Promise<number> {
  const dir = `${ROOT}/img_jpeg`;
  if (!await exists(`${dir}/train`)) {
    await _run([PY, "bench/make_images.py", "--out", dir, "--format", "jpeg"], "make_images");
  }
  const ds = await openDataset(`folder:${dir}`, {
    split: "train",
    channels: 3,
    height: 224,
    width: 224,
  });
  const ix = Array.from({ length: ds.size }, (_, i) => i);
  const c0 = _cpu();
  for (let i = 0; i < ix.length; i += 8) await ds.load(ix.slice(i, i + 8));
  return (_cpu() - c0) / ds.size;
}

function _cpu(): number {
  const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

function _projection(
  costs: ModelCost[],
  som: { train: number; topk: number; backend: string },
  decode: number,
  perLayer: { analyses: number; report: number },
): string {
  const nTrain = PAPER.perClass * PAPER.classes, nVal = nTrain;
  const units = PAPER.sizes.reduce(
    (a, s) => a + s * s * (s === PAPER.grid ? PAPER.seeds : 1),
    0,
  );
  const cores = navigator.hardwareConcurrency;
  const lines = [
    "| model | CL dims | extraction img/s (measured) | extraction h | SOMs + top-k h | PGD s/img·step | PGD h | analyses + report h | total h |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  let total = 0;
  const r18 = costs.find((c) => c.model === "resnet18");
  for (const c of costs) {
    // Decoding shares the cores with the forward pass: its CPU time is spread over them.
    const perImage = 1 / c.imagesPerSecond + decode / cores;
    const ext = ((nTrain + nVal) * perImage) / 3600;
    const dimSum = c.dims.reduce((a, b) => a + b, 0);
    const soms = (dimSum * units * (EPOCHS * nTrain * som.train + (nTrain + nVal) * som.topk)) /
      3600;
    // Unmeasured PGD: ResNet18's cost scaled by the forward-pass time ratio.
    const pgdUnit = c.pgdSecondsPerImageStep ??
      (r18?.pgdSecondsPerImageStep ?? NaN) * (r18!.imagesPerSecond / c.imagesPerSecond);
    const pgd = (PAPER_PGD.images * PAPER_PGD.steps * pgdUnit) / 3600;
    const rest = (c.dims.length * (perLayer.analyses + perLayer.report)) / 3600;
    const sum = ext + soms + pgd + rest;
    total += sum;
    lines.push(
      `| ${c.model} | ${c.dims.join(", ")} | ${c.imagesPerSecond.toFixed(1)} | ${
        ext.toFixed(2)
      } | ` +
        `${soms.toFixed(2)} | ${pgdUnit.toFixed(3)}${
          c.pgdSecondsPerImageStep === null ? " (scaled)" : ""
        } | ` +
        `${pgd.toFixed(2)} | ${rest.toFixed(2)} | ${sum.toFixed(2)} |`,
    );
  }
  lines.push(`| **all five** | | | | | | | | **${total.toFixed(1)}** |`);
  lines.push(
    "",
    `Per-unit costs measured in this run: JPEG decode ${(1000 * decode).toFixed(1)} CPU-ms/image ` +
      `(spread over ${cores} cores); SOM (${som.backend}) training ${
        (som.train * 1e9).toFixed(3)
      } ns ` +
      `and top-k ${(som.topk * 1e9).toFixed(3)} ns per sample·unit·dimension; analyses ` +
      `${perLayer.analyses.toFixed(1)} s and report ${perLayer.report.toFixed(1)} s per layer ` +
      `(N = 50 run). Paper settings: ${nTrain} + ${nVal} images per model, sizes ` +
      `${
        PAPER.sizes.join("/")
      } (${PAPER.seeds} seeds at ${PAPER.grid}: ${units} units per layer), ` +
      `${EPOCHS} epochs, PGD ${PAPER_PGD.images} × ${PAPER_PGD.steps}.`,
  );
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      n: { type: "string", default: "5,50" },
      models: { type: "string", default: "resnet18,resnet50,densenet121,vgg19,vit_b_16" },
      "no-projection": { type: "boolean", default: false },
      "no-runs": { type: "boolean", default: false },
    },
  });
  const saved = await Deno.readTextFile(`${ROOT}/scale.json`).then(JSON.parse, () => ({}));
  const head = `${new Date().toISOString()}, ${navigator.hardwareConcurrency} CPUs, load average ` +
    `${(await Deno.readTextFile("/proc/loadavg")).trim()}`;
  let runs: RunStats[] = saved.runs ?? [];
  if (!values["no-runs"]) {
    runs = [];
    for (const n of String(values.n).split(",").map(Number)) {
      const dir = await _workload(n);
      console.error(`scale_bench: reproduce at N = ${n}`);
      runs.push(await _reproduce(dir, n));
      await Deno.writeTextFile(`${ROOT}/scale.json`, JSON.stringify({ ...saved, runs }, null, 2));
    }
  }
  console.log(`${head}\n\n${_runTable(runs)}\n`);
  if (!values["no-projection"]) {
    const costs: ModelCost[] = [];
    for (const name of String(values.models).split(",")) {
      console.error(`scale_bench: measuring ${name}`);
      costs.push(await _modelCost(name));
    }
    const som = await _somCost();
    const decode = await _decodeSeconds();
    const big = runs.find((r) => r.n === 50) ?? runs[runs.length - 1];
    const t = big?.timings ?? {};
    const sum = (s: string) =>
      Object.entries(t).filter(([k]) => k.endsWith(`/${s}`) || k === s).reduce(
        (a, [, v]) => a + v,
        0,
      );
    const perLayer = {
      analyses: (sum("attack-bmus") + sum("analyses") + sum("claims")) / 4,
      report: sum("report") / 4,
    };
    await Deno.writeTextFile(
      `${ROOT}/scale.json`,
      JSON.stringify({ runs, costs, som, decode, perLayer }, null, 2),
    );
    console.log(_projection(costs, som, decode, perLayer));
  }
}
