// matmul_nm.wgsl: Y = X · W (+ bias) (ReLU) with W stored N:M-compressed: for each output unit,
// every group of M consecutive inputs keeps at most N non-zeros (N:M structured sparsity, Mishra
// et al. 2021, arXiv 2104.08378), stored as N values and N in-group offsets.
//
//   Y[r, o] = Σ_g Σ_j values[o, g, j] · X[r, g·M + offset(o, g, j)]   (+ bias[o]) (max(·, 0))
//
// Layouts (the packing is src/kernels/nm_pack.ts):
//   xw:          X [rows, inputs] f32 row-major, seen through a 64 KiB uniform window
//                (array<vec4f, 4096>) bound at an aligned offset at or before this dispatch's
//                first row; element i of the window is X's flat element (window start) + i, and
//                row params.row_base + r starts at window element params.delta + r·inputs.
//   values:      [outputs, groups, N] f32 row-major, groups = ceil(inputs / M); the slots of a
//                group in ascending input order, empty slots 0.
//   value_pairs: the same buffer seen as array<vec2f> (read instead of `values` when N is even:
//                one load per two slots; a group's slots start at an even index then).
//   offsets:     [outputs, words] u32 row-major; slot j of group g of unit o sits in bits
//                ((g mod GROUPS_PER_WORD)·N + j)·BITS .. + BITS − 1 of word ⌊g / GROUPS_PER_WORD⌋;
//                a group's N offsets are distinct.
//   bias:        [outputs] f32 (read only when HAS_BIAS).
//   y:           Y [rows, outputs] f32 row-major, written.
//
// Why this shape, measured on llvmpipe (shaders/README.md, "The N:M kernel"): the cost is the
// loads. Every invocation of a workgroup works on the same rows, and X read through a uniform
// binding becomes one vector gather per element instead of a per-lane loop (storage), which
// alone made the kernel 1.6× faster. Each invocation computes a 16 × 16 tile of Y (16 rows ×
// four quads of 4 output units): per group it loads 16·M elements of X and 16·N values, expands
// each quad's N values into the weights at the group's M positions by a chain of selects on the
// offsets (zero where no slot points), and adds the M products of each row as one fma chain, so
// each accumulator is written once per group, not M times. The products against the zeros of a
// group are computed (M per row and unit instead of N): arithmetic is cheap here, loads are not;
// what N:M saves is the weights' loads (N values instead of M floats, the offsets nearly free).
// 8 × 8, 8 × 16, 16 × 8, 4 × 16, 20 × 16, 24 × 8, 16 × 24 and 16 × 32 tiles were slower; X from
// storage ran at the dense kernel's speed.
//
// Work split: one dispatch per chunk of rows, as many whole 16-row tiles as the 64 KiB window holds
// (fewer rows when not even 16 fit; src/kernels/matmul_nm.ts); grid x = the chunk's tiles of 16
// rows, y = ceil(outputs / (16·WG)); WG invocations per workgroup side by side along the outputs.
// Ragged edges: row and unit indices are clamped (their loads read valid data) and their stores
// skipped; X positions past the last input (the short last group) read the row's last input,
// against a weight that is exactly 0.
// Constants (generated header): N, M, BITS, GROUPS_PER_WORD, WG, HAS_BIAS, RELU.
// Params: chunk_rows, row_base, delta, inputs, outputs, groups, words.

// Element i of the X window.
fn x_at(i: u32) -> f32 {
  return xw[i >> 2u][i & 3u];
}

// The weights of one quad of output units at each of group g's M positions: slot j's value where
// its offset points, 0 elsewhere. `first` holds the units' first value index (unit · groups · N),
// `word` their offset words of this group, `shift` the bit of the group's first offset.
fn quad_weights(first: vec4u, word: vec4u, g: u32, shift: u32) -> array<vec4f, M> {
  var w: array<vec4f, M>;
  if (N % 2u == 0u) {
    for (var jj = 0u; jj < N / 2u; jj++) {
      let at = (first + vec4u(g * N + 2u * jj)) / 2u;
      let px = value_pairs[at.x];
      let py = value_pairs[at.y];
      let pz = value_pairs[at.z];
      let pw = value_pairs[at.w];
      let va = vec4f(px.x, py.x, pz.x, pw.x);
      let vb = vec4f(px.y, py.y, pz.y, pw.y);
      let oa = extractBits(word, shift + 2u * jj * BITS, BITS);
      let ob = extractBits(word, shift + (2u * jj + 1u) * BITS, BITS);
      for (var k = 0u; k < M; k++) {
        w[k] = select(select(w[k], va, oa == vec4u(k)), vb, ob == vec4u(k));
      }
    }
  } else {
    for (var j = 0u; j < N; j++) {
      let at = first + vec4u(g * N + j);
      let v = vec4f(values[at.x], values[at.y], values[at.z], values[at.w]);
      let o = extractBits(word, shift + j * BITS, BITS);
      for (var k = 0u; k < M; k++) {
        w[k] = select(w[k], v, o == vec4u(k));
      }
    }
  }
  return w;
}

// One row's products with the four quads over one group.
struct Quads {
  q0: vec4f,
  q1: vec4f,
  q2: vec4f,
  q3: vec4f,
}

// Σ_k X[row, xb + k] · w[k] for each quad; `base` is the row's first window element, `last` the
// last input (positions past it, the short last group's, read it against a zero weight).
fn row_group(
  base: u32,
  xb: u32,
  last: u32,
  w0: array<vec4f, M>,
  w1: array<vec4f, M>,
  w2: array<vec4f, M>,
  w3: array<vec4f, M>,
) -> Quads {
  var s: Quads;
  for (var k = 0u; k < M; k++) {
    let xk = vec4f(x_at(base + min(xb + k, last)));
    s.q0 = fma(xk, w0[k], s.q0);
    s.q1 = fma(xk, w1[k], s.q1);
    s.q2 = fma(xk, w2[k], s.q2);
    s.q3 = fma(xk, w3[k], s.q3);
  }
  return s;
}

fn add(a: Quads, b: Quads) -> Quads {
  return Quads(a.q0 + b.q0, a.q1 + b.q1, a.q2 + b.q2, a.q3 + b.q3);
}

// Writes the in-range part of one row of the tile (units col0 .. col0 + 15) through the epilogue.
fn store_row(local_row: u32, col0: u32, s: Quads) {
  if (local_row >= params.chunk_rows) {
    return;
  }
  let at = (params.row_base + local_row) * params.outputs;
  for (var j = 0u; j < 16u; j++) {
    let col = col0 + j;
    if (col < params.outputs) {
      var v: f32;
      switch (j / 4u) {
        case 0u: {
          v = s.q0[j % 4u];
        }
        case 1u: {
          v = s.q1[j % 4u];
        }
        case 2u: {
          v = s.q2[j % 4u];
        }
        default: {
          v = s.q3[j % 4u];
        }
      }
      if (HAS_BIAS) {
        v += bias[col];
      }
      if (RELU) {
        v = max(v, 0.0);
      }
      y[at + col] = v;
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row0 = wg.x * 16u;
  let col0 = (wg.y * WG + lid.x) * 16u;
  let last_row = params.chunk_rows - 1u;
  let last_in = params.inputs - 1u;
  // First window element of each of the 16 rows.
  let r0 = params.delta + min(row0 + 0u, last_row) * params.inputs;
  let r1 = params.delta + min(row0 + 1u, last_row) * params.inputs;
  let r2 = params.delta + min(row0 + 2u, last_row) * params.inputs;
  let r3 = params.delta + min(row0 + 3u, last_row) * params.inputs;
  let r4 = params.delta + min(row0 + 4u, last_row) * params.inputs;
  let r5 = params.delta + min(row0 + 5u, last_row) * params.inputs;
  let r6 = params.delta + min(row0 + 6u, last_row) * params.inputs;
  let r7 = params.delta + min(row0 + 7u, last_row) * params.inputs;
  let r8 = params.delta + min(row0 + 8u, last_row) * params.inputs;
  let r9 = params.delta + min(row0 + 9u, last_row) * params.inputs;
  let r10 = params.delta + min(row0 + 10u, last_row) * params.inputs;
  let r11 = params.delta + min(row0 + 11u, last_row) * params.inputs;
  let r12 = params.delta + min(row0 + 12u, last_row) * params.inputs;
  let r13 = params.delta + min(row0 + 13u, last_row) * params.inputs;
  let r14 = params.delta + min(row0 + 14u, last_row) * params.inputs;
  let r15 = params.delta + min(row0 + 15u, last_row) * params.inputs;
  // The four quads' units (clamped), their first value and their first offset word.
  let last_col = vec4u(params.outputs - 1u);
  let c0 = min(vec4u(col0) + vec4u(0u, 1u, 2u, 3u), last_col);
  let c1 = min(vec4u(col0) + vec4u(4u, 5u, 6u, 7u), last_col);
  let c2 = min(vec4u(col0) + vec4u(8u, 9u, 10u, 11u), last_col);
  let c3 = min(vec4u(col0) + vec4u(12u, 13u, 14u, 15u), last_col);
  let per_unit = params.groups * N;
  let v0 = c0 * per_unit;
  let v1 = c1 * per_unit;
  let v2 = c2 * per_unit;
  let v3 = c3 * per_unit;
  let o0 = c0 * params.words;
  let o1 = c1 * params.words;
  let o2 = c2 * params.words;
  let o3 = c3 * params.words;
  var word0 = vec4u(0u);
  var word1 = vec4u(0u);
  var word2 = vec4u(0u);
  var word3 = vec4u(0u);
  var a0: Quads;
  var a1: Quads;
  var a2: Quads;
  var a3: Quads;
  var a4: Quads;
  var a5: Quads;
  var a6: Quads;
  var a7: Quads;
  var a8: Quads;
  var a9: Quads;
  var a10: Quads;
  var a11: Quads;
  var a12: Quads;
  var a13: Quads;
  var a14: Quads;
  var a15: Quads;
  for (var g = 0u; g < params.groups; g++) {
    let sub = g % GROUPS_PER_WORD;
    if (sub == 0u) {
      let at = g / GROUPS_PER_WORD;
      word0 = vec4u(offsets[o0.x + at], offsets[o0.y + at], offsets[o0.z + at], offsets[o0.w + at]);
      word1 = vec4u(offsets[o1.x + at], offsets[o1.y + at], offsets[o1.z + at], offsets[o1.w + at]);
      word2 = vec4u(offsets[o2.x + at], offsets[o2.y + at], offsets[o2.z + at], offsets[o2.w + at]);
      word3 = vec4u(offsets[o3.x + at], offsets[o3.y + at], offsets[o3.z + at], offsets[o3.w + at]);
    }
    let shift = sub * N * BITS;
    let w0 = quad_weights(v0, word0, g, shift);
    let w1 = quad_weights(v1, word1, g, shift);
    let w2 = quad_weights(v2, word2, g, shift);
    let w3 = quad_weights(v3, word3, g, shift);
    let xb = g * M;
    a0 = add(a0, row_group(r0, xb, last_in, w0, w1, w2, w3));
    a1 = add(a1, row_group(r1, xb, last_in, w0, w1, w2, w3));
    a2 = add(a2, row_group(r2, xb, last_in, w0, w1, w2, w3));
    a3 = add(a3, row_group(r3, xb, last_in, w0, w1, w2, w3));
    a4 = add(a4, row_group(r4, xb, last_in, w0, w1, w2, w3));
    a5 = add(a5, row_group(r5, xb, last_in, w0, w1, w2, w3));
    a6 = add(a6, row_group(r6, xb, last_in, w0, w1, w2, w3));
    a7 = add(a7, row_group(r7, xb, last_in, w0, w1, w2, w3));
    a8 = add(a8, row_group(r8, xb, last_in, w0, w1, w2, w3));
    a9 = add(a9, row_group(r9, xb, last_in, w0, w1, w2, w3));
    a10 = add(a10, row_group(r10, xb, last_in, w0, w1, w2, w3));
    a11 = add(a11, row_group(r11, xb, last_in, w0, w1, w2, w3));
    a12 = add(a12, row_group(r12, xb, last_in, w0, w1, w2, w3));
    a13 = add(a13, row_group(r13, xb, last_in, w0, w1, w2, w3));
    a14 = add(a14, row_group(r14, xb, last_in, w0, w1, w2, w3));
    a15 = add(a15, row_group(r15, xb, last_in, w0, w1, w2, w3));
  }
  store_row(row0 + 0u, col0, a0);
  store_row(row0 + 1u, col0, a1);
  store_row(row0 + 2u, col0, a2);
  store_row(row0 + 3u, col0, a3);
  store_row(row0 + 4u, col0, a4);
  store_row(row0 + 5u, col0, a5);
  store_row(row0 + 6u, col0, a6);
  store_row(row0 + 7u, col0, a7);
  store_row(row0 + 8u, col0, a8);
  store_row(row0 + 9u, col0, a9);
  store_row(row0 + 10u, col0, a10);
  store_row(row0 + 11u, col0, a11);
  store_row(row0 + 12u, col0, a12);
  store_row(row0 + 13u, col0, a13);
  store_row(row0 + 14u, col0, a14);
  store_row(row0 + 15u, col0, a15);
}
