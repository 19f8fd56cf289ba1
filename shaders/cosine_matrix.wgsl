// cosine_matrix.wgsl — cosine distances between all pairs of K weight vectors (SPEC §4.6).
//
// Purpose: out[i][j] = 1 − (w_i·w_j) · (inv_i · inv_j) with inv_k = 1 / max(‖w_k‖, 1e-8), the
//   SOM's cosine distance (SOM.md "Metric") for every pair, the diagonal included: a zero
//   vector has distance 1 to everything, itself too. Each value is computed once and written
//   to (i, j) and (j, i), so `out` is exactly symmetric.
//
// Layout: the weights are padded by the caller to K4 = 4·ceil(K/4) rows of d4 = ceil(d/4)
//   vec4s (zero padding changes no dot product or norm); padded rows are never written out.
//
// Bindings (group 0):
//   0 w    storage, read        array<vec4<f32>>  K4×d4 padded weights, row-major
//   1 inv  storage, read_write  array<f32>        K4 inverse norms (row_norms writes, matrix reads)
//   2 out  storage, read_write  array<f32>        K×K distances, row-major (matrix only)
//   3 p    uniform              Params            sizes (below)
//
// Entry points (workgroup size WG, override, default 64; no workgroup memory, no barriers):
//   row_norms: one invocation computes inv of one row r = global id. Dispatch ceil(K4 / WG).
//   matrix: one invocation computes a 4×4 block (rows 4·bi.., columns 4·bj..) of `out` with
//     16 accumulators, for bj ≥ bi only (the upper triangle of blocks; the lower is mirrored).
//     Block index e = (wid.y·gx + wid.x)·WG + lid (grid_index of shaders/grid_index.wgsl,
//     prepended), bi = e / B, bj = e mod B, B = K4 / 4.
//     Dispatch g = ceil(B² / WG), gx = min(g, 65535), gy = ceil(g / gx).
//
// Override constants: WG.
//
// TypeScript reference: cosineDistanceMatrixReference in lib/geometry/cosine.ts (float64).

struct Params {
  k: u32,       // K
  d4: u32,      // vec4s per padded row
  blocks: u32,  // B = K4 / 4
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> inv: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn row_norms(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= p.blocks * 4u) {
    return;
  }
  var ss = 0.0;
  for (var t = 0u; t < p.d4; t++) {
    let x = w[r * p.d4 + t];
    ss += dot(x, x);
  }
  inv[r] = 1.0 / max(sqrt(ss), 1e-8);
}

fn put(i: u32, j: u32, v: f32) {
  if (i < p.k && j < p.k) {
    out[i * p.k + j] = v;
    out[j * p.k + i] = v;
  }
}

@compute @workgroup_size(WG)
fn matrix(ids: GridIds) {
  let e = grid_index(ids);
  let B = p.blocks;
  if (e >= B * B) {
    return;
  }
  let bi = e / B;
  let bj = e - bi * B;
  if (bj < bi) {
    return;
  }
  let d4 = p.d4;
  let a = 4u * bi * d4;
  let b = 4u * bj * d4;
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  for (var t = 0u; t < d4; t++) {
    let x0 = w[a + t];
    let x1 = w[a + d4 + t];
    let x2 = w[a + 2u * d4 + t];
    let x3 = w[a + 3u * d4 + t];
    let y0 = w[b + t];
    let y1 = w[b + d4 + t];
    let y2 = w[b + 2u * d4 + t];
    let y3 = w[b + 3u * d4 + t];
    c0 += vec4<f32>(dot(x0, y0), dot(x0, y1), dot(x0, y2), dot(x0, y3));
    c1 += vec4<f32>(dot(x1, y0), dot(x1, y1), dot(x1, y2), dot(x1, y3));
    c2 += vec4<f32>(dot(x2, y0), dot(x2, y1), dot(x2, y2), dot(x2, y3));
    c3 += vec4<f32>(dot(x3, y0), dot(x3, y1), dot(x3, y2), dot(x3, y3));
  }
  let i0 = 4u * bi;
  let j0 = 4u * bj;
  let vi = vec4<f32>(inv[i0], inv[i0 + 1u], inv[i0 + 2u], inv[i0 + 3u]);
  let vj = vec4<f32>(inv[j0], inv[j0 + 1u], inv[j0 + 2u], inv[j0 + 3u]);
  var rows = array<vec4<f32>, 4>(c0, c1, c2, c3);
  for (var r = 0u; r < 4u; r++) {
    let d = vec4<f32>(1.0) - rows[r] * (vi[r] * vj);
    for (var c = 0u; c < 4u; c++) {
      // In a diagonal block, (r, c) and (c, r) are both computed: keep the upper one.
      if (bi != bj || c >= r) {
        put(i0 + r, j0 + c, d[c]);
      }
    }
  }
}
