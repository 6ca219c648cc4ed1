/**
 * A drawn digit as MNIST shows digits (LeCun et al. 1998): the ink's bounding box scaled to fit
 * 20×20 pixels (aspect kept, box-filtered), placed in a 28×28 image so that its centre of mass
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
  // Box filter: each small pixel averages the ink of the source pixels it covers.
  const small = new Float64Array(w * h);
  const count = new Float64Array(w * h);
  for (let y = top; y <= bottom; y++) {
    const sy = Math.min(h - 1, Math.floor(((y - top) * h) / boxH));
    for (let x = left; x <= right; x++) {
      const sx = Math.min(w - 1, Math.floor(((x - left) * w) / boxW));
      small[sy * w + sx] += ink[y * width + x];
      count[sy * w + sx] += 1;
    }
  }
  let mass = 0, cx = 0, cy = 0;
  for (let i = 0; i < w * h; i++) {
    small[i] = count[i] > 0 ? small[i] / count[i] : 0;
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
