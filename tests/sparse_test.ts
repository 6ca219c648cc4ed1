import { assertRejects } from "./_assert.ts";
import { getGpu } from "../src/gpu/device.ts";
import { readF32, uploadStorage } from "../src/gpu/buffers.ts";
import { submitOps } from "../src/gpu/kernel.ts";
import {
  createSparseMatmul,
  createSparseMatmulT,
  transposedStride,
} from "../src/kernels/sparse_matmul.ts";
import { ShapeError } from "../src/kernels/shapes.ts";
import { csrOfColumns } from "../src/model/csr.ts";
import { matmulRef, sparseMatmulRef } from "../src/reference/kernels.ts";
import { createRng, uniformArray } from "../src/util/rng.ts";
import { assertClose } from "./_close.ts";

// f32 sums of ≤ 1000 products of |x·w| ≤ 1 in another order than the reference: 1e-4 + 1e-4·|ref|.
const ATOL = 1e-4;
const RTOL = 1e-4;

/** [rows, inputs, outputs]: odd sizes, one row, tiles that do not divide, the MLP's widest. */
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 10, 7],
  [9, 33, 5],
  [513, 127, 129],
  [257, 784, 301],
];

const DENSITIES = [0, 0.01, 0.1, 0.5, 1];

Deno.test("sparse_matmul matches the reference and the dense product over shapes and densities", async () => {
  const gpu = await getGpu({ quiet: true });
  let seed = 40;
  for (const [rows, inputs, outputs] of SHAPES) {
    for (const density of DENSITIES) {
      for (const [withBias, relu] of [[false, false], [true, true]]) {
        const rng = createRng(seed++);
        const x = uniformArray(rng, rows * inputs);
        // Whole empty output units (every 3rd) besides the random zeros.
        const w = uniformArray(rng, inputs * outputs).map((v, i) =>
          rng() < density && (i % outputs) % 3 !== 1 ? v : 0
        );
        const bias = withBias ? uniformArray(rng, outputs) : undefined;
        const csr = csrOfColumns(w, inputs, outputs);
        const buffers = {
          x: uploadStorage(gpu, x, "x"),
          indptr: uploadStorage(gpu, Uint32Array.from(csr.indptr), "indptr"),
          indices: uploadStorage(gpu, Uint32Array.from(csr.indices), "indices"),
          values: uploadStorage(gpu, csr.values, "values"),
          y: uploadStorage(gpu, new Float32Array(rows * outputs).fill(7), "y"),
          bias: bias ? uploadStorage(gpu, bias, "bias") : undefined,
        };
        const op = await createSparseMatmul(gpu, {
          rows,
          inputs,
          outputs,
          nnz: csr.values.length,
          relu,
        }, buffers);
        submitOps(gpu, [op]);
        const got = await readF32(gpu, buffers.y, rows * outputs);
        const label = `${rows}x${inputs}x${outputs} density ${density} bias ${withBias}`;
        const want = sparseMatmulRef(x, csr, rows, inputs, outputs, bias, relu);
        assertClose(label, got, want, ATOL, RTOL);
        // The same product as the dense matmul of the masked weights.
        const dense = matmulRef(x, w, { m: rows, n: outputs, k: inputs, relu }, bias);
        assertClose(`${label} vs dense`, got, dense, ATOL, RTOL);
        op.destroy();
        for (const b of Object.values(buffers)) b?.destroy();
      }
    }
  }
});

/** Xᵀ [cols, stride] of X [rows, cols], padding rows with NaN (which must never be read). */
function transpose(x: Float32Array, rows: number, cols: number, stride: number): Float32Array {
  const t = new Float32Array(cols * stride).fill(NaN);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * stride + r] = x[r * cols + c];
  return t;
}

Deno.test("sparse_matmul_t (transposed activations) matches the reference, both output layouts", async () => {
  const gpu = await getGpu({ quiet: true });
  let seed = 90;
  for (const [rows, inputs, outputs] of [...SHAPES, [1030, 20, 3] as [number, number, number]]) {
    for (const density of DENSITIES) {
      for (const outTransposed of [false, true]) {
        const rng = createRng(seed++);
        const stride = transposedStride(rows);
        const x = uniformArray(rng, rows * inputs);
        const w = uniformArray(rng, inputs * outputs).map((v, i) =>
          rng() < density && (i % outputs) % 3 !== 1 ? v : 0
        );
        const bias = uniformArray(rng, outputs);
        const csr = csrOfColumns(w, inputs, outputs);
        const size = outTransposed ? outputs * stride : rows * outputs;
        const buffers = {
          xt: uploadStorage(
            gpu,
            transpose(x, rows, inputs, stride).map((v) => (Number.isNaN(v) ? 0 : v)),
            "xt",
          ),
          indptr: uploadStorage(gpu, Uint32Array.from(csr.indptr), "indptr"),
          indices: uploadStorage(gpu, Uint32Array.from(csr.indices), "indices"),
          values: uploadStorage(gpu, csr.values, "values"),
          y: uploadStorage(gpu, new Float32Array(size).fill(7), "y"),
          bias: uploadStorage(gpu, bias, "bias"),
        };
        const op = await createSparseMatmulT(gpu, {
          rows,
          inputs,
          outputs,
          nnz: csr.values.length,
          relu: true,
          outTransposed,
        }, buffers);
        submitOps(gpu, [op]);
        const got = await readF32(gpu, buffers.y, size);
        const want = sparseMatmulRef(x, csr, rows, inputs, outputs, bias, true);
        const label = `${rows}x${inputs}x${outputs} density ${density} out ${
          outTransposed ? "T" : "N"
        }`;
        if (outTransposed) {
          const wantT = transpose(want, rows, outputs, stride);
          // Padding rows are left as they were (7).
          assertClose(label, got, wantT.map((v) => (Number.isNaN(v) ? 7 : v)), ATOL, RTOL);
        } else assertClose(label, got, want, ATOL, RTOL);
        op.destroy();
        for (const b of Object.values(buffers)) b.destroy();
      }
    }
  }
});

Deno.test("sparse_matmul rejects buffers that do not fit the shape", async () => {
  const gpu = await getGpu({ quiet: true });
  const small = uploadStorage(gpu, new Float32Array(4), "small");
  await assertRejects(
    () =>
      createSparseMatmul(gpu, { rows: 10, inputs: 10, outputs: 4, nnz: 3 }, {
        x: small,
        indptr: small,
        indices: small,
        values: small,
        y: small,
      }),
    ShapeError,
    "sparse_matmul: indptr expected [5]",
  );
  small.destroy();
});
