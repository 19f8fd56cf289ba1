/**
 * Stage 4, analyses and claims: every analysis of a model from its maps, BMUs and attack BMUs,
 * then the paper's claims evaluated on them (bootstrap intervals and verdicts). Nothing here is
 * stored: a change of analysis options recomputes only this stage and the report.
 *
 * @module
 */

import { timed } from "../../manifest.ts";
import {
  analyzeModel,
  type EnsembleMap,
  type LayerInput,
  type ModelAnalysis,
  type SizedMap,
} from "../../analysis/analyze.ts";
import type { ClaimOptions, ClaimResult } from "../../analysis/claim_types.ts";
import { evaluateClaims } from "../../analysis/claims.ts";
import type { RunSummary } from "../../report/html.ts";
import type { AnalysisSettings } from "../config.ts";
import type { RunContext } from "../run_context.ts";
import type { ModelCodes } from "./codes.ts";
import type { ModelMaps } from "./soms.ts";
import type { ModelAttack } from "./attack.ts";
import type { AttackSheetInput } from "../../report/html/attack.ts";

/** The analysis stage's output for one model. */
export interface ModelResult {
  /** Every analysis. */
  analysis: ModelAnalysis;
  /** The evaluated claims. */
  claims: ClaimResult[];
  /** The model's line in the report's run summary. */
  summary: RunSummary["models"][number];
  /** The attack's summary and first images, for the report's PGD section. */
  attack?: AttackSheetInput;
}

/**
 * Runs the analyses and evaluates the claims of one model.
 *
 * @param run The run.
 * @param m The codes stage's output.
 * @param maps The SOM stage's output.
 * @param attack The attack stage's output (null without an attack).
 * @returns Analysis, claims and summary line.
 */
export async function analysesStage(
  run: RunContext,
  m: ModelCodes,
  maps: ModelMaps,
  attack: ModelAttack | null,
): Promise<ModelResult> {
  const c = run.config, tag = m.config.name;
  const inputs = layerInputs(run.config, m, maps, attack);
  const analysis = await timed(
    run.manifest,
    `${tag}/analyses`,
    () =>
      Promise.resolve(analyzeModel(tag, inputs, {
        featuredClasses: c.featuredClasses,
        density: c.bandwidth !== undefined ? { bandwidth: c.bandwidth } : undefined,
        maxCentreClasses: c.maxCentreClasses,
        seed: c.seed,
        resamples: c.resamples,
        permutations: c.permutations,
        family: m.state.family,
        logits: m.state.logits ?? undefined,
        attack: attack ? { summary: attack.summary, examples: attack.examples } : undefined,
      })),
  );
  analysis.classNames = m.state.classNames;
  const claims = await timed(
    run.manifest,
    `${tag}/claims`,
    () => Promise.resolve(modelClaims(analysis, c)),
  );
  return {
    analysis,
    claims,
    attack: attack?.sheet,
    summary: {
      name: tag,
      path: m.config.path,
      sha256: m.state.sha256,
      runtime: `extraction ${m.state.runtime ?? "?"}; SOM ${maps.backends.join("/") || "?"}`,
      layers: m.state.layers.map((l) => `${l.label} (d=${l.dim})`),
    },
  };
}

/** The settings that decide claims: replicates, seed, adjustment and thresholds. */
export type ClaimSettings =
  & Pick<AnalysisSettings, "resamples" | "noiseFraction">
  & { seed: number }
  & Partial<
    Pick<
      AnalysisSettings,
      "adjust" | "muchMoreRatio" | "muchMoreSimilarRatio" | "collapseRatio" | "keepRatio"
    >
  >;

/**
 * Evaluates the paper's claims on one model's analyses (the model's family, from its graph,
 * picks the paper figures cited).
 *
 * @param analysis The model's analyses.
 * @param settings Bootstrap replicates, the root seed, the adjustment and the claims' thresholds.
 * @returns The claims.
 *
 * @example
 * ```ts
 * import { analyzeModel } from "../../../mod.ts";
 * import { modelClaims } from "./analyses.ts";
 * import { ok } from "node:assert";
 * const grid = { m: 4, n: 4 }, dim = 2, k = 2;
 * const weights = Float32Array.from({ length: 16 * dim }, (_, i) => Math.sin(i));
 * const split = { topk: Int32Array.from([0, 1, 0, 4, 10, 11, 10, 14]), labels: [0, 0, 1, 1] };
 * const a = analyzeModel("toy", [
 *   { layer: "CL1", grid, dim, weights, losses: [0.5, 0.4], k, train: split, val: split },
 * ]);
 * const claims = modelClaims(a, { resamples: 50, noiseFraction: 0.1, seed: 0 });
 * ok(claims.length > 0 && claims.every((c) => c.model === "toy"));
 * ```
 */
export function modelClaims(
  analysis: ModelAnalysis,
  settings: ClaimSettings,
): ClaimResult[] {
  return evaluateClaims(analysis, claimOptions(settings));
}

/**
 * The claim options of a run's settings (also stated in `claims.json`).
 *
 * @param s The run's analysis settings and root seed.
 * @returns Options for `evaluateClaims`.
 *
 * @example
 * ```ts
 * import { claimOptions } from "./analyses.ts";
 * import { deepStrictEqual as assertEquals } from "node:assert";
 * assertEquals(claimOptions({ resamples: 10, noiseFraction: 0.2, seed: 1, adjust: "none" }).adjust, "none");
 * ```
 */
export function claimOptions(
  s: ClaimSettings,
): ClaimOptions {
  return {
    resamples: s.resamples,
    seed: s.seed,
    noiseFraction: s.noiseFraction,
    adjust: s.adjust,
    muchMoreRatio: s.muchMoreRatio,
    muchMoreSimilarRatio: s.muchMoreSimilarRatio,
    collapseRatio: s.collapseRatio,
    keepRatio: s.keepRatio,
  };
}

/** The analyses' inputs of every layer: main map, other sizes, seed ensemble, attack BMUs. */
function layerInputs(
  c: RunContext["config"],
  m: ModelCodes,
  maps: ModelMaps,
  attack: ModelAttack | null,
): LayerInput[] {
  const { train: labelsTrain, val: labelsVal, correct } = m.labels;
  return m.state.layers.map((layer, li) => {
    const main = maps.at(li, c.grid, 0);
    const sizes: SizedMap[] = c.sizes.filter((s) => s !== c.grid).map((s) => {
      const a = maps.at(li, s, 0);
      return {
        grid: a.grid,
        weights: a.weights,
        train: { topk: a.train.topk, distance: a.train.distance, labels: labelsTrain },
      };
    });
    const ensemble: EnsembleMap[] = [];
    for (let rep = 1; rep < c.seeds; rep++) {
      const a = maps.at(li, c.grid, rep);
      const tail = Math.max(1, Math.ceil(a.losses.length * 0.1));
      ensemble.push({
        seed: a.seed,
        weights: a.weights,
        train: { topk: a.train.topk, distance: a.train.distance, labels: labelsTrain },
        val: { topk: a.val.topk, distance: a.val.distance, labels: labelsVal },
        finalLoss: a.losses.subarray(a.losses.length - tail).reduce((s, v) => s + v, 0) / tail,
      });
    }
    return {
      layer: layer.label,
      grid: main.grid,
      dim: layer.dim,
      weights: main.weights,
      losses: main.losses,
      batchesPerEpoch: Math.ceil(labelsTrain.length / c.batch),
      k: main.train.topk.length / labelsTrain.length,
      seed: main.seed,
      train: { topk: main.train.topk, distance: main.train.distance, labels: labelsTrain },
      val: { topk: main.val.topk, distance: main.val.distance, labels: labelsVal, correct },
      sizes,
      ensemble: ensemble.length ? ensemble : undefined,
      shifts: attack
        ? { ...attack.shifts[li], labels: attack.examples?.map((e) => e.label) }
        : undefined,
    };
  });
}
