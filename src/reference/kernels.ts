/**
 * Plain-TypeScript references of every WGSL kernel, written for clarity rather than speed. The
 * shader tests compare GPU output with these on seeded random inputs (as llm.c's dev/cuda does).
 *
 * @module
 */

import type { MatmulShape } from "../kernels/matmul.ts";
import type { QuantizedMatmulShape } from "../kernels/matmul_quantized.ts";
import type { NmPacked } from "../kernels/nm_pack.ts";
import { unpackF16Rows, unpackInt8Rows } from "../quant/ptq.ts";

/**
 * `C = op(A)·op(B)` (+bias, +C, ReLU) in f64 accumulation; A: [m,k] or [k,m] (transA),
 * B: [k,n] or [n,k] (transB), C: [m,n]; all row-major.
 *
 * @example
 * ```ts
 * const c = matmulRef(new Float32Array([1, 2]), new Float32Array([3, 4]), { m: 1, n: 1, k: 2 });
 * // c[0] === 11
 * ```
 */
export function matmulRef(
  a: Float32Array,
  b: Float32Array,
  shape: MatmulShape,
  bias?: Float32Array,
  cOld?: Float32Array,
): Float32Array {
  const { m, n, k } = shape;
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) {
        const av = shape.transA ? a[p * m + i] : a[i * k + p];
        const bv = shape.transB ? b[j * k + p] : b[p * n + j];
        sum += av * bv;
      }
      if (bias) sum += bias[j];
      if (shape.accumulate && cOld) sum += cOld[i * n + j];
      if (shape.relu) sum = Math.max(0, sum);
      c[i * n + j] = sum;
    }
  }
  return c;
}

/** Reference of relu.wgsl: max(0, x). */
export function reluRef(x: Float32Array): Float32Array {
  return x.map((v) => Math.max(0, v));
}

/** Reference of relu_backward.wgsl: dx = dy ⊙ [act > 0]. */
export function reluBackwardRef(dy: Float32Array, act: Float32Array): Float32Array {
  return dy.map((g, i) => (act[i] > 0 ? g : 0));
}

/**
 * Reference of leaky_relu.wgsl: x > 0 ? x : slope·x, with `slope` rounded to f32 as the shader's
 * uniform holds it (the f64 product of two f32 values is exact, so one rounding to f32 follows).
 */
export function leakyReluRef(x: Float32Array, slope: number): Float32Array {
  const a = Math.fround(slope);
  return x.map((v) => (v > 0 ? v : a * v));
}

/**
 * Reference of leaky_relu_backward.wgsl: dx = act > 0 ? dy : slope·dy, `slope` rounded to f32 as
 * in `leakyReluRef`; `act` is the leaky ReLU's output.
 */
export function leakyReluBackwardRef(
  dy: Float32Array,
  act: Float32Array,
  slope: number,
): Float32Array {
  const a = Math.fround(slope);
  return dy.map((g, i) => (act[i] > 0 ? g : a * g));
}

/** `w ⊙ mask` (mask 0 → exactly 0). */
export function maskApplyRef(w: Float32Array, mask: Float32Array): Float32Array {
  return w.map((x, i) => (mask[i] !== 0 ? x : 0));
}

/**
 * Mean softmax cross-entropy of logits [rows, classes] and its gradient (softmax − onehot)/rows.
 */
export function softmaxXentRef(
  logits: Float32Array,
  labels: Uint32Array,
  rows: number,
  classes: number,
): { loss: number; sum: number; grad: Float32Array } {
  const grad = new Float32Array(rows * classes);
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    const top = Math.max(...row);
    let z = 0;
    for (const v of row) z += Math.exp(v - top);
    sum += Math.log(z) + top - row[labels[r]];
    for (let c = 0; c < classes; c++) {
      const p = Math.exp(row[c] - top) / z;
      grad[r * classes + c] = (p - (c === labels[r] ? 1 : 0)) / rows;
    }
  }
  return { loss: sum / rows, sum, grad };
}

/** Number of rows whose argmax (lowest index on ties) equals the label. */
export function accuracyRef(
  logits: Float32Array,
  labels: Uint32Array,
  rows: number,
  classes: number,
): number {
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) {
      if (logits[r * classes + c] > logits[r * classes + best]) best = c;
    }
    if (best === labels[r]) correct++;
  }
  return correct;
}

/** Column sums of dz [rows, cols]. */
export function biasGradRef(dz: Float32Array, rows: number, cols: number): Float32Array {
  const db = new Float32Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) db[c] += dz[r * cols + c];
  return db;
}

/** Adam state of one tensor, updated in place by `adamRef`. */
export interface AdamStateRef {
  /** Parameters. */
  w: Float32Array;
  /** First moment. */
  m: Float32Array;
  /** Second moment. */
  v: Float32Array;
}

/**
 * One masked Adam step (step number `t`, 1-based) with L1/L2 terms, in place; mirrors
 * shaders/adam.wgsl.
 */
export function adamRef(
  s: AdamStateRef,
  grad: Float32Array,
  mask: Float32Array,
  t: number,
  cfg: { lr: number; beta1: number; beta2: number; eps: number; l1: number; l2: number },
): void {
  for (let i = 0; i < s.w.length; i++) {
    if (mask[i] === 0) {
      s.w[i] = 0;
      s.m[i] = 0;
      s.v[i] = 0;
      continue;
    }
    const w = s.w[i];
    const g = grad[i] + cfg.l2 * w + cfg.l1 * Math.sign(w);
    s.m[i] = cfg.beta1 * s.m[i] + (1 - cfg.beta1) * g;
    s.v[i] = cfg.beta2 * s.v[i] + (1 - cfg.beta2) * g * g;
    const mHat = s.m[i] / (1 - cfg.beta1 ** t);
    const vHat = s.v[i] / (1 - cfg.beta2 ** t);
    s.w[i] = w - (cfg.lr * mHat) / (Math.sqrt(vHat) + cfg.eps);
  }
}

/** Gathers rows `order[cursor·rows + r]` of u8 pixels [samples, features] scaled to [0, 1]. */
export function gatherRef(
  pixels: Uint8Array,
  labels: Uint32Array,
  order: Uint32Array,
  cursor: number,
  rows: number,
  features: number,
): { x: Float32Array; y: Uint32Array } {
  const x = new Float32Array(rows * features);
  const y = new Uint32Array(rows);
  for (let r = 0; r < rows; r++) {
    const s = order[cursor * rows + r];
    y[r] = labels[s];
    for (let j = 0; j < features; j++) x[r * features + j] = pixels[s * features + j] / 255;
  }
  return { x, y };
}

/**
 * Reference of sparse_matmul.wgsl: Y[rows, outputs] = X[rows, inputs] · W with W given as CSR of
 * Wᵀ (`indptr` [outputs + 1], `indices`, `values`), then + bias and ReLU.
 */
export function sparseMatmulRef(
  x: Float32Array,
  csr: { indptr: ArrayLike<number>; indices: ArrayLike<number>; values: ArrayLike<number> },
  rows: number,
  inputs: number,
  outputs: number,
  bias?: Float32Array,
  relu = false,
): Float32Array {
  const y = new Float32Array(rows * outputs);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outputs; o++) {
      let sum = 0;
      for (let j = csr.indptr[o]; j < csr.indptr[o + 1]; j++) {
        sum += x[r * inputs + csr.indices[j]] * csr.values[j];
      }
      if (bias) sum += bias[o];
      y[r * outputs + o] = relu ? Math.max(0, sum) : sum;
    }
  }
  return y;
}

/** Geometry of one convolution, as src/kernels/conv2d.ts's ConvShape (kernel square or not). */
interface ConvGeometry {
  rows: number;
  channels: number;
  height: number;
  width: number;
  kernel: [number, number];
  stride: number;
  padding: number;
}

/** Output height and width of a convolution. */
function outputSize(g: ConvGeometry): [number, number] {
  const size = (n: number, k: number) => Math.floor((n + 2 * g.padding - k) / g.stride) + 1;
  return [size(g.height, g.kernel[0]), size(g.width, g.kernel[1])];
}

/**
 * Calls `tap(colIndex, xIndex)` for every entry of the columns [rows·OH·OW, C·KH·KW] of a
 * convolution, with xIndex −1 where the tap reads the zero padding: the loop nest of both
 * references below.
 */
function forEachColumn(g: ConvGeometry, tap: (colIndex: number, xIndex: number) => void): void {
  const [oh, ow] = outputSize(g);
  const [kh, kw] = g.kernel;
  const { rows, channels: C, height: H, width: W } = g;
  const taps = C * kh * kw;
  for (let n = 0; n < rows; n++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const row = (n * oh + oy) * ow + ox;
        for (let c = 0; c < C; c++) {
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * g.stride + ky - g.padding;
              const ix = ox * g.stride + kx - g.padding;
              const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
              tap(
                row * taps + (c * kh + ky) * kw + kx,
                inside ? ((n * C + c) * H + iy) * W + ix : -1,
              );
            }
          }
        }
      }
    }
  }
}

/**
 * im2col: x [rows, C, H, W] into col [rows·OH·OW, C·KH·KW], zero where a tap reads the padding
 * (shaders/im2col.wgsl).
 */
export function im2colRef(x: Float32Array, g: ConvGeometry): Float32Array {
  const [oh, ow] = outputSize(g);
  const col = new Float32Array(g.rows * oh * ow * g.channels * g.kernel[0] * g.kernel[1]);
  forEachColumn(g, (ci, xi) => (col[ci] = xi < 0 ? 0 : x[xi]));
  return col;
}

/**
 * col2im, the adjoint of im2col: every column entry added back onto the input element it was
 * read from; dcol [rows·OH·OW, C·KH·KW] into dx [rows, C, H, W] (shaders/col2im.wgsl).
 */
export function col2imRef(dcol: Float32Array, g: ConvGeometry): Float64Array {
  const dx = new Float64Array(g.rows * g.channels * g.height * g.width);
  forEachColumn(g, (ci, xi) => {
    if (xi >= 0) dx[xi] += dcol[ci];
  });
  return dx;
}

/** y[n] = x[n]ᵀ: x [batch, a, b] into y [batch, b, a] (shaders/batch_transpose.wgsl). */
export function batchTransposeRef(x: Float32Array, batch: number, a: number, b: number) {
  const y = new Float32Array(batch * a * b);
  for (let n = 0; n < batch; n++) {
    for (let i = 0; i < a; i++) {
      for (let j = 0; j < b; j++) y[(n * b + j) * a + i] = x[(n * a + i) * b + j];
    }
  }
  return y;
}

/**
 * `C = A · dequant(Q)ᵀ` (+bias, ReLU) in f64 accumulation (shaders/matmul_quantized.wgsl):
 * A [m, k] f32, `packed` the words of Q as src/quant/ptq.ts packs them ([n, ceil(k/4)] u32 for
 * int8 with `scale` [n], [n, ceil(k/2)] u32 for f16), decoded through its unpack helpers so the
 * packing is exercised too; C [m, n]. int8 applies the scale to the finished sum, as the kernel.
 */
export function quantizedMatmulRef(
  a: Float32Array,
  packed: Uint32Array,
  shape: QuantizedMatmulShape,
  scale?: Float32Array,
  bias?: Float32Array,
): Float32Array {
  const { m, n, k, format } = shape;
  if (format === "int8" && !scale) throw new Error("quantizedMatmulRef: int8 needs a scale");
  const w = format === "int8" ? unpackInt8Rows(packed, n, k) : unpackF16Rows(packed, n, k);
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += a[i * k + p] * w[j * k + p];
      if (format === "int8") sum *= scale![j];
      if (bias) sum += bias[j];
      if (shape.relu) sum = Math.max(0, sum);
      c[i * n + j] = sum;
    }
  }
  return c;
}

/** mask_copy: dense ⊙ mask (0 where the mask is 0). */
export function maskCopyRef(dense: Float32Array, mask: Float32Array): Float32Array {
  return dense.map((v, i) => (mask[i] !== 0 ? v : 0));
}

/**
 * `Y = X · W` (+bias, ReLU) in f64 accumulation from W's N:M packing (shaders/matmul_nm.wgsl):
 * X [rows, inputs] f32 row-major, Y [rows, outputs]. Reads the packed values and offsets as the
 * layout of src/kernels/nm_pack.ts describes them, bit by bit, without its unpacker, so a test
 * checks the packing and the kernel against one independent reading of the format. Offsets past
 * the last input (the short last group's empty slots) must carry the value 0.
 */
export function nmMatmulRef(
  x: Float32Array,
  packed: NmPacked,
  rows: number,
  bias?: Float32Array,
  relu = false,
): Float32Array {
  const { inputs, outputs, groups, words, bits, groupsPerWord, values, offsets } = packed;
  const { n, m } = packed.pattern;
  const y = new Float32Array(rows * outputs);
  for (let o = 0; o < outputs; o++) {
    // This unit's (input, value) pairs, decoded once.
    const taps: [number, number][] = [];
    for (let g = 0; g < groups; g++) {
      const word = offsets[o * words + Math.floor(g / groupsPerWord)];
      for (let j = 0; j < n; j++) {
        const bit = ((g % groupsPerWord) * n + j) * bits;
        const offset = Math.floor(word / 2 ** bit) % 2 ** bits;
        const v = values[(o * groups + g) * n + j];
        const input = g * m + offset;
        if (input >= inputs && v !== 0) {
          throw new Error(`nmMatmulRef: unit ${o} group ${g} slot ${j} points past the inputs`);
        }
        if (v !== 0) taps.push([input, v]);
      }
    }
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (const [i, v] of taps) sum += x[r * inputs + i] * v;
      if (bias) sum += bias[o];
      y[r * outputs + o] = relu ? Math.max(0, sum) : sum;
    }
  }
  return y;
}
