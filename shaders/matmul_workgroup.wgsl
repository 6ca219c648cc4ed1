// matmul_workgroup.wgsl: C = op(A) · op(B) with 64 × 64 tiles of C staged through workgroup
// memory; the variant `workgroup` of the matmul (src/kernels/matmul_workgroup.ts), the classic
// shape for discrete GPUs.
//
// Layouts (row-major f32), as matmul.wgsl:
//   A: [M, K], or [K, M] when TRANS_A;  B: [K, N], or [N, K] when TRANS_B;  C: [M, N];  bias: [N]
// Epilogue (+ bias, C +=, ReLU): store_c of shaders/matmul_epilogue.wgsl.
//
// Work split: a workgroup of 16 × 16 invocations owns a 64 × 64 tile of C; each invocation a
// 4 × 4 block of it (rows ty + 16·i, columns tx + 16·j, so neighbouring invocations touch
// neighbouring addresses). K advances 16 at a time: the workgroup copies A's 64 × 16 and B's
// 16 × 64 slices into workgroup memory (4 loads per invocation each, zero-padded past the edges),
// synchronises, and every invocation runs 16 steps of 16 FMAs from workgroup memory.
// Grid: x = ceil(N / 64), y = ceil(M / 64). Constants: TRANS_A, TRANS_B, HAS_BIAS, ACCUMULATE,
// RELU. Params: m, n, k.

var<workgroup> tile_a: array<array<f32, 64>, 16>; // [k, row]
var<workgroup> tile_b: array<array<f32, 64>, 16>; // [k, col]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let tx = lid.x;
  let ty = lid.y;
  let row0 = wg.y * 64u;
  let col0 = wg.x * 64u;
  let flat = ty * 16u + tx;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < params.k; k0 += 16u) {
    // 256 invocations load 64 × 16 values of each operand: 4 apiece.
    for (var l = 0u; l < 4u; l++) {
      let e = flat + l * 256u;
      // A slice: e → (row e / 16, step e % 16), walking K fastest when A is [M, K].
      let ar = select(e / 16u, e % 64u, TRANS_A);
      let ak = select(e % 16u, e / 64u, TRANS_A);
      let grow = row0 + ar;
      let gka = k0 + ak;
      var av = 0.0;
      if (grow < params.m && gka < params.k) {
        av = select(a[grow * params.k + gka], a[gka * params.m + grow], TRANS_A);
      }
      tile_a[ak][ar] = av;
      // B slice: e → (step e / 64, column e % 64) when B is [K, N], walking N fastest.
      let bc = select(e % 64u, e / 16u, TRANS_B);
      let bk = select(e / 64u, e % 16u, TRANS_B);
      let gcol = col0 + bc;
      let gkb = k0 + bk;
      var bv = 0.0;
      if (gcol < params.n && gkb < params.k) {
        bv = select(b[gkb * params.n + gcol], b[gcol * params.k + gkb], TRANS_B);
      }
      tile_b[bk][bc] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        av[i] = tile_a[kk][ty + 16u * i];
        bv[i] = tile_b[kk][tx + 16u * i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
          acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + ty + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + tx + 16u * j;
      if (row < params.m && col < params.n) {
        store_c(row, col, acc[i][j]);
      }
    }
  }
}
