// matmul_uniform.wgsl: C = op(A) · B with B staged through uniform buffers, one dispatch per
// 64-column panel of C; the variant `uniform` of the matmul (src/kernels/matmul_uniform.ts).
//
// Layouts (row-major f32):
//   A: [M, K], or [K, M] when TRANS_A
//   B: packed by shaders/matmul_pack.wgsl into panels; this dispatch sees one panel (columns
//      col_base .. col_base + 63) as four uniform bindings of 4096 vec4f (64 KiB each):
//        b_lo0 / b_hi0: K rows 0 .. 511,    b_lo1 / b_hi1: K rows 512 .. 1023,
//        element [k_local · 8 + lane] = columns col_base + 8·lane + (0..3) (lo) or (4..7) (hi)
//   C: [M, N]; bias: [N] (read only when HAS_BIAS)
// Epilogue (+ bias, C +=, ReLU): store_row of shaders/matmul_epilogue.wgsl.
//
// Why: Mesa's llvmpipe runs 8 invocations as one 8-wide SIMD program, and a storage load whose
// address is not a compile-time constant becomes a loop over the 8 lanes with a bounds check each,
// while a uniform-buffer load becomes one vector gather. Staging the weights through uniform
// buffers removes half of the scalar loops; each invocation then computes a 16 × 8 tile of C, so a
// step of K costs 16 scalar A loads and 2 vec4 gathers for 128 FMAs (matmul.wgsl: 16 scalar loads
// for 64 FMAs). K is at most 1024 (two 512-row chunks); the wrapper checks.
// Grid: x = ceil(M / 16) workgroups of 8 invocations (lane = 8-column group of the panel).
// Constants (generated header): TRANS_A, HAS_BIAS, ACCUMULATE, RELU. Params: m, n, k, col_base.

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row0 = wg.x * 16u;
  let lane = lid.x;
  let last_row = params.m - 1u;
  // Element (row r, step k) of op(A) is a[a_base(r) + k·a_step].
  let a_step = select(1u, params.m, TRANS_A);
  let a_row = select(params.k, 1u, TRANS_A);
  let r0 = min(row0 + 0u, last_row) * a_row;
  let r1 = min(row0 + 1u, last_row) * a_row;
  let r2 = min(row0 + 2u, last_row) * a_row;
  let r3 = min(row0 + 3u, last_row) * a_row;
  let r4 = min(row0 + 4u, last_row) * a_row;
  let r5 = min(row0 + 5u, last_row) * a_row;
  let r6 = min(row0 + 6u, last_row) * a_row;
  let r7 = min(row0 + 7u, last_row) * a_row;
  let r8 = min(row0 + 8u, last_row) * a_row;
  let r9 = min(row0 + 9u, last_row) * a_row;
  let r10 = min(row0 + 10u, last_row) * a_row;
  let r11 = min(row0 + 11u, last_row) * a_row;
  let r12 = min(row0 + 12u, last_row) * a_row;
  let r13 = min(row0 + 13u, last_row) * a_row;
  let r14 = min(row0 + 14u, last_row) * a_row;
  let r15 = min(row0 + 15u, last_row) * a_row;
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
  var lo8 = vec4f(0.0);
  var hi8 = vec4f(0.0);
  var lo9 = vec4f(0.0);
  var hi9 = vec4f(0.0);
  var lo10 = vec4f(0.0);
  var hi10 = vec4f(0.0);
  var lo11 = vec4f(0.0);
  var hi11 = vec4f(0.0);
  var lo12 = vec4f(0.0);
  var hi12 = vec4f(0.0);
  var lo13 = vec4f(0.0);
  var hi13 = vec4f(0.0);
  var lo14 = vec4f(0.0);
  var hi14 = vec4f(0.0);
  var lo15 = vec4f(0.0);
  var hi15 = vec4f(0.0);
  for (var k = 0u; k < params.k; k++) {
    // The panel's K rows live in two 512-row chunks (uniform bindings are 64 KiB).
    var b_lo: vec4f;
    var b_hi: vec4f;
    if (k < 512u) {
      b_lo = b_lo0[k * 8u + lane];
      b_hi = b_hi0[k * 8u + lane];
    } else {
      b_lo = b_lo1[(k - 512u) * 8u + lane];
      b_hi = b_hi1[(k - 512u) * 8u + lane];
    }
    let ka = k * a_step;
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
    let a8 = vec4f(a[ka + r8]);
    lo8 = fma(a8, b_lo, lo8);
    hi8 = fma(a8, b_hi, hi8);
    let a9 = vec4f(a[ka + r9]);
    lo9 = fma(a9, b_lo, lo9);
    hi9 = fma(a9, b_hi, hi9);
    let a10 = vec4f(a[ka + r10]);
    lo10 = fma(a10, b_lo, lo10);
    hi10 = fma(a10, b_hi, hi10);
    let a11 = vec4f(a[ka + r11]);
    lo11 = fma(a11, b_lo, lo11);
    hi11 = fma(a11, b_hi, hi11);
    let a12 = vec4f(a[ka + r12]);
    lo12 = fma(a12, b_lo, lo12);
    hi12 = fma(a12, b_hi, hi12);
    let a13 = vec4f(a[ka + r13]);
    lo13 = fma(a13, b_lo, lo13);
    hi13 = fma(a13, b_hi, hi13);
    let a14 = vec4f(a[ka + r14]);
    lo14 = fma(a14, b_lo, lo14);
    hi14 = fma(a14, b_hi, hi14);
    let a15 = vec4f(a[ka + r15]);
    lo15 = fma(a15, b_lo, lo15);
    hi15 = fma(a15, b_hi, hi15);
  }
  let col0 = params.col_base + lane * 8u;
  store_row(row0 + 0u, col0, lo0, hi0);
  store_row(row0 + 1u, col0, lo1, hi1);
  store_row(row0 + 2u, col0, lo2, hi2);
  store_row(row0 + 3u, col0, lo3, hi3);
  store_row(row0 + 4u, col0, lo4, hi4);
  store_row(row0 + 5u, col0, lo5, hi5);
  store_row(row0 + 6u, col0, lo6, hi6);
  store_row(row0 + 7u, col0, lo7, hi7);
  store_row(row0 + 8u, col0, lo8, hi8);
  store_row(row0 + 9u, col0, lo9, hi9);
  store_row(row0 + 10u, col0, lo10, hi10);
  store_row(row0 + 11u, col0, lo11, hi11);
  store_row(row0 + 12u, col0, lo12, hi12);
  store_row(row0 + 13u, col0, lo13, hi13);
  store_row(row0 + 14u, col0, lo14, hi14);
  store_row(row0 + 15u, col0, lo15, hi15);
}
