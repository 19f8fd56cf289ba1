// node:assert directly: tests/asserts.ts does not type-check beside sharp's @types/node.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import * as aq from "npm:arquero@8.0.3";
import { runCli, TOY_REPRODUCE_ARGS } from "./cli_helper.ts";
import { FIGURE_IDS } from "./figure_ids.ts";
import { inTempDir } from "./temp_dir.ts";

const cli = (args: string[], env: Record<string, string>) => runCli(args, env);

/** Checks that a run folder holds every artefact and that each parses. */
export async function checkRunFolder(dir: string, models: string[]): Promise<void> {
  const claims = JSON.parse(await Deno.readTextFile(`${dir}/claims.json`));
  assert(claims.claims.length >= 9 * models.length);
  for (const c of claims.claims) {
    assert([true, false, "inconclusive", "invalid"].includes(c.holds), c.id);
    assert(c.holds !== "invalid" || (typeof c.reason === "string" && c.reason.length > 0), c.id);
    assert(models.includes(c.model));
    assert(typeof c.statement === "string" && c.statement.length > 10);
  }
  const m = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  for (
    const key of ["versions", "parameters", "seeds", "timings", "inputs", "runtimes", "runKey"]
  ) {
    assert(m[key] !== undefined, `manifest.${key}`);
  }
  for (const v of ["deno", "onnxruntime-node", "sharp", "arquero"]) assert(m.versions[v], v);
  assert(m.timings.total > 0 && m.timings.report > 0);
  assert(Object.keys(m.seeds.streams).length > 0);
  for (const model of models) assert(m.inputs[model].sha256.length === 64, model);
  for (const rel of m.outputs.tables as string[]) {
    const path = `${dir}/${rel}`;
    if (rel.endsWith(".arrow")) aq.fromArrow(await Deno.readFile(path));
    else aq.fromCSV(await Deno.readTextFile(path));
  }
  assert((m.outputs.tables as string[]).length >= 30);
  const figs = m.outputs.figures as string[];
  for (
    const id of ["fig03_loss", "fig04_bmu_density", "fig06ab_dclass", "supp03_correct_incorrect"]
  ) {
    assert(figs.includes(`figures/${id}.svg`) && figs.includes(`figures/${id}.png`), id);
  }
  for (const rel of figs) {
    const bytes = await Deno.readFile(`${dir}/${rel}`);
    if (rel.endsWith(".png")) assertEquals(Array.from(bytes.subarray(1, 4)), [0x50, 0x4e, 0x47]);
    else if (rel.endsWith(".svg")) assert(new TextDecoder().decode(bytes).startsWith("<svg"));
    else JSON.parse(new TextDecoder().decode(bytes));
  }
  const html = await Deno.readTextFile(`${dir}/report.html`);
  assert(html.includes("Content-Security-Policy") && html.includes("Glossary"));
  assertEquals(
    (html.match(/<figure data-figure=/g) ?? []).length,
    figs.filter((f) => f.endsWith(".svg")).length,
  );
}

Deno.test({
  name: "reproduce on a user model writes every artefact, reuses its caches, and guards its folder",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: inTempDir(async (tmp) => {
    const env = { SOMSCOPE_CACHE: `${tmp}/cache` };
    const out = `${tmp}/run`;
    const args = [...TOY_REPRODUCE_ARGS, "--out", out];
    const r1 = await cli(args, env);
    assertEquals(r1.code, 0, r1.stderr);
    assert(r1.stdout.includes("report.html"), r1.stdout);
    await checkRunFolder(out, ["toy_cnn"]);
    const m1 = JSON.parse(await Deno.readTextFile(`${out}/manifest.json`));
    assert(m1.timings["toy_cnn/codes"] > 0 && m1.timings["toy_cnn/attack"] > 0);

    // Same run settings, another analysis option: nothing but analyses and report recomputed.
    const r2 = await cli(
      [...TOY_REPRODUCE_ARGS.slice(0, -3), "--out", out, "--resamples", "60", "--quiet"],
      env,
    );
    assertEquals(r2.code, 0, r2.stderr);
    const m2 = JSON.parse(await Deno.readTextFile(`${out}/manifest.json`));
    assertEquals(m2.runKey, m1.runKey);
    assertEquals(m2.timings["toy_cnn/codes"], undefined);
    assertEquals(m2.timings["toy_cnn/attack"], undefined);
    assertEquals(JSON.parse(await Deno.readTextFile(`${out}/claims.json`)).resamples, 60);

    // Another run into the same folder is refused, the folder untouched.
    const r3 = await cli([...args, "--seed", "7"], env);
    assertEquals(r3.code, 1);
    assert(r3.stderr.includes("another run"), r3.stderr);
    assertEquals(JSON.parse(await Deno.readTextFile(`${out}/manifest.json`)).runKey, m1.runKey);

    // `report` regenerates analyses from the folder alone.
    const r4 = await cli(["report", out, "--resamples", "40", "--quiet"], env);
    assertEquals(r4.code, 0, r4.stderr);
    assertEquals(JSON.parse(await Deno.readTextFile(`${out}/claims.json`)).resamples, 40);
    await checkRunFolder(out, ["toy_cnn"]);

    // A folder of someone else's files is refused too.
    await Deno.mkdir(`${tmp}/mine`);
    await Deno.writeTextFile(`${tmp}/mine/notes.txt`, "keep me");
    const r5 = await cli([...args.slice(0, 6), "--out", `${tmp}/mine`, "--quiet"], env);
    assertEquals(r5.code, 1);
    assert(r5.stderr.includes("not a somscope run"), r5.stderr);
    assertEquals(await Deno.readTextFile(`${tmp}/mine/notes.txt`), "keep me");
  }, { prefix: "somscope_reproduce_" }),
});

Deno.test("reproduce rejects bad input with clear errors and writes nothing", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "somscope_badinput_" });
  const env = { SOMSCOPE_CACHE: `${tmp}/cache` };
  try {
    const noModel = await cli(
      [
        "reproduce",
        "--model",
        `${tmp}/missing.onnx`,
        "--data",
        "builtin:fashion-mnist",
        "--out",
        `${tmp}/a`,
      ],
      env,
    );
    assertEquals(noModel.code, 1);
    assert(noModel.stderr.includes("missing.onnx") && noModel.stderr.includes("does not exist"));
    const badSpec = await cli(
      [
        "reproduce",
        "--model",
        "tests/data/models/toy_cnn.onnx",
        "--data",
        "zip:x",
        "--out",
        `${tmp}/b`,
      ],
      env,
    );
    assertEquals(badSpec.code, 2); // a usage error, like every bad option value
    assert(badSpec.stderr.includes("zip:"), badSpec.stderr);
    const noData = await cli(["reproduce", "--model", "tests/data/models/toy_cnn.onnx"], env);
    assertEquals(noData.code, 2);
    const badNorm = await cli(
      ["reproduce", "--model", "x.onnx", "--data", "builtin:fashion-mnist", "--normalize", "1,2,3"],
      env,
    );
    assertEquals(badNorm.code, 2);
    await Deno.writeTextFile(`${tmp}/bad.json`, "{ not json");
    const badConfig = await cli(["reproduce", "--config", `${tmp}/bad.json`], env);
    assertEquals(badConfig.code, 2);
    assert(badConfig.stderr.includes("bad.json"), badConfig.stderr);
    await Deno.writeTextFile(`${tmp}/grid.json`, JSON.stringify({ grid: 0, out: `${tmp}/g` }));
    const badGrid = await cli(["reproduce", "--config", `${tmp}/grid.json`], env);
    assertEquals(badGrid.code, 2);
    assert(badGrid.stderr.includes("grid is 0"), badGrid.stderr);
    // A grid whose K×K tables cannot fit is refused at once, naming the size.
    const huge = await cli(["reproduce", "--quick", "--grid", "1000", "--out", `${tmp}/h`], env);
    assertEquals(huge.code, 2);
    assert(huge.stderr.includes("8.0 TB"), huge.stderr);
    const noRun = await cli(["report", `${tmp}/nothing`], env);
    assertEquals(noRun.code, 1);
    assert(noRun.stderr.includes("manifest.json"));
    // A class present in val but not in train (IDX files: train has classes 0, 1; test 0, 1, 2).
    const idx = (magic: number, dims: number[], body: Uint8Array) => {
      const head = new DataView(new ArrayBuffer(4 + 4 * dims.length));
      head.setUint32(0, magic);
      dims.forEach((d, i) => head.setUint32(4 + 4 * i, d));
      return new Uint8Array([...new Uint8Array(head.buffer), ...body]);
    };
    await Deno.mkdir(`${tmp}/idx`);
    const pix = (n: number) => new Uint8Array(n * 784).map((_, i) => (i * 7) % 256);
    await Deno.writeFile(`${tmp}/idx/train-images-idx3-ubyte`, idx(2051, [4, 28, 28], pix(4)));
    await Deno.writeFile(
      `${tmp}/idx/train-labels-idx1-ubyte`,
      idx(2049, [4], Uint8Array.of(0, 0, 1, 1)),
    );
    await Deno.writeFile(`${tmp}/idx/t10k-images-idx3-ubyte`, idx(2051, [3, 28, 28], pix(3)));
    await Deno.writeFile(
      `${tmp}/idx/t10k-labels-idx1-ubyte`,
      idx(2049, [3], Uint8Array.of(0, 1, 2)),
    );
    const extra = await cli(
      [
        "reproduce",
        "--model",
        "tests/data/models/toy_cnn.onnx",
        "--data",
        `idx:${tmp}/idx`,
        "--per-class",
        "1",
        "--out",
        `${tmp}/c`,
        "--quiet",
      ],
      env,
    );
    assertEquals(extra.code, 1, extra.stderr);
    assert(/val(idation)?.*not in (the )?train/i.test(extra.stderr), extra.stderr);
    for (const d of ["a", "b", "g", "h"]) {
      assert(!(await Deno.stat(`${tmp}/${d}`).then(() => true, () => false)), `${d} written`);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test({
  name: "the default `reproduce --quick` on both built-in models writes every artefact",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: inTempDir(async (tmp) => {
    const r = await cli(["reproduce", "--quick", "--out", `${tmp}/run`, "--quiet"], {
      SOMSCOPE_CACHE: `${tmp}/cache`,
    });
    assertEquals(r.code, 0, r.stderr);
    await checkRunFolder(`${tmp}/run`, ["fmnist_resnet", "fmnist_vit"]);
    const figs = JSON.parse(await Deno.readTextFile(`${tmp}/run/manifest.json`)).outputs
      .figures as string[];
    for (const id of FIGURE_IDS) {
      assert(figs.includes(`figures/${id}.svg`), id);
    }
    // One data set: Fig. 8 (across data sets) is stated in a sentence, not drawn.
    assert(!figs.includes("figures/fig08_datasets.svg"));
    // The attack's contact sheet is in the run folder and embedded in the report.
    for (const m of ["fmnist_resnet", "fmnist_vit"]) {
      const png = await Deno.readFile(`${tmp}/run/work/${m}/attack/contact_sheet.png`);
      assertEquals(Array.from(png.subarray(1, 4)), [0x50, 0x4e, 0x47]);
    }
    const html = await Deno.readTextFile(`${tmp}/run/report.html`);
    assert(html.includes('<section id="attack">') && html.includes("data:image/png;base64,"));
    // The explorer has the adversarial BMUs of the featured classes (the attacked images' labels).
    assert(/"adv":\[\d/.test(html), "explorer without adversarial BMUs");
    assert(!html.includes('"adv":null'), "a layer without adversarial BMUs in the explorer");
    const layers = JSON.parse(await Deno.readTextFile(`${tmp}/run/claims.json`)).claims
      .find((c: { id: string; model: string }) =>
        c.id === "dclass-shrinks-train" && c.model === "fmnist_resnet"
      ).perLayer.map((l: { layer: string }) => l.layer);
    assertEquals(layers, ["CL1", "CL2", "CL3", "CL4"]);
  }, { prefix: "somscope_quick_" }),
});
