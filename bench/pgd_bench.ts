/**
 * PGD benchmarks (issue 4 §4):
 *
 * 1. One PGD iteration (forward + backward to the input + step) of torchvision ResNet18 at
 *    224×224, batch 8, on onnxruntime-node, as the fused step graph; baseline: the same iteration
 *    as the op table's plain form (ConvTranspose for every Conv gradient) with the step in
 *    TypeScript. Needs `.cache/grad/resnet18/model.onnx` (make it with
 *    `/usr/bin/python3 tools/grad/torch_grads.py --arch resnet18 --out .cache/grad/resnet18`);
 *    skipped with a message when absent. Goal: ≤ 381 ms (torch 1.13 CPU, 2 threads).
 * 2. The default attack (500 images × 50 iterations, ε = 4/255) on the Fashion-MNIST ResNet
 *    fixture, once. Goal: < 3 minutes.
 *
 * `deno bench -A bench/pgd_bench.ts`; `deno run -A bench/pgd_bench.ts` prints the numbers for
 * bench/RESULTS.md.
 *
 * @module
 */

import {
  deriveGradientGraph,
  derivePgdStepGraph,
  type GraphSession,
  openGraphSession,
  runAttack,
} from "../mod.ts";
import { exists } from "../lib/fs_atomic.ts";

const R18 = ".cache/grad/resnet18/model.onnx";
const FMNIST = "fixtures/models/fmnist_resnet.onnx";
const B = 8, E = 3 * 224 * 224;
const THREADS = 2;

interface Setup {
  fused: GraphSession;
  plain: GraphSession;
  x: Float32Array;
  labels: BigInt64Array;
}

async function setupResnet18(): Promise<Setup | undefined> {
  if (!(await exists(R18))) {
    console.error(
      `pgd_bench: ${R18} is absent; skipping the ResNet18 iteration (see the module doc)`,
    );
    return undefined;
  }
  const m = await Deno.readFile(R18);
  const fused = await openGraphSession(
    derivePgdStepGraph(m, { batch: B, normalize: "imagenet" }),
    { threads: THREADS },
  );
  const plain = await openGraphSession(
    deriveGradientGraph(m, { batch: B, normalize: "imagenet", convGrad: "convtranspose" }),
    { threads: THREADS },
  );
  const x = new Float32Array(B * E);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 1000) / 1000;
  return { fused, plain, x, labels: BigInt64Array.from({ length: B }, (_, i) => BigInt(i * 37)) };
}

const EPS = 4 / 255, STEP = EPS * 2 / 100;

async function fusedIteration(s: Setup): Promise<Float32Array> {
  const dims = [B, 3, 224, 224];
  const r = await s.fused.run({
    x_adv: { data: s.x, dims },
    x0: { data: s.x, dims },
    labels: { data: s.labels, dims: [B] },
    eps: { data: Float32Array.of(EPS), dims: [] },
    step: { data: Float32Array.of(STEP), dims: [] },
  }, ["x_next"]);
  return r.x_next;
}

async function plainIteration(s: Setup): Promise<Float32Array> {
  const r = await s.plain.run({
    input: { data: s.x, dims: [B, 3, 224, 224] },
    labels: { data: s.labels, dims: [B] },
  }, ["input_grad"]);
  const g = r.input_grad, out = new Float32Array(s.x.length);
  for (let i = 0; i < out.length; i++) {
    const v = s.x[i] + STEP * Math.sign(g[i]);
    out[i] = Math.min(Math.max(Math.min(Math.max(v, s.x[i] - EPS), s.x[i] + EPS), 0), 1);
  }
  return out;
}

/** A Dataset over the committed Fashion-MNIST test split (lib/data). */
async function fmnistVal() {
  const { openDataset } = await import("../lib/data/dataset.ts");
  return await openDataset("builtin:fashion-mnist", { split: "val" });
}

/** Process CPU seconds (user + system) from /proc, to estimate idle-machine time on a shared host. */
function cpuSeconds(): number {
  try {
    const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

if (import.meta.main) {
  const s = await setupResnet18();
  if (s) {
    for (
      const [name, fn] of [["fused step graph", fusedIteration], [
        "plain graph + TS step",
        plainIteration,
      ]] as const
    ) {
      await fn(s); // warm-up: session optimisation, allocator
      const t: number[] = [];
      const c0 = cpuSeconds();
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await fn(s);
        t.push(performance.now() - t0);
      }
      const cpu = (cpuSeconds() - c0) / 5;
      t.sort((a, b) => a - b);
      console.log(
        `resnet18 224 b8 PGD iteration, ${name}: median ${t[2].toFixed(0)} ms ` +
          `(min ${t[0].toFixed(0)}); ${(cpu * 1000).toFixed(0)} CPU-ms per iteration`,
      );
    }
  }
  if (await exists(FMNIST)) {
    const t0 = performance.now(), c0 = cpuSeconds();
    const r = await runAttack(await Deno.readFile(FMNIST), await fmnistVal(), { threads: THREADS });
    const wall = (performance.now() - t0) / 1000, cpu = cpuSeconds() - c0;
    console.log(
      `fmnist resnet default attack (500 × 50): ${wall.toFixed(1)} s wall, ${
        cpu.toFixed(1)
      } CPU-s; ` +
        `clean ${r.summary.accuracy.clean} → adversarial ${r.summary.accuracy.adversarial}, ` +
        `noise ${r.summary.accuracy.noise}`,
    );
  } else console.error(`pgd_bench: ${FMNIST} is absent; skipping the Fashion-MNIST attack`);
} else {
  const s = await setupResnet18();
  Deno.bench({
    name: "resnet18 224 b8: one PGD iteration, plain graph + TS step",
    group: "pgd-resnet18",
    baseline: true,
    ignore: !s,
    n: 10,
    warmup: 2,
    async fn(b) {
      b.start();
      await plainIteration(s!);
      b.end();
    },
  });
  Deno.bench({
    name: "resnet18 224 b8: one PGD iteration, fused step graph",
    group: "pgd-resnet18",
    ignore: !s,
    n: 10,
    warmup: 2,
    async fn(b) {
      b.start();
      await fusedIteration(s!);
      b.end();
    },
  });
  const haveF = await exists(FMNIST);
  if (!haveF) console.error(`pgd_bench: ${FMNIST} is absent; skipping the Fashion-MNIST attack`);
  const model = haveF ? await Deno.readFile(FMNIST) : new Uint8Array();
  const data = haveF ? await fmnistVal() : undefined;
  Deno.bench({
    name: "fmnist resnet: default attack, 500 images × 50 iterations",
    ignore: !haveF,
    n: 1,
    warmup: 0,
    async fn(b) {
      b.start();
      await runAttack(model, data!, { threads: THREADS });
      b.end();
    },
  });
}
