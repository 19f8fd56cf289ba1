/**
 * Stage 1, codes: load a model, open both splits, sample SOM-tr and SOM-val per class, and
 * extract the layers' vector codes (through the shared codes cache). The model's state and
 * labels are kept in the run folder; the codes themselves are extracted only when a later stage
 * needs them (a resumed run whose SOMs are all stored needs no model work).
 *
 * @module
 */

import { DataFormatError } from "../../errors.ts";
import { timed } from "../../manifest.ts";
import { Rng } from "../../rng.ts";
import { openDataset } from "../../data/dataset.ts";
import type { Dataset } from "../../data/types.ts";
import { samplePerClass } from "../../data/sampling.ts";
import { type LoadedModel, loadModel, sha256Hex } from "../../model/load.ts";
import { validateModel } from "../../grad/validate.ts";
import { extractCodes, type ExtractOptions, type ExtractResult } from "../../extract/extract.ts";
import type { Shard } from "../../extract/shard.ts";
import type { ModelConfig } from "../config.ts";
import { recordRuntime, type RunContext } from "../run_context.ts";
import { codesKey, type ModelLabels, type ModelState } from "../run_folder.ts";

/** SOM-tr and SOM-val codes of a model. */
export interface SplitCodes {
  /** SOM-tr. */
  train: ExtractResult;
  /** SOM-val. */
  val: ExtractResult;
}

/** What model work needs: the loaded model, the opened splits, the samples, the options. */
export interface ModelSource {
  /** The loaded model. */
  model: LoadedModel;
  /** Training split. */
  train: Dataset;
  /** Validation split. */
  val: Dataset;
  /** SOM-tr indices into `train`. */
  trainIndices: Int32Array;
  /** SOM-val indices into `val`. */
  valIndices: Int32Array;
  /** Examples per class sampled. */
  counts: { train: number[]; val: number[] };
  /** Identities of the two splits. */
  dataIdentity: { train: string; val: string };
  /** Extraction options of this model (layers, normalisation, runtime, GPU, progress). */
  extract: ExtractOptions;
}

/** The codes stage's output for one model. */
export interface ModelCodes {
  /** The model's configuration. */
  config: ModelConfig;
  /** Its state (layers, class names, codes key). */
  state: ModelState;
  /** SOM-tr/SOM-val labels and SOM-val correctness. */
  labels: ModelLabels;
  /** Model, data and options; null in a report-only run. */
  source: ModelSource | null;
  /**
   * The codes (extracted on first call; the result is kept, but its layers' codes stay in the
   * codes cache: `layers[i].read()` loads one).
   */
  codes: () => Promise<SplitCodes>;
}

/**
 * Runs the codes stage for one model.
 *
 * @param run The run.
 * @param mc The model.
 * @returns State, labels and lazily extracted codes.
 * @throws {DataFormatError} On unreadable data or a class present only in SOM-val.
 * @throws {RunFolderError} Report-only, when the model's state is missing.
 */
export async function codesStage(run: RunContext, mc: ModelConfig): Promise<ModelCodes> {
  const source = run.folder.analysisOnly ? null : await _openSource(run, mc);
  let codes: SplitCodes | null = null;
  // Lazy: the codes stay in the cache and the SOM stage reads one layer at a time.
  const lazy = { ...source?.extract, lazy: true };
  const extract = (): Promise<SplitCodes> =>
    timed(run.manifest, `${mc.name}/codes`, async () => ({
      train: await extractCodes(source!.model, source!.train, source!.trainIndices, {
        ...lazy,
        progress: !run.quiet && { context: `${mc.name} SOM-tr` },
      }),
      val: await extractCodes(source!.model, source!.val, source!.valIndices, {
        ...lazy,
        progress: !run.quiet && { context: `${mc.name} SOM-val` },
      }),
    }));
  const key = source ? await _codesKey(source, mc) : null;
  const { state, labels } = await run.folder.loadOrCompute({
    what: `the state of model ${mc.name}`,
    load: () => run.folder.readModel(mc.name, key),
    compute: async () => {
      codes = await extract();
      return { state: _state(mc, key!, source!, codes), labels: _labels(codes) };
    },
    save: (v) => run.folder.writeModel(v.state, v.labels),
  });
  recordRuntime(run, mc.name, "extraction", state.runtime);
  return {
    config: mc,
    state,
    labels,
    source,
    codes: async () => (codes ??= await extract()),
  };
}

/** What opening a model's source needs of a run (a shard job has no run folder). */
export type SourceContext = Pick<
  RunContext,
  "config" | "manifest" | "streams" | "inputs" | "gpu" | "quiet"
>;

/**
 * Runs only shard `shard` of one model's extraction (SOM-tr and SOM-val, each cut at whole
 * batches) into the shared codes cache; nothing is written to a run folder. A later full run
 * with the same settings finds every shard's rows there and computes nothing.
 *
 * @param run The shard job's context.
 * @param mc The model.
 * @param shard The shard.
 * @returns Both splits' results for the shard's slices.
 * @throws {DataFormatError} On unreadable data or a class present only in SOM-val.
 */
export async function codesShard(
  run: SourceContext,
  mc: ModelConfig,
  shard: Shard,
): Promise<SplitCodes> {
  const s = await _openSource(run, mc);
  const options = { ...s.extract, shard };
  return await timed(run.manifest, `${mc.name}/codes`, async () => ({
    train: await extractCodes(s.model, s.train, s.trainIndices, options),
    val: await extractCodes(s.model, s.val, s.valIndices, options),
  }));
}

/** Loads the model, opens and checks both splits, samples them and records the inputs. */
async function _openSource(run: SourceContext, mc: ModelConfig): Promise<ModelSource> {
  const c = run.config, tag = mc.name;
  const model = await timed(run.manifest, `${tag}/load`, () => loadModel(mc.path));
  const dsOpts = {
    channels: (model.input.channels ?? undefined) as 1 | 3 | undefined,
    height: model.input.height ?? undefined,
    width: model.input.width ?? undefined,
    // Labels become the model's logit indices (ImageNet wnid folders, --class-index) or fail.
    logits: model.logits.classes ?? undefined,
    classIndex: c.classIndex,
  };
  const [train, val] = await timed(run.manifest, `${tag}/data`, () =>
    Promise.all([
      openDataset(c.data, { split: "train", ...dsOpts }),
      openDataset(c.data, { split: "val", ...dsOpts }),
    ]));
  // Before codes and SOMs: N×K logits, the classes within K and, when the run attacks, a
  // derivable gradient graph (an unsupported op fails here, naming the op and the node).
  await timed(run.manifest, `${tag}/validate`, () =>
    validateModel(model, {
      inputShape: [train.channels, train.height, train.width],
      classes: Math.max(train.classes.length, val.classes.length),
      gradients: c.attackN > 0,
      normalize: mc.normalize,
      // The attack stage's PGD graph (runAttack's default batch of 16), derived once.
      batch: Math.min(16, c.attackN, val.size),
      name: tag,
    }));
  const trSet = new Set(train.labels),
    missing = [...new Set(val.labels)].filter((l) => !trSet.has(l));
  if (missing.length) {
    throw new DataFormatError(
      `Cannot reproduce: class(es) ${
        missing.map((l) => val.classes[l] ?? l).join(", ")
      } are present in the validation split but not in the training split; expected ` +
        "every validation class to have training examples",
    );
  }
  run.streams["sample-train"] = "sample-train";
  run.streams["sample-val"] = "sample-val";
  const rng = new Rng(c.seed);
  const trS = samplePerClass(train.labels, c.perClass, rng.stream("sample-train"), {
    allowFewer: c.allowFewer,
    classNames: train.classes,
  });
  const vaS = samplePerClass(val.labels, c.valPerClass, rng.stream("sample-val"), {
    allowFewer: c.allowFewer,
    classNames: val.classes,
  });
  const dataIdentity = { train: await train.identity(), val: await val.identity() };
  const counts = { train: trS.counts, val: vaS.counts };
  run.inputs[tag] = {
    model: mc.path,
    sha256: model.sha256,
    data: c.data,
    dataIdentity: {
      train: await sha256Hex(dataIdentity.train),
      val: await sha256Hex(dataIdentity.val),
    },
    labels: train.labelMapping?.note,
    counts,
  };
  return {
    model,
    train,
    val,
    trainIndices: trS.indices,
    valIndices: vaS.indices,
    counts,
    dataIdentity,
    extract: {
      layers: mc.layers ?? "auto",
      normalize: mc.normalize,
      runtime: c.runtime,
      ctx: run.gpu ?? undefined,
      progress: run.quiet ? false : undefined,
    },
  };
}

async function _codesKey(s: ModelSource, mc: ModelConfig): Promise<string> {
  return await codesKey({
    model: s.model.sha256,
    data: s.dataIdentity,
    train: s.trainIndices,
    val: s.valIndices,
    layers: mc.layers ?? "auto",
    normalize: mc.normalize ?? "none",
  });
}

function _state(mc: ModelConfig, key: string, s: ModelSource, codes: SplitCodes): ModelState {
  return {
    key,
    model: mc.name,
    path: mc.path,
    sha256: s.model.sha256,
    layers: codes.train.layers.map((l) => ({ label: l.label, tensor: l.tensor, dim: l.dim })),
    classNames: s.train.classes,
    counts: s.counts,
    runtime: codes.train.runtime?.kind ?? codes.val.runtime?.kind ?? "cache",
    dataIdentity: s.dataIdentity,
    family: codes.train.layerList.family,
    logits: s.model.logits.classes,
  };
}

function _labels(codes: SplitCodes): ModelLabels {
  return {
    train: codes.train.labels,
    val: codes.val.labels,
    correct: Int32Array.from(codes.val.correct),
  };
}
