// leaky_relu_backward.wgsl: dx = dy where act > 0, else slope · dy, the gradient through a leaky
// ReLU, read from its saved output act = y (the forward runs in place, so x is gone).
//
// For slope ≥ 0, y > 0 exactly when x > 0 (in f32 too: slope · x ≤ 0 for x ≤ 0), so the test on y
// is the test on x; at x = 0 the gradient is slope · dy, as PyTorch's leaky_relu_backward gives.
// With slope = 0 this is relu_backward.wgsl.
//
// Layouts: dy, act, dx: [count] f32 (any shape flattened; act is the leaky ReLU's output).
// One invocation per element; grid is 1-D (or 2-D when count/WORKGROUP_SIZE exceeds 65535 workgroups).
// dx may alias nothing; dy and act are read only.
// Params: count, row_stride (workgroups per grid row, for 2-D grids), slope (f32, finite, ≥ 0).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * params.row_stride + wg.x) * WORKGROUP_SIZE + li;
  if (i >= params.count) {
    return;
  }
  let g = dy[i];
  dx[i] = select(params.slope * g, g, act[i] > 0.0);
}
