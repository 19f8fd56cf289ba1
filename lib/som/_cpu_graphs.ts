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

/**
 * Squared grid distances between all pairs of units, `K×K` (SOM.md "Units and grid").
 *
 * @param m Grid rows.
 * @param n Grid columns.
 * @param periodic Torus wrap-around.
 * @returns Row-major `K×K` table.
 */
export function gridD2(m: number, n: number, periodic: boolean): Float32Array {
  const K = m * n;
  const out = new Float32Array(K * K);
  for (let a = 0; a < K; a++) {
    const ia = Math.floor(a / n), ja = a % n;
    for (let b = 0; b < K; b++) {
      let di = Math.abs(ia - Math.floor(b / n)), dj = Math.abs(ja - (b % n));
      if (periodic) {
        di = Math.min(di, m - di);
        dj = Math.min(dj, n - dj);
      }
      out[a * K + b] = di * di + dj * dj;
    }
  }
  return out;
}

/** Floor of the cosine-distance norms (SOM.md "Metric"). */
const EPS = 1e-8;

/** Graph options of {@linkcode epochGraph}. */
export interface EpochGraphOptions {
  /**
   * Carry the weights as `W = diag(a)·V` so that the update is a single Gemm into `V`
   * (`V ← V + (H'/a')ᵀX`, `a ← a·g`) instead of a scaling pass over `W` plus the Gemm. Needs
   * `g = 1 − Σ_r H'_r > 0`, i.e. `α < 1`, and a bounded run length so that `a` stays far from
   * float32 underflow (the caller splits runs). `W = a·V` is formed once at the end.
   */
  scaled: boolean;
}

/**
 * One epoch of QuickSOM mini-batch training as a `Scan` over its batches.
 *
 * Graph inputs: `W0` (`K×d`), `data` (`N×d`), `idx` (`S×B` int32 row indices, one batch per
 * scan step), `xn` (`S×B×1`: `max(‖x‖,1e-8)` of those rows, computed by the caller in float64),
 * `negInv` (`S`: `−1/(2σ²+1e-5)` per batch), `c` (`S`: `α/b` per batch). Outputs: `W` (weights
 * after the last batch), `dmin` (`S×B`: each row's BMU distance, i.e. the loss terms) and `bmu`
 * (`S×B` int64). `N` and `S` are symbolic; a short last batch gets its own graph with `B = b`.
 *
 * Each batch computes, with the pre-batch weights `W` (units along rows, batch along columns,
 * because MLAS packs the Gemm's `B` operand and `Xᵀ` is far smaller than `Wᵀ`):
 * `dist = 1 − WXᵀ / (max(‖w‖,1e-8)·max(‖x‖,1e-8))`, `bmu = ArgMin(dist)` over units (first
 * index on ties), `H' = c·exp(D2[:,bmu]·negInv)`, `g = 1 − H'·1`, `W ← W·g + H'X` (`b×K×d` is
 * never formed).
 *
 * Why the norms are tracked: a reduction over `W` costs as much as the update itself, and
 * `‖w'‖² = g²‖w‖² + Σ_r H'_r (2g·(w·x_r) + Σ_s (x_r·x_s) H'_s)` needs only `WXᵀ` (already
 * computed for the distances) and the `b×b` Gram matrix `XXᵀ`. It is carried in float64 and
 * recomputed exactly from `W0` at the start of every call, so the drift stays at float32
 * rounding level for the run lengths the caller uses.
 *
 * @param K Units.
 * @param d Code dimension.
 * @param B Rows per batch.
 * @param d2 `K×K` squared grid distances (symmetric).
 * @param options Weight representation.
 * @returns Model bytes.
 */
export function epochGraph(
  K: number,
  d: number,
  B: number,
  d2: Float32Array,
  options: EpochGraphOptions = { scaled: true },
): Uint8Array {
  const scaled = options.scaled;
  const nodes: NodeLike[] = [
    node("Gather", ["data", "ix"], ["X"], { axis: 0 }),
    node("Sqrt", ["nsqi"], ["wnd"]),
    node("Cast", ["wnd"], ["wnr"], { to: DT.FLOAT }),
    node("Max", ["wnr", "eps"], ["wn"]),
    // V·Xᵀ (K×b) packs only the small X; the rest works on b×K rows.
    node("Gemm", ["Vi", "X"], ["dotvT"], { transB: 1 }),
    node("Transpose", ["dotvT"], [scaled ? "dotv" : "dot"], { perm: [1, 0] }),
  ];
  if (scaled) nodes.push(node("Mul", ["dotv", "ai"], ["dot"]));
  nodes.push(
    node("Mul", ["xni", "wn"], ["den"]),
    node("Div", ["dot", "den"], ["sim"]),
    node("Sub", ["one", "sim"], ["dist"]),
    node("ArgMin", ["dist"], ["bmuo"], { axis: 1, keepdims: 0 }),
    node("ReduceMin", ["dist"], ["dmino"], { axes: [1], keepdims: 0 }),
    node("Gather", ["D2", "bmuo"], ["hd"], { axis: 0 }),
    node("Mul", ["hd", "nI"], ["ha"]),
    node("Exp", ["ha"], ["H"]),
    node("Mul", ["H", "ci"], ["Hc"]),
    node("MatMul", ["ones1B", "Hc"], ["srow"]),
    node("Sub", ["one", "srow"], ["g"]),
  );
  if (scaled) {
    nodes.push(
      node("Mul", ["ai", "g"], ["ao"]),
      node("Div", ["Hc", "ao"], ["Hv"]),
      node("Gemm", ["Hv", "X", "Vi"], ["Vo"], { transA: 1 }),
    );
  } else {
    nodes.push(
      node("Reshape", ["g", "shK1"], ["gcol"]),
      node("Mul", ["Vi", "gcol"], ["Wg"]),
      node("Gemm", ["Hc", "X", "Wg"], ["Vo"], { transA: 1 }),
      node("Identity", ["ai"], ["ao"]),
    );
  }
  // ‖w'‖² = g²‖w‖² + Σ_r H'_r (2g·dot_r + (G H')_r), in float64.
  nodes.push(
    node("Gemm", ["X", "X"], ["G"], { transB: 1 }),
    node("Cast", ["Hc"], ["Hd"], { to: DT.DOUBLE }),
    node("Cast", ["dot"], ["dotd"], { to: DT.DOUBLE }),
    node("Cast", ["G"], ["Gd"], { to: DT.DOUBLE }),
    node("Cast", ["g"], ["gd"], { to: DT.DOUBLE }),
    node("MatMul", ["Gd", "Hd"], ["GH"]),
    node("Mul", ["gd", "twod"], ["g2"]),
    node("Mul", ["dotd", "g2"], ["aa"]),
    node("Add", ["aa", "GH"], ["sm"]),
    node("Mul", ["Hd", "sm"], ["p"]),
    node("MatMul", ["ones1Bd", "p"], ["tt"]),
    node("Mul", ["gd", "gd"], ["gg"]),
    node("Mul", ["gg", "nsqi"], ["q"]),
    node("Add", ["q", "tt"], ["nsqo"]),
  );
  const body: GraphLike = {
    name: "som_batch",
    node: nodes,
    initializer: [
      tensor("eps", [], new Float32Array([EPS])),
      tensor("one", [], new Float32Array([1])),
      tensor("twod", [], new Float64Array([2])),
      tensor("ones1B", [1, B], new Float32Array(B).fill(1)),
      tensor("ones1Bd", [1, B], new Float64Array(B).fill(1)),
      tensor("shK1", [2], [K, 1]),
    ],
    input: [
      valueInfo("Vi", DT.FLOAT, [K, d]),
      valueInfo("ai", DT.FLOAT, [1, K]),
      valueInfo("nsqi", DT.DOUBLE, [1, K]),
      valueInfo("ix", DT.INT32, [B]),
      valueInfo("xni", DT.FLOAT, [B, 1]),
      valueInfo("nI", DT.FLOAT, []),
      valueInfo("ci", DT.FLOAT, []),
    ],
    output: [
      valueInfo("Vo", DT.FLOAT, [K, d]),
      valueInfo("ao", DT.FLOAT, [1, K]),
      valueInfo("nsqo", DT.DOUBLE, [1, K]),
      valueInfo("dmino", DT.FLOAT, [B]),
      valueInfo("bmuo", DT.INT64, [B]),
    ],
  };
  const graph: GraphLike = {
    name: "som_epoch",
    node: [
      node("Cast", ["W0"], ["W0d"], { to: DT.DOUBLE }),
      node("ReduceSumSquare", ["W0d"], ["nsq0c"], { axes: [1], keepdims: 0 }),
      node("Unsqueeze", ["nsq0c", "ax0"], ["nsq0"]),
      node("Scan", ["W0", "a0", "nsq0", "idx", "xn", "negInv", "c"], [
        "V",
        "a",
        "nsq",
        "dmin",
        "bmu",
      ], { body, num_scan_inputs: 4 }),
      node("Reshape", ["a", "shK1"], ["acol"]),
      scaled ? node("Mul", ["V", "acol"], ["W"]) : node("Identity", ["V"], ["W"]),
    ],
    initializer: [
      tensor("D2", [K, K], d2),
      tensor("a0", [1, K], new Float32Array(K).fill(1)),
      tensor("shK1", [2], [K, 1]),
      tensor("ax0", [1], [0]),
    ],
    input: [
      valueInfo("W0", DT.FLOAT, [K, d]),
      valueInfo("data", DT.FLOAT, ["N", d]),
      valueInfo("idx", DT.INT32, ["S", B]),
      valueInfo("xn", DT.FLOAT, ["S", B, 1]),
      valueInfo("negInv", DT.FLOAT, ["S"]),
      valueInfo("c", DT.FLOAT, ["S"]),
    ],
    output: [
      valueInfo("W", DT.FLOAT, [K, d]),
      valueInfo("dmin", DT.FLOAT, ["S", B]),
      valueInfo("bmu", DT.INT64, ["S", B]),
    ],
  };
  return encodeModel(model(graph, { opset: 17 }));
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
