import { assertEquals, assertRejects } from "./_assert.ts";
import { getGpu } from "../src/gpu/device.ts";
import { readF32, uploadStorage } from "../src/gpu/buffers.ts";
import { submitOps } from "../src/gpu/kernel.ts";
import { createMatmul, type MatmulShape } from "../src/kernels/matmul.ts";
import { ShapeError } from "../src/kernels/shapes.ts";
import { matmulRef } from "../src/reference/kernels.ts";
import { createRng, uniformArray } from "../src/util/rng.ts";
import { assertClose } from "./_close.ts";

// f32 accumulation over k terms of |a·b| ≤ 1: error grows ~ k·eps; 1e-4 + 1e-4·|ref| is loose
// enough for k ≤ 1000 and tight enough to catch any indexing mistake.
const ATOL = 1e-4;
const RTOL = 1e-4;

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 10, 7],
  [10, 3, 200],
  [127, 129, 33],
  [9, 1000, 784],
  [200, 10, 127],
];

async function check(shape: MatmulShape, withBias: boolean, seed: number) {
  const gpu = await getGpu({ quiet: true });
  const rng = createRng(seed);
  const { m, n, k } = shape;
  const a = uniformArray(rng, m * k);
  const b = uniformArray(rng, k * n);
  const bias = withBias ? uniformArray(rng, n) : undefined;
  const cOld = uniformArray(rng, m * n);
  const aBuf = uploadStorage(gpu, a, "a");
  const bBuf = uploadStorage(gpu, b, "b");
  const cBuf = uploadStorage(gpu, cOld, "c");
  const biasBuf = bias ? uploadStorage(gpu, bias, "bias") : undefined;
  const op = await createMatmul(gpu, shape, { a: aBuf, b: bBuf, c: cBuf, bias: biasBuf });
  submitOps(gpu, [op]);
  const got = await readF32(gpu, cBuf, m * n);
  const want = matmulRef(a, b, shape, bias, cOld);
  for (const buf of [aBuf, bBuf, cBuf, biasBuf]) buf?.destroy();
  op.destroy();
  assertClose(`matmul ${JSON.stringify(shape)} bias=${withBias}`, got, want, ATOL, RTOL);
}

for (const variant of ["AB", "ABt", "AtB"] as const) {
  Deno.test(`matmul ${variant} matches reference over odd shapes`, async () => {
    let seed = 1;
    for (const [m, n, k] of SHAPES) {
      await check({ m, n, k, transA: variant === "AtB", transB: variant === "ABt" }, false, seed++);
    }
  });
}

Deno.test("matmul epilogue: bias, accumulate and ReLU", async () => {
  await check({ m: 13, n: 37, k: 50, relu: true }, true, 7);
  await check({ m: 13, n: 37, k: 50, accumulate: true }, false, 8);
  await check({ m: 5, n: 6, k: 3, accumulate: true, relu: true, transA: true }, true, 9);
});

Deno.test("matmul rejects wrong shapes before dispatch, naming kernel and shapes", async () => {
  const gpu = await getGpu({ quiet: true });
  const small = uploadStorage(gpu, new Float32Array(6), "small");
  const err = await assertRejects(
    () => createMatmul(gpu, { m: 4, n: 4, k: 4 }, { a: small, b: small, c: small }),
    ShapeError,
  );
  assertEquals(err.message.startsWith("matmul: A expected [4, 4] (16 elements"), true);
  await assertRejects(
    () => createMatmul(gpu, { m: 0, n: 4, k: 4 }, { a: small, b: small, c: small }),
    ShapeError,
    "matmul: m must be a positive integer, got 0",
  );
  small.destroy();
});
