/**
 * The checks of `tasks/device_check.sh` (issue 14 point 7), one JSON of results:
 *
 * 1. `adapter`: the WebGPU adapter (hardware or fallback) and `nvidia-smi`'s view, if any.
 * 2. `kernels`: the WGSL kernels against their TypeScript references — the GPU test files
 *    (`CI=1`, so a missing adapter fails instead of skipping), with pass/fail counts.
 * 3. `benches`: `deno bench --json` of the SOM training/top-k and feature-map benches on this
 *    adapter (mean, min, p99 per case).
 * 4. `extraction`: ResNet18 at 224 through onnxruntime-web's WebGPU EP with the taps reduced on
 *    the GPU, images/s, and the codes checked against onnxruntime-node's (max relative error).
 *
 * Every step has a time limit so that the whole check stays inside `DEVICE_CHECK_BUDGET_S`
 * (default 270 s); a step that runs out is recorded as such. Exit code: 0 when every step
 * passed, 1 otherwise.
 *
 * Usage: deno run -A tasks/device_check.ts --out FILE [--model resnet18.onnx] [--deno PATH]
 *   [--deno-flags "--cached-only --lock=…"]
 *
 * @module
 */

import { parseArgs } from "node:util";

const KERNEL_TESTS = [
  "tests/gpu_context_test.ts",
  "tests/wgsl_layout_test.ts",
  "tests/feature_map_reduce_test.ts",
  "tests/som_kernels_test.ts",
  "tests/som_test.ts",
  "tests/torus_test.ts",
];
const BENCHES = ["bench/feature_map_reduce_bench.ts", "bench/som_bench.ts"];

interface Step {
  name: string;
  ok: boolean;
  seconds: number;
  [k: string]: unknown;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string", default: "device_check.json" },
    model: { type: "string", default: "" },
    deno: { type: "string", default: Deno.execPath() },
    "deno-flags": { type: "string", default: "" },
    "unpack-seconds": { type: "string", default: "0" },
  },
});
const t0 = performance.now();
const budget = Number(Deno.env.get("DEVICE_CHECK_BUDGET_S") ?? 270);
const left = () => budget - (performance.now() - t0) / 1000;
// The bundle's --cached-only and --lock, passed on to every child.
const flags = ["-A", "--no-check", ...String(values["deno-flags"]).split(" ").filter(Boolean)];

/** Runs a command with a time limit; returns exit code, output and seconds. */
async function _exec(args: string[], limit: number, env: Record<string, string> = {}) {
  const start = performance.now();
  const child = new Deno.Command(values.deno!, {
    args,
    env: { CI: "1", NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, Math.max(1, limit) * 1000);
  const out = await child.output();
  clearTimeout(timer);
  const d = new TextDecoder();
  return {
    code: out.code,
    timedOut,
    stdout: d.decode(out.stdout),
    stderr: d.decode(out.stderr),
    seconds: (performance.now() - start) / 1000,
  };
}

async function _adapter(): Promise<Step> {
  const start = performance.now();
  const { GpuContext } = await import("../lib/gpu/context.ts");
  let adapter: unknown = null, error: string | null = null;
  try {
    const ctx = await GpuContext.create();
    adapter = ctx.adapter;
    ctx.dispose();
  } catch (e) {
    error = (e as Error).message;
  }
  let smi: string | null = null;
  try {
    const o = await new Deno.Command("nvidia-smi", {
      args: ["--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
      stdout: "piped",
      stderr: "null",
    }).output();
    smi = new TextDecoder().decode(o.stdout).trim() || null;
  } catch { /* no NVIDIA tools */ }
  return {
    name: "adapter",
    ok: adapter !== null,
    seconds: (performance.now() - start) / 1000,
    adapter,
    error,
    nvidiaSmi: smi,
  };
}

async function _kernels(): Promise<Step> {
  const r = await _exec(["test", ...flags, ...KERNEL_TESTS], Math.min(150, left() - 90));
  const text = r.stdout + r.stderr;
  const m = /(\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed/.exec(
    text,
  );
  const failures = [...text.matchAll(/^(.+) \.\.\. FAILED/gm)].map((x) => x[1]).slice(0, 20);
  return {
    name: "kernels",
    ok: r.code === 0 && !r.timedOut,
    seconds: r.seconds,
    timedOut: r.timedOut,
    files: KERNEL_TESTS,
    passed: m ? Number(m[1]) : null,
    failed: m ? Number(m[3]) : null,
    failures,
    tail: r.code === 0 ? undefined : text.slice(-3000),
  };
}

async function _benches(): Promise<Step> {
  const r = await _exec(["bench", ...flags, "--json", ...BENCHES], Math.min(120, left() - 45));
  let cases: unknown[] = [];
  try {
    const j = JSON.parse(r.stdout);
    cases = (j.benches ?? []).map((b: Record<string, unknown>) => {
      const res = ((b.results as Record<string, unknown>[]) ?? [])[0] ?? {};
      const ok = res.ok as Record<string, number> | undefined;
      return {
        file: String(b.origin ?? "").replace(/^.*\/bench\//, "bench/"),
        group: b.group ?? null,
        name: b.name,
        baseline: b.baseline ?? false,
        meanMs: ok ? ok.avg / 1e6 : null,
        minMs: ok ? ok.min / 1e6 : null,
        p99Ms: ok ? ok.p99 / 1e6 : null,
        samples: ok ? ok.n : null,
        error: ok ? undefined : res,
      };
    });
  } catch { /* not JSON: the run failed or timed out */ }
  return {
    name: "benches",
    ok: r.code === 0 && !r.timedOut && cases.length > 0,
    seconds: r.seconds,
    timedOut: r.timedOut,
    files: BENCHES,
    cases,
    log: r.stderr.split("\n").filter((l) => /adapter|first/.test(l)),
    tail: r.code === 0 ? undefined : (r.stdout + r.stderr).slice(-3000),
  };
}

async function _extraction(): Promise<Step> {
  if (!values.model) {
    return {
      name: "extraction",
      ok: false,
      seconds: 0,
      error:
        "no ResNet18 model (python3 with torch/torchvision was not found, or the export failed)",
    };
  }
  const images = Number(Deno.env.get("DEVICE_CHECK_IMAGES") ?? 64);
  const r = await _exec(
    ["run", ...flags, "tasks/device_check_extract.ts", values.model, String(images)],
    Math.max(30, left() - 5),
  );
  let detail: Record<string, unknown> = {};
  try {
    detail = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
  } catch { /* failed before printing */ }
  return {
    name: "extraction",
    ok: r.code === 0 && !r.timedOut && detail.ok === true,
    seconds: r.seconds,
    timedOut: r.timedOut,
    ...detail,
    tail: r.code === 0 ? undefined : (r.stdout + r.stderr).slice(-3000),
  };
}

const steps: Step[] = [];
for (const step of [_adapter, _kernels, _benches, _extraction]) {
  let s: Step;
  try {
    s = await step();
  } catch (e) {
    s = { name: step.name.slice(1), ok: false, seconds: 0, error: String(e) };
  }
  steps.push(s);
  console.error(`device_check: ${s.name}: ${s.ok ? "ok" : "FAILED"} (${s.seconds.toFixed(1)} s)`);
  await Deno.writeTextFile(values.out!, JSON.stringify(_result(), null, 2));
}

function _result() {
  return {
    when: new Date().toISOString(),
    deno: Deno.version.deno,
    cpus: navigator.hardwareConcurrency,
    unpackSeconds: Number(values["unpack-seconds"]),
    checkSeconds: (performance.now() - t0) / 1000,
    ok: steps.every((s) => s.ok),
    steps,
  };
}
console.error(`device_check: ${values.out} (${_result().ok ? "all passed" : "some failed"})`);
Deno.exit(_result().ok ? 0 : 1);
