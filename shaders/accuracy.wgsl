// accuracy.wgsl: count correct predictions (argmax of logits == label) on the GPU.
//
// Layouts: logits: [rows, classes] f32 row-major; labels: [rows] u32;
//          correct: [1] atomic u32, incremented (not reset) so it accumulates over batches.
// Ties pick the lowest class index, as numpy's argmax does.
// One invocation per row. Params: rows, classes.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= params.rows) {
    return;
  }
  let base = r * params.classes;
  var best = 0u;
  var best_value = logits[base];
  for (var c = 1u; c < params.classes; c++) {
    let value = logits[base + c];
    if (value > best_value) {
      best = c;
      best_value = value;
    }
  }
  if (best == labels[r]) {
    atomicAdd(&correct[0], 1u);
  }
}
