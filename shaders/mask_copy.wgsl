// mask_copy.wgsl: w ← dense ⊙ mask, the weights the forward pass uses rebuilt from a dense copy
// that keeps training underneath the mask (dynamic network surgery, Guo et al. 2016: pruned
// weights are still updated, and spliced back when they grow). Pruned entries are exactly 0.0.
//
// Layouts: dense, mask, w: [count] f32 (a parameter in its own layout); mask holds 0 or 1.
// One invocation per element. Params: count, row_stride (workgroups per grid row).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * params.row_stride + wg.x) * WORKGROUP_SIZE + li;
  if (i >= params.count) {
    return;
  }
  w[i] = select(0.0, dense[i], mask[i] != 0.0);
}
