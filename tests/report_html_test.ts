// node:assert directly: tests/asserts.ts does not type-check beside sharp's @types/node.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import * as aq from "npm:arquero@8.0.3";
import { analyzeModel, type LayerInput } from "../lib/analysis/analyze.ts";
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
    const ctx = await browser.newContext();
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
      if (r.url() !== url && !outside.includes(r.url())) outside.push(r.url());
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

Deno.test("writeReport() writes claims, tables, figures and a page that shows every figure offline", async () => {
  const dir = await Deno.makeTempDir({ prefix: "somscope_report_" });
  try {
    const resnet = analyzeModel("planted_resnet", withEnsemble(planted(PAPER_LIKE)));
    const vit = analyzeModel(
      "planted_vit",
      planted(PAPER_LIKE).map((l, i) => ({ ...l, layer: `cls${i}` })),
    );
    const evaluated = [resnet, vit].flatMap((a) => modelClaims(a, { ...CLAIMS, seed: 0 }));
    const files = await writeReport(dir, SUMMARY, [resnet, vit], evaluated, { resamples: 100 });
    const claims = JSON.parse(await Deno.readTextFile(files.claims));
    assertEquals(claims.claims.length, 18);
    assert(
      claims.claims.every((c: { holds: unknown }) =>
        c.holds === true || c.holds === false || c.holds === "inconclusive"
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
    const outside = await openInChromium(files.report, async (page) => {
      for (const id of ids) {
        const fig = page.locator(`figure[data-figure="${id}"] svg`).first();
        assert(await fig.isVisible(), `${id} visible`);
        const box = await fig.boundingBox();
        assert(box && box.width > 100 && box.height > 100, `${id} has a size`);
        const marks = await page.locator(
          `figure[data-figure="${id}"] svg path, figure[data-figure="${id}"] svg line`,
        ).count();
        assert(marks > 10, `${id} has marks (${marks})`);
      }
      // Hovering a unit lists the classes mapped there.
      await page.locator("#explorer-grid .ucell").nth(0).hover();
      const info = await page.locator("#explorer-info").textContent();
      assert(info?.includes("unit 0"), info ?? "");
      assertEquals(await page.locator(".claim").count() > 10, true);
    });
    assertEquals(outside, []);
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
