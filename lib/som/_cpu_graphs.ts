/**
 * ONNX graphs for the SOM's fast CPU path (run by onnxruntime-node, i.e. MLAS SGEMM).
 *
 * - {@linkcode epochGraph}: a whole run of batches as one `Scan`, so the per-call overhead of
 *   onnxruntime (~50 µs) is paid once per epoch instead of once per batch.
 * - {@linkcode topkGraph}: cosine distances of a chunk of rows to all units, then `TopK`.
 *
 * Private: only `cpu_backend.ts` uses these.
 *
 * @module
 */

import {
  DT,
  encodeModel,
  type GraphLike,
  model,
  node,
  type NodeLike,
  tensor,
  valueInfo,
} from "../onnx/proto.ts";

/** Floor of the cosine-distance norms (SOM.md "Metric"). */
const EPS = 1e-8;

/** Graph options of {@linkcode epochGraph}. */
export interface EpochGraphOptions {
  /**
   * Carry the weights as `W = diag(a)·V` so that an update is a Gemm into `V`
   * (`V ← V + (H'/a')ᵀX`, `a ← a·g`) with no scaling pass over `W`. Needs
   * `g = 1 − Σ_r H'_r > 0`, i.e. `α < 1`, and a bounded run length so that `a` stays far from
   * float32 underflow (the caller splits runs). `W = a·V` is formed once at the end.
   */
  scaled: boolean;
  /**
   * Batches per `Scan` step (scaled form only; default 1). The step makes one pass over `V` for
   * all their distances and one for all their updates; see {@linkcode epochGraph}.
   */
  unroll?: number;
}

/**
 * One epoch of QuickSOM mini-batch training as a `Scan` over its batches.
 *
 * Graph inputs: `W0` (`K×d`), `nsq0` (`1×K` float64: `‖w‖²` of `W0`, exact), `data` (`N×d`), `idx` (`S×UB` int32 row indices: `U` batches of
 * `B` rows per scan step), `negInv` (`S×U`: `−1/(2σ²+1e-5)` per batch), `c` (`S×U`: `α/b` per
 * batch). Row norms `max(‖x‖,1e-8)` come from the diagonal of the step's Gram matrix `XXᵀ`.
 * Outputs: `W` (weights after the last batch), `dmin` (`S×UB`: each row's BMU distance, i.e. the
 * loss terms) and `bmu` (`S×UB` int64). `N` and `S` are symbolic; leftover batches and a short
 * last batch get graphs with `U = 1` (and `B = b`).
 *
 * Each batch computes, with the pre-batch weights `W`:
 * `dist = 1 − XWᵀ / (max(‖x‖,1e-8)·max(‖w‖,1e-8))`, `bmu = ArgMin(dist)` (first index on ties),
 * `H' = c·exp(D2[bmu]·negInv)`, `g = 1 − Σ_r H'_r`, `W ← W·g + H'ᵀX` (`b×K×d` is never formed).
 *
 * Why `U` batches share two passes over `V`: with `Hv_j = H'_j/a_{j+1}`, the weights before
 * batch `u` of a step are `diag(a_u)(V + Σ_{j<u} Hv_jᵀX_j)`, so batch `u`'s products are
 * `X_uV_uᵀ = (X_uVᵀ) + Σ_{j<u} (X_uX_jᵀ)Hv_j`: one `UB×K` Gemm against `V` for the whole step
 * plus `B×B`-by-`B×K` corrections, and the step's updates are one Gemm
 * `V ← V + [Hv_0;…]ᵀ[X_0;…]`. On 2 cores `K×d` passes, not FLOPs, bound large `d`.
 *
 * Why the norms are tracked: a reduction over `W` costs as much as the update itself, and
 * `‖w'‖² = g²‖w‖² + Σ_r H'_r (2g·(x_r·w) + Σ_s (x_r·x_s) H'_s)` needs only the products `XWᵀ`
 * (already computed for the distances) and the Gram matrix `XXᵀ`. It is carried in float64 and
 * recomputed exactly (`nsq0`) at the start of every call, so the drift stays at float32
 * rounding level for the run lengths the caller uses.
 *
 * @param K Units.
 * @param d Code dimension.
 * @param B Rows per batch.
 * @param d2 `K×K` squared grid distances.
 * @param options Weight representation and unrolling.
 * @returns Model bytes.
 */
export function epochGraph(
  K: number,
  d: number,
  B: number,
  d2: Float32Array,
  options: EpochGraphOptions = { scaled: true },
): Uint8Array {
  const scaled = options.scaled, U = options.unroll ?? 1;
  if (!scaled && U !== 1) throw new RangeError(`unroll ${U} needs the scaled form`);
  const UB = U * B;
  const g: _StepGraph = {
    B,
    U,
    scaled,
    nodes: [],
    inits: [
      tensor("eps", [], new Float32Array([EPS])),
      tensor("one", [], new Float32Array([1])),
      tensor("twod", [], new Float64Array([2])),
      tensor("ones1B", [1, B], new Float32Array(B).fill(1)),
      tensor("ones1Bd", [1, B], new Float64Array(B).fill(1)),
      ...(U > 1 ? [tensor("ax0", [1], [0]), tensor("ax01", [2], [0, 1])] : []),
      tensor("flat", [1], [-1]),
      tensor("diagIdx", [UB, 1], Array.from({ length: UB }, (_, i) => i * (UB + 1))),
    ],
    hvs: [],
    dmins: [],
    bmus: [],
    a: "ai",
    nsq: "nsqi",
  };
  const { nodes, inits } = g;
  nodes.push(
    node("Gather", ["data", "IX"], ["Xall"], { axis: 0 }),
    // V·Xᵀ (K×UB) packs only the small X; the rest works on rows of the batch.
    node("Gemm", ["Vi", "Xall"], ["PT"], { transB: 1 }),
    node("Transpose", ["PT"], ["P"], { perm: [1, 0] }),
    node("Gemm", ["Xall", "Xall"], ["Gall"], { transB: 1 }),
    // ‖x‖ from the Gram diagonal (a Gather, so a NaN row cannot leak into the others' norms).
    node("Reshape", ["Gall", "flat"], ["Gflat"]),
    node("Gather", ["Gflat", "diagIdx"], ["xss"], { axis: 0 }),
    node("Sqrt", ["xss"], ["xnr"]),
    node("Max", ["xnr", "eps"], ["XN"]),
  );
  for (let u = 0; u < U; u++) _batchStep(g, u);
  if (scaled) {
    if (U > 1) nodes.push(node("Concat", g.hvs, ["HvAll"], { axis: 0 }));
    nodes.push(node("Gemm", [U > 1 ? "HvAll" : g.hvs[0], "Xall", "Vi"], ["Vo"], { transA: 1 }));
  } else {
    nodes.push(node("Gemm", ["Hc_0", "Xall", "Wg_0"], ["Vo"], { transA: 1 }));
  }
  if (U > 1) {
    nodes.push(
      node("Concat", g.dmins, ["dmino"], { axis: 0 }),
      node("Concat", g.bmus, ["bmuo"], { axis: 0 }),
    );
  } else {
    nodes.push(
      node("Identity", [g.dmins[0]], ["dmino"]),
      node("Identity", [g.bmus[0]], ["bmuo"]),
    );
  }
  if (!scaled) inits.push(tensor("shK1", [2], [K, 1]));
  if (U === 1) inits.push(tensor("sh0", [0], []));
  // The state Scan carries from batch to batch: V (W = diag(a)·V), a and the squared norms.
  const carried: [name: string, type: number, shape: number[]][] = [
    ["V", DT.FLOAT, [K, d]],
    ["a", DT.FLOAT, [1, K]],
    ["nsq", DT.DOUBLE, [1, K]],
  ];
  const body: GraphLike = {
    name: "som_batches",
    node: nodes,
    initializer: inits,
    // Scan's body: the loop-carried state in and out (same types and shapes, same order), then
    // one step's scan slices (its rows of idx, negInv and c; its dmin and bmu rows).
    input: [
      ...carried.map(([name, type, shape]) => valueInfo(`${name}i`, type, shape)),
      valueInfo("IX", DT.INT32, [UB]),
      valueInfo("NI", DT.FLOAT, [U]),
      valueInfo("CI", DT.FLOAT, [U]),
    ],
    output: [
      ...carried.map(([name, type, shape]) => valueInfo(`${name}o`, type, shape)),
      valueInfo("dmino", DT.FLOAT, [UB]),
      valueInfo("bmuo", DT.INT64, [UB]),
    ],
  };
  return encodeModel(model(_scanGraph(body, K, d, UB, U, d2, scaled), { opset: 17 }));
}

/** The scan body under construction: its nodes, initializers and the running names. */
interface _StepGraph {
  B: number;
  U: number;
  scaled: boolean;
  nodes: NodeLike[];
  inits: ReturnType<typeof tensor>[];
  hvs: string[];
  dmins: string[];
  bmus: string[];
  /** Name of the current weight scale `a` and squared norms. */
  a: string;
  nsq: string;
}

/** Rows [from, to) of a tensor (and optionally columns [c0, c1)) as a Slice node. */
function _slice(
  g: _StepGraph,
  src: string,
  out: string,
  from: number,
  to: number,
  cols?: [number, number],
): void {
  g.inits.push(
    tensor(`${out}_s`, cols ? [2] : [1], cols ? [from, cols[0]] : [from]),
    tensor(`${out}_e`, cols ? [2] : [1], cols ? [to, cols[1]] : [to]),
  );
  g.nodes.push(node("Slice", [src, `${out}_s`, `${out}_e`, cols ? "ax01" : "ax0"], [out]));
}

/** Batch `u` of a scan step: its inputs, distances and BMUs, update, and tracked norms. */
function _batchStep(g: _StepGraph, u: number): void {
  const { B, U, scaled, nodes } = g;
  const t = (x: string) => `${x}_${u}`;
  const last = u === U - 1;
  if (U === 1) {
    nodes.push(
      node("Identity", ["P"], [t("Pu")]),
      node("Identity", ["Gall"], [t("G")]),
      node("Identity", ["XN"], [t("xn")]),
      node("Reshape", ["NI", "sh0"], [t("nI")]),
      node("Reshape", ["CI", "sh0"], [t("ci")]),
    );
  } else {
    _slice(g, "P", t("Pu"), u * B, (u + 1) * B);
    _slice(g, "Gall", t("G"), u * B, (u + 1) * B, [u * B, (u + 1) * B]);
    _slice(g, "XN", t("xn"), u * B, (u + 1) * B);
    g.inits.push(tensor(t("u"), [], [u]));
    nodes.push(
      node("Gather", ["NI", t("u")], [t("nI")], { axis: 0 }),
      node("Gather", ["CI", t("u")], [t("ci")], { axis: 0 }),
    );
  }
  let dotv = t("Pu");
  if (u > 0) {
    // Earlier batches of this step changed V by Σ_j Hv_jᵀX_j.
    _slice(g, "Gall", t("Gp"), u * B, (u + 1) * B, [0, u * B]);
    const hv = u === 1 ? g.hvs[0] : t("HvCat");
    if (u > 1) nodes.push(node("Concat", g.hvs.slice(), [hv], { axis: 0 }));
    nodes.push(
      node("MatMul", [t("Gp"), hv], [t("corr")]),
      node("Add", [t("Pu"), t("corr")], [t("dotv")]),
    );
    dotv = t("dotv");
  }
  const a = g.a, nsq = g.nsq;
  nodes.push(
    node("Sqrt", [nsq], [t("wnd")]),
    node("Cast", [t("wnd")], [t("wnr")], { to: DT.FLOAT }),
    node("Max", [t("wnr"), "eps"], [t("wn")]),
  );
  if (scaled) nodes.push(node("Mul", [dotv, a], [t("dot")]));
  else nodes.push(node("Identity", [dotv], [t("dot")]));
  nodes.push(
    node("Mul", [t("xn"), t("wn")], [t("den")]),
    node("Div", [t("dot"), t("den")], [t("sim")]),
    node("Sub", ["one", t("sim")], [t("dist")]),
    node("ArgMin", [t("dist")], [t("bmu")], { axis: 1, keepdims: 0 }),
    node("ReduceMin", [t("dist")], [t("dmin")], { axes: [1], keepdims: 0 }),
    node("Gather", ["D2", t("bmu")], [t("hd")], { axis: 0 }),
    node("Mul", [t("hd"), t("nI")], [t("ha")]),
    node("Exp", [t("ha")], [t("H")]),
    node("Mul", [t("H"), t("ci")], [t("Hc")]),
    node("MatMul", ["ones1B", t("Hc")], [t("srow")]),
    node("Sub", ["one", t("srow")], [t("g")]),
  );
  const aNext = last ? "ao" : t("a");
  if (scaled) {
    nodes.push(
      node("Mul", [a, t("g")], [aNext]),
      node("Div", [t("Hc"), aNext], [t("Hv")]),
    );
  } else {
    nodes.push(
      node("Reshape", [t("g"), "shK1"], [t("gcol")]),
      node("Mul", ["Vi", t("gcol")], [t("Wg")]),
      node("Identity", [a], [aNext]),
    );
  }
  // ‖w'‖² = g²‖w‖² + Σ_r H'_r (2g·dot_r + (G H')_r), in float64.
  const nsqNext = last ? "nsqo" : t("nsq");
  nodes.push(
    node("Cast", [t("Hc")], [t("Hd")], { to: DT.DOUBLE }),
    node("Cast", [t("dot")], [t("dotd")], { to: DT.DOUBLE }),
    node("Cast", [t("G")], [t("Gd")], { to: DT.DOUBLE }),
    node("Cast", [t("g")], [t("gd")], { to: DT.DOUBLE }),
    node("MatMul", [t("Gd"), t("Hd")], [t("GH")]),
    node("Mul", [t("gd"), "twod"], [t("g2")]),
    node("Mul", [t("dotd"), t("g2")], [t("aa")]),
    node("Add", [t("aa"), t("GH")], [t("sm")]),
    node("Mul", [t("Hd"), t("sm")], [t("p")]),
    node("MatMul", ["ones1Bd", t("p")], [t("tt")]),
    node("Mul", [t("gd"), t("gd")], [t("gg")]),
    node("Mul", [t("gg"), nsq], [t("q")]),
    node("Add", [t("q"), t("tt")], [nsqNext]),
  );
  g.a = aNext;
  g.nsq = nsqNext;
  g.hvs.push(t("Hv"));
  g.dmins.push(t("dmin"));
  g.bmus.push(t("bmu"));
}

/** The outer graph: a `Scan` of `body` over the steps, then `W = a·V`. */
function _scanGraph(
  body: GraphLike,
  K: number,
  d: number,
  UB: number,
  U: number,
  d2: Float32Array,
  scaled: boolean,
): GraphLike {
  return {
    name: "som_epoch",
    node: [
      node("Scan", ["W0", "a0", "nsq0", "idx", "negInv", "c"], [
        "V",
        "a",
        "nsq",
        "dmin",
        "bmu",
      ], { body, num_scan_inputs: 3 }),
      node("Reshape", ["a", "shK1o"], ["acol"]),
      scaled ? node("Mul", ["V", "acol"], ["W"]) : node("Identity", ["V"], ["W"]),
    ],
    initializer: [
      tensor("D2", [K, K], d2),
      tensor("a0", [1, K], new Float32Array(K).fill(1)),
      tensor("shK1o", [2], [K, 1]),
    ],
    input: [
      valueInfo("W0", DT.FLOAT, [K, d]),
      valueInfo("nsq0", DT.DOUBLE, [1, K]),
      valueInfo("data", DT.FLOAT, ["N", d]),
      valueInfo("idx", DT.INT32, ["S", UB]),
      valueInfo("negInv", DT.FLOAT, ["S", U]),
      valueInfo("c", DT.FLOAT, ["S", U]),
    ],
    output: [
      valueInfo("W", DT.FLOAT, [K, d]),
      valueInfo("dmin", DT.FLOAT, ["S", UB]),
      valueInfo("bmu", DT.INT64, ["S", UB]),
    ],
  };
}

/**
 * Top-k cosine distances of a chunk of rows to all units.
 *
 * Inputs: `X` (`r×d`) and `Wn` (`K×d`: unit weights divided by `max(‖w‖,1e-8)`, prepared once
 * per query by the caller). Outputs: `dist` (`r×k`, ascending) and `index` (`r×k` int64).
 *
 * Why this shape: the only `r×K` work is the Gemm and `TopK` itself. Dividing by `‖x‖` does not
 * change the order within a row, so `TopK` runs on `x·ŵ` (largest first; equal values keep the
 * lower index first, as the ONNX spec requires) and only the `k` winners become distances
 * `1 − x·ŵ / max(‖x‖,1e-8)`. `‖x‖²` is `(X∘X)·1`, which onnxruntime computes faster than its
 * `ReduceSumSquare`.
 *
 * @param K Units.
 * @param d Code dimension.
 * @param k Neighbours per row.
 * @returns Model bytes.
 */
export function topkGraph(K: number, d: number, k: number): Uint8Array {
  const graph: GraphLike = {
    name: "som_topk",
    node: [
      node("Gemm", ["X", "Wn"], ["sim"], { transB: 1 }),
      node("TopK", ["sim", "kk"], ["top", "index"], { axis: 1, largest: 1, sorted: 1 }),
      node("Mul", ["X", "X"], ["xsq"]),
      node("MatMul", ["xsq", "onesd"], ["xss"]),
      node("Sqrt", ["xss"], ["xnr"]),
      node("Max", ["xnr", "eps"], ["xn"]),
      node("Div", ["top", "xn"], ["cos"]),
      node("Sub", ["one", "cos"], ["dist"]),
    ],
    initializer: [
      tensor("eps", [], new Float32Array([EPS])),
      tensor("one", [], new Float32Array([1])),
      tensor("kk", [1], [k]),
      tensor("onesd", [d, 1], new Float32Array(d).fill(1)),
    ],
    input: [
      valueInfo("X", DT.FLOAT, ["r", d]),
      valueInfo("Wn", DT.FLOAT, [K, d]),
    ],
    output: [
      valueInfo("dist", DT.FLOAT, ["r", k]),
      valueInfo("index", DT.INT64, ["r", k]),
    ],
  };
  return encodeModel(model(graph, { opset: 17 }));
}
