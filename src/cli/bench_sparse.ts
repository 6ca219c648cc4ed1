/**
 * `deno task bench --sparse`: for each dense layer shape of the default network, times the dense
 * matmul against the sparse CSR kernel (shaders/sparse_matmul_t.wgsl) over densities, on
 * evaluation batches, and records on this adapter the crossover density below which sparse is
 * faster — the table `--infer auto` chooses paths by (results/sparse_crossover.json).
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createStorage, uploadStorage } from "../gpu/buffers.ts";
import { medianOpMs } from "../gpu/timing.ts";
import { createMatmul } from "../kernels/matmul.ts";
import { createSparseMatmulT, transposedStride } from "../kernels/sparse_matmul.ts";
import { csrOfColumns, uploadCsr } from "../model/csr.ts";
import { CROSSOVER_FILE, type CrossoverTable, MARGIN } from "../train/infer_paths.ts";
import { existsSync, writeJsonAtomic } from "../util/files.ts";
import { createRng, uniformArray } from "../util/rng.ts";

/**
 * Densities timed, high to low. An unpruned layer (density 1) stays dense: compressing it gains
 * little even where the dense kernel is weak (narrow layers) and costs the sweep its shared dense
 * timing.
 */
const DENSITIES = [0.75, 0.5, 0.35, 0.25, 0.15, 0.1, 0.05, 0.02, 0.01];

/** One row of the comparison. */
export interface SparseBenchRow {
  /** Layer inputs. */
  inputs: number;
  /** Layer outputs. */
  outputs: number;
  /** Weight density. */
  density: number;
  /** Dense matmul, ms per batch. */
  dense_ms: number;
  /** Sparse kernel, ms per batch. */
  sparse_ms: number;
}

/**
 * Times every layer shape at every density for `rows` samples; prints the comparison and the
 * crossover chosen for each shape, and stores the table for this adapter.
 */
export async function benchSparse(
  gpu: GpuContext,
  layers: [number, number][],
  rows: number,
): Promise<{ rows: SparseBenchRow[]; table: CrossoverTable }> {
  const rng = createRng(3);
  const out: SparseBenchRow[] = [];
  const table: CrossoverTable = { adapter: gpu.adapter, layers: [] };
  console.log(`sparse vs dense, ${rows} rows per batch (ms per batch; speedup = dense / sparse)`);
  console.log("in×out       density   dense ms  sparse ms  speedup");
  for (const [inputs, outputs] of layers) {
    const stride = transposedStride(rows);
    const x = uploadStorage(gpu, uniformArray(rng, rows * inputs), "x");
    const xt = uploadStorage(gpu, uniformArray(rng, inputs * stride), "xt");
    const y = createStorage(gpu, Math.max(rows, stride) * outputs * 4, "y");
    const w = uniformArray(rng, inputs * outputs);
    const wBuf = uploadStorage(gpu, w, "w");
    const dense = await createMatmul(gpu, { m: rows, n: outputs, k: inputs, relu: true }, {
      a: x,
      b: wBuf,
      c: y,
    });
    const denseMs = await medianOpMs(gpu, dense);
    dense.destroy();
    let crossover = 0;
    for (const density of DENSITIES) {
      const csr = csrOfColumns(w.map((v) => (rng() < density ? v : 0)), inputs, outputs);
      const buffers = { xt, y, ...uploadCsr(gpu, csr, "w") };
      const op = await createSparseMatmulT(gpu, {
        rows,
        inputs,
        outputs,
        nnz: csr.values.length,
        relu: true,
        outTransposed: true,
      }, buffers);
      const sparseMs = await medianOpMs(gpu, op);
      op.destroy();
      [buffers.indptr, buffers.indices, buffers.values].forEach((b) => b.destroy());
      out.push({ inputs, outputs, density, dense_ms: denseMs, sparse_ms: sparseMs });
      if (denseMs / sparseMs >= MARGIN && crossover === 0) crossover = density;
      console.log(
        `${`${inputs}×${outputs}`.padEnd(12)} ${(density * 100).toFixed(0).padStart(5)}%  ${
          denseMs.toFixed(2).padStart(9)
        } ${sparseMs.toFixed(2).padStart(10)} ${(denseMs / sparseMs).toFixed(2).padStart(7)}×`,
      );
    }
    [x, xt, y, wBuf].forEach((b) => b.destroy());
    table.layers.push({ inputs, outputs, density: crossover });
    console.log(
      `  → ${inputs}×${outputs}: sparse up to ${(crossover * 100).toFixed(0)}% density ` +
        `(the highest density timed at which it was at least ${MARGIN}× faster)`,
    );
  }
  const tables: CrossoverTable[] = existsSync(CROSSOVER_FILE)
    ? (JSON.parse(Deno.readTextFileSync(CROSSOVER_FILE)) as CrossoverTable[]).filter((t) =>
      t.adapter !== gpu.adapter
    )
    : [];
  await writeJsonAtomic(CROSSOVER_FILE, [...tables, table]);
  console.log(`wrote ${CROSSOVER_FILE} (used by --infer auto on "${gpu.adapter}")`);
  return { rows: out, table };
}
