// maxpool2d_backward.wgsl: the input gradient of maxpool2d.wgsl:
//   dx[n, c, iy, ix] = Σ over the windows whose first maximum (row-major scan, as PyTorch picks
//   it) is (iy, ix) of dy[n, c, oy, ox]. The maximum is found again from x, so no argmax buffer
//   is kept.
//
// Layouts (row-major f32, NCHW): x, dx: [rows, C, H, W]; dy: [rows, C, OH, OW].
// Work split: one invocation per element of dx; grid as maxpool2d.wgsl over input positions.
// Constants: WORKGROUP_SIZE. Params as maxpool2d.wgsl. argmax() comes from maxpool_argmax.wgsl.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let pos = wg.x * WORKGROUP_SIZE + li;
  let p = wg.z * params.row_stride + wg.y;
  if (p >= params.planes || pos >= params.height * params.width) {
    return;
  }
  let plane = p * params.height * params.width;
  let out_size = params.out_height * params.out_width;
  let iy = pos / params.width;
  let ix = pos % params.width;
  // The windows containing (iy, ix): oy·S ≤ iy < oy·S + K, likewise for ox.
  let oy_lo = select(0u, (iy - params.kernel) / params.stride + 1u, iy >= params.kernel);
  let ox_lo = select(0u, (ix - params.kernel) / params.stride + 1u, ix >= params.kernel);
  let oy_hi = min(iy / params.stride + 1u, params.out_height);
  let ox_hi = min(ix / params.stride + 1u, params.out_width);
  var acc = 0.0;
  for (var oy = oy_lo; oy < oy_hi; oy++) {
    for (var ox = ox_lo; ox < ox_hi; ox++) {
      if (argmax(plane, oy, ox) == plane + pos) {
        acc += dy[p * out_size + oy * params.out_width + ox];
      }
    }
  }
  dx[plane + pos] = acc;
}
