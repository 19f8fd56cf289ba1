/**
 * Stage 2, SOMs and their BMUs: for every layer, a map at every size once and at the main size
 * `seeds` times, each trained on SOM-tr codes and queried for the top-k BMUs of SOM-tr and
 * SOM-val. Each map is a run-folder artefact keyed by its codes, size, seed and settings.
 *
 * @module
 */

import { timed } from "../../manifest.ts";
import { Progress } from "../../progress.ts";
import { Som } from "../../som/som.ts";
import { recordRuntime, type RunContext, streamSeed } from "../run_context.ts";
import { type LayerState, type MapArtefacts, mapKey } from "../run_folder.ts";
import type { ModelCodes } from "./codes.ts";

/** The SOMs of one model. */
export interface ModelMaps {
  /**
   * The map of a layer at a size and seed replicate.
   *
   * @param layer Layer position.
   * @param size Grid side.
   * @param rep Seed replicate (0 = the main map).
   * @returns The map.
   */
  at(layer: number, size: number, rep: number): MapArtefacts;
  /** The main map (main size, replicate 0) of each layer. */
  main: MapArtefacts[];
  /** Backends that trained the maps. */
  backends: string[];
}

interface PlannedMap {
  layer: LayerState;
  li: number;
  size: number;
  rep: number;
}

/**
 * Runs the SOM stage for one model.
 *
 * @param run The run.
 * @param m The codes stage's output.
 * @returns Every map of the model.
 */
export async function somsStage(run: RunContext, m: ModelCodes): Promise<ModelMaps> {
  const c = run.config, tag = m.config.name;
  const plan: PlannedMap[] = [];
  m.state.layers.forEach((layer, li) => {
    for (const size of c.sizes) {
      const reps = size === c.grid ? c.seeds : 1;
      for (let rep = 0; rep < reps; rep++) plan.push({ layer, li, size, rep });
    }
  });
  const maps = new Map<string, MapArtefacts>();
  const backends = new Set<string>();
  const codes = _layerSlot(m);
  const prog = new Progress("SOMs", plan.length, {
    unit: "maps",
    context: `${tag} (${m.state.layers.map((l) => l.label).join(", ")}; sizes ${
      c.sizes.join(", ")
    })`,
    quiet: run.quiet,
  });
  await timed(run.manifest, `${tag}/soms`, async () => {
    for (const p of plan) {
      const art = await _map(run, m, p, codes);
      if (art.backend) backends.add(art.backend);
      maps.set(`${p.li}/${p.size}/${p.rep}`, art);
      prog.tick();
    }
  });
  prog.done();
  codes.drop();
  recordRuntime(run, tag, "som", [...backends]);
  const at = (li: number, size: number, rep: number) => maps.get(`${li}/${size}/${rep}`)!;
  return { at, main: m.state.layers.map((_, li) => at(li, c.grid, 0)), backends: [...backends] };
}

/** Layers whose SOM-tr plus SOM-val codes take at most this many bytes keep both in memory. */
const BOTH_SPLITS_BYTES = 1 << 30;

/**
 * One layer's codes at a time, read from the codes cache when a map of that layer needs them
 * (the plan is in layer order): memory never holds every layer's codes. A layer whose SOM-tr and
 * SOM-val codes together exceed {@linkcode BOTH_SPLITS_BYTES} keeps one split at a time (read
 * again when the next map needs it: ResNet50's CL4 on 50 + 50 per class of ImageNet is 1.6 GB
 * per split).
 */
function _layerSlot(m: ModelCodes) {
  const held = new Map<string, Promise<Float32Array>>();
  return {
    split(layer: LayerState, li: number, split: "train" | "val"): Promise<Float32Array> {
      const key = `${li}/${split}`;
      let codes = held.get(key);
      if (!codes) {
        const rows = m.labels.train.length + m.labels.val.length;
        const both = rows * layer.dim * 4 <= BOTH_SPLITS_BYTES;
        // Let go of what this read replaces before reading.
        for (const k of [...held.keys()]) if (!both || !k.startsWith(`${li}/`)) held.delete(k);
        codes = m.codes().then((c) => c[split].layers[li].read());
        held.set(key, codes);
      }
      return codes;
    },
    drop(): void {
      held.clear();
    },
  };
}

/** One map: from the run folder, or trained and stored. */
async function _map(
  run: RunContext,
  m: ModelCodes,
  p: PlannedMap,
  codes: ReturnType<typeof _layerSlot>,
): Promise<MapArtefacts> {
  const c = run.config, tag = m.config.name;
  const seed = streamSeed(run, `som/${tag}/${p.layer.label}/${p.size}/${p.rep}`);
  const dir = run.folder.mapDir(tag, p.layer.label, p.size, p.rep);
  const key = run.folder.analysisOnly ? null : await mapKey({
    state: m.state.key,
    tensor: p.layer.tensor,
    size: p.size,
    seed,
    epochs: c.epochs,
    batch: c.batch,
    sigma0: c.sigma0,
    alpha0: c.alpha0,
    k: c.k,
  });
  let trained: { som: Som; art: MapArtefacts; bmus: Parameters<typeof run.folder.writeMap>[3] };
  return await run.folder.loadOrCompute({
    what: `the SOMs or BMUs of ${tag}`,
    load: () => run.folder.readMap(dir, key),
    compute: async () => {
      trained = await _train(run, p, seed, dir, codes);
      return trained.art;
    },
    save: async () => {
      try {
        await run.folder.writeMap(dir, key!, trained.som, trained.bmus);
      } finally {
        trained.som.dispose();
      }
    },
  });
}

/** Trains one map and takes its top-k BMUs of SOM-tr and SOM-val (the map stays open). */
async function _train(
  run: RunContext,
  p: PlannedMap,
  seed: number,
  dir: string,
  codes: ReturnType<typeof _layerSlot>,
) {
  const c = run.config;
  const som = new Som({
    m: p.size,
    n: p.size,
    dim: p.layer.dim,
    sigma0: c.sigma0,
    alpha0: c.alpha0,
    batchSize: c.batch,
    epochs: c.epochs,
    seed,
    backend: c.backend,
    ctx: run.gpu ?? undefined,
    layer: p.layer.label,
  });
  try {
    const k = Math.min(c.k, p.size * p.size);
    // Each split's codes are referenced only inside its own call, so a large layer's SOM-tr
    // codes can go before its SOM-val codes are read.
    const train = await (async () => {
      const x = await codes.split(p.layer, p.li, "train");
      await som.train(x);
      return await som.topk(x, k);
    })();
    const val = await som.topk(await codes.split(p.layer, p.li, "val"), k);
    const head = som.toJSON();
    const art: MapArtefacts = {
      grid: { m: head.m, n: head.n },
      seed: head.seed,
      weights: som.weights.slice(),
      losses: Float32Array.from(head.losses),
      train: { topk: train.index, distance: train.distance },
      val: { topk: val.index, distance: val.distance },
      dir,
      backend: head.backend ?? null,
    };
    return { som, art, bmus: { train, val, k } };
  } catch (e) {
    som.dispose();
    throw e;
  }
}
