// transpose.wgsl: Xᵀ from X, for the sparse kernels' transposed activations.
//
// Layouts: x: [rows, cols] f32 row-major; xt: [cols, stride] f32 (stride ≥ rows; the padding
// columns rows..stride−1 are not written).
// Work split: one invocation per row and group of COLS consecutive columns; a workgroup's
// invocations take consecutive rows (so their stores are contiguous), the grid's x runs over
// column groups and its y (and z) over blocks of rows. No invocation divides (llvmpipe turns a
// division into a loop over the lanes), and each does several elements, since on llvmpipe a
// workgroup costs about as much as a few dozen loads.
// Constants: WORKGROUP_SIZE, COLS. Params: rows, cols, stride, row_stride (workgroups per grid
// row of the y dimension).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let r = (wg.z * params.row_stride + wg.y) * WORKGROUP_SIZE + li;
  let c0 = wg.x * COLS;
  if (r >= params.rows) {
    return;
  }
  for (var t = 0u; t < COLS; t++) {
    let c = c0 + t;
    if (c < params.cols) {
      xt[c * params.stride + r] = x[r * params.cols + c];
    }
  }
}
