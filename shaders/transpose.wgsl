// transpose.wgsl: Xᵀ from X, for the sparse kernels' transposed activations.
//
// Layouts: x: [rows, cols] f32 row-major; xt: [cols, stride] f32 (stride ≥ rows; the padding
// columns rows..stride−1 are not written).
// One invocation per element of x. Params: rows, cols, stride, row_stride (workgroups per grid
// row, for 2-D grids).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * params.row_stride + wg.x) * WORKGROUP_SIZE + li;
  if (i >= params.rows * params.cols) {
    return;
  }
  let r = i / params.cols;
  let c = i % params.cols;
  xt[c * params.stride + r] = x[i];
}
