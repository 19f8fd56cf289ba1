// grid_index.wgsl — the flat invocation index of a kernel dispatched over a 2-D grid of
// workgroups (a count g of workgroups runs as gx = min(g, 65535) by gy = ceil(g / gx)). Prepended
// to cosine_matrix.wgsl, torus_distances.wgsl and feature_map_reduce.wgsl by their TypeScript
// modules (lib/geometry/cosine.ts, lib/geometry/torus.ts, lib/codes/feature_map_reduce.ts); each
// of those declares the override WG (invocations per workgroup).

// The builtins of an entry point that uses grid_index.
struct GridIds {
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
}

// (wid.y·gx + wid.x)·WG + lid: workgroups in row-major order, WG invocations each.
fn grid_index(ids: GridIds) -> u32 {
  return (ids.wid.y * ids.nwg.x + ids.wid.x) * WG + ids.lid;
}
