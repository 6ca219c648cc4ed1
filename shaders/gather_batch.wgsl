// gather_batch.wgsl: assemble one batch from the dataset held on the GPU.
//
// Layouts:
//   pixels: [samples · features / 4] u32, the dataset's u8 pixels packed 4 per word (little end
//           first), sample-major: pixel j of sample s is byte s·features + j.
//   labels_all: [samples] u32.
//   order: [*] u32, the (shuffled) sample indices of the epoch.
//   state: [2] u32; state[1] is the batch cursor: this batch reads
//          order[offset + cursor·rows + r].
//   x: [rows, features] f32 output, pixels scaled to [0, 1].
//   y: [rows] u32 output labels.
// One invocation per output element of x; invocation (r, 0) also writes y[r].
// Params: rows, features, offset, row_stride (workgroups per grid row).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * params.row_stride + wg.x) * WORKGROUP_SIZE + li;
  if (i >= params.rows * params.features) {
    return;
  }
  let r = i / params.features;
  let j = i % params.features;
  let sample = order[params.offset + state[1] * params.rows + r];
  let byte_index = sample * params.features + j;
  let word = pixels[byte_index / 4u];
  let value = (word >> ((byte_index % 4u) * 8u)) & 0xffu;
  x[i] = f32(value) / 255.0;
  if (j == 0u) {
    y[r] = labels_all[sample];
  }
}
