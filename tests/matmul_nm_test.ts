/**
 * The N:M kernel (shaders/matmul_nm.wgsl) and its packing (src/kernels/nm_pack.ts): a packing
 * fixture worked out by hand, the refusal of weights that are not N:M, and the GPU product
 * against the f64 reference over odd shapes, four patterns and every epilogue. Every test takes
 * the GPU through `getGpu`, which throws when there is no adapter: nothing here can pass without
 * running the kernel.
 */

import { assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import { getGpu } from "../src/gpu/device.ts";
import { createStorage, readF32, uploadStorage, writeStorage } from "../src/gpu/buffers.ts";
import { submitOps } from "../src/gpu/kernel.ts";
import {
  createNmMatmul,
  NM_INPUT_USAGE,
  nmChunkRows,
  nmInputBytes,
} from "../src/kernels/matmul_nm.ts";
import {
  detectNm,
  nmLayout,
  type NmPattern,
  NmPatternError,
  nmViolation,
  packNm,
  unpackNm,
} from "../src/kernels/nm_pack.ts";
import { ShapeError } from "../src/kernels/shapes.ts";
import { nmMask } from "../src/prune/nm.ts";
import { matmulRef, nmMatmulRef } from "../src/reference/kernels.ts";
import { createRng, uniformArray } from "../src/util/rng.ts";
import { assertClose } from "./_close.ts";

// GPU (f32 sums, M products per group fused in another order) vs the f64 reference, with
// |x|, |w| ≤ 1 and at most 2000 inputs: measured max |gpu − ref| ≈ 3e-5 at 1000 inputs with
// |ref| up to 20. 1e-4 + 1e-4·|ref| (as tests/matmul_test.ts) holds with margin; a wrong offset,
// slot, group, row or window is off by a whole product (order 0.1 or more).
const ATOL = 1e-4;
const RTOL = 1e-4;

const PATTERNS: NmPattern[] = [{ n: 2, m: 4 }, { n: 1, m: 4 }, { n: 4, m: 8 }, { n: 2, m: 8 }];

/**
 * [rows, inputs, outputs]: one of each, rows that are no multiple of the 16-row tile, inputs no
 * multiple of M (a short last group) and smaller than M, outputs no multiple of the 16-unit tile
 * and over one workgroup (128 units), several row chunks (784 inputs: 16 rows per 64 KiB window;
 * 33 inputs: windows starting 32 floats before their first row), fewer rows per chunk than a
 * tile (2000 inputs: 8).
 */
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 10, 7],
  [17, 33, 5],
  [33, 127, 129],
  [57, 784, 301],
  [1030, 33, 20],
  [20, 2001, 9],
];

/**
 * X in a buffer the kernel can window (the same data the reference reads), Y filled with NaN
 * where nothing should survive unwritten.
 */
function inputBuffer(gpu: Awaited<ReturnType<typeof getGpu>>, x: Float32Array, rows: number) {
  const buffer = createStorage(gpu, nmInputBytes(rows, x.length / rows), "x", NM_INPUT_USAGE);
  writeStorage(gpu, buffer, x);
  return buffer;
}

/** A weight [inputs, outputs] pruned N:M by the pruner, some kept weights zero, a zero unit. */
function nmWeight(rng: () => number, inputs: number, outputs: number, p: NmPattern) {
  const w = uniformArray(rng, inputs * outputs);
  const mask = nmMask(w, [inputs, outputs], p);
  return w.map((v, i) => (mask[i] === 0 || rng() < 0.1 || i % outputs === 2 ? 0 : v));
}

async function check(
  shape: [number, number, number],
  p: NmPattern,
  withBias: boolean,
  relu: boolean,
  seed: number,
) {
  const gpu = await getGpu({ quiet: true });
  const [rows, inputs, outputs] = shape;
  const rng = createRng(seed);
  const x = uniformArray(rng, rows * inputs);
  const w = nmWeight(rng, inputs, outputs, p);
  const bias = withBias ? uniformArray(rng, outputs) : undefined;
  const packed = packNm(w, inputs, outputs, p);
  const buffers = {
    x: inputBuffer(gpu, x, rows),
    values: uploadStorage(gpu, packed.values, "values"),
    offsets: uploadStorage(gpu, packed.offsets, "offsets"),
    y: uploadStorage(gpu, new Float32Array(rows * outputs).fill(NaN), "y"),
    bias: bias ? uploadStorage(gpu, bias, "bias") : undefined,
  };
  const op = await createNmMatmul(gpu, { rows, inputs, outputs, pattern: p, relu }, buffers);
  submitOps(gpu, [op]);
  const got = await readF32(gpu, buffers.y, rows * outputs);
  op.destroy();
  for (const b of Object.values(buffers)) b?.destroy();
  const label = `matmul_nm ${p.n}:${p.m} ${rows}×${inputs}×${outputs} bias=${withBias} ` +
    `relu=${relu}`;
  const want = nmMatmulRef(x, packed, rows, bias, relu);
  // The packed reference is the dense product of the weight it came from (both f64 sums).
  const dense = matmulRef(x, w, { m: rows, n: outputs, k: inputs, relu }, bias);
  assertClose(`${label}: reference vs dense`, want, dense, 1e-6, 1e-6);
  assertClose(label, got, want, ATOL, RTOL);
}

Deno.test("packNm: a 2:4 weight packed by hand, short last group and empty slots", () => {
  // W [in 6, out 2], row-major (input i of unit o at i·2 + o):
  //   unit 0 = (0, 3, 0, -1 | 2, 0), unit 1 = (5, 0, 0, 0 | 0, 0).
  const w = Float32Array.of(0, 5, 3, 0, 0, 0, -1, 0, 2, 0, 0, 0);
  const p = packNm(w, 6, 2, { n: 2, m: 4 });
  // 2 groups (the second covers inputs 4, 5), offsets of 2 bits, 8 groups per word: 1 word.
  assertEquals([p.groups, p.bits, p.groupsPerWord, p.words], [2, 2, 8, 1]);
  // Unit 0: group 0 keeps inputs 1, 3 → (3, -1); group 1 keeps input 4 → (2) and its empty slot
  // takes the lowest free position, 1, with value 0. Unit 1: group 0 keeps input 0 → (5), empty
  // slot at 1; group 1 is empty: positions 0, 1.
  assertEquals([...p.values], [3, -1, 2, 0, 5, 0, 0, 0]);
  // Unit 0: offsets 1, 3 | 0, 1 at bits 0, 2 | 4, 6 → 1 + 3·4 + 0·16 + 1·64 = 77.
  // Unit 1: offsets 0, 1 | 0, 1 → 0 + 1·4 + 0 + 1·64 = 68.
  assertEquals([...p.offsets], [77, 68]);
  assertEquals([...unpackNm(p)], [...w]);
});

Deno.test("packNm: layouts of the other patterns, and unpack inverts pack", () => {
  assertEquals(nmLayout(784, { n: 2, m: 4 }), {
    groups: 196,
    bits: 2,
    groupsPerWord: 8,
    words: 25,
  });
  assertEquals(nmLayout(10, { n: 1, m: 4 }), { groups: 3, bits: 2, groupsPerWord: 16, words: 1 });
  assertEquals(nmLayout(20, { n: 4, m: 8 }), { groups: 3, bits: 3, groupsPerWord: 2, words: 2 });
  assertEquals(nmLayout(9, { n: 2, m: 8 }), { groups: 2, bits: 3, groupsPerWord: 5, words: 1 });
  // 1:4 over 9 inputs into unit 0: input 6 kept → group 1, offset 2 at bits 2..3 of the word.
  const one = new Float32Array(9);
  one[6] = 0.5;
  const q = packNm(one, 9, 1, { n: 1, m: 4 });
  assertEquals([...q.values], [0, 0.5, 0]);
  assertEquals([...q.offsets], [2 << 2]);
  const rng = createRng(5);
  for (const p of [...PATTERNS, { n: 3, m: 8 }, { n: 1, m: 2 }, { n: 5, m: 64 }]) {
    const w = nmWeight(rng, 37, 11, p);
    assertEquals([...unpackNm(packNm(w, 37, 11, p))], [...w], `${p.n}:${p.m}`);
  }
});

Deno.test("packNm refuses a weight that is not N:M, and patterns the packing cannot hold", () => {
  // Unit 1 keeps 3 of inputs 0..3.
  const w = Float32Array.of(1, 1, 0, 1, 0, 1, 0, 0);
  assertEquals(
    nmViolation(w, 4, 2, { n: 2, m: 4 }),
    "output 1, inputs 0..3 hold 3 non-zeros " +
      "(at most 2 of every 4)",
  );
  assertThrows(
    () => packNm(w, 4, 2, { n: 2, m: 4 }),
    NmPatternError,
    "weight is not 2:4: output 1, inputs 0..3 hold 3 non-zeros (at most 2 of every 4)",
  );
  assertEquals(nmViolation(w, 4, 2, { n: 3, m: 4 }), undefined);
  assertThrows(
    () => packNm(new Float32Array(64), 32, 2, { n: 16, m: 32 }),
    NmPatternError,
    "16:32 needs 80 offset bits per group; at most 32 fit the packing",
  );
  assertThrows(() => nmLayout(8, { n: 4, m: 4 }), NmPatternError, "1 <= N < M <= 64, got 4:4");
});

Deno.test("detectNm finds the pattern a weight was pruned to", () => {
  const rng = createRng(8);
  for (const p of PATTERNS) {
    const w = uniformArray(rng, 64 * 12);
    const mask = nmMask(w, [64, 12], p);
    assertEquals(detectNm(w.map((v, i) => v * mask[i]), 64, 12), p, `${p.n}:${p.m}`);
  }
  // Unpruned: no group size gives N < M.
  assertEquals(detectNm(uniformArray(rng, 64 * 12), 64, 12), undefined);
});

for (const p of PATTERNS) {
  Deno.test(`matmul_nm ${p.n}:${p.m} matches the reference over odd shapes and epilogues`, async () => {
    let seed = 10 * p.n + p.m;
    for (const shape of SHAPES) {
      await check(shape, p, false, false, seed++);
      await check(shape, p, true, true, seed++);
    }
    await check([19, 21, 23], p, true, false, seed++);
    await check([19, 21, 23], p, false, true, seed++);
  });
}

Deno.test("matmul_nm: odd N reads values one by one (3:8)", async () => {
  await check([40, 100, 30], { n: 3, m: 8 }, true, true, 77);
});

Deno.test("matmul_nm: an all-zero weight leaves exactly the bias", async () => {
  const gpu = await getGpu({ quiet: true });
  const [rows, inputs, outputs] = [21, 13, 18];
  const bias = uniformArray(createRng(9), outputs);
  const packed = packNm(new Float32Array(inputs * outputs), inputs, outputs, { n: 2, m: 4 });
  const buffers = {
    x: inputBuffer(gpu, uniformArray(createRng(10), rows * inputs), rows),
    values: uploadStorage(gpu, packed.values, "values"),
    offsets: uploadStorage(gpu, packed.offsets, "offsets"),
    y: uploadStorage(gpu, new Float32Array(rows * outputs).fill(NaN), "y"),
    bias: uploadStorage(gpu, bias, "bias"),
  };
  const op = await createNmMatmul(gpu, {
    rows,
    inputs,
    outputs,
    pattern: packed.pattern,
    relu: true,
  }, buffers);
  submitOps(gpu, [op]);
  const got = await readF32(gpu, buffers.y, rows * outputs);
  op.destroy();
  for (const b of Object.values(buffers)) b.destroy();
  assertClose("all-zero 2:4", got, got.map((_, i) => Math.max(0, bias[i % outputs])), 0, 0);
});

Deno.test("matmul_nm rejects buffers that do not fit the shape, and X without uniform usage", async () => {
  const gpu = await getGpu({ quiet: true });
  const big = createStorage(gpu, nmInputBytes(4, 8), "big");
  const windowed = createStorage(gpu, nmInputBytes(4, 8), "windowed", NM_INPUT_USAGE);
  const small = createStorage(gpu, 16, "small");
  const shape = { rows: 4, inputs: 8, outputs: 3, pattern: { n: 2, m: 4 } };
  await assertRejects(
    () => createNmMatmul(gpu, shape, { x: big, values: big, offsets: big, y: big }),
    ShapeError,
    "matmul_nm: X must be readable as a uniform buffer (created with NM_INPUT_USAGE)",
  );
  await assertRejects(
    () => createNmMatmul(gpu, shape, { x: small, values: big, offsets: big, y: big }),
    ShapeError,
    "matmul_nm: X expected [4, 8] f32 and a 64 KiB window of slack (nmInputBytes)",
  );
  await assertRejects(
    () => createNmMatmul(gpu, shape, { x: windowed, values: small, offsets: big, y: big }),
    ShapeError,
    "matmul_nm: values expected [3, 2, 2] (12 elements, 48 bytes), got a buffer of 16 bytes",
  );
  await assertRejects(
    () =>
      createNmMatmul(gpu, { ...shape, pattern: { n: 16, m: 32 } }, {
        x: windowed,
        values: big,
        offsets: big,
        y: big,
      }),
    ShapeError,
    "matmul_nm: 16:32 needs 80 offset bits per group",
  );
  const align = gpu.device.limits.minUniformBufferOffsetAlignment;
  assertEquals(nmChunkRows(1000, align), 16);
  assertEquals(nmChunkRows(20000, align), 0);
  for (const b of [big, windowed, small]) b.destroy();
});
