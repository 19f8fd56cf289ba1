// cosine_matrix.wgsl — cosine distances between all pairs of K weight vectors (SPEC §4.6).
//
// Purpose: out[i][j] = 1 − (w_i·w_j) · (inv_i · inv_j) with inv_k = 1 / max(‖w_k‖, 1e-8), the
//   SOM's cosine distance (SOM.md "Metric") for every pair, the diagonal included: a zero
//   vector has distance 1 to everything, itself too. inv_i·inv_j is formed before it scales the
//   dot product, so out is exactly symmetric.
//
// Bindings (group 0):
//   0 w    storage, read        array<f32>  K×d weights, row-major
//   1 inv  storage, read_write  array<f32>  K inverse norms (written by row_norms, read by matrix)
//   2 out  storage, read_write  array<f32>  K×K distances, row-major (matrix only)
//   3 p    uniform              Params      sizes (below)
//
// Entry points and dispatch:
//   row_norms: workgroup size WG (override, default 64); one invocation computes inv_k of one
//     row. Dispatch ceil(K / WG) workgroups.
//   matrix: workgroup size T×T (override T, default 16); one workgroup computes a T×T tile of
//     `out`, one invocation one entry, streaming T-wide slices of the two row blocks through
//     workgroup memory. Dispatch (ceil(K / T), ceil(K / T)): x = column tile, y = row tile.
//
// Override constants: WG, T.
//
// TypeScript reference: cosineDistanceMatrixReference in lib/som/torus.ts (float64).

struct Params {
  k: u32,  // K
  d: u32,  // d
}

@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> inv: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

override WG: u32 = 64;
override T: u32 = 16;

var<workgroup> tile_a: array<f32, T * T>;
var<workgroup> tile_b: array<f32, T * T>;

@compute @workgroup_size(WG)
fn row_norms(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= p.k) {
    return;
  }
  var ss = 0.0;
  for (var t = 0u; t < p.d; t++) {
    let x = w[r * p.d + t];
    ss += x * x;
  }
  inv[r] = 1.0 / max(sqrt(ss), 1e-8);
}

@compute @workgroup_size(T, T)
fn matrix(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i0 = wid.y * T;
  let j0 = wid.x * T;
  var acc = 0.0;
  for (var t0 = 0u; t0 < p.d; t0 += T) {
    // Invocation (x, y) loads element t0 + x of row i0 + y (tile_a) and of row j0 + y (tile_b).
    let t = t0 + lid.x;
    let ra = i0 + lid.y;
    let rb = j0 + lid.y;
    var va = 0.0;
    var vb = 0.0;
    if (t < p.d && ra < p.k) {
      va = w[ra * p.d + t];
    }
    if (t < p.d && rb < p.k) {
      vb = w[rb * p.d + t];
    }
    tile_a[lid.y * T + lid.x] = va;
    tile_b[lid.y * T + lid.x] = vb;
    workgroupBarrier();
    for (var s = 0u; s < T; s++) {
      acc += tile_a[lid.y * T + s] * tile_b[lid.x * T + s];
    }
    workgroupBarrier();
  }
  let i = i0 + lid.y;
  let j = j0 + lid.x;
  if (i < p.k && j < p.k) {
    out[i * p.k + j] = 1.0 - acc * (inv[i] * inv[j]);
  }
}
