/**
 * Headless rendering of Vega-Lite specs: SVG through a Vega `View` with the `"none"` renderer
 * (no DOM, no canvas), PNG from that SVG through sharp.
 *
 * @module
 */

import * as vega from "npm:vega@6.4.0";
import * as vl from "npm:vega-lite@6.5.0";
// @ts-types="./sharp.d.ts"
import sharp from "npm:sharp@0.35.5";

/**
 * Compiles a Vega-Lite spec and renders it to an SVG string. Data must be inline: the loader is
 * replaced by one that refuses every URL, so rendering never touches the network.
 *
 * @param spec A Vega-Lite spec.
 * @returns SVG markup.
 * @throws {Error} If the spec does not compile or refers to external data.
 *
 * @example
 * ```ts
 * import { renderSvg } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const svg = await renderSvg({
 *   data: { values: [{ x: 1, y: 2 }] },
 *   mark: "point",
 *   encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
 * });
 * assertEquals(svg.startsWith("<svg"), true);
 * ```
 */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const warnings: string[] = [];
  const logger = {
    level: () => logger,
    error: (...m: unknown[]) => (warnings.push(m.join(" ")), logger),
    warn: (...m: unknown[]) => (warnings.push(m.join(" ")), logger),
    info: () => logger,
    debug: () => logger,
  };
  // Vega-Lite's warnings (e.g. unioned sort orders) are about layout choices we made on purpose.
  // deno-lint-ignore no-explicit-any
  const compiled = vl.compile(spec as any, { logger: logger as any }).spec;
  const loader = vega.loader();
  loader.load = (uri: string) =>
    Promise.reject(new Error(`Cannot render figure: it refers to ${uri} but data must be inline`));
  const view = new vega.View(vega.parse(compiled), {
    renderer: "none",
    loader,
    logLevel: vega.Error,
  });
  try {
    return _roundGeometry(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/**
 * Rounds the coordinates in geometry attributes to 2 decimals (0.01 px: invisible) so that
 * floating-point noise such as `120.00000000000001` does not bloat large figures.
 */
function _roundGeometry(svg: string): string {
  return svg.replace(
    / (d|transform|x|y|x2|y2|width|height|points)="([^"]*)"/g,
    (_, k: string, v: string) =>
      ` ${k}="${v.replace(/-?\d+\.\d{3,}/g, (n) => String(+(+n).toFixed(2)))}"`,
  );
}

/**
 * Rasterises SVG markup to PNG.
 *
 * @param svg SVG markup.
 * @param scale Pixel density relative to the SVG's size. Default 2 (print-ready).
 * @returns PNG bytes.
 *
 * @example
 * ```ts
 * import { svgToPng } from "../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const png = await svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>');
 * assertEquals(Array.from(png.subarray(1, 4)), [0x50, 0x4e, 0x47]); // "PNG"
 * ```
 */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  const buf = await sharp(new TextEncoder().encode(svg), { density: 72 * scale })
    .flatten({ background: "#ffffff" })
    .png()
    .toBuffer();
  return new Uint8Array(buf);
}
