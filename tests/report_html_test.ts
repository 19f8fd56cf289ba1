// node:assert directly: tests/asserts.ts does not type-check beside sharp's @types/node.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import * as aq from "npm:arquero@8.0.3";
// @ts-types="../lib/report/sharp.d.ts"
import sharp from "npm:sharp@0.35.5";
import { analyzeModel, type LayerInput } from "../lib/analysis/analyze.ts";
import { runAttack } from "../lib/attack/attack.ts";
import { attackSheetInput } from "../lib/report/html/attack.ts";
import { scopeSvgIds, writeReport } from "../lib/report/write_report.ts";
import type { RunSummary } from "../lib/report/html.ts";
import { PAPER_LIKE, planted } from "./analysis_planted.ts";
import { FIGURE_IDS } from "./figure_ids.ts";
import { modelClaims } from "../lib/pipeline/stages/analyses.ts";

const CLAIMS = { resamples: 100, noiseFraction: 0.1 };

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

function withEnsemble(layers: LayerInput[]): LayerInput[] {
  return layers.map((l) => ({
    ...l,
    seed: 0,
    ensemble: [{ seed: 1, weights: l.weights.slice(), train: l.train, val: l.val }],
  }));
}

const SUMMARY: RunSummary = {
  name: "planted",
  models: [
    { name: "planted_resnet", path: "planted.onnx", layers: ["CL1", "CL2", "CL3", "CL4"] },
    { name: "planted_vit", path: "planted_vit.onnx", layers: ["cls0", "cls1", "cls2", "cls3"] },
  ],
  data: "planted BMUs, 10 classes × 20",
  seed: 0,
  adapter: "none (test)",
  timings: { analyses: 1, report: 2 },
  parameters: { grid: "20x20" },
  versions: { deno: Deno.version.deno },
  started: new Date().toISOString(),
};

// Loaded through a non-literal specifier so that playwright's @types/node do not leak into
// this program's type check (they change node:assert's signatures used by tests/asserts.ts).
const PLAYWRIGHT = "npm:playwright-core@1.65.1";

// deno-lint-ignore no-explicit-any
type Page = any;

/** Opens a page and returns the requests it made besides its own file. */
export async function openInChromium(
  path: string,
  check: (page: Page) => Promise<void>,
): Promise<string[]> {
  const { chromium } = await import(PLAYWRIGHT);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
  const url = new URL(`file://${await Deno.realPath(path)}`).href;
  const outside: string[] = [];
  try {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // deno-lint-ignore no-explicit-any
    await ctx.route("**/*", (route: any) => {
      const u = route.request().url();
      if (u === url) return route.continue();
      outside.push(u);
      return route.abort();
    });
    const page = await ctx.newPage();
    // deno-lint-ignore no-explicit-any
    page.on("request", (r: any) => {
      const u = r.url();
      // Inline images are part of the page, not requests to the network.
      if (u !== url && !u.startsWith("data:") && !outside.includes(u)) outside.push(u);
    });
    const errors: string[] = [];
    page.on("pageerror", (e: Error) => errors.push(String(e)));
    await page.goto(url, { waitUntil: "load" });
    await check(page);
    assertEquals(errors, []);
  } finally {
    await browser.close();
  }
  return outside;
}

/** Per figure: the page boxes of its panels (each plot area) and its overlapping text pairs. */
interface FigureLook {
  id: string;
  panels: { x: number; y: number; width: number; height: number }[];
  overlaps: string[];
  /** Texts that stick out of the figure's SVG box. */
  clipped: string[];
  texts: number;
}

/**
 * Measures every figure in the page: a panel is the plot area (Vega's `background` path) of a
 * group that holds marks; text boxes are the SVG `<text>` elements' client rectangles, and two
 * overlap when they share more than 1 px² (touching is fine).
 */
function lookAtFigures(page: Page): Promise<FigureLook[]> {
  return page.evaluate(LOOK_JS);
}

// Runs in the page (a string, so that this file needs no DOM types).
const LOOK_JS = `(() => {
  const out = [];
  for (const fig of document.querySelectorAll("figure[data-figure]")) {
    const svg = fig.querySelector("svg");
    if (!svg) continue;
    const items = new Set();
    for (const m of svg.querySelectorAll("g[class*='role-mark']")) {
      const item = m.parentElement && m.parentElement.parentElement; // mark → content g → item
      if (item && item.querySelector(":scope > path.background")) items.add(item);
    }
    const panels = [...items].map((it) => {
      const r = it.querySelector(":scope > path.background").getBoundingClientRect();
      return { x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height };
    }).filter((r) => r.width > 4 && r.height > 4);
    const boxes = [...svg.querySelectorAll("text")]
      .filter((t) => (t.textContent || "").trim() !== "")
      .map((t) => ({ t: t.textContent, r: t.getBoundingClientRect() }));
    const frame = svg.getBoundingClientRect();
    const clipped = boxes.filter(({ r }) =>
      r.left < frame.left - 1 || r.right > frame.right + 1 || r.top < frame.top - 1 ||
      r.bottom > frame.bottom + 1
    ).map((b) => b.t);
    const overlaps = [];
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i].r, b = boxes[j].r;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 1 && h > 1) overlaps.push('"' + boxes[i].t + '" × "' + boxes[j].t + '"');
      }
    }
    out.push({ id: fig.getAttribute("data-figure"), panels, overlaps, clipped, texts: boxes.length });
  }
  return out;
})()`;

/** Standard deviation of the grey levels of a screenshot region (0 = one flat colour). */
async function pixelSpread(page: Page, clip: FigureLook["panels"][number]): Promise<number> {
  const png: Uint8Array = await page.screenshot({ clip, fullPage: true });
  const { data } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  let s = 0, s2 = 0;
  for (const v of data) {
    s += v;
    s2 += v * v;
  }
  const n = data.length, mean = s / n;
  return Math.sqrt(Math.max(0, s2 / n - mean * mean));
}

/** A tiny PGD run on the toy CNN, for the report's attack section. */
async function toyAttack() {
  const model = await Deno.readFile("tests/data/models/toy_cnn.onnx");
  const pixels = Float32Array.from({ length: 6 * 28 * 28 }, (_, i) => (i * 7919 % 997) / 997);
  const dataset = {
    size: 6,
    channels: 1,
    height: 28,
    width: 28,
    labels: [0, 1, 2, 3, 4, 5],
    load: (ids: number[]) =>
      Promise.resolve(
        Float32Array.from(ids.flatMap((id) => [...pixels.subarray(id * 784, id * 784 + 784)])),
      ),
  };
  return await runAttack(model, dataset, { n: 6, steps: 2, batch: 6 });
}

Deno.test("writeReport() writes a page whose every figure has drawn panels, no overlapping text and no network request", async () => {
  const dir = await Deno.makeTempDir({ prefix: "somscope_report_" });
  try {
    const resnet = analyzeModel("planted_resnet", withEnsemble(planted(PAPER_LIKE)));
    const vit = analyzeModel(
      "planted_vit",
      planted(PAPER_LIKE).map((l, i) => ({ ...l, layer: `cls${i}` })),
    );
    const evaluated = [resnet, vit].flatMap((a) => modelClaims(a, { ...CLAIMS, seed: 0 }));
    // Adversarial BMUs of the featured classes, as an analysis with attack labels provides them.
    for (const l of resnet.layers) {
      Object.assign(l.bmusByClass, { adversarial: l.bmusByClass.val.slice(0, 2) });
    }
    const files = await writeReport(dir, SUMMARY, [resnet, vit], evaluated, {
      resamples: 100,
      attacks: { planted_resnet: await toyAttack() },
    });
    const claims = JSON.parse(await Deno.readTextFile(files.claims));
    assertEquals(claims.claims.length, 22);
    assert(
      claims.claims.every((c: { holds: unknown }) =>
        c.holds === true || c.holds === false || c.holds === "inconclusive" ||
        c.holds === "invalid"
      ),
    );
    for (const f of files.tables.filter((p) => p.endsWith(".arrow"))) {
      const t = aq.fromArrow(await Deno.readFile(f));
      const csv = aq.fromCSV(await Deno.readTextFile(f.replace(/\.arrow$/, ".csv")));
      assertEquals(t.numRows(), csv.numRows(), f);
    }
    const ids = FIGURE_IDS;
    for (const id of ids) {
      const svg = await Deno.readTextFile(`${dir}/figures/${id}.svg`);
      assert(svg.startsWith("<svg") && svg.includes("</svg>"), id);
      const png = await Deno.readFile(`${dir}/figures/${id}.png`);
      assertEquals(Array.from(png.subarray(1, 4)), [0x50, 0x4e, 0x47], id);
    }
    const html = await Deno.readTextFile(files.report);
    assert(!/\s(src|href)="(https?:)?\/\//.test(html), "no external src/href");
    // One data set: Fig. 8 is not drawn, and its section says why in a sentence.
    assert(!html.includes('data-figure="fig08_datasets"'));
    assert(/id="fig08_datasets"[\s\S]*?Not drawn.[\s\S]*?one data set/.test(html));
    assert(!/>[^<]*−?0\.00000000/.test(html), "no rounding-noise numbers in any text");
    const outside = await openInChromium(files.report, async (page) => {
      const looks: FigureLook[] = await lookAtFigures(page);
      assertEquals(looks.map((l) => l.id).sort(), [...ids].sort());
      for (const f of looks) {
        assert(f.panels.length > 0, `${f.id}: no panels found`);
        assert(f.texts > 3, `${f.id}: no text`);
        assertEquals(f.overlaps, [], `${f.id}: overlapping text`);
        assertEquals(f.clipped, [], `${f.id}: text outside the figure`);
        for (const p of f.panels) {
          const spread = await pixelSpread(page, p);
          assert(spread > 1, `${f.id}: a ${p.width}×${p.height} panel is blank (spread ${spread})`);
        }
        const w = await page.locator(`figure[data-figure="${f.id}"] svg`).first().boundingBox();
        assert(w.width >= 600, `${f.id} is ${w.width} px wide: figures fill the page`);
      }
      // The attack section embeds the contact sheet and both predictions.
      assert((await page.locator("#attack img.sheet").count()) >= 2, "contact sheet rows");
      assert((await page.locator("#attack").textContent()).includes("adversarial:"));
      await checkExplorer(page);
    });
    assertEquals(outside, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The explorer pins a unit on click and by keyboard, and overlays the selected classes' BMUs. */
async function checkExplorer(page: Page): Promise<void> {
  const cells = page.locator("#explorer-grid .ucell");
  await cells.nth(0).hover();
  assert((await page.locator("#explorer-info").textContent())?.includes("unit 0"));
  await cells.nth(5).click();
  assertEquals(await cells.nth(5).getAttribute("aria-selected"), "true");
  await cells.nth(9).hover(); // a pinned unit stays described while hovering others
  assert((await page.locator("#explorer-info").textContent())?.includes("unit 5"));
  await page.keyboard.press("ArrowRight"); // focus is on the clicked cell
  await page.keyboard.press("Enter");
  assertEquals(await cells.nth(6).getAttribute("aria-selected"), "true");
  await page.keyboard.press("Escape");
  assertEquals(await cells.nth(6).getAttribute("aria-selected"), "false");
  // Class colour legend and labelled centres.
  assert((await page.locator("#explorer-legend .xlegrow").count()) >= 2, "class legend");
  assert((await page.locator("#explorer-grid .ucell.centre").count()) >= 2, "centres marked");
  // Toggles: SOM-tr BMUs of the selected classes are on by default; SOM-val adds marks.
  const marked = () => page.locator('#explorer-grid .ucell[data-marks*="tr"]').count();
  assert((await marked()) > 0, "SOM-tr BMUs shown");
  await page.locator("#explorer-show-val").check();
  assert((await page.locator('#explorer-grid .ucell[data-marks*="val"]').count()) > 0);
  await page.locator("#explorer-show-adv").check();
  assert((await page.locator('#explorer-grid .ucell[data-marks*="adv"]').count()) > 0);
  await page.locator("#explorer-show-tr").uncheck();
  assertEquals(await marked(), 0);
  // Unticking a selected class removes its marks.
  await page.locator("#explorer-show-tr").check();
  const before = await marked();
  await page.locator("#explorer-classes input").first().uncheck();
  assert((await marked()) < before, "class filter");
}

/** A synthetic analysed model with `C` classes: every class clusters around its own unit. */
function syntheticModel(C: number, per: number): LayerInput[] {
  const grid = { m: 20, n: 20 }, K = 400, dim = 8, k = 10;
  const labels = Array.from({ length: C * per }, (_, i) => Math.floor(i / per));
  const topk = (shift: number) =>
    Int32Array.from(
      labels.flatMap((c, i) =>
        Array.from({ length: k }, (_, j) => (c * 37 + (i % per) + j + shift) % K)
      ),
    );
  return ["CL1", "CL2", "CL3", "CL4"].map((layer, li) => ({
    layer,
    grid,
    dim,
    weights: Float32Array.from({ length: K * dim }, (_, i) => Math.sin(i * (li + 1) * 0.37)),
    losses: Float32Array.from({ length: 200 }, (_, t) => 0.2 + Math.exp(-t / 30)),
    k,
    train: { topk: topk(0), labels },
    val: { topk: topk(1), labels, correct: labels.map((_, i) => i % 4 ? 1 : 0) },
    shifts: { clean: topk(0).slice(0, 50 * k), adversarial: topk(li).slice(0, 50 * k) },
  }));
}

Deno.test("a 1000-class report stays a small self-contained file (≤ 15 MB)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "somscope_report_big_" });
  try {
    const a = analyzeModel("synthetic_1000", syntheticModel(1000, 50));
    const claims = modelClaims(a, { resamples: 20, noiseFraction: 0.1, seed: 0 });
    const files = await writeReport(dir, { ...SUMMARY, name: "1000 classes" }, [a], claims, {
      resamples: 20,
      png: false,
    });
    const size = (await Deno.stat(files.report)).size;
    console.log(`1000-class report.html: ${(size / 2 ** 20).toFixed(1)} MB`);
    assert(size <= 15 * 1024 * 1024, `report.html is ${(size / 2 ** 20).toFixed(1)} MB`);
    assert(size > 100_000, "the report has its figures");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scopeSvgIds() prefixes ids and their references only", () => {
  const s = '<svg><clipPath id="clip1"/><g clip-path="url(#clip1)" fill="url(#other)"/></svg>';
  assertEquals(
    scopeSvgIds(s, "f"),
    '<svg><clipPath id="f-clip1"/><g clip-path="url(#f-clip1)" fill="url(#other)"/></svg>',
  );
});

Deno.test("attackSheetInput() keeps flipped images first, each with its own labels", () => {
  const n = 6, e = 4;
  const ex = (id: number, label: number, adv: number) => ({
    id,
    label,
    clean: label,
    adversarial: adv,
    noise: label,
    matched: label,
    quantized: adv,
    success: adv !== label,
    advLinf: 0,
    advL2: 0,
    noiseLinf: 0,
    noiseL2: 0,
    matchedLinf: 0,
    matchedL2: 0,
  });
  // Image i is filled with its id, so a picked image can be matched to its row.
  const examples = [
    ex(10, 1, 1),
    ex(11, 2, 2),
    ex(12, 3, 5),
    ex(13, 4, 4),
    ex(14, 5, 0),
    ex(15, 6, 6),
  ];
  const clean = Float32Array.from({ length: n * e }, (_, i) => examples[Math.floor(i / e)].id);
  const r = attackSheetInput({
    summary: {} as never,
    examples,
    shape: [n, 1, 2, 2],
    clean,
    adversarial: clean.map((v) => v + 0.5),
  }, 3);
  assertEquals(r.examples.map((x) => x.id), [10, 12, 14]); // both flips, one kept, in order
  assertEquals(r.shape, [3, 1, 2, 2]);
  for (const [j, x] of r.examples.entries()) {
    assertEquals(r.clean[j * e], x.id);
    assertEquals(r.adversarial[j * e], x.id + 0.5);
  }
});
