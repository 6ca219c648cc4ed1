// sparse_matmul_t.wgsl: the sparse forward product on transposed activations,
// Yᵀ = (X · W)ᵀ with W as CSR by output unit — the layout that lets one vector load fetch four
// rows' inputs at once.
//
// Layouts:
//   xt:      [inputs, stride / 4] vec4f: Xᵀ, input i of rows r..r+3 at xt[i · stride/4 + r/4];
//            stride = rows rounded up to a multiple of 4 (the padding is never stored).
//   indptr, indices, values: CSR of Wᵀ [outputs, inputs] as in sparse_matmul.wgsl.
//   bias:    [outputs] f32 (read only when HAS_BIAS).
//   yt:      [outputs, stride] f32 when OUT_T (the next sparse layer's xt), else y [rows, outputs].
// Work split: one invocation per (output unit, tile of 8 consecutive rows), the workgroup's
// invocations on consecutive tiles of one output unit: they walk the same non-zeros in lockstep
// and their two vec4 loads per non-zero are contiguous. Each non-zero costs 4 loads (index,
// value, two vec4) for 8 multiply-adds.
// Grid: x = outputs, y (and z) = ceil(rows / (8 · WORKGROUP_SIZE)).
// Constants: WORKGROUP_SIZE, HAS_BIAS, RELU, OUT_T. Params: rows, inputs, outputs, stride,
// row_stride (workgroups per grid row).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let o = wg.x;
  let tile = (wg.z * params.row_stride + wg.y) * WORKGROUP_SIZE + li;
  let row0 = tile * 16u;
  if (o >= params.outputs || row0 >= params.rows) {
    return;
  }
  let quads = params.stride / 4u;
  // Quads of a tile at the end may lie past the padded rows: they read the last one again.
  let q0 = row0 / 4u;
  let q1 = min(q0 + 1u, quads - 1u);
  let q2 = min(q0 + 2u, quads - 1u);
  let q3 = min(q0 + 3u, quads - 1u);
  var acc = array<vec4f, 4>(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  let end = indptr[o + 1u];
  for (var j = indptr[o]; j < end; j++) {
    let base = indices[j] * quads;
    let v = values[j];
    a0 += v * xt[base + q0];
    a1 += v * xt[base + q1];
    a2 += v * xt[base + q2];
    a3 += v * xt[base + q3];
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
  var add = 0.0;
  if (HAS_BIAS) {
    add = bias[o];
  }
  for (var t = 0u; t < 16u; t++) {
    let row = row0 + t;
    if (row < params.rows) {
      var value = acc[t / 4u][t % 4u] + add;
      if (RELU) {
        value = max(value, 0.0);
      }
      if (OUT_T) {
        yt[o * params.stride + row] = value;
      } else {
        yt[row * params.outputs + o] = value;
      }
    }
  }
}
