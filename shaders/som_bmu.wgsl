// som_bmu.wgsl — cosine distances between rows and SOM units, and the top-k BMUs per row.
// TypeScript reference: referenceBackend().topk / the BMU step of _referenceEpoch in
// lib/som/reference.ts. Prepended with som_common.wgsl (Dims, Batch, dims, sched, ctl).
//
// Distance: d(x, w) = 1 − x·w / (max(‖x‖, 1e-8) · max(‖w‖, 1e-8)) in f32; a zero vector has
// distance 1 to everything. Order: ascending distance, ties to the lowest unit index, NaN after
// every number (key() below; the reference uses the same rule).
//
// Layouts (padding is zero and changes no dot product or norm): rows of x have dp = ceil(d/4)·4
// floats; the weights live on the GPU transposed and padded, wt[j·Kp + k] (dp×Kp, Kp =
// ceil(K/4)·4), read as vec4s of 4 consecutive units, so one load feeds 4 units and neighbouring
// invocations read neighbouring addresses. Only the current batch's b×K distance tile exists.
//
// Entry points (workgroup size WG each):
//   norms   one invocation per row i < dims.nrows: xnorm[i] = max(‖x_i‖, 1e-8).
//           Bindings: 0 dims, 3 x (read, nrows·dp f32 as vec4), 5 xnorm_out (rw, nrows f32).
//           Dispatch: (ceil(nrows/WG)).
//   dist    invocation (q, g): units 4q..4q+3 against rows ROWS·g.. of batch sched[ctl[0]];
//           writes dist_out[r·K + k] for r < b, k < K. Bindings: 0 dims, 1 sched, 2 ctl, 3 x,
//           4 xnorm (read), 6 wt (read, dp·Kp f32 as vec4), 7 dist_out (rw, B·K f32).
//           Dispatch: (ceil(Kp/4/WG), ceil(B/ROWS)).
//   topk    one workgroup per row r < b: each invocation keeps the best k of a strided part of
//           the row, invocation 0 merges the WG lists; the dims.k smallest of dist row r →
//           out_idx[r·k + q],
//           out_dist[r·k + q]. Bindings: 0 dims, 1 sched, 2 ctl, 8 dist_in (read, B·K f32),
//           9 out_idx (rw, B·k u32), 10 out_dist (rw, B·k f32). Dispatch: (B).
// Override constants (no defaults; set from SOM_KERNEL_SIZES): WG (in som_common.wgsl) and ROWS,
// rows per `dist` invocation, 1..8 (the kernel keeps 8 rows in named registers and writes
// ROWS of them). Every other size comes from `dims` and the batch table.

@group(0) @binding(4) var<storage, read> xnorm: array<f32>;
@group(0) @binding(5) var<storage, read_write> xnorm_out: array<f32>;
@group(0) @binding(6) var<storage, read> wt: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dist_out: array<f32>;
@group(0) @binding(8) var<storage, read> dist_in: array<f32>;
@group(0) @binding(9) var<storage, read_write> out_idx: array<u32>;
@group(0) @binding(10) var<storage, read_write> out_dist: array<f32>;

override ROWS: u32;          // rows per `dist` invocation (the weight is loaded once for all)
const MAXK: u32 = 16u;       // largest supported k
const NONE: u32 = 0xffffffffu;
const BIG: f32 = 3.4e38;     // sentinel key of an empty slot
const NAN_KEY: f32 = 3.0e38; // NaN sorts after every real distance, before empty slots

// Sort key of a distance. Bit test rather than `v != v`, which fast-math compilers may fold.
fn key(v: f32) -> f32 {
  if ((bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u) {
    return NAN_KEY;
  }
  return v;
}

// (a, ia) before (b, ib)?
fn before(a: f32, ia: u32, b: f32, ib: u32) -> bool {
  return a < b || (a == b && ia < ib);
}

@compute @workgroup_size(WG)
fn norms(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= dims.nrows) {
    return;
  }
  let n4 = d4();
  let o = i * n4;
  var s = 0.0;
  for (var j = 0u; j < n4; j++) {
    let v = x[o + j];
    s += dot(v, v);
  }
  xnorm_out[i] = max(sqrt(s), 1e-8);
}

@compute @workgroup_size(WG)
fn dist(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let K = dims.K;
  let K4 = k4();
  let n4 = d4();
  let q = gid.x;
  let bt = sched[ctl[0]];
  let r0 = wid.y * ROWS;
  if (q >= K4 || r0 >= bt.rows) {
    return;
  }
  // Rows past the batch end are clamped to its last row and their results dropped. The 8 rows
  // are written out by hand: private arrays indexed in a loop end up in memory on some
  // compilers (llvmpipe among them), named registers do not.
  let last = bt.rows - 1u;
  let x0 = (bt.row0 + min(r0, last)) * n4;
  let x1 = (bt.row0 + min(r0 + 1u, last)) * n4;
  let x2 = (bt.row0 + min(r0 + 2u, last)) * n4;
  let x3 = (bt.row0 + min(r0 + 3u, last)) * n4;
  let x4 = (bt.row0 + min(r0 + 4u, last)) * n4;
  let x5 = (bt.row0 + min(r0 + 5u, last)) * n4;
  let x6 = (bt.row0 + min(r0 + 6u, last)) * n4;
  let x7 = (bt.row0 + min(r0 + 7u, last)) * n4;
  // Eight accumulators in named registers (function variables start at zero).
  var a0: vec4<f32>; var a1: vec4<f32>; var a2: vec4<f32>; var a3: vec4<f32>;
  var a4: vec4<f32>; var a5: vec4<f32>; var a6: vec4<f32>; var a7: vec4<f32>;
  var wn = vec4<f32>(0.0);
  for (var j = 0u; j < n4; j++) {
    // Units 4q..4q+3 at coordinates 4j..4j+3.
    let base = 4u * j * K4 + q;
    let w0 = wt[base];
    let w1 = wt[base + K4];
    let w2 = wt[base + 2u * K4];
    let w3 = wt[base + 3u * K4];
    wn = fma(w0, w0, fma(w1, w1, fma(w2, w2, fma(w3, w3, wn))));
    a0 = dot4(x[x0 + j], w0, w1, w2, w3, a0);
    a1 = dot4(x[x1 + j], w0, w1, w2, w3, a1);
    a2 = dot4(x[x2 + j], w0, w1, w2, w3, a2);
    a3 = dot4(x[x3 + j], w0, w1, w2, w3, a3);
    a4 = dot4(x[x4 + j], w0, w1, w2, w3, a4);
    a5 = dot4(x[x5 + j], w0, w1, w2, w3, a5);
    a6 = dot4(x[x6 + j], w0, w1, w2, w3, a6);
    a7 = dot4(x[x7 + j], w0, w1, w2, w3, a7);
  }
  let wnorm = max(sqrt(wn), vec4(1e-8));
  let n = min(ROWS, bt.rows - r0);
  let nk = min(4u, K - 4u * q);
  var acc = array<vec4<f32>, 8>(a0, a1, a2, a3, a4, a5, a6, a7);
  for (var r = 0u; r < n; r++) {
    let row = r0 + r;
    let dv = vec4(1.0) - acc[r] / (xnorm[bt.row0 + row] * wnorm);
    for (var c = 0u; c < nk; c++) {
      dist_out[row * K + 4u * q + c] = dv[c];
    }
  }
}

// acc + (x·(w0, w1, w2, w3)) for 4 units: x holds 4 coordinates, wc is coordinate c of the units.
fn dot4(v: vec4<f32>, w0: vec4<f32>, w1: vec4<f32>, w2: vec4<f32>, w3: vec4<f32>, acc: vec4<f32>) -> vec4<f32> {
  return fma(vec4(v.x), w0, fma(vec4(v.y), w1, fma(vec4(v.z), w2, fma(vec4(v.w), w3, acc))));
}

var<workgroup> cand_key: array<f32, WG * MAXK>;
var<workgroup> cand_idx: array<u32, WG * MAXK>;
var<workgroup> heads: array<u32, WG>; // merge cursors of invocation 0 (zero at workgroup start)

@compute @workgroup_size(WG)
fn topk(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let K = dims.K;
  let kk = dims.k;
  let r = wid.x;
  let rows = sched[ctl[0]].rows;
  if (r >= rows) {
    return;
  }
  let t = lid.x;
  // Each invocation keeps the kk best of units t, t+WG, t+2·WG, … (ascending, ties keep the
  // earlier = lower index because units arrive in increasing order and insertion is strict).
  var ld: array<f32, 16>;
  var li: array<u32, 16>;
  for (var q = 0u; q < MAXK; q++) {
    ld[q] = BIG;
    li[q] = NONE;
  }
  let base = r * K;
  for (var u = t; u < K; u += WG) {
    let v = key(dist_in[base + u]);
    if (v < ld[kk - 1u]) {
      var p = kk - 1u;
      while (p > 0u && v < ld[p - 1u]) {
        ld[p] = ld[p - 1u];
        li[p] = li[p - 1u];
        p--;
      }
      ld[p] = v;
      li[p] = u;
    }
  }
  // One barrier, then invocation 0 merges the WG sorted lists (kk·WG comparisons): on a
  // software adapter barriers are the expensive part, on a GPU this is a few microseconds.
  for (var q = 0u; q < kk; q++) {
    cand_key[t * MAXK + q] = ld[q];
    cand_idx[t * MAXK + q] = li[q];
  }
  workgroupBarrier();
  if (t != 0u) {
    return;
  }
  for (var q = 0u; q < kk; q++) {
    var bk = BIG;
    var bi = NONE;
    var bs = 0u;
    for (var s = 0u; s < WG; s++) {
      let h = heads[s];
      if (h < kk) {
        let c = s * MAXK + h;
        if (before(cand_key[c], cand_idx[c], bk, bi)) {
          bk = cand_key[c];
          bi = cand_idx[c];
          bs = s;
        }
      }
    }
    out_idx[r * kk + q] = bi;
    out_dist[r * kk + q] = select(dist_in[base + min(bi, K - 1u)], BIG, bi == NONE);
    if (bi != NONE) {
      heads[bs]++;
    }
  }
}
