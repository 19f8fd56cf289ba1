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

import { DT, encodeModel, type GraphLike, model, node, tensor, valueInfo } from "../onnx/proto.ts";

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

/**
 * One epoch of QuickSOM mini-batch training as a `Scan` over batches.
 *
 * Graph inputs: `W0` (`K×d` weights), `data` (`N×d` rows), `idx` (`nb×b` int32 row indices,
 * one batch per scan step), `negInv` (`nb`: `−1/(2σ²+1e-5)` per batch), `c` (`nb`: `α/b` per
 * batch). Outputs: `W` (weights after the last batch), `loss` (`nb`), `bmu` (`nb×b` int64).
 * The batch size `b` and `nb` are symbolic, so the same session runs full batches and the short
 * last batch (with its own `c = α/b`).
 *
 * The body computes, with the pre-batch weights `W`:
 * `dist = 1 − XWᵀ / (max(‖x‖,1e-8)·max(‖w‖,1e-8))`, `bmu = argmin` (ArgMin keeps the first
 * index on ties), `H = exp(D2[bmu]·negInv)`, `W' = W·(1 − c·Σ_r H) + (c·H)ᵀX` (one Gemm with a
 * `C` input, so `b×K×d` is never formed), `loss = mean_r min_k dist`.
 *
 * @param K Units.
 * @param d Code dimension.
 * @param d2 `K×K` squared grid distances.
 * @returns Model bytes.
 */
export function epochGraph(K: number, d: number, d2: Float32Array): Uint8Array {
  const body: GraphLike = {
    name: "som_batch",
    node: [
      node("Gather", ["data", "ix"], ["X"], { axis: 0 }),
      // ‖x‖ and ‖w‖ with the 1e-8 floor.
      node("ReduceSumSquare", ["X"], ["xss"], { axes: [1], keepdims: 1 }),
      node("Sqrt", ["xss"], ["xnr"]),
      node("Max", ["xnr", "eps"], ["xn"]),
      node("ReduceSumSquare", ["Wi"], ["wss"], { axes: [1], keepdims: 0 }),
      node("Sqrt", ["wss"], ["wnr"]),
      node("Max", ["wnr", "eps"], ["wn"]),
      node("Gemm", ["X", "Wi"], ["dot"], { transB: 1 }),
      node("Mul", ["xn", "wn"], ["den"]),
      node("Div", ["dot", "den"], ["sim"]),
      node("Sub", ["one", "sim"], ["dist"]),
      node("ArgMin", ["dist"], ["bmu_i"], { axis: 1, keepdims: 0 }),
      node("ReduceMin", ["dist"], ["dmin"], { axes: [1], keepdims: 0 }),
      node("ReduceMean", ["dmin"], ["loss_i"], { keepdims: 0 }),
      node("Gather", ["D2", "bmu_i"], ["hd"], { axis: 0 }),
      node("Mul", ["hd", "nI"], ["ha"]),
      node("Exp", ["ha"], ["H"]),
      node("Mul", ["H", "ci"], ["Hc"]),
      node("ReduceSum", ["Hc", "ax0"], ["sc"], { keepdims: 0 }),
      node("Sub", ["one", "sc"], ["g"]),
      node("Unsqueeze", ["g", "ax1"], ["g2"]),
      node("Mul", ["Wi", "g2"], ["Wg"]),
      node("Gemm", ["Hc", "X", "Wg"], ["Wo"], { transA: 1 }),
    ],
    initializer: [
      tensor("eps", [], new Float32Array([EPS])),
      tensor("one", [], new Float32Array([1])),
      tensor("ax0", [1], [0]),
      tensor("ax1", [1], [1]),
    ],
    input: [
      valueInfo("Wi", DT.FLOAT, [K, d]),
      valueInfo("ix", DT.INT32, ["b"]),
      valueInfo("nI", DT.FLOAT, []),
      valueInfo("ci", DT.FLOAT, []),
    ],
    output: [
      valueInfo("Wo", DT.FLOAT, [K, d]),
      valueInfo("loss_i", DT.FLOAT, []),
      valueInfo("bmu_i", DT.INT64, ["b"]),
    ],
  };
  const graph: GraphLike = {
    name: "som_epoch",
    node: [
      node("Scan", ["W0", "idx", "negInv", "c"], ["W", "loss", "bmu"], {
        body,
        num_scan_inputs: 3,
      }),
    ],
    initializer: [tensor("D2", [K, K], d2)],
    input: [
      valueInfo("W0", DT.FLOAT, [K, d]),
      valueInfo("data", DT.FLOAT, ["N", d]),
      valueInfo("idx", DT.INT32, ["nb", "b"]),
      valueInfo("negInv", DT.FLOAT, ["nb"]),
      valueInfo("c", DT.FLOAT, ["nb"]),
    ],
    output: [
      valueInfo("W", DT.FLOAT, [K, d]),
      valueInfo("loss", DT.FLOAT, ["nb"]),
      valueInfo("bmu", DT.INT64, ["nb", "b"]),
    ],
  };
  return encodeModel(model(graph, { opset: 17 }));
}

/**
 * Top-k cosine distances of a chunk of rows to all units.
 *
 * Inputs: `X` (`r×d`), `W` (`K×d`). The distance formula is the training graph's, so a row's
 * first neighbour is the unit training would pick.
 * Outputs: `dist` (`r×k`, ascending) and `index` (`r×k` int64). `TopK` orders equal values by
 * the lower index (ONNX spec), which is SOM.md's tie rule.
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
      node("ReduceSumSquare", ["X"], ["xss"], { axes: [1], keepdims: 1 }),
      node("Sqrt", ["xss"], ["xnr"]),
      node("Max", ["xnr", "eps"], ["xn"]),
      node("ReduceSumSquare", ["W"], ["wss"], { axes: [1], keepdims: 0 }),
      node("Sqrt", ["wss"], ["wnr"]),
      node("Max", ["wnr", "eps"], ["wn"]),
      node("Gemm", ["X", "W"], ["dot"], { transB: 1 }),
      node("Mul", ["xn", "wn"], ["den"]),
      node("Div", ["dot", "den"], ["sim"]),
      node("Sub", ["one", "sim"], ["dall"]),
      node("TopK", ["dall", "kk"], ["dist", "index"], { axis: 1, largest: 0, sorted: 1 }),
    ],
    initializer: [
      tensor("eps", [], new Float32Array([EPS])),
      tensor("one", [], new Float32Array([1])),
      tensor("kk", [1], [k]),
    ],
    input: [
      valueInfo("X", DT.FLOAT, ["r", d]),
      valueInfo("W", DT.FLOAT, [K, d]),
    ],
    output: [
      valueInfo("dist", DT.FLOAT, ["r", k]),
      valueInfo("index", DT.INT64, ["r", k]),
    ],
  };
  return encodeModel(model(graph, { opset: 17 }));
}
