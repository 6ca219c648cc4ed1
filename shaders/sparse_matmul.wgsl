// sparse_matmul.wgsl: Y = X · W for a pruned dense layer, W held as CSR by output unit, with the
// dense matmul's epilogue (+ bias, ReLU): Y[b, o] = Σ_{i ∈ nz(o)} X[b, i] · W[i, o] (+ bias[o]).
//
// Layouts:
//   x:       [rows, inputs] f32, row-major (the activations as every layer writes them).
//   indptr:  [outputs + 1] u32: the non-zeros of output unit o are entries indptr[o] ..
//            indptr[o + 1] − 1 (CSR of Wᵀ [outputs, inputs], PyTorch's Linear layout).
//   indices: [nnz] u32, the input index of each non-zero.
//   values:  [nnz] f32, its weight.
//   bias:    [outputs] f32 (read only when HAS_BIAS).
//   y:       [rows, outputs] f32, written.
// Work split: one invocation per (output unit, tile of TILE consecutive rows); the WORKGROUP_SIZE
// invocations of a workgroup share the output unit and take consecutive row tiles, so they walk
// the same non-zeros in lockstep (no divergence, the index and value loads hit one address).
// Each non-zero costs 2 + TILE loads for TILE multiply-adds; the dense kernel's 8 × 8 tile costs
// 16 loads for 64, so this wins below roughly 20% density on the software adapter.
// Grid: x = outputs, y = ceil(rows / (TILE · WORKGROUP_SIZE)) (split across y and z when large).
// Constants (generated header): WORKGROUP_SIZE, HAS_BIAS, RELU. Params: rows, inputs, outputs,
// row_stride (workgroups per grid row of the row-tile dimension).

const TILE = 8u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let o = wg.x;
  let tile = (wg.z * params.row_stride + wg.y) * WORKGROUP_SIZE + li;
  let row0 = tile * TILE;
  if (o >= params.outputs || row0 >= params.rows) {
    return;
  }
  // Rows past the end read the last row (valid memory) and are not stored.
  let last = params.rows - 1u;
  let b0 = min(row0 + 0u, last) * params.inputs;
  let b1 = min(row0 + 1u, last) * params.inputs;
  let b2 = min(row0 + 2u, last) * params.inputs;
  let b3 = min(row0 + 3u, last) * params.inputs;
  let b4 = min(row0 + 4u, last) * params.inputs;
  let b5 = min(row0 + 5u, last) * params.inputs;
  let b6 = min(row0 + 6u, last) * params.inputs;
  let b7 = min(row0 + 7u, last) * params.inputs;
  var lo = vec4f(0.0);
  var hi = vec4f(0.0);
  let end = indptr[o + 1u];
  for (var j = indptr[o]; j < end; j++) {
    let i = indices[j];
    let v = values[j];
    lo += v * vec4f(x[b0 + i], x[b1 + i], x[b2 + i], x[b3 + i]);
    hi += v * vec4f(x[b4 + i], x[b5 + i], x[b6 + i], x[b7 + i]);
  }
  var add = 0.0;
  if (HAS_BIAS) {
    add = bias[o];
  }
  for (var t = 0u; t < TILE; t++) {
    let row = row0 + t;
    if (row < params.rows) {
      var value = select(hi[t % 4u], lo[t % 4u], t < 4u) + add;
      if (RELU) {
        value = max(value, 0.0);
      }
      y[row * params.outputs + o] = value;
    }
  }
}
