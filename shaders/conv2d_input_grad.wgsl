// conv2d_input_grad.wgsl: the input gradient of conv2d.wgsl,
//   dx[n, c, iy, ix] = Σ_{o, ky, kx : iy = oy·S + ky − P, ix = ox·S + kx − P} dy[n, o, oy, ox] · w[o, c, ky, kx]
//
// Layouts (row-major f32, NCHW): dy: [rows, O, OH, OW]; w: [O, C, KH, KW]; dx: [rows, C, H, W].
// Work split: one invocation per element of dx; a workgroup's invocations are consecutive
// positions of one (sample, input channel), so weight loads are the same address in all lanes.
// Grid: x = ceil(H·W / WORKGROUP_SIZE), y = C, z = rows.
// Constants: WORKGROUP_SIZE. Params as conv2d.wgsl.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let pos = wg.x * WORKGROUP_SIZE + li;
  let c = wg.y;
  let n = wg.z;
  if (pos >= params.height * params.width) {
    return;
  }
  let iy = i32(pos / params.width);
  let ix = i32(pos % params.width);
  let s = i32(params.stride);
  let oh = i32(params.out_height);
  let ow = i32(params.out_width);
  var acc = 0.0;
  for (var o = 0u; o < params.outputs; o++) {
    let plane = (n * params.outputs + o) * params.out_height;
    let w_rows = (o * params.channels + c) * params.kernel_h;
    for (var ky = 0u; ky < params.kernel_h; ky++) {
      // iy = oy·S + ky − P  ⇒  oy = (iy + P − ky) / S when that divides exactly.
      let ty = iy + i32(params.padding) - i32(ky);
      if (ty < 0 || ty % s != 0 || ty / s >= oh) {
        continue;
      }
      let row = (plane + u32(ty / s)) * params.out_width;
      let taps = (w_rows + ky) * params.kernel_w;
      for (var kx = 0u; kx < params.kernel_w; kx++) {
        let tx = ix + i32(params.padding) - i32(kx);
        if (tx >= 0 && tx % s == 0 && tx / s < ow) {
          acc += dy[row + u32(tx / s)] * weight[taps + kx];
        }
      }
    }
  }
  dx[(n * params.channels + c) * params.height * params.width + pos] = acc;
}
