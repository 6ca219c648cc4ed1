// matmul_epilogue.wgsl: the epilogue every matmul variant applies to C (appended to matmul.wgsl,
// matmul_uniform.wgsl and matmul_workgroup.wgsl through their specs' `includes`).
// C: [M, N] row-major; bias: [N] (read only when HAS_BIAS).
// Order: v = A·B; v += bias[col] (HAS_BIAS); v += C_old (ACCUMULATE); v = max(v, 0) (RELU).

// Writes one in-range value of C through the epilogue.
fn store_c(row: u32, col: u32, value: f32) {
  let at = row * params.n + col;
  var v = value;
  if (HAS_BIAS) {
    v += bias[col];
  }
  if (ACCUMULATE) {
    v += c[at];
  }
  if (RELU) {
    v = max(v, 0.0);
  }
  c[at] = v;
}

// Writes up to 8 adjacent values of one row of C (lo: columns col0 .. col0 + 3, hi: the next 4),
// skipping out-of-range rows and columns.
fn store_row(row: u32, col0: u32, lo: vec4f, hi: vec4f) {
  if (row >= params.m) {
    return;
  }
  for (var j = 0u; j < 8u; j++) {
    let col = col0 + j;
    if (col < params.n) {
      store_c(row, col, select(hi[j % 4u], lo[j % 4u], j < 4u));
    }
  }
}
