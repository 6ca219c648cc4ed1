// centroid_grad.wgsl: the gradient of each shared weight (centroid) of a weight-shared tensor is
// the sum of the gradients of the weights in its cluster (Han et al. 2016, "Deep Compression",
// eq. 3). The clusters never change, so the weights arrive grouped: a segmented sum, no atomics.
//
// Layouts: grad: [count] f32, the tensor's dL/dW in its own layout; order: [members] u32, weight
// positions cluster by cluster; offsets: [clusters + 1] u32, cluster c's members are
// order[offsets[c] .. offsets[c + 1]]; cgrad: [clusters] f32, written (not accumulated).
// One workgroup per cluster (grid rows of row_stride workgroups); its invocations stride over
// the members, then a tree sum in workgroup memory. Params: clusters, row_stride.

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let c = wg.y * params.row_stride + wg.x;
  var sum = 0.0;
  if (c < params.clusters) {
    let end = offsets[c + 1u];
    for (var j = offsets[c] + li; j < end; j += WORKGROUP_SIZE) {
      sum += grad[order[j]];
    }
  }
  partial[li] = sum;
  workgroupBarrier();
  for (var half = WORKGROUP_SIZE / 2u; half > 0u; half >>= 1u) {
    if (li < half) {
      partial[li] += partial[li + half];
    }
    workgroupBarrier();
  }
  if (li == 0u && c < params.clusters) {
    cgrad[c] = partial[0];
  }
}
