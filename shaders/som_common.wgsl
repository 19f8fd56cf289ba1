// som_common.wgsl — declarations shared by som_bmu.wgsl and som_update.wgsl (prepended to both
// by lib/som/webgpu_backend.ts, so the structs, the common bindings and the size helpers exist
// once). The TypeScript side packs the structs with the layout tables SOM_DIMS and SOM_BATCH in
// webgpu_backend.ts; tests/wgsl_layout_test.ts checks those tables against the structs below.
//
// Override constants (no defaults: lib/som/webgpu_backend.ts sets them from SOM_KERNEL_SIZES):
//   WG  invocations per workgroup of every entry point except `advance`.
//
// Dims (uniform, 8 × u32 = 32 bytes):
//   K        number of units (m·n)
//   d        code dimension
//   m, n     grid rows, columns
//   periodic 1 = torus
//   k        BMUs per row (top-k), 1..16
//   nrows    rows in the x buffer (for the norms pass)
//   B        nominal batch size (row stride of the per-epoch BMU record)
//
// Batch (storage, 4 × 32-bit words = 16 bytes per batch):
//   row0   first row of the batch in the x buffer
//   rows   rows in the batch, b ≤ B
//   scale  α/b (f32)
//   denom  2σ² + 1e-5 (f32)
//
// ctl[0] (storage u32) is the index of the batch being processed; kernels read it so that a
// whole epoch records into one command buffer, and som_update.wgsl's `advance` increments it.

struct Dims {
  K: u32,
  d: u32,
  m: u32,
  n: u32,
  periodic: u32,
  k: u32,
  nrows: u32,
  B: u32,
}

struct Batch {
  row0: u32,
  rows: u32,
  scale: f32,
  denom: f32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> sched: array<Batch>;
@group(0) @binding(2) var<storage, read> ctl: array<u32>;
// Rows of the current chunk, each padded to dp = ceil(d/4)·4 floats.
@group(0) @binding(3) var<storage, read> x: array<vec4<f32>>;

override WG: u32;

// Vec4 counts of a padded row (d4) and of a padded unit block (K4).
fn d4() -> u32 {
  return (dims.d + 3u) / 4u;
}

fn k4() -> u32 {
  return (dims.K + 3u) / 4u;
}
