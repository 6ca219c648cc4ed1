// im2col.wgsl: the columns of a convolution, so that conv2d is one matrix product
// (Chellapilla et al. 2006, "High performance convolutional neural networks for document
// processing"):
//   col[(n·OH + oy)·OW + ox, (c·KH + ky)·KW + kx] = x[n, c, oy·S + ky − P, ox·S + kx − P]
// (0 where the tap falls in the zero padding).
//
// Layouts (row-major f32): x: [rows, C, H, W] (NCHW); col: [rows·OH·OW, C·KH·KW].
// Work split: one invocation per output position (n, oy, ox), writing that position's whole
// column row; a workgroup's lanes take consecutive ox, so their loads of x are contiguous. Grid:
// x = ceil(OW / WORKGROUP_SIZE), y = OH, z = rows. No invocation divides (llvmpipe turns an
// integer division into a loop over the lanes).
// Constants: WORKGROUP_SIZE. Params: channels, height, width, out_height, out_width, kernel_h,
// kernel_w, stride, padding.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let ox = wg.x * WORKGROUP_SIZE + li;
  let oy = wg.y;
  let n = wg.z;
  if (ox >= params.out_width) {
    return;
  }
  let h = i32(params.height);
  let w = i32(params.width);
  let y0 = i32(oy * params.stride) - i32(params.padding);
  let x0 = i32(ox * params.stride) - i32(params.padding);
  let taps = params.channels * params.kernel_h * params.kernel_w;
  var out = ((n * params.out_height + oy) * params.out_width + ox) * taps;
  for (var c = 0u; c < params.channels; c++) {
    let plane = (n * params.channels + c) * params.height;
    for (var ky = 0u; ky < params.kernel_h; ky++) {
      let iy = y0 + i32(ky);
      let row_inside = iy >= 0 && iy < h;
      let row = (plane + u32(max(iy, 0))) * params.width;
      for (var kx = 0u; kx < params.kernel_w; kx++) {
        let ix = x0 + i32(kx);
        var v = 0.0;
        if (row_inside && ix >= 0 && ix < w) {
          v = x[row + u32(ix)];
        }
        col[out] = v;
        out++;
      }
    }
  }
}
