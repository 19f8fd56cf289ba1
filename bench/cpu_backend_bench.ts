/**
 * Benchmarks of the SOM's fast CPU backend (onnxruntime-node) at the paper's sizes.
 *
 * `deno bench -A bench/cpu_backend_bench.ts` times one training epoch (batch 10) and top-10
 * queries per size, with the float64 TypeScript reference as baseline where it finishes in
 * reasonable time, and one onnxruntime call per batch as the alternative the `Scan` replaces.
 *
 * `deno run -A bench/cpu_backend_bench.ts [--threads N] [--spin]` prints the table recorded in
 * `bench/RESULTS.md`: samples/s and GFLOP/s (SOM.md convention: training 5·K·d per sample,
 * queries 2·K·d per row) by wall clock and by process CPU time (the machine is shared, so CPU
 * time is the steadier number), with the load average.
 *
 * @module
 */

import process from "node:process";
import { cpuBackend } from "../lib/som/cpu_backend.ts";
import { referenceBackend } from "../lib/som/reference.ts";
import type { EpochArgs, SomBackend, SomGeometry } from "../lib/som/backend.ts";
import { Rng } from "../lib/rng.ts";

const GRIDS = [20, 40];
const DIMS = [256, 512, 2048, 8192];
const BATCH = 10;

/** Samples per timed epoch: 5,000, fewer where that would take many seconds. */
function epochSamples(K: number, d: number): number {
  return Math.max(200, Math.min(5000, Math.round(2e10 / (5 * K * d) / BATCH) * BATCH));
}

/** Query rows: up to 50,000, at most 64 MB of codes. */
function queryRows(d: number): number {
  return Math.min(50_000, Math.floor((16 << 20) / d));
}

function randn(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

interface Problem {
  geometry: SomGeometry;
  weights: Float32Array;
  data: Float32Array;
  N: number;
  K: number;
  d: number;
}

function problem(m: number, d: number, N: number): Problem {
  const rng = new Rng(m * 100_000 + d);
  return {
    geometry: { m, n: m, periodic: true },
    weights: randn(rng, m * m * d),
    data: randn(rng, N * d),
    N,
    K: m * m,
    d,
  };
}

function epochArgs(p: Problem, weights: Float32Array): EpochArgs {
  return {
    weights,
    dim: p.d,
    data: p.data,
    order: Int32Array.from({ length: p.N }, (_, i) => i),
    batchSize: BATCH,
    step: 0,
    totalSteps: 5 * p.N,
    alpha0: 0.1,
    sigma0: 10,
  };
}

/** The whole epoch, one `trainEpoch` call per batch (one onnxruntime call each). */
async function perBatch(be: SomBackend, p: Problem, weights: Float32Array): Promise<void> {
  const args = epochArgs(p, weights);
  for (let s = 0; s < p.N; s += BATCH) {
    const r = await be.trainEpoch(p.geometry, {
      ...args,
      order: args.order.subarray(s, s + BATCH),
    });
    args.step = r.step;
  }
}

if (import.meta.main) {
  const threadsArg = Deno.args.indexOf("--threads");
  const threads = threadsArg >= 0 ? Number(Deno.args[threadsArg + 1]) : undefined;
  const spin = Deno.args.includes("--spin");
  const cpu = await cpuBackend({ threads, spin });
  const fmt = (x: number) => x.toLocaleString("en-US", { maximumFractionDigits: 0 });
  const time = async (fn: () => Promise<unknown>, reps: number) => {
    let wall = Infinity, cpuS = Infinity;
    for (let r = 0; r < reps; r++) {
      const c0 = process.cpuUsage(), t0 = performance.now();
      await fn();
      const c = process.cpuUsage(c0);
      wall = Math.min(wall, (performance.now() - t0) / 1000);
      cpuS = Math.min(cpuS, (c.user + c.system) / 1e6);
    }
    return { wall, cpuS };
  };
  console.log(
    `threads ${threads ?? navigator.hardwareConcurrency}, spin ${spin}, load average ` +
      Deno.loadavg().map((x) => x.toFixed(1)).join(" "),
  );
  console.log("| grid | d | samples | samples/s | GFLOP/s | samples/CPU-s | GFLOP/CPU-s |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const m of GRIDS) {
    for (const d of DIMS) {
      const K = m * m, p = problem(m, d, epochSamples(K, d));
      const w = p.weights.slice();
      await cpu.trainEpoch(p.geometry, epochArgs(p, w)); // sessions, warm-up
      const { wall, cpuS } = await time(() => cpu.trainEpoch(p.geometry, epochArgs(p, w)), 3);
      const fl = 5 * K * d * p.N / 1e9;
      console.log(
        `| ${m}×${m} | ${d} | ${p.N} | ${fmt(p.N / wall)} | ${(fl / wall).toFixed(1)} | ${
          fmt(p.N / cpuS)
        } | ${(fl / cpuS).toFixed(1)} |`,
      );
    }
  }
  console.log("\n| grid | d | rows | top-10 rows/s | GFLOP/s | GFLOP/CPU-s |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const m of GRIDS) {
    for (const d of DIMS) {
      const K = m * m, p = problem(m, d, queryRows(d));
      await cpu.topk(p.weights, d, p.data.subarray(0, 64 * d), 10);
      const { wall, cpuS } = await time(() => cpu.topk(p.weights, d, p.data, 10), 3);
      const fl = 2 * K * d * p.N / 1e9;
      console.log(
        `| ${m}×${m} | ${d} | ${p.N} | ${fmt(p.N / wall)} | ${(fl / wall).toFixed(1)} | ${
          (fl / cpuS).toFixed(1)
        } |`,
      );
    }
  }
  console.log(`load average after: ${Deno.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
  cpu.dispose();
} else {
  const cpu = await cpuBackend();
  const ref = referenceBackend();

  // Baseline comparison at a size the float64 reference finishes quickly.
  for (const d of [256, 512]) {
    const p = problem(20, d, 500);
    const group = `train 20×20 d=${d}, 500 samples`;
    const w0 = p.weights;
    await cpu.trainEpoch(p.geometry, epochArgs(p, w0.slice()));
    await perBatch(cpu, p, w0.slice());
    Deno.bench(`reference ${group}`, { group, baseline: true, n: 3, warmup: 1 }, async (b) => {
      const w = w0.slice();
      b.start();
      await ref.trainEpoch(p.geometry, epochArgs(p, w));
      b.end();
    });
    Deno.bench(`cpu (one Scan per epoch) ${group}`, { group }, async (b) => {
      const w = w0.slice();
      b.start();
      await cpu.trainEpoch(p.geometry, epochArgs(p, w));
      b.end();
    });
    Deno.bench(`cpu (one call per batch) ${group}`, { group }, async (b) => {
      const w = w0.slice();
      b.start();
      await perBatch(cpu, p, w);
      b.end();
    });
  }

  // Paper sizes, cpu only (the reference would take minutes per epoch).
  for (const m of GRIDS) {
    for (const d of DIMS) {
      const K = m * m, N = epochSamples(K, d);
      const p = problem(m, d, N);
      const w0 = p.weights;
      await cpu.trainEpoch(p.geometry, epochArgs(p, w0.slice()));
      Deno.bench(
        `cpu train ${m}×${m} d=${d}, ${N} samples (${(5 * K * d * N / 1e9).toFixed(2)} GFLOP)`,
        { group: `train ${m}×${m}`, n: 3, warmup: 1 },
        async (b) => {
          const w = w0.slice();
          b.start();
          await cpu.trainEpoch(p.geometry, epochArgs(p, w));
          b.end();
        },
      );
      const rows = queryRows(d);
      const q = problem(m, d, rows);
      await cpu.topk(q.weights, d, q.data.subarray(0, 64 * d), 10);
      Deno.bench(
        `cpu top-10 ${m}×${m} d=${d}, ${rows} rows (${(2 * K * d * rows / 1e9).toFixed(2)} GFLOP)`,
        { group: `top-10 ${m}×${m}`, n: 3, warmup: 1 },
        async () => {
          await cpu.topk(q.weights, d, q.data, 10);
        },
      );
    }
  }
}
