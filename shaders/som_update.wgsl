// som_update.wgsl — one QuickSOM batch step on the (toroidal) grid, SOM.md "One batch":
//   H[r][k] = exp(−D2(k, bmu[r]) / (2σ² + 1e-5))
//   W[k] ← W[k] + (α/b) · Σ_r H[r][k] · (X[r] − W[k])       (= W + (α/b)(HᵀX − diag(Hᵀ1)W))
//   loss = mean_r dist(X[r], W_before[bmu[r]])
// TypeScript reference: the update step of _referenceEpoch in lib/som/reference.ts.
// Prepended with som_common.wgsl (Dims, Batch, dims, sched, ctl). Only the b×K table H is
// materialised, never b×K×d. Layouts as in som_bmu.wgsl: x rows padded to dp = ceil(d/4)·4,
// weights transposed and padded, wt[j·Kp + k] read as vec4s of 4 units; H is B×Kp with zeros
// for the padding units.
//
// Entry points (workgroup size WG, except advance: 1):
//   neigh    invocation (k, r): h_out[r·Kp + k] for r < b, k < Kp (0 for k ≥ K). Bindings:
//            0 dims, 1 sched, 2 ctl, 4 bmu (read, B u32), 5 h_out (rw, B·Kp f32).
//            Dispatch: (ceil(Kp/WG), B).
//   update   invocation (q, g): units 4q..4q+3, coordinates COLS·g.. Bindings: 0 dims,
//            1 sched, 2 ctl, 3 x (read, rows·dp f32 as vec4), 6 h_in (read, B·Kp f32 as vec4),
//            7 wt (rw, dp·Kp f32 as vec4). Dispatch: (ceil(Kp/4/WG), ceil(dp/COLS)).
//   advance  a single invocation, after `update`: losses[batch] = mean of bmu_dist[0..b);
//            bmus_all[batch·B + r] = bmu[r]; then ctl_rw[0] += 1 (next batch). Bindings:
//            0 dims, 1 sched, 4 bmu, 8 bmu_dist (read, B f32), 9 losses (rw, batches f32),
//            10 ctl_rw (rw, 1 u32), 11 bmus_all (rw, batches·B u32). Dispatch: (1).
// Override constants (no defaults; set from SOM_KERNEL_SIZES): WG (in som_common.wgsl) and COLS,
// coordinates per `update` invocation, 4 or 8 (the kernel keeps 8 coordinates in named
// registers and writes COLS of them; COLS must be a multiple of 4 so that they start a vec4).
// Every other size comes from `dims` and the batch table.

@group(0) @binding(4) var<storage, read> bmu: array<u32>;
@group(0) @binding(5) var<storage, read_write> h_out: array<f32>;
@group(0) @binding(6) var<storage, read> h_in: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> wt: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read> bmu_dist: array<f32>;
@group(0) @binding(9) var<storage, read_write> losses: array<f32>;
@group(0) @binding(10) var<storage, read_write> ctl_rw: array<u32>;
@group(0) @binding(11) var<storage, read_write> bmus_all: array<u32>;

override COLS: u32; // coordinates per `update` invocation (one H load serves up to 8 FMAs)

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

@compute @workgroup_size(WG)
fn neigh(@builtin(global_invocation_id) gid: vec3u) {
  let K = dims.K;
  let Kp = 4u * k4();
  let k = gid.x;
  let r = gid.y;
  let bt = sched[ctl[0]];
  if (k >= Kp || r >= bt.rows) {
    return;
  }
  var h = 0.0;
  if (k < K) {
    h = exp(-grid_d2(k, bmu[r]) / bt.denom);
  }
  h_out[r * Kp + k] = h;
}

@compute @workgroup_size(WG)
fn update(@builtin(global_invocation_id) gid: vec3u) {
  let K4 = k4();
  let n4 = d4();
  let dp = 4u * n4;
  let q = gid.x;
  let j0 = gid.y * COLS;
  if (q >= K4 || j0 >= dp) {
    return;
  }
  let bt = sched[ctl[0]];
  // j0 is a multiple of 4, so coordinates j0..j0+7 are the vec4s j0/4 and j0/4 + 1 of a row;
  // the second is clamped (and its results dropped) past the row's end.
  let v0 = j0 / 4u;
  let v1 = min(v0 + 1u, n4 - 1u);
  let nc = min(COLS, dp - j0);
  // Written out by hand (not private arrays in loops) so that compilers keep them in registers.
  let K4q = K4;
  let w0 = wt[min(j0, dp - 1u) * K4q + q];
  let w1 = wt[min(j0 + 1u, dp - 1u) * K4q + q];
  let w2 = wt[min(j0 + 2u, dp - 1u) * K4q + q];
  let w3 = wt[min(j0 + 3u, dp - 1u) * K4q + q];
  let w4 = wt[min(j0 + 4u, dp - 1u) * K4q + q];
  let w5 = wt[min(j0 + 5u, dp - 1u) * K4q + q];
  let w6 = wt[min(j0 + 6u, dp - 1u) * K4q + q];
  let w7 = wt[min(j0 + 7u, dp - 1u) * K4q + q];
  // Eight accumulators in named registers (function variables start at zero).
  var a0: vec4<f32>; var a1: vec4<f32>; var a2: vec4<f32>; var a3: vec4<f32>;
  var a4: vec4<f32>; var a5: vec4<f32>; var a6: vec4<f32>; var a7: vec4<f32>;
  for (var r = 0u; r < bt.rows; r++) {
    let h = h_in[r * K4 + q];
    let xo = (bt.row0 + r) * n4;
    let xa = x[xo + v0];
    let xb = x[xo + v1];
    a0 = fma(h, vec4(xa.x) - w0, a0);
    a1 = fma(h, vec4(xa.y) - w1, a1);
    a2 = fma(h, vec4(xa.z) - w2, a2);
    a3 = fma(h, vec4(xa.w) - w3, a3);
    a4 = fma(h, vec4(xb.x) - w4, a4);
    a5 = fma(h, vec4(xb.y) - w5, a5);
    a6 = fma(h, vec4(xb.z) - w6, a6);
    a7 = fma(h, vec4(xb.w) - w7, a7);
  }
  let s = vec4(bt.scale);
  var out = array<vec4<f32>, 8>(
    fma(s, a0, w0),
    fma(s, a1, w1),
    fma(s, a2, w2),
    fma(s, a3, w3),
    fma(s, a4, w4),
    fma(s, a5, w5),
    fma(s, a6, w6),
    fma(s, a7, w7),
  );
  for (var c = 0u; c < nc; c++) {
    wt[(j0 + c) * K4 + q] = out[c];
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
