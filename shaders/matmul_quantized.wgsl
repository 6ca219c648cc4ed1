// matmul_quantized.wgsl: C = A · dequant(Q)ᵀ (+ bias) (ReLU) with post-training-quantised
// weights read in their packed form, never expanded to f32 in memory.
//
//   C[m, n] = Σ_k A[m, k] · W[n, k]   (+ bias[n]) (then max(·, 0) when RELU)
//
// Layouts:
//   a:     [M, K] f32, row-major.
//   q:     [N, Q_STRIDE] u32, one packed row per output channel n (PyTorch's Linear [out, in]),
//          row stride params.q_stride words, the padding of a row's last word zero:
//          FORMAT_INT8: q_stride = ceil(K / 4); byte j of word w (bits 8j .. 8j + 7) is the
//                       two's-complement int8 of W[n, 4w + j]; W[n, k] = f32(q) · scale[n].
//          otherwise:   q_stride = ceil(K / 2); the low 16 bits of word w hold W[n, 2w] and the
//                       high 16 bits W[n, 2w + 1], IEEE binary16 (as unpack2x16float reads them).
//   scale: [N] f32, per-output-channel scale (read only when FORMAT_INT8).
//   bias:  [N] f32 (read only when HAS_BIAS).
//   c:     [M, N] f32, row-major, written.
// Epilogue (+ bias, ReLU): store_row of shaders/matmul_epilogue.wgsl; ACCUMULATE is always false.
//
// One file for both formats, the format a compile-time constant: everything but the decoding of
// four weights (weights4) is the same (tile, K loop, ragged tail, scale, epilogue, grid), and two
// files would repeat it; each format still compiles to its own pipeline with no runtime branch.
// Decoding uses core WGSL only: int8 sign-extended by extractBits(i32(word), 8j, 8) and converted
// with f32(); f16 through unpack2x16float, which needs no `shader-f16` feature (llvmpipe has none).
// The int8 scale multiplies the finished dot product once per output, not each weight.
//
// Work split (register tiling, as shaders/matmul.wgsl): each invocation computes an 8 × 8 tile of
// C, rows row0 .. row0 + 7 and output channels col0 .. col0 + 7. Each step of the K loop covers 4
// weights: 8 × 4 scalar loads of A, then per channel one word (int8) or two (f16) of Q, for 256
// multiply-adds; the f32 kernel needs 64 loads for the same work, loads being what costs on
// llvmpipe (shaders/README.md). No shared memory, no barriers.
// A workgroup is WG invocations side by side along N, stacked ROW_TILES deep for narrow products.
// Grid: x·z = ceil(M / (8·ROW_TILES)) row blocks (block = z·row_stride + x, z > 1 only past the
// 65535 workgroups one grid axis allows), y = ceil(N / (8·WG)).
// Ragged edges: row and channel indices are clamped (out-of-range lanes read valid data) and their
// stores skipped; the K loop runs floor(K / 4) whole steps, then one masked step for K mod 4.
// Constants (generated header): WG, ROW_TILES, FORMAT_INT8, HAS_BIAS, ACCUMULATE, RELU.
// Params: m, n, k, q_stride, row_stride.

// Four consecutive elements kk .. kk + 3 of a row of A starting at `base` (all within the row).
fn a4(base: u32, kk: u32) -> vec4f {
  let i = base + kk;
  return vec4f(a[i], a[i + 1u], a[i + 2u], a[i + 3u]);
}

// The same for the last, partial step: elements at or past K read as 0 (loads clamped in-row).
fn a4_tail(base: u32, kk: u32) -> vec4f {
  let last = base + params.k - 1u;
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    v[j] = select(0.0, a[min(base + kk + j, last)], kk + j < params.k);
  }
  return v;
}

// Weights 4s .. 4s + 3 of the packed row of Q starting at word `row` (undequantised for int8:
// the integers themselves; the scale is applied to the finished sums).
fn weights4(row: u32, s: u32) -> vec4f {
  if (FORMAT_INT8) {
    let word = i32(q[row + s]);
    return vec4f(
      f32(extractBits(word, 0u, 8u)),
      f32(extractBits(word, 8u, 8u)),
      f32(extractBits(word, 16u, 8u)),
      f32(extractBits(word, 24u, 8u)),
    );
  }
  return vec4f(unpack2x16float(q[row + 2u * s]), unpack2x16float(q[row + 2u * s + 1u]));
}

// The same for the last, partial step: weights at or past K read as 0. An f16 row may end one
// word short of the step (K mod 4 ∈ {1, 2}), so the word index is clamped to the row.
fn weights4_tail(row: u32, s: u32) -> vec4f {
  var w: vec4f;
  if (FORMAT_INT8) {
    w = weights4(row, s);
  } else {
    let last = row + params.q_stride - 1u;
    w = vec4f(unpack2x16float(q[row + 2u * s]), unpack2x16float(q[min(row + 2u * s + 1u, last)]));
  }
  let kk = 4u * s;
  for (var j = 0u; j < 4u; j++) {
    w[j] = select(0.0, w[j], kk + j < params.k);
  }
  return w;
}

// x · w0 .. x · w3: one row of A against four channels' weights over one step.
fn dots(x: vec4f, w0: vec4f, w1: vec4f, w2: vec4f, w3: vec4f) -> vec4f {
  return vec4f(dot(x, w0), dot(x, w1), dot(x, w2), dot(x, w3));
}

// The int8 scales of channels col0 .. col0 + 3 (clamped to the last channel).
fn scales4(col0: u32) -> vec4f {
  let last = params.n - 1u;
  return vec4f(
    scale[min(col0, last)],
    scale[min(col0 + 1u, last)],
    scale[min(col0 + 2u, last)],
    scale[min(col0 + 3u, last)],
  );
}

@compute @workgroup_size(WG, ROW_TILES)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row0 = ((wg.z * params.row_stride + wg.x) * ROW_TILES + lid.y) * 8u;
  let col0 = (wg.y * WG + lid.x) * 8u;
  let last_row = params.m - 1u;
  let last_col = params.n - 1u;
  // First element of each of the 8 rows of A and first word of each of the 8 rows of Q.
  let r0 = min(row0 + 0u, last_row) * params.k;
  let r1 = min(row0 + 1u, last_row) * params.k;
  let r2 = min(row0 + 2u, last_row) * params.k;
  let r3 = min(row0 + 3u, last_row) * params.k;
  let r4 = min(row0 + 4u, last_row) * params.k;
  let r5 = min(row0 + 5u, last_row) * params.k;
  let r6 = min(row0 + 6u, last_row) * params.k;
  let r7 = min(row0 + 7u, last_row) * params.k;
  let c0 = min(col0 + 0u, last_col) * params.q_stride;
  let c1 = min(col0 + 1u, last_col) * params.q_stride;
  let c2 = min(col0 + 2u, last_col) * params.q_stride;
  let c3 = min(col0 + 3u, last_col) * params.q_stride;
  let c4 = min(col0 + 4u, last_col) * params.q_stride;
  let c5 = min(col0 + 5u, last_col) * params.q_stride;
  let c6 = min(col0 + 6u, last_col) * params.q_stride;
  let c7 = min(col0 + 7u, last_col) * params.q_stride;
  // Row i of the tile: lo_i holds channels col0 .. col0 + 3, hi_i the next four.
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
  let steps = params.k / 4u;
  for (var s = 0u; s < steps; s++) {
    let kk = 4u * s;
    let w0 = weights4(c0, s);
    let w1 = weights4(c1, s);
    let w2 = weights4(c2, s);
    let w3 = weights4(c3, s);
    let w4 = weights4(c4, s);
    let w5 = weights4(c5, s);
    let w6 = weights4(c6, s);
    let w7 = weights4(c7, s);
    let x0 = a4(r0, kk);
    lo0 += dots(x0, w0, w1, w2, w3);
    hi0 += dots(x0, w4, w5, w6, w7);
    let x1 = a4(r1, kk);
    lo1 += dots(x1, w0, w1, w2, w3);
    hi1 += dots(x1, w4, w5, w6, w7);
    let x2 = a4(r2, kk);
    lo2 += dots(x2, w0, w1, w2, w3);
    hi2 += dots(x2, w4, w5, w6, w7);
    let x3 = a4(r3, kk);
    lo3 += dots(x3, w0, w1, w2, w3);
    hi3 += dots(x3, w4, w5, w6, w7);
    let x4 = a4(r4, kk);
    lo4 += dots(x4, w0, w1, w2, w3);
    hi4 += dots(x4, w4, w5, w6, w7);
    let x5 = a4(r5, kk);
    lo5 += dots(x5, w0, w1, w2, w3);
    hi5 += dots(x5, w4, w5, w6, w7);
    let x6 = a4(r6, kk);
    lo6 += dots(x6, w0, w1, w2, w3);
    hi6 += dots(x6, w4, w5, w6, w7);
    let x7 = a4(r7, kk);
    lo7 += dots(x7, w0, w1, w2, w3);
    hi7 += dots(x7, w4, w5, w6, w7);
  }
  if (steps * 4u < params.k) {
    let kk = 4u * steps;
    let w0 = weights4_tail(c0, steps);
    let w1 = weights4_tail(c1, steps);
    let w2 = weights4_tail(c2, steps);
    let w3 = weights4_tail(c3, steps);
    let w4 = weights4_tail(c4, steps);
    let w5 = weights4_tail(c5, steps);
    let w6 = weights4_tail(c6, steps);
    let w7 = weights4_tail(c7, steps);
    let x0 = a4_tail(r0, kk);
    lo0 += dots(x0, w0, w1, w2, w3);
    hi0 += dots(x0, w4, w5, w6, w7);
    let x1 = a4_tail(r1, kk);
    lo1 += dots(x1, w0, w1, w2, w3);
    hi1 += dots(x1, w4, w5, w6, w7);
    let x2 = a4_tail(r2, kk);
    lo2 += dots(x2, w0, w1, w2, w3);
    hi2 += dots(x2, w4, w5, w6, w7);
    let x3 = a4_tail(r3, kk);
    lo3 += dots(x3, w0, w1, w2, w3);
    hi3 += dots(x3, w4, w5, w6, w7);
    let x4 = a4_tail(r4, kk);
    lo4 += dots(x4, w0, w1, w2, w3);
    hi4 += dots(x4, w4, w5, w6, w7);
    let x5 = a4_tail(r5, kk);
    lo5 += dots(x5, w0, w1, w2, w3);
    hi5 += dots(x5, w4, w5, w6, w7);
    let x6 = a4_tail(r6, kk);
    lo6 += dots(x6, w0, w1, w2, w3);
    hi6 += dots(x6, w4, w5, w6, w7);
    let x7 = a4_tail(r7, kk);
    lo7 += dots(x7, w0, w1, w2, w3);
    hi7 += dots(x7, w4, w5, w6, w7);
  }
  if (FORMAT_INT8) {
    let s_lo = scales4(col0);
    let s_hi = scales4(col0 + 4u);
    lo0 *= s_lo;
    hi0 *= s_hi;
    lo1 *= s_lo;
    hi1 *= s_hi;
    lo2 *= s_lo;
    hi2 *= s_hi;
    lo3 *= s_lo;
    hi3 *= s_hi;
    lo4 *= s_lo;
    hi4 *= s_hi;
    lo5 *= s_lo;
    hi5 *= s_hi;
    lo6 *= s_lo;
    hi6 *= s_hi;
    lo7 *= s_lo;
    hi7 *= s_hi;
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
