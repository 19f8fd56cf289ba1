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
  const prog = new Progress(`${tag}: SOMs`, plan.length, { unit: "map", quiet: run.quiet });
  await timed(run.manifest, `${tag}/soms`, async () => {
    for (const p of plan) {
      const art = await _map(run, m, p);
      if (art.backend) backends.add(art.backend);
      maps.set(`${p.li}/${p.size}/${p.rep}`, art);
      prog.tick();
    }
  });
  prog.done();
  recordRuntime(run, tag, "som", [...backends]);
  const at = (li: number, size: number, rep: number) => maps.get(`${li}/${size}/${rep}`)!;
  return { at, main: m.state.layers.map((_, li) => at(li, c.grid, 0)), backends: [...backends] };
}

/** One map: from the run folder, or trained and stored. */
async function _map(run: RunContext, m: ModelCodes, p: PlannedMap): Promise<MapArtefacts> {
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
      trained = await _train(run, m, p, seed, dir);
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
async function _train(run: RunContext, m: ModelCodes, p: PlannedMap, seed: number, dir: string) {
  const c = run.config;
  const codes = await m.codes();
  const tr = codes.train.layers[p.li], va = codes.val.layers[p.li];
  const som = new Som({
    m: p.size,
    n: p.size,
    dim: tr.dim,
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
    await som.train(tr.codes);
    const k = Math.min(c.k, p.size * p.size);
    const train = await som.topk(tr.codes, k), val = await som.topk(va.codes, k);
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
