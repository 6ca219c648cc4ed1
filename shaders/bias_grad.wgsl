// bias_grad.wgsl: db = column sums of dz, the bias gradient of a dense layer.
//
// Layouts: dz: [rows, cols] f32 row-major; db: [cols] f32 output.
// One invocation per column. Params: rows, cols.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= params.cols) {
    return;
  }
  var sum = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    sum += dz[r * params.cols + c];
  }
  db[c] = sum;
}
