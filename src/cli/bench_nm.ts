/**
 * `deno task bench --nm N:M`: for each dense layer shape of the default network and each pattern,
 * times the three kernels an N:M-pruned layer can run on, on evaluation batches: the dense matmul
 * (the variant the tuner chose), the sparse CSR kernel (shaders/sparse_matmul_t.wgsl) and the N:M
 * kernel (shaders/matmul_nm.wgsl), each with the ReLU epilogue of a hidden layer. Records on this
 * adapter which one is fastest per shape and pattern: the table `--infer auto` reads
 * (`nm_speed.json` beside `--out`, results/nm_speed.json by default).
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { createStorage, uploadStorage, writeStorage } from "../gpu/buffers.ts";
import type { Op } from "../gpu/kernel.ts";
import { medianOpMs } from "../gpu/timing.ts";
import { createMatmul } from "../kernels/matmul.ts";
import { createNmMatmul, NM_INPUT_USAGE, nmInputBytes } from "../kernels/matmul_nm.ts";
import { type NmPattern, packNm } from "../kernels/nm_pack.ts";
import { createSparseMatmulT, transposedStride } from "../kernels/sparse_matmul.ts";
import { csrOfColumns, uploadCsr } from "../model/csr.ts";
import { nmMask } from "../prune/nm.ts";
import { fastestPath, type InferPath, MARGIN, type NmSpeedTable } from "../train/infer_paths.ts";
import { existsSync, writeJsonAtomic } from "../util/files.ts";
import { createRng, uniformArray } from "../util/rng.ts";
import { median } from "../util/stats.ts";

/** Rounds of the three kernels timed in turn; each kernel's median over them is kept. */
const ROUNDS = 3;

/** Median ms per batch of one layer shape on the dense, CSR and N:M kernels. */
async function timeShape(
  gpu: GpuContext,
  rng: () => number,
  rows: number,
  inputs: number,
  outputs: number,
  pattern: NmPattern,
): Promise<Record<InferPath, number>> {
  const stride = transposedStride(rows);
  const xData = uniformArray(rng, rows * inputs);
  const w = uniformArray(rng, inputs * outputs);
  const mask = nmMask(w, [inputs, outputs], pattern);
  const pruned = w.map((v, i) => v * mask[i]);
  const packed = packNm(pruned, inputs, outputs, pattern);
  const csr = csrOfColumns(pruned, inputs, outputs);
  // X row-major, in a buffer the N:M kernel can window, and transposed for the CSR kernel.
  const x = createStorage(gpu, nmInputBytes(rows, inputs), "x", NM_INPUT_USAGE);
  writeStorage(gpu, x, xData);
  const buffers = [
    x,
    uploadStorage(gpu, uniformArray(rng, inputs * stride), "xt"),
    createStorage(gpu, Math.max(rows, stride) * outputs * 4, "y"),
    uploadStorage(gpu, pruned, "w"),
    uploadStorage(gpu, packed.values, "nm_values"),
    uploadStorage(gpu, packed.offsets, "nm_offsets"),
  ];
  const [, xt, y, wBuf, nmValues, nmOffsets] = buffers;
  const gpuCsr = uploadCsr(gpu, csr, "w");
  buffers.push(gpuCsr.indptr, gpuCsr.indices, gpuCsr.values);
  const ops: Record<InferPath, Op> = {
    dense: await createMatmul(gpu, { m: rows, n: outputs, k: inputs, relu: true }, {
      a: x,
      b: wBuf,
      c: y,
    }),
    sparse: await createSparseMatmulT(gpu, {
      rows,
      inputs,
      outputs,
      nnz: gpuCsr.nnz,
      relu: true,
      outTransposed: true,
    }, { xt, y, ...gpuCsr }),
    nm: await createNmMatmul(gpu, { rows, inputs, outputs, pattern, relu: true }, {
      x,
      values: nmValues,
      offsets: nmOffsets,
      y,
    }),
  };
  const times: Record<InferPath, number[]> = { dense: [], sparse: [], nm: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of ["dense", "sparse", "nm"] as const) {
      times[name].push(await medianOpMs(gpu, ops[name]));
    }
  }
  for (const op of Object.values(ops)) op.destroy();
  for (const b of buffers) b.destroy();
  const ms = { dense: median(times.dense), sparse: median(times.sparse), nm: median(times.nm) };
  return ms;
}

/**
 * Times every layer shape under every pattern for `rows` samples, prints the comparison and the
 * path chosen for each, and stores the rows for this adapter in `path` (rows of other adapters,
 * and of this adapter's other patterns, are kept).
 */
export async function benchNm(
  gpu: GpuContext,
  layers: [number, number][],
  rows: number,
  patterns: NmPattern[],
  path: string,
): Promise<NmSpeedTable> {
  const rng = createRng(4);
  const table: NmSpeedTable = { adapter: gpu.adapter, layers: [] };
  console.log(
    `N:M vs dense vs sparse CSR, ${rows} rows per batch (ms per batch, median of ${ROUNDS} ` +
      "rounds; speedup = best other / N:M)",
  );
  console.log("in×out       pattern   dense ms  sparse ms    N:M ms  speedup  auto");
  for (const pattern of patterns) {
    for (const [inputs, outputs] of layers) {
      const ms = await timeShape(gpu, rng, rows, inputs, outputs, pattern);
      const chosen = fastestPath(ms);
      table.layers.push({
        inputs,
        outputs,
        n: pattern.n,
        m: pattern.m,
        dense_ms: ms.dense,
        sparse_ms: ms.sparse,
        nm_ms: ms.nm,
        path: chosen,
      });
      console.log(
        `${`${inputs}×${outputs}`.padEnd(12)} ${`${pattern.n}:${pattern.m}`.padStart(7)} ${
          ms.dense.toFixed(2).padStart(10)
        } ${ms.sparse.toFixed(2).padStart(10)} ${ms.nm.toFixed(2).padStart(9)} ${
          (Math.min(ms.dense, ms.sparse) / ms.nm).toFixed(2).padStart(7)
        }×  ${chosen}`,
      );
    }
  }
  const measured = new Set(patterns.map((p) => `${p.n}:${p.m}`));
  const tables: NmSpeedTable[] = existsSync(path)
    ? JSON.parse(Deno.readTextFileSync(path)) as NmSpeedTable[]
    : [];
  const previous = tables.find((t) => t.adapter === gpu.adapter);
  // This adapter's rows of patterns not timed now stay.
  table.layers.unshift(
    ...(previous?.layers ?? []).filter((l) => !measured.has(`${l.n}:${l.m}`)),
  );
  await writeJsonAtomic(path, [...tables.filter((t) => t.adapter !== gpu.adapter), table]);
  console.log(
    `wrote ${path} (used by --infer auto on "${gpu.adapter}": a path other than dense only ` +
      `where it was at least ${MARGIN}× faster than dense)`,
  );
  return table;
}
