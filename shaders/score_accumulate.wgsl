// score_accumulate.wgsl: score ← score + |w ⊙ ∂L/∂w|, the first-order Taylor estimate of the
// loss change from removing each weight (Molchanov et al. 2019, "Importance Estimation for
// Neural Network Pruning"; at initialisation, SNIP's connection sensitivity, Lee et al. 2019),
// summed over the batches of a scoring pass; or, when MOVEMENT, score ← score − w ⊙ ∂L/∂w, the
// movement score accumulated during fine-tuning (Sanh et al. 2020, "Movement Pruning"): large
// when training moves a weight away from zero.
//
// Layouts: w, grad, score: [count] f32, a parameter in its own layout. One invocation per
// element. Constants: MOVEMENT. Params: count, row_stride (workgroups per grid row).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * params.row_stride + wg.x) * WORKGROUP_SIZE + li;
  if (i >= params.count) {
    return;
  }
  let product = w[i] * grad[i];
  score[i] += select(abs(product), -product, MOVEMENT);
}
