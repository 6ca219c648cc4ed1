import { assertEquals, assertRejects } from "./_assert.ts";
import { getGpu } from "../src/gpu/device.ts";
import { readF32, uploadStorage } from "../src/gpu/buffers.ts";
import { submitOps } from "../src/gpu/kernel.ts";
import {
  createMatmul,
  MATMUL_VARIANTS,
  type MatmulShape,
  type MatmulVariant,
} from "../src/kernels/matmul.ts";
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
  [70, 130, 1024], // the uniform variant's largest K: both 512-row chunks full
  [17, 65, 513], // one step into the second chunk, one column into the second panel
  [1030, 20, 25], // narrow and tall (a convolution's im2col product): tiled stacks 2 row tiles
  [4103, 6, 9], // tiled stacks 8 row tiles of a 1-wide workgroup, the last one ragged
];

async function check(
  variant: MatmulVariant,
  shape: MatmulShape,
  withBias: boolean,
  seed: number,
) {
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
  const op = await createMatmul(
    gpu,
    shape,
    { a: aBuf, b: bBuf, c: cBuf, bias: biasBuf },
    variant,
  );
  submitOps(gpu, [op]);
  const got = await readF32(gpu, cBuf, m * n);
  const want = matmulRef(a, b, shape, bias, cOld);
  for (const buf of [aBuf, bBuf, cBuf, biasBuf]) buf?.destroy();
  op.destroy();
  assertClose(
    `matmul ${variant.name} ${JSON.stringify(shape)} bias=${withBias}`,
    got,
    want,
    ATOL,
    RTOL,
  );
}

for (const variant of MATMUL_VARIANTS) {
  for (const form of ["AB", "ABt", "AtB"] as const) {
    Deno.test(`matmul ${variant.name} ${form} matches reference over odd shapes`, async () => {
      let seed = 1;
      let checked = 0;
      for (const [m, n, k] of SHAPES) {
        const shape = { m, n, k, transA: form === "AtB", transB: form === "ABt" };
        if (!variant.takes(shape)) continue;
        await check(variant, shape, false, seed++);
        checked++;
      }
      // Every variant takes most shapes: a test that checked nothing would prove nothing.
      assertEquals(checked >= SHAPES.length - 1, true);
    });
  }

  Deno.test(`matmul ${variant.name} epilogue: bias, accumulate and ReLU`, async () => {
    await check(variant, { m: 13, n: 37, k: 50, relu: true }, true, 7);
    await check(variant, { m: 13, n: 37, k: 50, accumulate: true }, false, 8);
    await check(
      variant,
      { m: 5, n: 6, k: 3, accumulate: true, relu: true, transA: true },
      true,
      9,
    );
    await check(variant, { m: 33, n: 70, k: 20, relu: true, transB: true }, true, 10);
  });
}

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

Deno.test("matmul: more row blocks than one grid axis holds (a convolution's im2col product)", async () => {
  const gpu = await getGpu({ quiet: true });
  // 8·65535 + 9 rows: the tiled kernel's row blocks spill into a second grid layer.
  const shape: MatmulShape = { m: 8 * 65535 + 9, n: 3, k: 2, transB: true };
  const rng = createRng(77);
  const a = uniformArray(rng, shape.m * shape.k);
  const b = uniformArray(rng, shape.n * shape.k);
  const want = matmulRef(a, b, shape);
  for (const variant of MATMUL_VARIANTS.filter((v) => v.takes(shape))) {
    const bufs = {
      a: uploadStorage(gpu, a, "a"),
      b: uploadStorage(gpu, b, "b"),
      c: uploadStorage(gpu, new Float32Array(shape.m * shape.n).fill(7), "c"),
    };
    const op = await createMatmul(gpu, shape, bufs, variant);
    submitOps(gpu, [op]);
    const got = await readF32(gpu, bufs.c, shape.m * shape.n);
    assertClose(`${variant.name} ${shape.m}×${shape.n}×${shape.k}`, got, want, ATOL, RTOL);
    Object.values(bufs).forEach((buf) => buf.destroy());
    op.destroy();
  }
  assertEquals(MATMUL_VARIANTS[0].takes(shape), true, "tiled takes every shape");
});
