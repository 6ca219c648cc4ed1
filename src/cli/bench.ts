/**
 * `deno task bench`: median time and GFLOP/s of each matmul variant at the MLP's shapes, and the
 * time of a training epoch; writes results/bench.json.
 *
 * @module
 */

import { runMain } from "./main.ts";
import { numberFlag, parseFlags } from "./train_options.ts";
import { getGpu, type GpuContext } from "../gpu/device.ts";
import { createStorage, uploadStorage } from "../gpu/buffers.ts";
import { createMatmul, type MatmulShape } from "../kernels/matmul.ts";
import { submitOps } from "../gpu/kernel.ts";
import { median } from "../util/stats.ts";
import { createRng, uniformArray } from "../util/rng.ts";
import { ensureWritableDir, writeJsonAtomic } from "../util/files.ts";
import { UsageError } from "../util/errors.ts";
import { initModel, mlpSpec } from "../model/network.ts";
import { destroySplit, uploadSplit } from "../train/splits.ts";
import { trainModel } from "../train/trainer.ts";
import { terminalProgress } from "./progress.ts";
import { benchSparse } from "./bench_sparse.ts";

const USAGE =
  `Usage: deno task bench [--batches 128,10000] [--epoch-samples N] [--no-epoch] [--out FILE]
       deno task bench --sparse [--sparse-rows 1000]

Times matmul forward (A·B), input-gradient (A·Bᵀ) and weight-gradient (Aᵀ·B) products at the
MLP's layer shapes, then one training epoch of the default network on random data.
--sparse instead times the sparse CSR kernel against the dense one over densities at each layer
shape and records where sparse wins (results/sparse_crossover.json, read by --infer auto).`;

/** Layer shapes [in, out] of the default network. */
const LAYERS: [number, number][] = [[784, 1000], [1000, 1000], [1000, 500], [500, 200], [200, 10]];

interface MatmulRow {
  variant: string;
  batch: number;
  in: number;
  out: number;
  m: number;
  n: number;
  k: number;
  median_ms: number;
  gflops: number;
}

async function timeMatmul(
  gpu: GpuContext,
  shape: MatmulShape,
  aLen: number,
  bLen: number,
): Promise<number> {
  const rng = createRng(1);
  const a = uploadStorage(gpu, uniformArray(rng, aLen), "bench.a");
  const b = uploadStorage(gpu, uniformArray(rng, bLen), "bench.b");
  const c = createStorage(gpu, shape.m * shape.n * 4, "bench.c");
  const op = await createMatmul(gpu, shape, { a, b, c });
  // Repeat enough dispatches per submit that the ~10 ms submit/wait cost is amortised.
  const flops = 2 * shape.m * shape.n * shape.k;
  const reps = Math.max(3, Math.min(200, Math.round(4e9 / flops)));
  const times: number[] = [];
  for (let trial = 0; trial < 6; trial++) {
    const t0 = performance.now();
    submitOps(gpu, [op], reps);
    await gpu.device.queue.onSubmittedWorkDone();
    if (trial > 0) times.push((performance.now() - t0) / reps);
  }
  op.destroy();
  a.destroy();
  b.destroy();
  c.destroy();
  return median(times);
}

if (import.meta.main) {
  await runMain("bench", async () => {
    const flags = parseFlags(Deno.args, {
      batches: { type: "string", default: "128,10000" },
      "epoch-samples": { type: "string", default: "50000" },
      "no-epoch": { type: "boolean", default: false },
      out: { type: "string", default: "results/bench.json" },
      sparse: { type: "boolean", default: false },
      "sparse-rows": { type: "string", default: "1000" },
      help: { type: "boolean", short: "h", default: false },
    });
    if (flags.help) {
      console.log(USAGE);
      return;
    }
    // Every flag is checked, and the output folder proven writable, before any benchmarking.
    const batches = flags.batches.split(",").map((s) =>
      numberFlag("batches", s.trim(), { integer: true, min: 1, max: 100000 })
    );
    const samples = numberFlag("epoch-samples", flags["epoch-samples"], {
      integer: true,
      min: 128,
      max: 1_000_000,
    });
    if (flags.out.trim() === "" || flags.out.endsWith("/")) {
      throw new UsageError(`--out must name a file, got "${flags.out}"`);
    }
    await ensureWritableDir(
      flags.out.includes("/") ? flags.out.replace(/\/[^/]*$/, "") || "/" : ".",
    );
    const sparseRows = numberFlag("sparse-rows", flags["sparse-rows"], {
      integer: true,
      min: 1,
      max: 100000,
    });
    const gpu = await getGpu();
    if (flags.sparse) {
      await benchSparse(gpu, LAYERS, sparseRows);
      return;
    }
    const rows: MatmulRow[] = [];
    console.log("variant  batch   in×out      median ms   GFLOP/s");
    for (const batch of batches) {
      for (const [inp, out] of LAYERS) {
        const variants: [string, MatmulShape, number, number][] = [
          ["A·B", { m: batch, n: out, k: inp }, batch * inp, inp * out],
          ["A·Bᵀ", { m: batch, n: inp, k: out, transB: true }, batch * out, inp * out],
          ["Aᵀ·B", { m: inp, n: out, k: batch, transA: true }, batch * inp, batch * out],
        ];
        for (const [variant, shape, aLen, bLen] of variants) {
          const ms = await timeMatmul(gpu, shape, aLen, bLen);
          const gflops = (2 * shape.m * shape.n * shape.k) / (ms * 1e6);
          rows.push({ variant, batch, in: inp, out, ...pick(shape), median_ms: ms, gflops });
          console.log(
            `${variant.padEnd(7)} ${String(batch).padStart(6)}  ${`${inp}×${out}`.padEnd(10)} ${
              ms.toFixed(3).padStart(10)
            } ${gflops.toFixed(1).padStart(9)}`,
          );
        }
      }
    }
    let epoch: Record<string, number> | undefined;
    if (!flags["no-epoch"]) {
      const rng = createRng(2);
      const split = {
        count: samples,
        features: 784,
        pixels: new Uint8Array(samples * 784).map(() => Math.floor(rng() * 256)),
        labels: new Uint8Array(samples).map(() => Math.floor(rng() * 10)),
      };
      const train = uploadSplit(gpu, split, "bench-train");
      const outcome = await trainModel(gpu, {
        model: initModel(mlpSpec(784, [1000, 1000, 500, 200], 10, false), 0),
        train,
        epochs: 1,
        batchSize: 128,
        adam: { lr: 1e-3 },
        seed: 0,
        keepBest: false,
        label: "bench epoch",
        progress: terminalProgress,
      });
      destroySplit(train);
      epoch = { samples, batch_size: 128, seconds: outcome.secondsPerEpoch };
      console.log(
        `training epoch: ${samples} samples at batch 128 in ${
          outcome.secondsPerEpoch.toFixed(1)
        } s`,
      );
    }
    await writeJsonAtomic(flags.out, {
      adapter: gpu.adapter,
      backend: gpu.backend,
      software: gpu.software,
      date: new Date().toISOString(),
      matmul: rows,
      epoch,
    });
    console.log(`wrote ${flags.out}`);
  });
}

function pick(s: MatmulShape) {
  return { m: s.m, n: s.n, k: s.k };
}
