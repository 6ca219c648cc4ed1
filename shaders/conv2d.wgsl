// conv2d.wgsl: 2-D convolution (cross-correlation, as torch.nn.Conv2d), direct, with the dense
// matmul's epilogue (+ bias, ReLU):
//   y[n, o, oy, ox] = Σ_{c, ky, kx} x[n, c, oy·S + ky − P, ox·S + kx − P] · w[o, c, ky, kx] (+ b[o])
// (taps outside the input read the zero padding).
//
// Layouts (row-major f32, NCHW): x: [rows, C, H, W]; w: [O, C, KH, KW] (PyTorch's Conv2d layout);
// bias: [O] (read only when HAS_BIAS); y: [rows, O, OH, OW].
// Work split: one invocation per output element; a workgroup's invocations are consecutive
// positions of one (sample, output channel), so every weight load is the same address in all
// lanes. Grid: x = ceil(OH·OW / WORKGROUP_SIZE), y = O, z = rows.
// Constants: WORKGROUP_SIZE, HAS_BIAS, RELU. Params: channels (C), height, width, outputs (O),
// out_height, out_width, kernel_h, kernel_w, stride, padding.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let pos = wg.x * WORKGROUP_SIZE + li;
  let o = wg.y;
  let n = wg.z;
  if (pos >= params.out_height * params.out_width) {
    return;
  }
  let oy = i32(pos / params.out_width);
  let ox = i32(pos % params.out_width);
  let h = i32(params.height);
  let w = i32(params.width);
  let y0 = oy * i32(params.stride) - i32(params.padding);
  let x0 = ox * i32(params.stride) - i32(params.padding);
  var acc = 0.0;
  for (var c = 0u; c < params.channels; c++) {
    let plane = (n * params.channels + c) * params.height;
    let w_rows = (o * params.channels + c) * params.kernel_h;
    for (var ky = 0u; ky < params.kernel_h; ky++) {
      let iy = y0 + i32(ky);
      if (iy < 0 || iy >= h) {
        continue;
      }
      let row = (plane + u32(iy)) * params.width;
      let taps = (w_rows + ky) * params.kernel_w;
      for (var kx = 0u; kx < params.kernel_w; kx++) {
        let ix = x0 + i32(kx);
        if (ix >= 0 && ix < w) {
          acc += x[row + u32(ix)] * weight[taps + kx];
        }
      }
    }
  }
  if (HAS_BIAS) {
    acc += bias[o];
  }
  if (RELU) {
    acc = max(acc, 0.0);
  }
  y[(n * params.outputs + o) * params.out_height * params.out_width + pos] = acc;
}
