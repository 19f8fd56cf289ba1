/**
 * The report's PGD section: the attack's parameters as run (the paper's Table 2), clean,
 * adversarial, noise and norm-matched accuracy with success rates and perturbation norms, and a
 * contact sheet of a few images per model (clean | adversarial | amplified difference, with the
 * true label and both predictions), embedded in the page.
 *
 * @module
 */

import { type AttackResult, contactSheet } from "../../attack/attack.ts";
import { Buffer } from "node:buffer";
import { esc, num, pct } from "./format.ts";

/** One contact-sheet row: the image strip and what the model said. */
export interface AttackSheetRow {
  /** PNG of clean | adversarial | difference, base64. */
  png: string;
  /** Dataset index. */
  id: number;
  /** True label. */
  label: number;
  /** Prediction on the clean image. */
  clean: number;
  /** Prediction on the adversarial image. */
  adversarial: number;
}

/**
 * What the PGD section needs of an attack: its summary, the per-example predictions and the
 * clean and adversarial images (the run folder keeps these for the first few images only).
 */
export type AttackSheetInput = Pick<
  AttackResult,
  "summary" | "examples" | "shape" | "clean" | "adversarial"
>;

/**
 * A few attacked images of an attack with their predictions — first images the model got right
 * and the attack flipped, then one it did not flip — what the PGD section and the run folder's
 * contact sheet need, without holding every image.
 *
 * @param r An attack result.
 * @param count Images kept. Default 8.
 * @returns The trimmed attack.
 * @example
 * ```ts
 * import { attackSheetInput, runAttack } from "../../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const model = await Deno.readFile("tests/data/models/toy_cnn.onnx");
 * const pixels = new Float32Array(4 * 28 * 28).fill(0.5);
 * const dataset = {
 *   size: 4, channels: 1, height: 28, width: 28, labels: [0, 1, 2, 3],
 *   load: (ids: number[]) => Promise.resolve(pixels.slice(0, ids.length * 28 * 28)),
 * };
 * const r = await runAttack(model, dataset, { n: 4, steps: 1, batch: 4 });
 * const t = attackSheetInput(r, 2);
 * assertEquals([t.shape, t.examples.length, t.clean.length], [[2, 1, 28, 28], 2, 2 * 784]);
 * ```
 */
export function attackSheetInput(r: AttackSheetInput, count = 8): AttackSheetInput {
  const [, C, H, W] = r.shape, e = C * H * W, pick = _pick(r, count);
  const gather = (x: Float32Array) => {
    const out = new Float32Array(pick.length * e);
    pick.forEach((i, j) => out.set(x.subarray(i * e, (i + 1) * e), j * e));
    return out;
  };
  return {
    summary: r.summary,
    examples: pick.map((i) => r.examples[i]),
    shape: [pick.length, C, H, W],
    clean: gather(r.clean),
    adversarial: gather(r.adversarial),
  };
}

/**
 * The whole-result form `contactSheet` takes, for a trimmed attack (it draws clean |
 * adversarial | difference; the noise images are not used).
 *
 * @param r The trimmed attack.
 * @returns An attack result whose noise images are the clean ones.
 */
export function sheetResult(r: AttackSheetInput): AttackResult {
  return { ...r, noise: r.clean, matched: r.clean };
}

/** What the PGD section shows for one model. */
export interface AttackView {
  /** Model name. */
  model: string;
  /** The attack's summary (settings, accuracies, success rates, norms). */
  summary: AttackResult["summary"];
  /** Contact-sheet rows. */
  rows: AttackSheetRow[];
}

/**
 * Picks the contact-sheet examples: first images the model got right and the attack flipped,
 * then (to show both outcomes) one the attack did not flip, up to `count`.
 */
function _pick(r: AttackSheetInput, count: number): number[] {
  const e = r.examples.slice(0, r.shape[0]);
  const flipped = e.flatMap((x, i) => x.clean === x.label && x.adversarial !== x.label ? [i] : []);
  const kept = e.flatMap((x, i) => x.adversarial === x.label ? [i] : []);
  const out = flipped.slice(0, Math.max(1, count - (kept.length ? 1 : 0)));
  if (kept.length && out.length < count) out.push(kept[0]);
  for (let i = 0; i < e.length && out.length < count; i++) if (!out.includes(i)) out.push(i);
  return out.sort((a, b) => a - b);
}

/**
 * Builds the PGD views: for each model a few contact-sheet rows rendered with the attack
 * module's {@linkcode contactSheet} (one example each, so every row carries its own labels).
 *
 * @param attacks Attack results by model name.
 * @param count Images per model. Default 4.
 * @returns One view per model.
 * @example
 * ```ts
 * import { attackViews, runAttack } from "../../../mod.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * const model = await Deno.readFile("tests/data/models/toy_cnn.onnx");
 * const pixels = new Float32Array(4 * 28 * 28).fill(0.5);
 * const dataset = {
 *   size: 4, channels: 1, height: 28, width: 28, labels: [0, 1, 2, 3],
 *   load: (ids: number[]) => Promise.resolve(pixels.slice(0, ids.length * 28 * 28)),
 * };
 * const r = await runAttack(model, dataset, { n: 3, steps: 1, batch: 3 });
 * const [view] = await attackViews({ toy: r }, 2);
 * assertEquals([view.model, view.rows.length], ["toy", 2]);
 * ```
 */
export async function attackViews(
  attacks: Record<string, AttackSheetInput>,
  count = 4,
): Promise<AttackView[]> {
  const out: AttackView[] = [];
  for (const [model, r] of Object.entries(attacks)) {
    const [, C, H, W] = r.shape, e = C * H * W;
    const rows: AttackSheetRow[] = [];
    for (const i of _pick(r, count)) {
      const one = sheetResult({
        summary: r.summary,
        examples: [r.examples[i]],
        shape: [1, C, H, W],
        clean: r.clean.subarray(i * e, (i + 1) * e),
        adversarial: r.adversarial.subarray(i * e, (i + 1) * e),
      });
      const x = r.examples[i];
      rows.push({
        png: Buffer.from(await contactSheet(one, 1)).toString("base64"),
        id: x.id,
        label: x.label,
        clean: x.clean,
        adversarial: x.adversarial,
      });
    }
    out.push({ model, summary: r.summary, rows });
  }
  return out;
}

/** ε as a fraction of 255 when it is one (4/255), else the number. */
function _eps(x: number): string {
  const k = x * 255;
  return Math.abs(k - Math.round(k)) < 1e-6 ? `${Math.round(k)}/255` : num(x);
}

function _name(l: number, names?: string[]): string {
  return names?.[l] ? `${l} ${esc(names[l])}` : String(l);
}

/** A rate of h5's attack outcome: `{ value, interval, count, of }`. */
interface _Rate {
  value: number;
  interval: [number, number];
  count: number;
  of: number;
}

/** The parts of the analysis' attack outcome the table shows, when the analysis has them. */
interface _Outcome {
  accuracy?: Record<string, _Rate>;
  success?: { vsLabel?: _Rate; vsCleanPrediction?: _Rate; onCleanCorrect?: _Rate };
  level?: number;
}

/** "77.8 % [70.1 %, 84.0 %] (389 of 500)" from an outcome rate, else the summary's share. */
function _rate(r: _Rate | undefined, share: number): string {
  if (!r || !Number.isFinite(r.value)) return pct(share);
  const iv = r.interval && Number.isFinite(r.interval[0])
    ? ` [${pct(r.interval[0])}, ${pct(r.interval[1])}]`
    : "";
  return `${pct(r.value)}${iv} (${r.count} of ${r.of})`;
}

function _table(v: AttackView, outcome: _Outcome | undefined): string {
  const s = v.summary, a = s.accuracy, st = s.settings, o = outcome?.accuracy;
  const norm = (k: "adversarial" | "noise" | "matched") =>
    `L∞ mean ${num(s.norms[k].linf.mean)} (max ${num(s.norms[k].linf.max)}), L2 mean ${
      num(s.norms[k].l2.mean)
    } (max ${num(s.norms[k].l2.max)})`;
  const level = outcome?.level ? ` (${Math.round(outcome.level * 100)} % Wilson intervals)` : "";
  const art = outcome?.success?.vsCleanPrediction;
  return `<table class="small">
<tr><th colspan="2">parameters as run (paper's Table 2)</th></tr>
<tr><td>attack</td><td>PGD on the cross-entropy loss, L∞ ball, random start uniform in [−ε, ε], ${st.steps} steps of ${
    _eps(st.stepSize)
  } (ε × ${num(st.stepSize / (st.eps || 1))})</td></tr>
<tr><td>ε (budget)</td><td>${_eps(st.eps)}</td></tr>
<tr><td>images attacked</td><td>${s.n} validation images, batches of ${st.batch}</td></tr>
<tr><td>runtime</td><td>${esc(st.runtime)}</td></tr>
<tr><th colspan="2">outcome${level}</th></tr>
<tr><td>top-1 accuracy, clean</td><td><b>${_rate(o?.clean, a.clean)}</b></td></tr>
<tr><td>top-1 accuracy, adversarial</td><td><b>${_rate(o?.adversarial, a.adversarial)}</b></td></tr>
<tr><td>top-1 accuracy, uniform noise in [0, ε] per pixel (the paper's control)</td><td>${
    _rate(o?.noise, a.noise)
  }</td></tr>
<tr><td>top-1 accuracy, random ±sign noise with each adversarial image's L∞ norm</td><td>${
    _rate(o?.matched, a.matched)
  }</td></tr>
<tr><td>top-1 accuracy, adversarial saved as 8-bit image</td><td>${
    _rate(o?.quantized, a.quantized)
  }</td></tr>
<tr><td>attack success: adversarial prediction ≠ label</td><td>${
    _rate(outcome?.success?.vsLabel, s.successRate)
  }</td></tr>
${
    art
      ? `<tr><td>attack success: prediction changed from the clean one (as ART counts)</td><td>${
        _rate(art, art.value)
      }</td></tr>`
      : ""
  }
<tr><td>of the images the model got right, flipped</td><td>${
    _rate(outcome?.success?.onCleanCorrect, s.successRateOnCorrect)
  }</td></tr>
<tr><td>successes surviving 8-bit quantisation</td><td>${s.quantized.stillSucceed} of ${s.quantized.of}</td></tr>
<tr><td>adversarial perturbation</td><td>${norm("adversarial")}</td></tr>
<tr><td>noise perturbation</td><td>${norm("noise")}</td></tr>
</table>`;
}

function _sheet(v: AttackView, names?: string[]): string {
  if (!v.rows.length) return "<p>No attacked images to show.</p>";
  const rows = v.rows.map((r) =>
    `<tr><td><img class="sheet" alt="image ${r.id}: clean, adversarial, difference" src="data:image/png;base64,${r.png}"></td><td>image ${r.id}<br>true: <b>${
      _name(r.label, names)
    }</b><br>clean: ${_name(r.clean, names)}${r.clean === r.label ? " ✓" : " ✗"}<br>adversarial: ${
      _name(r.adversarial, names)
    }${r.adversarial === r.label ? " ✓" : " ✗"}</td></tr>`
  ).join("");
  return `<table class="small sheet"><tr><th>clean | adversarial | difference (×${
    num(0.5 / (v.summary.settings.eps || 1))
  }, grey = 0)</th><th>predictions</th></tr>${rows}</table>`;
}

/**
 * The PGD section.
 *
 * @param views One view per attacked model.
 * @param classNames Class names by label.
 * @param outcomes The analyses' attack outcomes by model (intervals), when they have them.
 * @param claims HTML of the claims tested on the attack (`Table 2`), by model.
 * @returns HTML.
 */
export function attackSection(
  views: readonly AttackView[],
  classNames?: string[],
  outcomes: Record<string, unknown> = {},
  claims: Record<string, string> = {},
): string {
  if (!views.length) {
    return `<section id="attack"><h2>The attack: PGD against each model</h2>
<p>This run did not attack its models, so there is no adversarial outcome or contact sheet.</p></section>`;
  }
  const parts = views.map((v) =>
    `<h3>${esc(v.model)}</h3><div class="attack">${
      _table(v, outcomes[v.model] as _Outcome | undefined)
    }${_sheet(v, classNames)}</div>${claims[v.model] ?? ""}`
  ).join("\n");
  return `<section id="attack"><h2>The attack: PGD against each model</h2>
<p>Projected gradient descent (SPEC §5) on validation images: each image moves within an L∞ ball
of radius ε around itself to raise the model's loss; random noise of the same budget is the
control. The BMU shifts of Figs. 11 and 12 compare the two on every layer's map.</p>
${parts}</section>`;
}
