// gather_batch.wgsl: assemble one batch from the dataset held on the GPU, row-major or transposed.
//
// Layouts:
//   pixels: [samples · features / 4] u32, the dataset's u8 pixels packed 4 per word (little end
//           first), sample-major: pixel j of sample s is byte s·features + j.
//   labels_all: [samples] u32.
//   order: [*] u32, the (shuffled) sample indices of the epoch.
//   state: [2] u32; state[1] is the batch cursor: this batch reads
//          order[offset + cursor·rows + r].
//   x: [rows, features] f32, pixels scaled to [0, 1]; when TRANSPOSED, [features, stride] (Xᵀ,
//      the layout of the sparse kernels' input; the padding rows..stride−1 is left as it was).
//   y: [rows] u32 output labels.
// Work split: one invocation per (row, group of 4 consecutive features); a workgroup's
// invocations take consecutive rows of one feature group, the grid's x runs over feature groups
// and its y (and z) over blocks of rows, so no invocation divides (llvmpipe turns an integer
// division into a loop over the lanes). When features is a multiple of 4 a
// group is one aligned pixel word; otherwise each of its pixels is fetched on its own. The
// invocation of group 0 writes y[r].
// Constants: WORKGROUP_SIZE, ALIGNED (features % 4 == 0), TRANSPOSED. Params: rows, features,
// offset, stride (row stride of Xᵀ), row_stride (workgroups per grid row of the y dimension).

/** Pixel `byte_index` of the dataset, scaled to [0, 1]. */
fn pixel(byte_index: u32) -> f32 {
  let word = pixels[byte_index >> 2u];
  return f32((word >> ((byte_index & 3u) * 8u)) & 0xffu) / 255.0;
}

/** Writes feature `j` of row `r`. */
fn put(r: u32, j: u32, value: f32) {
  if (TRANSPOSED) {
    x[j * params.stride + r] = value;
  } else {
    x[r * params.features + j] = value;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let r = (wg.z * params.row_stride + wg.y) * WORKGROUP_SIZE + li;
  let j0 = wg.x * 4u;
  if (r >= params.rows || j0 >= params.features) {
    return;
  }
  let sample = order[params.offset + state[1] * params.rows + r];
  let first = sample * params.features + j0;
  if (j0 == 0u) {
    y[r] = labels_all[sample];
  }
  if (ALIGNED) {
    let word = pixels[first >> 2u];
    put(r, j0, f32(word & 0xffu) / 255.0);
    put(r, j0 + 1u, f32((word >> 8u) & 0xffu) / 255.0);
    put(r, j0 + 2u, f32((word >> 16u) & 0xffu) / 255.0);
    put(r, j0 + 3u, f32(word >> 24u) / 255.0);
  } else {
    for (var t = 0u; t < 4u; t++) {
      if (j0 + t < params.features) {
        put(r, j0 + t, pixel(first + t));
      }
    }
  }
}
