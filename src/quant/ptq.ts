/**
 * Post-training quantisation (PTQ) of a trained layer's weights, and the packed layouts the
 * quantised matmul kernel (src/kernels/matmul_quantized.ts) reads directly.
 *
 * - int8: symmetric, per output channel (one scale per row of W [out, in]), as recommended for
 *   weights by Krishnamoorthi 2018, "Quantizing deep convolutional networks for efficient
 *   inference: A whitepaper" (per-channel symmetric weight quantisation); the affine scheme
 *   r = S·(q − Z) of Jacob et al. 2018, "Quantization and Training of Neural Networks for
 *   Efficient Integer-Arithmetic-Only Inference", with the zero point Z = 0; and the weight
 *   format of TF-MOT / TFLite post-training int8 quantisation: per-axis, Z = 0, levels in
 *   [-127, 127] (-128 unused, so the range is symmetric).
 * - f16: weights rounded to IEEE binary16, no scale (the "float16 quantisation" of TFLite's
 *   post-training options).
 *
 * Weights that are exactly zero (pruned) stay exactly zero in both formats.
 *
 * @module
 */

import { packedRowWords } from "../kernels/matmul_quantized.ts";

export type { PtqFormat } from "../kernels/matmul_quantized.ts";

/** Largest int8 magnitude used: the symmetric range is [-127, 127]. */
export const INT8_MAX = 127;

/**
 * Rounds to the nearest integer, ties to even (IEEE roundTiesToEven; what PyTorch's quantizer
 * uses through `std::nearbyint`; TFLite's weight quantiser rounds ties away from zero instead,
 * the two differing only on exact ties). `Math.round` would round ties towards +∞ (0.5 → 1).
 */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Symmetric per-output-channel int8 quantisation of W [rows, cols] (one row per output channel,
 * PyTorch's Linear [out, in] layout):
 *
 * - `scale[r] = max|W[r, :]| / 127` (as f32), or 1 for a row that is all zero (any scale would
 *   do: every q of that row is 0, so its dequantised row is exactly 0, and 1 avoids 0 / 0);
 *   at least 2⁻¹⁴⁹, the smallest f32, so that a row of tiny subnormals does not divide by 0;
 * - `q[r, c] = clamp(roundHalfEven(W[r, c] / scale[r]), -127, 127)`, the division in f64 by the
 *   stored f32 scale. Zero maps to exactly 0, and the largest |W| of a row to ±127.
 *
 * Throws a RangeError on a non-finite weight (no finite scale represents it).
 *
 * @example
 * ```ts
 * const { q, scale } = quantizeInt8Rows(new Float32Array([63.5, -127, 0, 0]), 2, 2);
 * // scale = [1, 1], q = [64, -127, 0, 0]   (63.5 rounds to the even 64)
 * ```
 */
export function quantizeInt8Rows(
  w: Float32Array,
  rows: number,
  cols: number,
): { q: Int8Array; scale: Float32Array } {
  checkMatrix("quantizeInt8Rows", w.length, rows, cols);
  // w, q: [rows, cols] row-major; scale: [rows]
  const q = new Int8Array(rows * cols);
  const scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let c = 0; c < cols; c++) {
      const v = w[r * cols + c];
      if (!Number.isFinite(v)) {
        throw new RangeError(`quantizeInt8Rows: weight [${r}, ${c}] is ${v}, not finite`);
      }
      max = Math.max(max, Math.abs(v));
    }
    scale[r] = max === 0 ? 1 : Math.max(max / INT8_MAX, 2 ** -149);
    const s = scale[r];
    for (let c = 0; c < cols; c++) {
      const level = roundHalfEven(w[r * cols + c] / s);
      q[r * cols + c] = Math.max(-INT8_MAX, Math.min(INT8_MAX, level));
    }
  }
  return { q, scale };
}

/**
 * The f32 weights int8 levels stand for: `W[r, c] = q[r, c] · scale[r]` (rounded to f32).
 *
 * @example
 * ```ts
 * dequantizeInt8Rows(new Int8Array([64, -127]), new Float32Array([0.5]), 1, 2); // [32, -63.5]
 * ```
 */
export function dequantizeInt8Rows(
  q: Int8Array,
  scale: Float32Array,
  rows: number,
  cols: number,
): Float32Array {
  checkMatrix("dequantizeInt8Rows", q.length, rows, cols);
  checkLength("dequantizeInt8Rows", "scale", scale.length, rows);
  // q, result: [rows, cols] row-major; scale: [rows]
  const w = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) w[r * cols + c] = q[r * cols + c] * scale[r];
  }
  return w;
}

/**
 * Packs int8 levels four to a u32, little-endian within the word: byte j (bits 8j .. 8j + 7) of
 * word w of a row holds element 4w + j as two's complement. Each row is padded to
 * ceil(cols / 4) words with zero bytes, so rows start on a word.
 *
 * @example
 * ```ts
 * packInt8Rows(new Int8Array([1, -1, 2]), 1, 3); // [0x0002ff01]
 * ```
 */
export function packInt8Rows(q: Int8Array, rows: number, cols: number): Uint32Array {
  checkMatrix("packInt8Rows", q.length, rows, cols);
  const stride = packedRowWords("int8", cols);
  // q: [rows, cols] int8 row-major → packed: [rows, ceil(cols / 4)] u32
  const packed = new Uint32Array(rows * stride);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const byte = q[r * cols + c] & 0xff;
      packed[r * stride + (c >> 2)] |= byte << (8 * (c & 3));
    }
  }
  return packed;
}

/** Reads int8 levels back out of `packInt8Rows`'s words (the inverse of that packing). */
export function unpackInt8Rows(packed: Uint32Array, rows: number, cols: number): Int8Array {
  const stride = packedRowWords("int8", cols);
  checkLength("unpackInt8Rows", "packed", packed.length, rows * stride);
  // packed: [rows, ceil(cols / 4)] u32 → q: [rows, cols] int8 row-major
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const word = packed[r * stride + (c >> 2)];
      // Shift the byte to the top, then back with the arithmetic shift: sign extension.
      q[r * cols + c] = (word << (24 - 8 * (c & 3))) >> 24;
    }
  }
  return q;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/**
 * IEEE binary16 bits of `x` rounded to f32 first, then to half with round-to-nearest-even:
 * subnormal halves are produced (down to 2⁻²⁴), magnitudes from 65520 up overflow to ±∞, ±∞ stay
 * ±∞, NaN becomes a quiet NaN (0x7e00 for JavaScript's NaN), the sign of −0 is kept.
 *
 * @example
 * ```ts
 * f16Bits(1); // 0x3c00
 * f16Bits(-2); // 0xc000
 * f16Bits(65520); // 0x7c00 (+∞)
 * ```
 */
export function f16Bits(x: number): number {
  f32Scratch[0] = x;
  const bits = u32Scratch[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) {
    // ∞, or NaN with the quiet bit set and the payload's top bits kept.
    return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mantissa >>> 13);
  }
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 31) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half (or zero): the 24-bit significand shifted to units of 2⁻²⁴. Below 2⁻²⁵
    // (halfExponent < −10) everything rounds to ±0; a carry out gives the smallest normal.
    if (halfExponent < -10) return sign;
    const significand = mantissa | 0x800000;
    return sign | roundShiftEven(significand, 14 - halfExponent);
  }
  // Normal: a carry out of the mantissa bumps the exponent, and past 30 lands on ∞ (0x7c00).
  return sign | roundShiftEven((halfExponent << 23) | mantissa, 13);
}

/** `value / 2^shift` rounded to the nearest integer, ties to even (integers below 2³¹). */
function roundShiftEven(value: number, shift: number): number {
  const kept = value >>> shift;
  const rest = value - kept * 2 ** shift;
  const half = 2 ** (shift - 1);
  return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
}

/**
 * The value of IEEE binary16 bits (the low 16 bits of `bits`), exact: subnormals, ±0, ±∞, NaN.
 *
 * @example
 * ```ts
 * f16Value(0x3c00); // 1
 * f16Value(0x0001); // 2 ** -24
 * ```
 */
export function f16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/**
 * Rounds every weight to the nearest binary16 and back: the weights an f16 kernel computes with.
 *
 * @example
 * ```ts
 * roundTripF16(new Float32Array([1 / 3])); // [0.333251953125]
 * ```
 */
export function roundTripF16(w: Float32Array): Float32Array {
  return w.map((v) => f16Value(f16Bits(v)));
}

/**
 * Packs f32 weights as binary16 two to a u32, matching WGSL's `unpack2x16float` (which returns
 * vec2(low 16 bits, high 16 bits)): element 2w of a row in the low half of word w, element
 * 2w + 1 in the high half. Each row is padded to ceil(cols / 2) words with a zero half.
 *
 * @example
 * ```ts
 * packF16Rows(new Float32Array([1, -2, 1]), 1, 3); // [0xc0003c00, 0x00003c00]
 * ```
 */
export function packF16Rows(w: Float32Array, rows: number, cols: number): Uint32Array {
  checkMatrix("packF16Rows", w.length, rows, cols);
  const stride = packedRowWords("f16", cols);
  // w: [rows, cols] f32 row-major → packed: [rows, ceil(cols / 2)] u32
  const packed = new Uint32Array(rows * stride);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      packed[r * stride + (c >> 1)] |= f16Bits(w[r * cols + c]) << (16 * (c & 1));
    }
  }
  return packed;
}

/** Reads the weights back out of `packF16Rows`'s words (exact binary16 values, as f32). */
export function unpackF16Rows(packed: Uint32Array, rows: number, cols: number): Float32Array {
  const stride = packedRowWords("f16", cols);
  checkLength("unpackF16Rows", "packed", packed.length, rows * stride);
  // packed: [rows, ceil(cols / 2)] u32 → w: [rows, cols] f32 row-major
  const w = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const word = packed[r * stride + (c >> 1)];
      w[r * cols + c] = f16Value((word >>> (16 * (c & 1))) & 0xffff);
    }
  }
  return w;
}

function checkMatrix(name: string, length: number, rows: number, cols: number): void {
  for (const [what, value] of [["rows", rows], ["cols", cols]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`${name}: ${what} must be a positive integer, got ${value}`);
    }
  }
  checkLength(name, "weights", length, rows * cols);
}

function checkLength(name: string, what: string, length: number, expected: number): void {
  if (length !== expected) {
    throw new RangeError(`${name}: ${what} expected ${expected} elements, got ${length}`);
  }
}
