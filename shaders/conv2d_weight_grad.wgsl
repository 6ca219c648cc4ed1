// conv2d_weight_grad.wgsl: per-sample parts of conv2d.wgsl's weight (or bias) gradient,
//   part[n, o, c, ky, kx] = Σ_{oy, ox} dy[n, o, oy, ox] · x[n, c, oy·S + ky − P, ox·S + kx − P]
//   part[n, o]            = Σ_{oy, ox} dy[n, o, oy, ox]                       (when BIAS)
// summed over n afterwards by bias_grad.wgsl (column sums), so the reduction over the batch runs
// in parallel instead of in one long loop per weight.
//
// Layouts (row-major f32, NCHW): x: [rows, C, H, W]; dy: [rows, O, OH, OW];
// part: [rows, O·C·KH·KW], or [rows, O] when BIAS.
// Work split: one invocation per (sample, weight); grid x = ceil(count / WORKGROUP_SIZE),
// y = rows (count = O·C·KH·KW, or O).
// Constants: WORKGROUP_SIZE, BIAS. Params as conv2d.wgsl.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let j = wg.x * WORKGROUP_SIZE + li;
  let n = wg.y;
  let taps = params.kernel_h * params.kernel_w;
  let per_output = params.channels * taps;
  var count = params.outputs * per_output;
  if (BIAS) {
    count = params.outputs;
  }
  if (j >= count) {
    return;
  }
  let spatial = params.out_height * params.out_width;
  var acc = 0.0;
  if (BIAS) {
    let base = (n * params.outputs + j) * spatial;
    for (var p = 0u; p < spatial; p++) {
      acc += dy[base + p];
    }
  } else {
    let o = j / per_output;
    let c = (j / taps) % params.channels;
    let ky = i32((j / params.kernel_w) % params.kernel_h);
    let kx = i32(j % params.kernel_w);
    let h = i32(params.height);
    let w = i32(params.width);
    let plane = (n * params.channels + c) * params.height;
    let base = (n * params.outputs + o) * spatial;
    for (var oy = 0u; oy < params.out_height; oy++) {
      let iy = i32(oy * params.stride) + ky - i32(params.padding);
      if (iy < 0 || iy >= h) {
        continue;
      }
      let row = (plane + u32(iy)) * params.width;
      let out_row = base + oy * params.out_width;
      for (var ox = 0u; ox < params.out_width; ox++) {
        let ix = i32(ox * params.stride) + kx - i32(params.padding);
        if (ix >= 0 && ix < w) {
          acc += dy[out_row + ox] * x[row + u32(ix)];
        }
      }
    }
  }
  part[n * count + j] = acc;
}
