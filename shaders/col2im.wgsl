// col2im.wgsl: the input gradient of a convolution from the gradient of its columns
// (the adjoint of im2col.wgsl): every tap that read x[n, c, iy, ix] sends its gradient back,
//   dx[n, c, iy, ix] = Σ_{ky, kx : iy = oy·S + ky − P, ix = ox·S + kx − P}
//                        dcol[(n·OH + oy)·OW + ox, (c·KH + ky)·KW + kx].
// A gather, not a scatter: each dx element is written once, by one invocation, with no atomics.
//
// Layouts (row-major f32): dcol: [rows·OH·OW, C·KH·KW]; dx: [rows, C, H, W] (NCHW), overwritten.
// Work split: one invocation per input position (n, iy, ix), looping over the channels; a
// workgroup's lanes take consecutive ix. Grid: x = ceil(W / WORKGROUP_SIZE), y = H, z = rows.
// The stride is the compile-time constant STRIDE, so its divisions become multiplications.
// Constants: WORKGROUP_SIZE, STRIDE. Params as im2col.wgsl.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let ix = wg.x * WORKGROUP_SIZE + li;
  let iy = wg.y;
  let n = wg.z;
  if (ix >= params.width) {
    return;
  }
  let oh = i32(params.out_height);
  let ow = i32(params.out_width);
  let khw = params.kernel_h * params.kernel_w;
  let taps = params.channels * khw;
  let plane = params.height * params.width;
  let first_row = n * params.out_height * params.out_width;
  for (var c = 0u; c < params.channels; c++) {
    var acc = 0.0;
    for (var ky = 0u; ky < params.kernel_h; ky++) {
      // iy = oy·S + ky − P  ⇒  oy = (iy + P − ky) / S when that divides exactly.
      let ty = i32(iy + params.padding) - i32(ky);
      if (ty < 0 || ty % i32(STRIDE) != 0 || ty / i32(STRIDE) >= oh) {
        continue;
      }
      let oy = u32(ty) / STRIDE;
      for (var kx = 0u; kx < params.kernel_w; kx++) {
        let tx = i32(ix + params.padding) - i32(kx);
        if (tx >= 0 && tx % i32(STRIDE) == 0 && tx / i32(STRIDE) < ow) {
          let r = first_row + oy * params.out_width + u32(tx) / STRIDE;
          acc += dcol[r * taps + c * khw + ky * params.kernel_w + kx];
        }
      }
    }
    dx[(n * params.channels + c) * plane + iy * params.width + ix] = acc;
  }
}
