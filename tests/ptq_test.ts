import { assert, assertEquals, assertThrows } from "./_assert.ts";
import {
  dequantizeInt8Rows,
  f16Bits,
  f16Value,
  packF16Rows,
  packInt8Rows,
  quantizeInt8Rows,
  roundHalfEven,
  roundTripF16,
  unpackF16Rows,
  unpackInt8Rows,
} from "../src/quant/ptq.ts";
import { createRng, uniformArray } from "../src/util/rng.ts";

Deno.test("roundHalfEven rounds ties to the even neighbour, both signs", () => {
  const got = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4, 2.6, -2.6, 3].map(roundHalfEven);
  assertEquals(got.map((v) => v + 0), [-2, -2, 0, 0, 2, 2, 2, 3, -3, 3]);
});

Deno.test("quantizeInt8Rows: hand-computed rows (exact scales, ties, zero rows, pruned zeros)", () => {
  const w = new Float32Array([
    // max 127 → scale 1: the levels are the weights rounded half to even
    ...[63.5, -127, 62.5, 0.5, -0.5, 1.5, -2.5, 0],
    // all zero → scale 1, every level 0
    ...[0, 0, 0, 0, 0, 0, 0, 0],
    // max 254 → scale 2: −1 → −0.5 → 0, 3 → 1.5 → 2, 5 → 2.5 → 2, 100.9 → 50.45 → 50
    ...[254, -1, 3, 5, 100.9, -254, 0, -0],
  ]);
  const { q, scale } = quantizeInt8Rows(w, 3, 8);
  assertEquals([...scale], [1, 1, 2]);
  assertEquals([...q], [
    ...[64, -127, 62, 0, 0, 2, -2, 0],
    ...[0, 0, 0, 0, 0, 0, 0, 0],
    ...[127, 0, 2, 2, 50, -127, 0, 0],
  ]);
  const back = dequantizeInt8Rows(q, scale, 3, 8);
  assertEquals([...back.subarray(16)], [254, 0, 4, 4, 100, -254, 0, 0]);
  // The zero row and the pruned weights dequantise to exactly +0 (no −0, no NaN from 0 / 0).
  for (const i of [7, 8, 9, 10, 11, 12, 13, 14, 15, 22, 23]) {
    assert(Object.is(back[i], 0), `[${i}]`);
  }
});

Deno.test("quantizeInt8Rows: an inexact scale (1/127 as f32) and the ±127 ends", () => {
  const { q, scale } = quantizeInt8Rows(new Float32Array([1, -0.3, -1, 0.004]), 1, 4);
  assertEquals(scale[0], Math.fround(1 / 127));
  // −0.3 · 127 = −38.1 → −38; 0.004 · 127 = 0.508 → 1
  assertEquals([...q], [127, -38, -127, 1]);
});

Deno.test("quantizeInt8Rows: random rows stay within half a step, keep zeros, reach ±127", () => {
  const rng = createRng(7);
  const rows = 37;
  const cols = 101;
  const w = uniformArray(rng, rows * cols, -3, 3).map((v, i) =>
    rng() < 0.3 || Math.floor(i / cols) === 5 ? 0 : v * (1 + (i % 7))
  );
  const { q, scale } = quantizeInt8Rows(w, rows, cols);
  const back = dequantizeInt8Rows(q, scale, rows, cols);
  for (let r = 0; r < rows; r++) {
    const row = q.subarray(r * cols, (r + 1) * cols);
    const peak = Math.max(...[...row].map(Math.abs));
    assertEquals(peak, r === 5 ? 0 : 127, `row ${r} peak`);
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      // Half a step of rounding, plus the f32 rounding of the product q·scale.
      assert(Math.abs(back[i] - w[i]) <= scale[r] * 0.5 * (1 + 1e-6), `[${r}, ${c}]`);
      if (w[i] === 0) assert(q[i] === 0 && Object.is(back[i], 0), `zero at [${r}, ${c}]`);
    }
  }
});

Deno.test("quantizeInt8Rows rejects non-finite weights and wrong sizes", () => {
  assertThrows(
    () => quantizeInt8Rows(new Float32Array([1, NaN]), 1, 2),
    RangeError,
    "quantizeInt8Rows: weight [0, 1] is NaN, not finite",
  );
  assertThrows(
    () => quantizeInt8Rows(new Float32Array(5), 2, 3),
    RangeError,
    "quantizeInt8Rows: weights expected 6 elements, got 5",
  );
});

Deno.test("packInt8Rows: byte j of word w is element 4w + j, two's complement, rows padded", () => {
  const q = new Int8Array([
    ...[1, -1, 2, 127, -127],
    ...[0, 0, 0, 0, -2],
  ]);
  const packed = packInt8Rows(q, 2, 5);
  assertEquals([...packed], [0x7f02ff01, 0x00000081, 0x00000000, 0x000000fe]);
  assertEquals([...unpackInt8Rows(packed, 2, 5)], [...q]);
  // One word per row when cols ≤ 4; -128 packs too (the quantiser never makes it).
  assertEquals([...packInt8Rows(new Int8Array([-128, 3]), 2, 1)], [0x80, 0x03]);
});

Deno.test("packInt8Rows / unpackInt8Rows round-trip every level over odd widths", () => {
  const rng = createRng(3);
  for (const cols of [1, 2, 3, 4, 5, 7, 8, 33]) {
    const rows = 5;
    const q = Int8Array.from({ length: rows * cols }, () => Math.floor(rng() * 255) - 127);
    assertEquals([...unpackInt8Rows(packInt8Rows(q, rows, cols), rows, cols)], [...q]);
  }
});

Deno.test("f16Bits: known values, ties to even, subnormals, overflow, inf, NaN, signed zero", () => {
  const cases: [number, number][] = [
    [1, 0x3c00],
    [-2, 0xc000],
    [0, 0x0000],
    [-0, 0x8000],
    [65504, 0x7bff], // largest half
    [65519, 0x7bff], // just below the midpoint to 65536
    [65520, 0x7c00], // the midpoint: ties to even, which is 65536 → overflows to +∞
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [NaN, 0x7e00],
    [1 / 3, 0x3555], // 0.333251953125
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [6e-8, 0x0001], // 1.0066 · 2⁻²⁴
    [2 ** -25, 0x0000], // half of the smallest subnormal: tie, to the even 0
    [1.5 * 2 ** -25, 0x0001],
    [2 ** -14 - 2 ** -25, 0x0400], // tie between the largest subnormal and the smallest normal
    [1 + 2 ** -11, 0x3c00], // tie between 1 and 1 + 2⁻¹⁰: to the even 1
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 0x3c01 and 0x3c02: to the even 0x3c02
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just past the tie
  ];
  for (const [x, bits] of cases) {
    assertEquals(f16Bits(x).toString(16), bits.toString(16), `f16Bits(${x})`);
  }
});

Deno.test("f16Value decodes normals, subnormals, ±0, ±∞ and NaN", () => {
  assertEquals(f16Value(0x3c00), 1);
  assertEquals(f16Value(0xc000), -2);
  assertEquals(f16Value(0x7bff), 65504);
  assertEquals(f16Value(0x3555), 0.333251953125);
  assertEquals(f16Value(0x0001), 2 ** -24);
  assertEquals(f16Value(0x03ff), 1023 * 2 ** -24);
  assertEquals(f16Value(0x7c00), Infinity);
  assertEquals(f16Value(0xfc00), -Infinity);
  assert(Number.isNaN(f16Value(0x7e00)));
  assert(Object.is(f16Value(0x8000), -0));
});

Deno.test("f16Bits ∘ f16Value is the identity on all 65536 half bit patterns but NaNs", () => {
  for (let bits = 0; bits < 0x10000; bits++) {
    const value = f16Value(bits);
    if (Number.isNaN(value)) {
      assert((f16Bits(value) & 0x7c00) === 0x7c00 && (f16Bits(value) & 0x3ff) !== 0);
      continue;
    }
    if (f16Bits(value) !== bits) throw new Error(`bits ${bits.toString(16)} → ${value}`);
  }
});

Deno.test("f16Bits agrees with the engine's Float16Array on random f32 values of every scale", () => {
  const rng = createRng(11);
  const native = new Float16Array(1);
  const nativeBits = new Uint16Array(native.buffer);
  for (let i = 0; i < 200000; i++) {
    // Magnitudes from 2⁻³⁰ to 2¹⁷, both signs: zero, subnormal, normal and overflowing halves.
    const x = Math.fround((rng() < 0.5 ? -1 : 1) * 2 ** (rng() * 47 - 30));
    native[0] = x;
    if (f16Bits(x) !== nativeBits[0]) {
      throw new Error(`f16Bits(${x}) = ${f16Bits(x).toString(16)}, native ${nativeBits[0]}`);
    }
  }
});

Deno.test("packF16Rows: low half = even element, high half = odd element, rows padded", () => {
  const packed = packF16Rows(new Float32Array([1, -2, 1, 0, 65520, 0]), 2, 3);
  assertEquals([...packed], [0xc0003c00, 0x00003c00, 0x7c000000, 0x00000000]);
  const rng = createRng(5);
  for (const cols of [1, 2, 3, 7, 10]) {
    const w = uniformArray(rng, 3 * cols, -100, 100);
    assertEquals([...unpackF16Rows(packF16Rows(w, 3, cols), 3, cols)], [...roundTripF16(w)]);
    // Within half a unit in the last place of a half: 2⁻¹¹ relative.
    const back = roundTripF16(w);
    for (let i = 0; i < w.length; i++) {
      assert(Math.abs(back[i] - w[i]) <= Math.abs(w[i]) * 2 ** -11);
    }
  }
});
