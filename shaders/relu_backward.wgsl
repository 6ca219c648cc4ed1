// relu_backward.wgsl: dx = dy ⊙ [act > 0], the gradient through a ReLU.
//
// Layouts: dy, act, dx: [count] f32 (any shape flattened; act is the ReLU's output).
// One invocation per element; grid is 1-D (or 2-D when count/WORKGROUP_SIZE exceeds 65535 workgroups).
// dx may alias nothing; dy and act are read only.
// Params: count, row_stride (workgroups per grid row, for 2-D grids).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * params.row_stride + wg.x) * WORKGROUP_SIZE + li;
  if (i >= params.count) {
    return;
  }
  dx[i] = select(0.0, dy[i], act[i] > 0.0);
}
