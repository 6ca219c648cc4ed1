import { assertRejects } from "./_assert.ts";
import { getGpu } from "../src/gpu/device.ts";
import { readF32, uploadStorage } from "../src/gpu/buffers.ts";
import { submitOps } from "../src/gpu/kernel.ts";
import {
  createQuantizedMatmul,
  type PtqFormat,
  type QuantizedMatmulShape,
} from "../src/kernels/matmul_quantized.ts";
import { ShapeError } from "../src/kernels/shapes.ts";
import {
  dequantizeInt8Rows,
  packF16Rows,
  packInt8Rows,
  quantizeInt8Rows,
  roundTripF16,
} from "../src/quant/ptq.ts";
import { matmulRef, quantizedMatmulRef } from "../src/reference/kernels.ts";
import { createRng, uniformArray } from "../src/util/rng.ts";
import { assertClose } from "./_close.ts";

// GPU vs f64 reference: the kernel sums k products in f32, four at a time and in another order
// than the reference, with |a| ≤ 1 and dequantised |w| ≤ 1 (int8 sums a·q with |q| ≤ 127 and
// scales after: the same relative error). f32 rounding gives errors of order √k·2⁻²⁴·Σ|a·w|
// typically; measured at 257×301×784, max |gpu − ref| = 1.9e-5 (int8) and 2.3e-5 (f16) with
// |ref| up to 48. So 1e-4 + 1e-4·|ref| (as tests/matmul_test.ts) holds with margin, while any
// wrong byte, half, row or column of Q (errors of order 1/127 of a product or more) is far
// outside it.
const ATOL = 1e-4;
const RTOL = 1e-4;
// Reference vs reference (both f64 sums; they differ only by the f32 rounding of q·scale per
// weight, relative 2⁻²⁴): a much tighter bound.
const REF_ATOL = 1e-6;
const REF_RTOL = 1e-6;

/** [m, n, k]: ones, odd sizes, k of every residue mod 4, narrow and tall, the MLP's layers. */
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 3, 2],
  [3, 5, 7],
  [7, 3, 5],
  [5, 7, 6],
  [33, 17, 9],
  [9, 33, 129],
  [129, 65, 33],
  [257, 301, 784],
  [1030, 10, 200], // narrow and tall: row tiles stack in a workgroup
  [4103, 6, 11],
];

/** Weights [n, k] with every third output channel all zero and 30% of the rest pruned. */
function prunedWeights(rng: () => number, n: number, k: number): Float32Array {
  return uniformArray(rng, n * k).map((v, i) => Math.floor(i / k) % 3 === 1 || rng() < 0.3 ? 0 : v);
}

/** The packed words, scale and independently dequantised weights of `w` in `format`. */
function quantize(format: PtqFormat, w: Float32Array, n: number, k: number) {
  if (format === "int8") {
    const { q, scale } = quantizeInt8Rows(w, n, k);
    return {
      packed: packInt8Rows(q, n, k),
      scale,
      dequantized: dequantizeInt8Rows(q, scale, n, k),
    };
  }
  return { packed: packF16Rows(w, n, k), scale: undefined, dequantized: roundTripF16(w) };
}

async function check(shape: QuantizedMatmulShape, withBias: boolean, seed: number) {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(seed);
  const { m, n, k, format } = shape;
  const a = uniformArray(rng, m * k);
  const w = prunedWeights(rng, n, k);
  const bias = withBias ? uniformArray(rng, n) : undefined;
  const { packed, scale, dequantized } = quantize(format, w, n, k);
  const buffers = {
    a: uploadStorage(gpu, a, "a"),
    q: uploadStorage(gpu, packed, "q"),
    scale: scale ? uploadStorage(gpu, scale, "scale") : undefined,
    bias: bias ? uploadStorage(gpu, bias, "bias") : undefined,
    // NaN where nothing is written would show as a mismatch.
    c: uploadStorage(gpu, new Float32Array(m * n).fill(NaN), "c"),
  };
  const op = await createQuantizedMatmul(gpu, shape, buffers);
  submitOps(gpu, [op]);
  const got = await readF32(gpu, buffers.c, m * n);
  op.destroy();
  for (const buffer of Object.values(buffers)) buffer?.destroy();
  const label = `matmul_quantized ${JSON.stringify(shape)} bias=${withBias}`;
  const want = quantizedMatmulRef(a, packed, shape, scale, bias);
  // The packed reference against the plain product with weights dequantised without packing.
  const plain = matmulRef(a, dequantized, { m, n, k, transB: true, relu: shape.relu }, bias);
  assertClose(`${label} reference vs dequantised`, want, plain, REF_ATOL, REF_RTOL);
  assertClose(label, got, want, ATOL, RTOL);
}

for (const format of ["int8", "f16"] as const) {
  Deno.test(`matmul_quantized ${format} matches the reference over odd shapes`, async () => {
    let seed = format === "int8" ? 100 : 200;
    for (const [m, n, k] of SHAPES) {
      await check({ m, n, k, format }, false, seed++);
      await check({ m, n, k, format, relu: true }, true, seed++);
    }
  });
}

Deno.test("matmul_quantized: bias without ReLU, ReLU without bias", async () => {
  let seed = 300;
  for (const format of ["int8", "f16"] as const) {
    await check({ m: 19, n: 21, k: 23, format }, true, seed++);
    await check({ m: 19, n: 21, k: 23, format, relu: true }, false, seed++);
  }
});

Deno.test("matmul_quantized: pruned weights contribute exactly nothing", async () => {
  // All weights zero: C is exactly the bias (ReLU'd), bit for bit, in both formats.
  const gpu = await getGpu({ quiet: true });
  const [m, n, k] = [9, 11, 13];
  const bias = uniformArray(createRng(9), n);
  for (const format of ["int8", "f16"] as const) {
    const { packed, scale } = quantize(format, new Float32Array(n * k), n, k);
    const buffers = {
      a: uploadStorage(gpu, uniformArray(createRng(10), m * k), "a"),
      q: uploadStorage(gpu, packed, "q"),
      scale: scale ? uploadStorage(gpu, scale, "scale") : undefined,
      bias: uploadStorage(gpu, bias, "bias"),
      c: uploadStorage(gpu, new Float32Array(m * n).fill(NaN), "c"),
    };
    const op = await createQuantizedMatmul(gpu, { m, n, k, format, relu: true }, buffers);
    submitOps(gpu, [op]);
    const got = await readF32(gpu, buffers.c, m * n);
    op.destroy();
    for (const buffer of Object.values(buffers)) buffer?.destroy();
    const want = new Float32Array(m * n).map((_, i) => Math.max(0, bias[i % n]));
    assertClose(`all-zero ${format}`, got, want, 0, 0);
  }
});

Deno.test("matmul_quantized: more row blocks than one grid axis holds", async () => {
  const gpu = await getGpu({ quiet: true });
  // One output channel stacks 32 row tiles of 8 rows per workgroup: 256·65535 + 9 rows need
  // 65536 workgroups, so the row blocks spill into a second grid layer (z).
  const shape: QuantizedMatmulShape = { m: 256 * 65535 + 9, n: 1, k: 1, format: "int8" };
  const a = uniformArray(createRng(77), shape.m);
  const { packed, scale } = quantize("int8", new Float32Array([-0.75]), 1, 1);
  const buffers = {
    a: uploadStorage(gpu, a, "a"),
    q: uploadStorage(gpu, packed, "q"),
    scale: uploadStorage(gpu, scale!, "scale"),
    c: uploadStorage(gpu, new Float32Array(shape.m).fill(NaN), "c"),
  };
  const op = await createQuantizedMatmul(gpu, shape, buffers);
  submitOps(gpu, [op]);
  const got = await readF32(gpu, buffers.c, shape.m);
  op.destroy();
  for (const buffer of Object.values(buffers)) buffer.destroy();
  const want = quantizedMatmulRef(a, packed, shape, scale);
  assertClose(`${shape.m}×1×1 int8`, got, want, ATOL, RTOL);
});

Deno.test("matmul_quantized rejects buffers that do not fit the shape, and int8 without scale", async () => {
  const gpu = await getGpu({ quiet: true });
  const small = uploadStorage(gpu, new Float32Array(4), "small");
  const big = uploadStorage(gpu, new Float32Array(64), "big");
  await assertRejects(
    () =>
      createQuantizedMatmul(gpu, { m: 2, n: 3, k: 5, format: "int8" }, {
        a: big,
        q: small,
        scale: big,
        c: big,
      }),
    ShapeError,
    "matmul_quantized: Q expected [3, 2] u32 (int8, k = 5) (6 elements, 24 bytes), " +
      "got a buffer of 16 bytes (4 elements)",
  );
  await assertRejects(
    () =>
      createQuantizedMatmul(gpu, { m: 2, n: 3, k: 5, format: "f16" }, {
        a: big,
        q: big,
        c: small,
      }),
    ShapeError,
    "matmul_quantized: C expected [2, 3] f32",
  );
  await assertRejects(
    () =>
      createQuantizedMatmul(gpu, { m: 2, n: 3, k: 5, format: "int8" }, {
        a: big,
        q: big,
        c: big,
      }),
    ShapeError,
    "matmul_quantized: int8 expected scale [3] f32 (one per output channel), got none",
  );
  await assertRejects(
    () =>
      createQuantizedMatmul(gpu, { m: 2, n: 3, k: 5, format: "f16" }, {
        a: big,
        q: big,
        scale: big,
        c: big,
      }),
    ShapeError,
    "matmul_quantized: f16 expected no scale",
  );
  small.destroy();
  big.destroy();
});
