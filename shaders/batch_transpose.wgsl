// batch_transpose.wgsl: y[n] = x[n]ᵀ for every sample n, e.g. a convolution's output from
// position-major [rows, OH·OW, O] (the matrix product's) to NCHW [rows, O, OH·OW], and its
// gradient back.
//
// Layouts (row-major f32): x: [batch, a, b]; y: [batch, b, a].
// Work split: one invocation per (n, i) and group of COLS consecutive j, storing
// y[n, j, i] for j in the group; a workgroup's lanes take consecutive i, so their stores are
// contiguous. Grid: x = ceil(b / COLS), y = ceil(a / WORKGROUP_SIZE), z = batch. No divisions.
// Constants: WORKGROUP_SIZE, COLS. Params: a, b.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = wg.y * WORKGROUP_SIZE + li;
  let n = wg.z;
  if (i >= params.a) {
    return;
  }
  let base = n * params.a * params.b;
  let j0 = wg.x * COLS;
  for (var t = 0u; t < COLS; t++) {
    let j = j0 + t;
    if (j < params.b) {
      y[base + j * params.a + i] = x[base + i * params.b + j];
    }
  }
}
