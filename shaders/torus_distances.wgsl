// torus_distances.wgsl — pairwise torus distances between continuous grid positions (SPEC §3).
//
// Purpose: out[i][j] = sqrt(dr² + dc²) between position a[row_start + i] and b[j] on an m×n
//   torus, where dr = |Δrow| reduced modulo m and replaced by min(dr, m − dr), dc likewise with
//   n. Used for BMU sets versus class centres and unit-versus-unit distances.
//
// Bindings (group 0):
//   0 a    storage, read        array<vec2<f32>>  P positions (row, column)
//   1 b    storage, read        array<vec2<f32>>  Q positions (row, column)
//   2 out  storage, read_write  array<f32>        rows×Q distances, row-major (this dispatch's
//                                                 rows of the P×Q result)
//   3 p    uniform              Params            sizes (below)
//
// Workgroup size WG (override, default 64); one invocation computes one entry, flat index
//   e = (wid.y·gx + wid.x)·WG + lid (grid_index of shaders/grid_index.wgsl, prepended),
//   i = e / Q, j = e mod Q; invocations past rows·Q return.
// Dispatch: g = ceil(rows·Q / WG), gx = min(g, 65535), gy = ceil(g / gx).
//
// Override constants: WG.
//
// TypeScript reference: pairwiseTorusDistances in lib/geometry/torus.ts (float64).

struct Params {
  rows: u32,       // rows of `out` in this dispatch
  q: u32,          // Q
  row_start: u32,  // index into `a` of this dispatch's first row
  _pad: u32,
  m: f32,          // torus rows
  n: f32,          // torus columns
}

@group(0) @binding(0) var<storage, read> a: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

override WG: u32 = 64;

// Shortest distance on a circle of length L between points `x` apart.
fn wrap(x: f32, L: f32) -> f32 {
  let d = abs(x);
  let r = d - L * floor(d / L);
  return min(r, L - r);
}

@compute @workgroup_size(WG)
fn main(ids: GridIds) {
  let e = grid_index(ids);
  if (e >= p.rows * p.q) {
    return;
  }
  let i = e / p.q;
  let j = e - i * p.q;
  let delta = a[p.row_start + i] - b[j];
  let dr = wrap(delta.x, p.m);
  let dc = wrap(delta.y, p.n);
  out[e] = sqrt(dr * dr + dc * dc);
}
