// som_common.wgsl — declarations shared by som_bmu.wgsl and som_update.wgsl (prepended to both
// by lib/som/webgpu_backend.ts, so the struct layouts exist once; the TypeScript side writes them
// with the word offsets listed here).
//
// Dims (uniform, 8 × u32 = 32 bytes), written by _dims() in webgpu_backend.ts:
//   K        number of units (m·n)
//   d        code dimension
//   m, n     grid rows, columns
//   periodic 1 = torus
//   k        BMUs per row (top-k), 1..16
//   nrows    rows in the x buffer (for the norms pass)
//   B        nominal batch size (row stride of the per-epoch BMU record)
//
// Batch (storage, 4 × 32-bit words = 16 bytes per batch), written by _schedule():
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
