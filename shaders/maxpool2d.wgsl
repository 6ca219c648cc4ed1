// maxpool2d.wgsl: 2-D max pooling (as torch.nn.MaxPool2d without padding):
//   y[n, c, oy, ox] = max_{ky, kx < K} x[n, c, oy·S + ky, ox·S + kx]
//
// Layouts (row-major f32, NCHW): x: [rows, C, H, W]; y: [rows, C, OH, OW], with
// OH = (H − K) / S + 1 (floor), OW likewise.
// Work split: one invocation per element of y; grid x over a plane's positions, y over
// (sample, channel) planes, split into y and z when many (plane = z·row_stride + y).
// Constants: WORKGROUP_SIZE. Params: planes (rows·C), height, width, out_height, out_width,
// kernel, stride, row_stride. argmax() comes from maxpool_argmax.wgsl.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let pos = wg.x * WORKGROUP_SIZE + li;
  let p = wg.z * params.row_stride + wg.y;
  let out_size = params.out_height * params.out_width;
  if (p >= params.planes || pos >= out_size) {
    return;
  }
  let plane = p * params.height * params.width;
  y[p * out_size + pos] = x[argmax(plane, pos / params.out_width, pos % params.out_width)];
}
