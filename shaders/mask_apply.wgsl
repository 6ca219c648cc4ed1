// mask_apply.wgsl: w ← w ⊙ mask, in place. Pruned entries (mask 0) become exactly 0.0.
//
// Layouts: w, mask: [count] f32 (a layer's W[in, out] flattened row-major); mask holds 0 or 1.
// One invocation per element. Params: count, row_stride (workgroups per grid row).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * params.row_stride + wg.x) * WORKGROUP_SIZE + li;
  if (i >= params.count) {
    return;
  }
  w[i] = select(0.0, w[i], mask[i] != 0.0);
}
