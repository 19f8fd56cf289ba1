// examples/slurm/ runs as documented (issue 14 point 6): a fake `sbatch` checks that submit.sh
// makes the analysis depend on the whole extraction array; the array's tasks, run as Slurm
// would (SLURM_ARRAY_TASK_ID/COUNT, several at once), fill the shared cache; the analysis job
// then extracts nothing and writes the report.
import { assert, assertEquals } from "./asserts.ts";
import { runCommand } from "./cli_helper.ts";
import { inTempDir } from "./temp_dir.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const EXAMPLE = `${ROOT}examples/slurm`;

function _bash(script: string, cwd: string, env: Record<string, string>) {
  return runCommand("bash", [script], cwd, env);
}

Deno.test({
  name: "examples/slurm: submit.sh chains the array and the analysis; the jobs run end to end",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: inTempDir(async (tmp) => {
    // The user's project folder: run.json and env.sh beside each other.
    await Deno.writeTextFile(
      `${tmp}/run.json`,
      JSON.stringify({
        name: "toy",
        out: "runs/toy",
        data: "builtin:fashion-mnist",
        models: [{ name: "toy_cnn", path: `${ROOT}tests/data/models/toy_cnn.onnx` }],
        perClass: 12,
        valPerClass: 12,
        sizes: [10, 20],
        epochs: 2,
        attackN: 8,
        steps: 2,
        resamples: 50,
      }),
    );
    await Deno.copyFile(`${EXAMPLE}/env.sh`, `${tmp}/env.sh`);
    const env = {
      SOMSCOPE: `${Deno.execPath()} run -A ${ROOT}tasks/somscope.ts`,
      SOMSCOPE_CACHE: `${tmp}/cache`,
      SLURM_SUBMIT_DIR: tmp,
    };

    // submit.sh with a fake sbatch that logs its arguments.
    await Deno.mkdir(`${tmp}/bin`);
    await Deno.writeTextFile(
      `${tmp}/bin/sbatch`,
      '#!/bin/bash\necho "$@" >> "$SBATCH_LOG"\nn=$(wc -l < "$SBATCH_LOG")\necho "$((1000 + n))"\n',
    );
    await Deno.chmod(`${tmp}/bin/sbatch`, 0o755);
    const sub = await _bash(`${EXAMPLE}/submit.sh`, tmp, {
      ...env,
      PATH: `${tmp}/bin:${Deno.env.get("PATH")}`,
      SBATCH_LOG: `${tmp}/sbatch.log`,
    });
    assertEquals(sub.code, 0, sub.stderr);
    const calls = (await Deno.readTextFile(`${tmp}/sbatch.log`)).trim().split("\n");
    assertEquals(calls.length, 2);
    assert(calls[0].includes("--array=0-15") && calls[0].endsWith("extract.sbatch"), calls[0]);
    assert(
      calls[1].includes("--dependency=afterok:1001") && calls[1].endsWith("analyse.sbatch"),
      calls[1],
    );

    // The array's tasks, three at once, then the dependent job.
    const tasks = await Promise.all([0, 1, 2].map((i) =>
      _bash(`${EXAMPLE}/extract.sbatch`, tmp, {
        ...env,
        SLURM_ARRAY_TASK_ID: String(i),
        SLURM_ARRAY_TASK_COUNT: "3",
      })
    ));
    for (const t of tasks) assertEquals(t.code, 0, t.stderr);
    assert(tasks[1].stdout.includes("toy_cnn: shard 1/3"), tasks[1].stdout);
    const analyse = await _bash(`${EXAMPLE}/analyse.sbatch`, tmp, env);
    assertEquals(analyse.code, 0, analyse.stderr);
    const m = JSON.parse(await Deno.readTextFile(`${tmp}/runs/toy/manifest.json`));
    assertEquals(m.runtimes.toy_cnn.extraction, "cache");
    assert((await Deno.stat(`${tmp}/runs/toy/report.html`)).isFile);
  }, { prefix: "somscope_slurm_" }),
});
