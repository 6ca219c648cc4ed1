// codebook_decode.wgsl: w ← codebook[cluster], the weights of a weight-shared tensor rebuilt
// from its shared values after each centroid update; a pruned weight (cluster −1) is exactly 0.0.
//
// Layouts: clusters: [count] i32 (−1 pruned, else 0..2^bits−1); codebook: [2^bits] f32;
// w: [count] f32, the tensor in its own layout. One invocation per weight.
// Params: count, row_stride (workgroups per grid row).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * params.row_stride + wg.x) * WORKGROUP_SIZE + li;
  if (i >= params.count) {
    return;
  }
  let c = clusters[i];
  w[i] = select(0.0, codebook[max(c, 0)], c >= 0);
}
