// feature_map_reduce.wgsl — vector codes from feature maps (SPEC §2).
//
// Purpose: for each map (example n, channel c) of an N×C×H×W float32 tensor, the statistics
//   max, mean, population std and centre of mass over its H·W activations, written into the
//   N×dim code matrix as [max(0..C−1) | mean | std | com] (dim = 4C) or, with COM_XY,
//   [max | mean | std | comRow | comCol] (dim = 5C). com uses w = max(a, 0):
//   flat com = Σ w·(i+0.5) / (HW·Σw), row com = Σ w·(r+0.5) / (H·Σw), column com likewise with
//   (c+0.5)/W; all 0.5 when Σw = 0. Non-finite activations are not reduced silently: the
//   kernel writes the lowest global map index that holds one into `bad` (atomicMin).
// Numerics: f32, two passes over the map (sums, then Σ(a − mean)² about the computed mean),
//   each a per-invocation strided sum followed by a tree reduction in workgroup memory.
//
// Bindings (group 0):
//   0 src  storage, read        array<f32>  the bound range of the input; map m of this
//                                           dispatch starts at element in_base + m·hw
//   1 dst  storage, read_write  array<f32>  the bound range of the output; code row
//                                           (row_start + r) starts at element out_base + r·dim
//   2 bad  storage, read_write  atomic<u32> lowest global map index with a NaN/±Inf value
//                                           (initialise to 0xffffffff)
//   3 p    uniform              Params      sizes (below)
//
// Entry points and dispatch (maps = p.maps, the maps of this dispatch):
//   map_per_workgroup: workgroup size WG; one workgroup reduces one map, its invocations
//     striding over the H·W activations. Dispatch (gx, gy) with gx = min(maps, 65535),
//     gy = ceil(maps / gx); map = wid.y·gx + wid.x, workgroups past `maps` return.
//   map_per_thread: workgroup size WG; one invocation reduces one whole map (for small H·W,
//     where a workgroup per map would idle). Dispatch (gx, gy) with
//     gx = min(ceil(maps / WG), 65535), gy = ceil(ceil(maps / WG) / gx); map = grid_index
//     (shaders/grid_index.wgsl, prepended), invocations past `maps` return.
//
// Override constants: WG (workgroup size, a power of two, default 64), COM_XY (default false).
//
// TypeScript reference: reduceFeatureMapsReference in lib/codes/feature_map_reduce.ts.

struct Params {
  maps: u32,       // maps in this dispatch
  hw: u32,         // H·W
  height: u32,     // H
  width: u32,      // W
  channels: u32,   // C
  dim: u32,        // code dimension, 4C or 5C
  in_base: u32,    // element offset of this dispatch's first map in `src`
  out_base: u32,   // element offset of code row `row_start` in `dst`
  map_start: u32,  // global index (n·C + c) of this dispatch's first map
  row_start: u32,  // example index of the first code row bound to `dst`
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read_write> bad: atomic<u32>;
@group(0) @binding(3) var<uniform> p: Params;

override WG: u32 = 64;
override COM_XY: bool = false;

const LOWEST: f32 = -3.40282347e38;

var<workgroup> s_max: array<f32, WG>;
var<workgroup> s_sum: array<f32, WG>;
var<workgroup> s_w: array<f32, WG>;
var<workgroup> s_wr: array<f32, WG>;
var<workgroup> s_wc: array<f32, WG>;
var<workgroup> s_bad: array<u32, WG>;
var<workgroup> s_mean: f32;

// Exponent bits all ones ⇔ NaN or ±Inf (comparisons with NaN may be folded away by compilers).
fn non_finite(a: f32) -> u32 {
  return select(0u, 1u, (bitcast<u32>(a) & 0x7f800000u) == 0x7f800000u);
}

// Writes the code entries of local map `m` from its statistics.
fn store(m: u32, mx: f32, mean: f32, ss: f32, sw: f32, swr: f32, swc: f32, flagged: u32) {
  let gm = p.map_start + m;
  if (flagged != 0u) {
    atomicMin(&bad, gm);
  }
  let n = gm / p.channels;
  let c = gm - n * p.channels;
  let o = p.out_base + (n - p.row_start) * p.dim + c;
  let C = p.channels;
  let hw = f32(p.hw);
  dst[o] = mx;
  dst[o + C] = mean;
  dst[o + 2u * C] = sqrt(ss / hw);
  if (COM_XY) {
    dst[o + 3u * C] = select(0.5, swr / sw / f32(p.height), sw > 0.0);
    dst[o + 4u * C] = select(0.5, swc / sw / f32(p.width), sw > 0.0);
  } else {
    dst[o + 3u * C] = select(0.5, swr / sw / hw, sw > 0.0);
  }
}

// Running sums of one map: max, Σa, Σw, Σw·(i+0.5) (flat) or Σw·(row+0.5) (xy), Σw·(col+0.5)
// (xy), and the non-finite flag; w = max(a, 0).
struct Acc {
  mx: f32,
  sum: f32,
  sw: f32,
  swr: f32,
  swc: f32,
  bad: u32,
}

// `acc` after element `i` (flat index within the map) with value `a`.
fn accumulate(acc: Acc, a: f32, i: u32) -> Acc {
  var r = acc;
  r.bad |= non_finite(a);
  r.mx = max(r.mx, a);
  r.sum += a;
  let w = max(a, 0.0);
  r.sw += w;
  if (COM_XY) {
    let row = i / p.width;
    r.swr += w * (f32(row) + 0.5);
    r.swc += w * (f32(i - row * p.width) + 0.5);
  } else {
    r.swr += w * (f32(i) + 0.5);
  }
  return r;
}

@compute @workgroup_size(WG)
fn map_per_workgroup(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let m = wid.y * nwg.x + wid.x;
  if (m >= p.maps) {
    return; // uniform across the workgroup
  }
  let base = p.in_base + m * p.hw;
  var acc = Acc(LOWEST, 0.0, 0.0, 0.0, 0.0, 0u);
  for (var i = lid; i < p.hw; i += WG) {
    acc = accumulate(acc, src[base + i], i);
  }
  s_max[lid] = acc.mx;
  s_sum[lid] = acc.sum;
  s_w[lid] = acc.sw;
  s_wr[lid] = acc.swr;
  s_wc[lid] = acc.swc;
  s_bad[lid] = acc.bad;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      s_max[lid] = max(s_max[lid], s_max[lid + s]);
      s_sum[lid] += s_sum[lid + s];
      s_w[lid] += s_w[lid + s];
      s_wr[lid] += s_wr[lid + s];
      s_wc[lid] += s_wc[lid + s];
      s_bad[lid] |= s_bad[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    s_mean = s_sum[0] / f32(p.hw);
  }
  workgroupBarrier();
  let mean = s_mean;
  var ss = 0.0;
  for (var i = lid; i < p.hw; i += WG) {
    let d = src[base + i] - mean;
    ss += d * d;
  }
  s_sum[lid] = ss;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      s_sum[lid] += s_sum[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    store(m, s_max[0], mean, s_sum[0], s_w[0], s_wr[0], s_wc[0], s_bad[0]);
  }
}

@compute @workgroup_size(WG)
fn map_per_thread(ids: GridIds) {
  let m = grid_index(ids);
  if (m >= p.maps) {
    return;
  }
  let base = p.in_base + m * p.hw;
  var acc = Acc(LOWEST, 0.0, 0.0, 0.0, 0.0, 0u);
  for (var i = 0u; i < p.hw; i++) {
    acc = accumulate(acc, src[base + i], i);
  }
  let mean = acc.sum / f32(p.hw);
  var ss = 0.0;
  for (var i = 0u; i < p.hw; i++) {
    let d = src[base + i] - mean;
    ss += d * d;
  }
  store(m, acc.mx, mean, ss, acc.sw, acc.swr, acc.swc, acc.bad);
}
