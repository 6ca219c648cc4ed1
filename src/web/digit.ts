/**
 * A drawn digit as MNIST shows digits (LeCun et al. 1998): the ink's bounding box scaled to fit
 * 20×20 pixels (aspect kept, area-sampled), placed in a 28×28 image so that its centre of mass
 * is the image's centre. Input: the canvas's ink as [height, width] intensities 0–255,
 * row-major; output: 784 u8 pixels, row-major.
 *
 * @module
 */

/** Side of the MNIST image. */
export const SIDE = 28;
/** Side of the box the digit is scaled into. */
const BOX = 20;

/**
 * The 28×28 MNIST-style image of `ink` ([height, width], 0–255); all zeros when nothing is
 * drawn.
 */
export function toMnist(ink: Uint8Array, width: number, height: number): Uint8Array {
  let top = height, bottom = -1, left = width, right = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > 0) {
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    }
  }
  const out = new Uint8Array(SIDE * SIDE);
  if (bottom < 0) return out;
  const boxW = right - left + 1;
  const boxH = bottom - top + 1;
  const scale = BOX / Math.max(boxW, boxH);
  const w = Math.max(1, Math.round(boxW * scale));
  const h = Math.max(1, Math.round(boxH * scale));
  // Area sampling: each small pixel averages the source pixels it covers (at least one, so a
  // small drawing is scaled up as well as a large one down).
  const small = new Float64Array(w * h);
  for (let ty = 0; ty < h; ty++) {
    const y0 = top + Math.floor((ty * boxH) / h);
    const y1 = Math.max(y0 + 1, top + Math.floor(((ty + 1) * boxH) / h));
    for (let tx = 0; tx < w; tx++) {
      const x0 = left + Math.floor((tx * boxW) / w);
      const x1 = Math.max(x0 + 1, left + Math.floor(((tx + 1) * boxW) / w));
      let sum = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += ink[y * width + x];
      small[ty * w + tx] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  let mass = 0, cx = 0, cy = 0;
  for (let i = 0; i < w * h; i++) {
    mass += small[i];
    cx += small[i] * (i % w);
    cy += small[i] * Math.floor(i / w);
  }
  const ox = Math.round(SIDE / 2 - 0.5 - cx / mass);
  const oy = Math.round(SIDE / 2 - 0.5 - cy / mass);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const tx = x + ox, ty = y + oy;
      if (tx >= 0 && tx < SIDE && ty >= 0 && ty < SIDE) {
        out[ty * SIDE + tx] = Math.round(small[y * w + x]);
      }
    }
  }
  return out;
}
