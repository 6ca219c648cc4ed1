// matmul.wgsl: C = op(A) · op(B), with an optional fused epilogue (+ bias, C +=, ReLU).
//
// Layouts (all row-major f32):
//   A: [M, K], or [K, M] when TRANS_A   (weight gradient dW = Xᵀ · dY)
//   B: [K, N], or [N, K] when TRANS_B   (input gradient dX = dY · Wᵀ)
//   C: [M, N]
//   bias: [N] (read only when HAS_BIAS)
// Epilogue order: v = A·B; v += bias[col]; v += C_old (ACCUMULATE); v = max(v, 0) (RELU).
//
// Work split: each invocation computes 8 rows × 4 adjacent columns of C (register tiling).
// A workgroup is WG invocations side by side along N that share the same 8 rows, so the loads
// of A are uniform across the workgroup (on llvmpipe: one scalar load broadcast to every SIMD
// lane) and only B is gathered. No shared memory, no barriers: on llvmpipe barriers split the
// shader into coroutines and cost more than they save.
// Grid: x = ceil(N / (4·WG)), y = ceil(M / 8).
// Ragged edges: indices are clamped for loads (out-of-range lanes read valid data) and the
// stores are skipped, so any M, N, K >= 1 works.
// Constants (generated header): WG, TRANS_A, TRANS_B, HAS_BIAS, ACCUMULATE, RELU.
// Params: m, n, k.

fn load_a(r: u32, k: u32) -> f32 {
  if (TRANS_A) {
    return a[k * params.m + r];
  }
  return a[r * params.k + k];
}

fn load_b(k: u32, c: u32) -> f32 {
  if (TRANS_B) {
    return b[c * params.k + k];
  }
  return b[k * params.n + c];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row0 = wg.y * 8u;
  let col0 = (wg.x * WG + lid.x) * 4u;
  let last_row = params.m - 1u;
  let cols = min(vec4u(col0) + vec4u(0u, 1u, 2u, 3u), vec4u(params.n - 1u));
  // Clamped row indices of this invocation's 8 rows (uniform across the workgroup).
  let r0 = min(row0, last_row);
  let r1 = min(row0 + 1u, last_row);
  let r2 = min(row0 + 2u, last_row);
  let r3 = min(row0 + 3u, last_row);
  let r4 = min(row0 + 4u, last_row);
  let r5 = min(row0 + 5u, last_row);
  let r6 = min(row0 + 6u, last_row);
  let r7 = min(row0 + 7u, last_row);
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  var acc4 = vec4f(0.0);
  var acc5 = vec4f(0.0);
  var acc6 = vec4f(0.0);
  var acc7 = vec4f(0.0);
  for (var k = 0u; k < params.k; k++) {
    let bv = vec4f(load_b(k, cols.x), load_b(k, cols.y), load_b(k, cols.z), load_b(k, cols.w));
    acc0 = fma(vec4f(load_a(r0, k)), bv, acc0);
    acc1 = fma(vec4f(load_a(r1, k)), bv, acc1);
    acc2 = fma(vec4f(load_a(r2, k)), bv, acc2);
    acc3 = fma(vec4f(load_a(r3, k)), bv, acc3);
    acc4 = fma(vec4f(load_a(r4, k)), bv, acc4);
    acc5 = fma(vec4f(load_a(r5, k)), bv, acc5);
    acc6 = fma(vec4f(load_a(r6, k)), bv, acc6);
    acc7 = fma(vec4f(load_a(r7, k)), bv, acc7);
  }
  store_row(row0, col0, acc0);
  store_row(row0 + 1u, col0, acc1);
  store_row(row0 + 2u, col0, acc2);
  store_row(row0 + 3u, col0, acc3);
  store_row(row0 + 4u, col0, acc4);
  store_row(row0 + 5u, col0, acc5);
  store_row(row0 + 6u, col0, acc6);
  store_row(row0 + 7u, col0, acc7);
}

// Writes up to 4 adjacent values of one row of C through the epilogue, skipping out-of-range
// rows and columns.
fn store_row(row: u32, col0: u32, acc: vec4f) {
  if (row >= params.m) {
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    let col = col0 + j;
    if (col < params.n) {
      let at = row * params.n + col;
      var v = acc[j];
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
  }
}
