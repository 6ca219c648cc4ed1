// matmul.wgsl: C = op(A) · op(B), with an optional fused epilogue (+ bias, C +=, ReLU).
//
// Layouts (all row-major f32):
//   A: [M, K], or [K, M] when TRANS_A   (weight gradient dW = Xᵀ · dY)
//   B: [K, N], or [N, K] when TRANS_B   (input gradient dX = dY · Wᵀ)
//   C: [M, N]
//   bias: [N] (read only when HAS_BIAS)
// Epilogue (+ bias, C +=, ReLU): store_row of shaders/matmul_epilogue.wgsl.
//
// Work split (register tiling): each invocation computes an 8 × 8 tile of C, so every trip
// through the K loop issues 16 loads for 64 FMAs. A workgroup is WG invocations side by side
// along N; grid x walks row blocks (fastest), grid y column panels, so consecutive workgroups
// reuse the same B panel (K × 8·WG floats) from cache.
// Why this shape, measured on llvmpipe (Mesa 25, 2 cores; see README "Kernel performance"):
// each storage-buffer load whose address varies per invocation becomes a per-lane scalar loop
// (tens of cycles for 8 lanes) while an FMA is one instruction, so the tile is chosen to
// maximise FMAs per load without spilling; 8 × 8 beat 8 × 4, 16 × 4, 4 × 8, 8 × 16 and 12 × 8.
// No shared memory and no barriers: on llvmpipe barriers split the shader into coroutines.
// A narrow product (N ≤ 8·WG with WG < 32: a convolution's few filters, the logits) stacks
// ROW_TILES tiles of rows in one workgroup instead, so a workgroup still fills the SIMD lanes.
// Grid: x·z = ceil(M / (8·ROW_TILES)) row blocks (block = z·row_stride + x, z > 1 only past the
// 65535 workgroups one grid axis allows), y = ceil(N / (8·WG)).
// Ragged edges: load indices are clamped (out-of-range lanes read valid data) and the stores
// are skipped, so any M, N, K >= 1 works.
// Constants (generated header): WG, ROW_TILES, TRANS_A, TRANS_B, HAS_BIAS, ACCUMULATE, RELU.
// Params: m, n, k, row_stride.

@compute @workgroup_size(WG, ROW_TILES)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row0 = ((wg.z * params.row_stride + wg.x) * ROW_TILES + lid.y) * 8u;
  let col0 = (wg.y * WG + lid.x) * 8u;
  let last_row = params.m - 1u;
  let last_col = params.n - 1u;
  // Element (row r, step k) of op(A) is a[a_base(r) + k·a_step]; likewise for B, so the
  // loop does one multiply per operand and plain adds per load.
  let a_step = select(1u, params.m, TRANS_A);
  let b_step = select(params.n, 1u, TRANS_B);
  let a_row = select(params.k, 1u, TRANS_A);
  let b_col = select(1u, params.k, TRANS_B);
  let r0 = min(row0 + 0u, last_row) * a_row;
  let r1 = min(row0 + 1u, last_row) * a_row;
  let r2 = min(row0 + 2u, last_row) * a_row;
  let r3 = min(row0 + 3u, last_row) * a_row;
  let r4 = min(row0 + 4u, last_row) * a_row;
  let r5 = min(row0 + 5u, last_row) * a_row;
  let r6 = min(row0 + 6u, last_row) * a_row;
  let r7 = min(row0 + 7u, last_row) * a_row;
  let c0 = min(col0 + 0u, last_col) * b_col;
  let c1 = min(col0 + 1u, last_col) * b_col;
  let c2 = min(col0 + 2u, last_col) * b_col;
  let c3 = min(col0 + 3u, last_col) * b_col;
  let c4 = min(col0 + 4u, last_col) * b_col;
  let c5 = min(col0 + 5u, last_col) * b_col;
  let c6 = min(col0 + 6u, last_col) * b_col;
  let c7 = min(col0 + 7u, last_col) * b_col;
  var lo0 = vec4f(0.0);
  var hi0 = vec4f(0.0);
  var lo1 = vec4f(0.0);
  var hi1 = vec4f(0.0);
  var lo2 = vec4f(0.0);
  var hi2 = vec4f(0.0);
  var lo3 = vec4f(0.0);
  var hi3 = vec4f(0.0);
  var lo4 = vec4f(0.0);
  var hi4 = vec4f(0.0);
  var lo5 = vec4f(0.0);
  var hi5 = vec4f(0.0);
  var lo6 = vec4f(0.0);
  var hi6 = vec4f(0.0);
  var lo7 = vec4f(0.0);
  var hi7 = vec4f(0.0);
  for (var k = 0u; k < params.k; k++) {
    let ka = k * a_step;
    let kb = k * b_step;
    let b_lo = vec4f(b[kb + c0], b[kb + c1], b[kb + c2], b[kb + c3]);
    let b_hi = vec4f(b[kb + c4], b[kb + c5], b[kb + c6], b[kb + c7]);
    let a0 = vec4f(a[ka + r0]);
    lo0 = fma(a0, b_lo, lo0);
    hi0 = fma(a0, b_hi, hi0);
    let a1 = vec4f(a[ka + r1]);
    lo1 = fma(a1, b_lo, lo1);
    hi1 = fma(a1, b_hi, hi1);
    let a2 = vec4f(a[ka + r2]);
    lo2 = fma(a2, b_lo, lo2);
    hi2 = fma(a2, b_hi, hi2);
    let a3 = vec4f(a[ka + r3]);
    lo3 = fma(a3, b_lo, lo3);
    hi3 = fma(a3, b_hi, hi3);
    let a4 = vec4f(a[ka + r4]);
    lo4 = fma(a4, b_lo, lo4);
    hi4 = fma(a4, b_hi, hi4);
    let a5 = vec4f(a[ka + r5]);
    lo5 = fma(a5, b_lo, lo5);
    hi5 = fma(a5, b_hi, hi5);
    let a6 = vec4f(a[ka + r6]);
    lo6 = fma(a6, b_lo, lo6);
    hi6 = fma(a6, b_hi, hi6);
    let a7 = vec4f(a[ka + r7]);
    lo7 = fma(a7, b_lo, lo7);
    hi7 = fma(a7, b_hi, hi7);
  }
  store_row(row0 + 0u, col0, lo0, hi0);
  store_row(row0 + 1u, col0, lo1, hi1);
  store_row(row0 + 2u, col0, lo2, hi2);
  store_row(row0 + 3u, col0, lo3, hi3);
  store_row(row0 + 4u, col0, lo4, hi4);
  store_row(row0 + 5u, col0, lo5, hi5);
  store_row(row0 + 6u, col0, lo6, hi6);
  store_row(row0 + 7u, col0, lo7, hi7);
}
