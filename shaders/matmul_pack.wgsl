// matmul_pack.wgsl: packs op(B) into the 64-column panels that matmul_uniform.wgsl reads
// through uniform buffers.
//
// Layouts:
//   B: [K, N] row-major, or [N, K] when TRANS_B (B used transposed, e.g. W in dX = dY · Wᵀ)
//   packed: [panels, 4, 4096] vec4f; binding j = 2·chunk + half of panel q starts at vec4
//     (q·4 + j)·4096, and its element [k_local · 8 + lane] holds op(B)[k, q·64 + 8·lane + 4·half
//     + 0..3] with k = 512·chunk + k_local; columns past N are 0.
// One invocation per (panel, k, lane): it writes that lane's 8 columns at step k.
// Grid: 1-D over panels · K · 8 invocations (row_stride for grids wider than 65535 workgroups).
// Constants (generated header): TRANS_B. Params: n, k, total, row_stride.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x + gid.y * params.row_stride * WORKGROUP_SIZE;
  if (i >= params.total) {
    return;
  }
  let lane = i % 8u;
  let k = (i / 8u) % params.k;
  let panel = i / (8u * params.k);
  let chunk = k / 512u;
  let k_local = k % 512u;
  let col0 = panel * 64u + lane * 8u;
  var v: array<f32, 8>;
  for (var j = 0u; j < 8u; j++) {
    let col = col0 + j;
    var x = 0.0;
    if (col < params.n) {
      x = select(b[k * params.n + col], b[col * params.k + k], TRANS_B);
    }
    v[j] = x;
  }
  let base = (panel * 4u + chunk * 2u) * 4096u + k_local * 8u + lane;
  packed[base] = vec4f(v[0], v[1], v[2], v[3]);
  packed[base + 4096u] = vec4f(v[4], v[5], v[6], v[7]);
}
