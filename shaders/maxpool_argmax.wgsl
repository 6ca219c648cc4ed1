// maxpool_argmax.wgsl: shared by maxpool2d.wgsl and maxpool2d_backward.wgsl (appended to both).
// Reads x [.., H, W] and the params height, width, kernel, stride of the including kernel.

/** Flat index into x of the first maximum of window (oy, ox) of the plane starting at `plane`. */
fn argmax(plane: u32, oy: u32, ox: u32) -> u32 {
  var best = plane + (oy * params.stride) * params.width + ox * params.stride;
  var top = x[best];
  for (var ky = 0u; ky < params.kernel; ky++) {
    let row = plane + (oy * params.stride + ky) * params.width + ox * params.stride;
    for (var kx = 0u; kx < params.kernel; kx++) {
      let v = x[row + kx];
      if (v > top) {
        top = v;
        best = row + kx;
      }
    }
  }
  return best;
}
