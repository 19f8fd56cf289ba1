/**
 * SOM benchmarks (issue 2 §6): one training epoch at 20×20 and 40×40 with d = 256, 512, 2048,
 * 8192, batch 10, and top-10 BMU queries, on every backend that loads (reference only at small
 * sizes). FLOP convention of SOM.md: training 5·K·d per sample, query 2·K·d per row.
 *
 * `deno bench -A bench/som_bench.ts` runs the `Deno.bench` cases (reference = baseline; weights
 * or top-k read back inside the timed part). `deno run -A bench/som_bench.ts [--quick]` prints
 * the Markdown table of `bench/RESULTS.md` (pipeline compilation and session building happen in
 * a warm-up run before timing).
 *
 * @module
 */

import { GpuContext, referenceBackend, Rng, type SomBackend, webgpuBackend } from "../mod.ts";

const GRIDS: [number, number][] = [[20, 20], [40, 40]];
const DIMS = [256, 512, 2048, 8192];
const B = 10;

/** Rough sustained rates (FLOP/s) on the 2-core llvmpipe machine, to size each case. */
const RATE: Record<string, number> = { reference: 3e8, webgpu: 5e8, cpu: 1e10 };

async function loadBackends(): Promise<{ be: SomBackend; ctx?: GpuContext; note: string }[]> {
  const out: { be: SomBackend; ctx?: GpuContext; note: string }[] = [
    { be: referenceBackend(), note: "float64 TypeScript" },
  ];
  try {
    const ctx = await GpuContext.create();
    out.push({ be: webgpuBackend(ctx), ctx, note: ctx.adapter.description });
  } catch (e) {
    console.error(`webgpu backend unavailable: ${(e as Error).message}`);
  }
  try {
    const mod = await import("../lib/som/cpu_backend.ts") as {
      cpuBackend: () => Promise<SomBackend>;
    };
    out.push({ be: await mod.cpuBackend(), note: "onnxruntime-node" });
  } catch (e) {
    console.error(`cpu backend unavailable: ${(e as Error).message}`);
  }
  return out;
}

function randn(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** Rows per timed call: about `seconds` of work at the given rough rate, whole batches. */
function rowsFor(rate: number, flopPerRow: number, seconds: number, min: number): number {
  const n = Math.round(seconds * rate / flopPerRow / B) * B;
  return Math.max(min, Math.min(20_000, n));
}

function runs(name: string, K: number, d: number): boolean {
  return name !== "reference" || K * d <= 400 * 512;
}

interface Case {
  kind: "train" | "top10";
  name: string;
  m: number;
  n: number;
  d: number;
  rows: number;
  flop: number;
  run: () => Promise<void>;
}

/**
 * The cases. With `sameRows` every backend of a (grid, d) group gets the same rows (sized for
 * the slowest), so `deno bench`'s "× faster" ratios compare equal work.
 */
function cases(bes: { be: SomBackend }[], seconds: number, sameRows: boolean): Case[] {
  const list: Case[] = [];
  for (const [m, n] of GRIDS) {
    const K = m * n;
    for (const d of DIMS) {
      const w0 = randn(K * d, 1);
      const present = bes.filter(({ be }) => runs(be.name, K, d));
      const slowest = Math.min(...present.map(({ be }) => RATE[be.name]));
      for (const { be } of present) {
        const rate = sameRows ? slowest : RATE[be.name];
        const rows = rowsFor(rate, 5 * K * d, seconds, 2 * B);
        const data = randn(rows * d, 2);
        const order = Int32Array.from({ length: rows }, (_, i) => i);
        list.push({
          kind: "train",
          name: be.name,
          m,
          n,
          d,
          rows,
          flop: 5 * K * d * rows,
          run: async () => {
            await be.trainEpoch({ m, n, periodic: true }, {
              weights: w0.slice(),
              dim: d,
              data,
              order,
              batchSize: B,
              step: 0,
              totalSteps: rows * 5,
              alpha0: 0.1,
              sigma0: 10,
            });
          },
        });
        const qrows = rowsFor(rate, 2 * K * d, seconds, 16);
        const q = randn(qrows * d, 3);
        list.push({
          kind: "top10",
          name: be.name,
          m,
          n,
          d,
          rows: qrows,
          flop: 2 * K * d * qrows,
          run: async () => {
            await be.topk(w0, d, q, 10);
          },
        });
      }
    }
  }
  return list;
}

const backends = await loadBackends();

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  const only = Deno.args.find((a) => a.startsWith("--backend="))?.slice(10);
  const sel = backends.filter((b) => !only || b.be.name === only);
  console.log(`| kind | backend | grid | d | rows | s/call | samples/s | GFLOP/s |`);
  console.log(`|---|---|---|---|---|---|---|---|`);
  for (const c of cases(sel, quick ? 0.3 : 1.5, false)) {
    await c.run(); // warm-up: pipeline compilation, ORT session building
    const reps = quick ? 1 : 2;
    let best = Infinity;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      await c.run();
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    console.log(
      `| ${c.kind} | ${c.name} | ${c.m}×${c.n} | ${c.d} | ${c.rows} | ${best.toFixed(3)} | ` +
        `${Math.round(c.rows / best)} | ${(c.flop / best / 1e9).toFixed(2)} |`,
    );
  }
  for (const b of sel) {
    b.be.dispose();
    b.ctx?.dispose();
  }
} else {
  for (const c of cases(backends, 0.3, true)) {
    Deno.bench({
      name: `${c.kind} ${c.name} ${c.m}x${c.n} d=${c.d} (${c.rows} rows, ${
        (c.flop / 1e9).toFixed(2)
      } GFLOP)`,
      group: `${c.kind} ${c.m}x${c.n} d=${c.d}`,
      baseline: c.name === "reference",
      n: 3,
      warmup: 1,
      async fn(b) {
        b.start();
        await c.run();
        b.end();
      },
    });
  }
}
