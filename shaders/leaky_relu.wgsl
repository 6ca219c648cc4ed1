// leaky_relu.wgsl: x ← x for x > 0, else slope · x, in place (torch.nn.LeakyReLU(slope)).
//
// Layouts: x: [count] f32 (any shape flattened).
// One invocation per element. Params: count, row_stride (workgroups per grid row, for 2-D grids),
// slope (f32, finite and ≥ 0, checked by the wrapper).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * params.row_stride + wg.x) * WORKGROUP_SIZE + li;
  if (i >= params.count) {
    return;
  }
  let v = x[i];
  x[i] = select(params.slope * v, v, v > 0.0);
}
