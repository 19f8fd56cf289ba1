import { assert, assertEquals } from "./asserts.ts";
import { analyzeModel } from "../lib/analysis/analyze.ts";
import { buildFigures } from "../lib/report/figures.ts";
import { fmt, niceDomain, OKABE_ITO, round6 } from "../lib/report/figures/_common.ts";
import { heatFigure } from "../lib/report/figures/_heatmap.ts";
import { renderSvg } from "../lib/report/render.ts";
import { num } from "../lib/report/html/format.ts";
import { PAPER_LIKE, planted } from "./analysis_planted.ts";

Deno.test("niceDomain() ends on a tick above the largest value and never collapses", () => {
  const [lo, hi] = niceDomain([0.12, 0.37, 0.52]);
  assertEquals(lo, 0);
  assert(hi > 0.52 && hi <= 0.6, `top ${hi}`);
  assertEquals(niceDomain([]), [0, 1]);
  assertEquals(niceDomain([0, 0, 0]), [0, 1]);
  const [a, b] = niceDomain([-2.2e-16, -2.2e-16], false);
  assert(b - a >= 0.5, `degenerate range widened: ${a}..${b}`);
  const [c, d] = niceDomain([5, 5.0000001], false);
  assert(c < 5 && d > 5.0000001);
});

Deno.test("numbers are written to their precision: no rounding noise", () => {
  assertEquals(num(-2.220446049250313e-16), "0");
  assertEquals(fmt(2.2e-16), "0");
  assertEquals(round6(-1e-17), 0);
  assertEquals(num(0.123456), "0.123");
  assertEquals(num(-0.5), "−0.5");
  assertEquals(num(0.000123), "1.23e-4");
  assertEquals(num(null), "—");
});

Deno.test("heatFigure() gives each panel its own colour scale only when ranges differ > 10×", () => {
  const panel = (title: string, scale: number) => ({
    title,
    m: 4,
    n: 4,
    value: (i: number) => scale * (i % 5),
  });
  const shared = heatFigure([panel("a", 1), panel("b", 2)], {
    title: "t",
    colorTitle: "c",
    scheme: "viridis",
  });
  assertEquals(shared.perPanel, false);
  assertEquals(shared.range, [0, 8]);
  const own = heatFigure([panel("a", 0.001), panel("b", 1)], {
    title: "t",
    colorTitle: "c",
    scheme: "viridis",
  });
  assertEquals(own.perPanel, true);
  const json = JSON.stringify(own.spec);
  assert(json.includes('"color":"independent"'));
  assert(json.includes("range 0 – 0.004") && json.includes("range 0 – 4"), json.slice(0, 400));
});

Deno.test("buildFigures() draws Fig. 8 only for several data sets, and every figure compiles", async () => {
  const a = analyzeModel("a", planted(PAPER_LIKE));
  const b = analyzeModel("b", planted(PAPER_LIKE));
  const one = buildFigures([a, b]).map((f) => f.id);
  assert(!one.includes("fig08_datasets"));
  const figs = buildFigures([a, b], { datasets: { a: "cifar10", b: "svhn" } });
  assert(figs.some((f) => f.id === "fig08_datasets"));
  for (const f of figs) {
    const svg = await renderSvg(f.spec);
    assert(svg.startsWith("<svg"), f.id);
    // Colour-blind-safe fixed colours: only Okabe–Ito hues, never the category10 red/green pair.
    for (const c of JSON.stringify(f.spec).match(/"#[0-9a-fA-F]{6}"/g) ?? []) {
      const hex = c.slice(1, -1).toUpperCase();
      assert(Object.values(OKABE_ITO).includes(hex), `${f.id} uses ${hex}`);
    }
    assert(
      !/"(category10|tableau10|tableau20|redgreen|rainbow)"/.test(JSON.stringify(f.spec)),
      f.id,
    );
  }
  // Fig. 7: one panel per SOM size, colour = model.
  const fig7 = figs.find((f) => f.id === "fig07_centre_cd")!.spec as {
    facet: { column: { field: string } };
    spec: { layer: { encoding: { color?: { field: string } } }[] };
  };
  assertEquals(fig7.facet.column.field, "size");
  assertEquals(fig7.spec.layer[0].encoding.color?.field, "model");
});
