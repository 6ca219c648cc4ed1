// score_accumulate.wgsl: score ← score + |w ⊙ ∂L/∂w|, the first-order Taylor estimate of the
// loss change from removing each weight (Molchanov et al. 2019, "Importance Estimation for
// Neural Network Pruning"; at initialisation, SNIP's connection sensitivity, Lee et al. 2019),
// summed over the batches of a scoring pass.
//
// Layouts: w, grad, score: [count] f32, a parameter in its own layout. One invocation per
// element. Params: count, row_stride (workgroups per grid row).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * params.row_stride + wg.x) * WORKGROUP_SIZE + li;
  if (i >= params.count) {
    return;
  }
  score[i] += abs(w[i] * grad[i]);
}
