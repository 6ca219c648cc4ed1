// relu.wgsl: x ← max(0, x) in place, the forward pass of a ReLU that no previous layer fused.
//
// Layouts: x: [count] f32 (any shape flattened).
// One invocation per element. Params: count, row_stride (workgroups per grid row, for 2-D grids).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * params.row_stride + wg.x) * WORKGROUP_SIZE + li;
  if (i >= params.count) {
    return;
  }
  x[i] = max(x[i], 0.0);
}
