// som_update.wgsl — one QuickSOM batch step on the (toroidal) grid, SOM.md "One batch":
//   H[r][k] = exp(−D2(k, bmu[r]) / (2σ² + 1e-5))
//   W[k] ← W[k] + (α/b) · Σ_r H[r][k] · (X[r] − W[k])       (= W + (α/b)(HᵀX − diag(Hᵀ1)W))
//   loss = mean_r dist(X[r], W_before[bmu[r]])
// TypeScript reference: the update step of _referenceEpoch in lib/som/reference.ts.
// Prepended with som_common.wgsl (Dims, Batch, dims, sched, ctl). Only the b×K table H is
// materialised, never b×K×d. The weights are transposed on the GPU: wt[j·K + k].
//
// Entry points (workgroup size 64, except advance: 1):
//   neigh    invocation (k, r): h_out[r·K + k] for r < b. Bindings: 0 dims, 1 sched, 2 ctl,
//            4 bmu (read, B u32), 5 h_out (rw, B·K f32). Dispatch: (ceil(K/64), B).
//   update   invocation (k, g): unit k, coordinates 8g..8g+7 of wt. Bindings: 0 dims, 1 sched,
//            2 ctl, 3 x (read, rows·d f32), 6 h_in (read, B·K f32), 7 wt (rw, d·K f32).
//            Dispatch: (ceil(K/64), ceil(d/8)).
//   advance  a single invocation, after `update`: losses[batch] = mean of bmu_dist[0..b);
//            bmus_all[batch·B + r] = bmu[r]; then ctl_rw[0] += 1 (next batch). Bindings:
//            0 dims, 1 sched, 4 bmu, 8 bmu_dist (read, B f32), 9 losses (rw, batches f32),
//            10 ctl_rw (rw, 1 u32), 11 bmus_all (rw, batches·B u32). Dispatch: (1).
// No override constants: sizes come from `dims` and the batch table.

@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> bmu: array<u32>;
@group(0) @binding(5) var<storage, read_write> h_out: array<f32>;
@group(0) @binding(6) var<storage, read> h_in: array<f32>;
@group(0) @binding(7) var<storage, read_write> wt: array<f32>;
@group(0) @binding(8) var<storage, read> bmu_dist: array<f32>;
@group(0) @binding(9) var<storage, read_write> losses: array<f32>;
@group(0) @binding(10) var<storage, read_write> ctl_rw: array<u32>;
@group(0) @binding(11) var<storage, read_write> bmus_all: array<u32>;

const COLS: u32 = 8u; // coordinates per `update` invocation (one H load serves 8 FMAs)

fn grid_d2(a: u32, b: u32) -> f32 {
  let n = dims.n;
  let m = dims.m;
  let ia = a / n;
  let ib = b / n;
  let ja = a - ia * n;
  let jb = b - ib * n;
  var di = max(ia, ib) - min(ia, ib);
  var dj = max(ja, jb) - min(ja, jb);
  if (dims.periodic != 0u) {
    di = min(di, m - di);
    dj = min(dj, n - dj);
  }
  return f32(di * di + dj * dj);
}

@compute @workgroup_size(64)
fn neigh(@builtin(global_invocation_id) gid: vec3u) {
  let K = dims.K;
  let k = gid.x;
  let r = gid.y;
  let bt = sched[ctl[0]];
  if (k >= K || r >= bt.rows) {
    return;
  }
  h_out[r * K + k] = exp(-grid_d2(k, bmu[r]) / bt.denom);
}

@compute @workgroup_size(64)
fn update(@builtin(global_invocation_id) gid: vec3u) {
  let K = dims.K;
  let d = dims.d;
  let k = gid.x;
  let j0 = gid.y * COLS;
  if (k >= K || j0 >= d) {
    return;
  }
  let bt = sched[ctl[0]];
  let nc = min(COLS, d - j0);
  var w: array<f32, 8>;
  var acc: array<f32, 8>;
  for (var c = 0u; c < COLS; c++) {
    w[c] = wt[min(j0 + c, d - 1u) * K + k];
  }
  for (var r = 0u; r < bt.rows; r++) {
    let h = h_in[r * K + k];
    let xo = (bt.row0 + r) * d;
    for (var c = 0u; c < COLS; c++) {
      acc[c] = fma(h, x[xo + min(j0 + c, d - 1u)] - w[c], acc[c]);
    }
  }
  for (var c = 0u; c < nc; c++) {
    wt[(j0 + c) * K + k] = fma(bt.scale, acc[c], w[c]);
  }
}

@compute @workgroup_size(1)
fn advance() {
  let i = ctl_rw[0];
  let bt = sched[i];
  var s = 0.0;
  for (var r = 0u; r < bt.rows; r++) {
    s += bmu_dist[r];
    bmus_all[i * dims.B + r] = bmu[r];
  }
  losses[i] = s / f32(bt.rows);
  ctl_rw[0] = i + 1u;
}
