/**
 * `deno task bench`: median time of every matmul variant at the MLP's shapes (and the tuner's
 * choice), the dense forward pass over 10000 samples, the dispatch overhead and the time of a
 * training epoch, optionally beside PyTorch on the same cores; writes results/bench.json.
 *
 * @module
 */

import { runMain } from "./main.ts";
import { numberFlag, parseFlags } from "./flags.ts";
import { getGpu, type GpuContext } from "../gpu/device.ts";
import { createStorage } from "../gpu/buffers.ts";
import {
  chooseMatmulVariant,
  MATMUL_VARIANTS,
  type MatmulShape,
  shapeKey,
} from "../kernels/matmul.ts";
import { installMatmulTuning, saveTuning, tuneShape } from "../kernels/matmul_tuner.ts";
import { createRelu } from "../kernels/elementwise.ts";
import { median } from "../util/stats.ts";
import { createRng } from "../util/rng.ts";
import { createInferenceNetwork } from "../train/inference_network.ts";
import { KERNEL_FLAG, parseKernel } from "./kernel_option.ts";
import { TUNING_FILE } from "../experiment/kernels.ts";
import { ensureWritableDir, folderOf, writeJsonAtomic } from "../util/files.ts";
import { medianOpMs } from "../gpu/timing.ts";
import { UsageError } from "../util/errors.ts";
import { initModel, mlpSpec } from "../model/network.ts";
import { type ModelName, modelSpec, parseModelName } from "../model/zoo.ts";
import { destroySplit, uploadSplit } from "../train/splits.ts";
import { trainModel } from "../train/trainer.ts";
import { terminalProgress } from "./progress.ts";
import { benchSparse } from "./bench_sparse.ts";
import { benchNm } from "./bench_nm.ts";
import { parseNm } from "../prune/nm.ts";

const USAGE = `Usage: deno task bench [--batches 128,1000] [--epoch-samples N] [--no-epoch]
                       [--kernel auto|tiled|uniform|workgroup] [--vs-torch [--torch-device cpu|cuda]]
                       [--out FILE]
                       [--model mlp|lenet-300-100|lenet5|lenet5-caffe|cnn-small]
       deno task bench --sparse [--sparse-rows 1000]
       deno task bench --nm N:M[,N:M...] [--sparse-rows 1000] [--out FILE]

Times every matmul variant on the forward (A·B), input-gradient (A·Bᵀ) and weight-gradient (Aᵀ·B)
products at the MLP's layer shapes and batch sizes, plus the 10000×784 · 784×1000 product, and
records which one the tuner picks for each (results/kernel_tuning.json, read by train and sweep).
Then the dense forward pass over 10000 samples, the dispatch overhead of one training step, and
one training epoch of --model (default the MLP) on random data, with the chosen kernels (--kernel
forces one). --vs-torch runs src/reference/pytorch_bench.py on the same cores (--torch-device cuda:
on the GPU, eager) and prints both side by side (needs python3 with torch: apt-get install
python3-torch).
--sparse instead times the sparse CSR kernel against the dense one over densities at each layer
shape and records where sparse wins (results/sparse_crossover.json, read by --infer auto).
--nm instead times the dense, sparse CSR and N:M kernels on weights pruned to each N:M pattern at
each layer shape and records the fastest (nm_speed.json beside --out, read by eval --infer auto).`;

/** Layer shapes [in, out] of the default network. */
const LAYERS: [number, number][] = [[784, 1000], [1000, 1000], [1000, 500], [500, 200], [200, 10]];

/** Hidden widths of the default network, from LAYERS. */
const HIDDEN = LAYERS.slice(0, -1).map(([, out]) => out);

/** One timed product: every variant's median ms and the tuner's choice. */
interface MatmulRow {
  form: string;
  m: number;
  n: number;
  k: number;
  variants: Record<string, number>;
  chosen: string;
  gflops: number;
}

/** What `src/reference/pytorch_bench.py` prints. */
interface TorchBench {
  torch: string;
  device: string;
  threads: number;
  matmul_ms: number;
  matmul_gflops: number;
  forward_ms: number;
  epoch_s: number | null;
}

/** Products timed: the three forms at every layer and batch, then the 10k forward product. */
function benchShapes(batches: number[]): [string, MatmulShape][] {
  const shapes: [string, MatmulShape][] = [];
  for (const batch of batches) {
    for (const [inp, out] of LAYERS) {
      shapes.push(["A·B", { m: batch, n: out, k: inp }]);
      shapes.push(["A·Bᵀ", { m: batch, n: inp, k: out, transB: true }]);
      shapes.push(["Aᵀ·B", { m: inp, n: out, k: batch, transA: true }]);
    }
  }
  shapes.push(["A·B", { m: 10000, n: 1000, k: 784 }]);
  return shapes;
}

/** Median ms of the dense forward pass (accuracy and loss included) over `count` random samples. */
async function timeForward(gpu: GpuContext, count: number): Promise<number> {
  const rng = createRng(3);
  const split = uploadSplit(gpu, {
    count,
    features: 784,
    pixels: new Uint8Array(count * 784).map(() => Math.floor(rng() * 256)),
    labels: new Uint8Array(count).map(() => Math.floor(rng() * 10)),
  }, "bench-forward");
  const model = initModel(mlpSpec(784, HIDDEN, 10, false), 0);
  const net = await createInferenceNetwork(gpu, model);
  try {
    await net.evaluate(split); // warm-up: pipelines compiled, caches filled
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await net.evaluate(split);
      times.push(performance.now() - t0);
    }
    return median(times);
  } finally {
    net.destroy();
    destroySplit(split);
  }
}

/** Microseconds one tiny dispatch costs inside a long submit (the per-dispatch overhead). */
async function dispatchOverheadUs(gpu: GpuContext): Promise<number> {
  const x = createStorage(gpu, 16, "bench.tiny");
  const op = await createRelu(gpu, 4, { x });
  try {
    return (await medianOpMs(gpu, op)) * 1000;
  } finally {
    op.destroy();
    x.destroy();
  }
}

/** Runs the PyTorch side of the comparison, or says why it cannot. */
async function runTorchBench(
  samples: number,
  epoch: boolean,
  model: ModelName,
  device: "cpu" | "cuda",
): Promise<TorchBench | undefined> {
  const script = new URL("../reference/pytorch_bench.py", import.meta.url).pathname;
  const threads = String(navigator.hardwareConcurrency);
  const args = [script, "--samples", String(samples), "--threads", threads, "--model", model];
  args.push("--device", device);
  if (!epoch) args.push("--no-epoch");
  // The first python3 that imports torch: the one on PATH, then Debian's (python3-torch).
  for (const python of ["python3", "/usr/bin/python3"]) {
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(python, { args, stdout: "piped", stderr: "piped" }).output();
    } catch {
      continue; // no such interpreter
    }
    if (!out.success) continue; // no torch there
    const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
    console.log(`pytorch: ${python} ${args.join(" ")}`);
    return JSON.parse(text) as TorchBench;
  }
  console.log(
    "pytorch: no python3 with torch found (python3 -c 'import torch' fails); " +
      "apt-get install python3-torch libopenblas0-pthread for the side-by-side figures",
  );
  return undefined;
}

function ratio(ours: number, theirs: number): string {
  return `${(ours / theirs).toFixed(2)}×`;
}

if (import.meta.main) {
  await runMain("bench", async () => {
    const flags = parseFlags(Deno.args, {
      batches: { type: "string", default: "128,1000" },
      "epoch-samples": { type: "string", default: "50000" },
      "no-epoch": { type: "boolean", default: false },
      out: { type: "string", default: "results/bench.json" },
      sparse: { type: "boolean", default: false },
      nm: { type: "string" },
      "vs-torch": { type: "boolean", default: false },
      "torch-device": { type: "string", default: "cpu" },
      ...KERNEL_FLAG,
      "sparse-rows": { type: "string", default: "1000" },
      model: { type: "string", default: "mlp" },
      help: { type: "boolean", short: "h", default: false },
    });
    if (flags.help) {
      console.log(USAGE);
      return;
    }
    // Every flag is checked, and the output folder proven writable, before any benchmarking.
    const torchDevice = flags["torch-device"];
    if (torchDevice !== "cpu" && torchDevice !== "cuda") {
      throw new UsageError(`--torch-device must be cpu or cuda, got "${torchDevice}"`);
    }
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
    const outDir = folderOf(flags.out);
    await ensureWritableDir(outDir);
    const sparseRows = numberFlag("sparse-rows", flags["sparse-rows"], {
      integer: true,
      min: 1,
      max: 100000,
    });
    const nmPatterns = flags.nm === undefined
      ? undefined
      : flags.nm.split(",").map((s) => parseNm(s.trim()));
    if (nmPatterns && flags.sparse) throw new UsageError("--sparse and --nm are separate runs");
    const modelName = parseModelName(flags.model);
    const kernel = parseKernel(flags.kernel);
    const gpu = await getGpu();
    // The sparse comparison runs against the dense kernel training and sweeps would use.
    const choices = await installMatmulTuning(gpu, {
      kernel,
      path: `${outDir}/${TUNING_FILE}`,
      log: flags.sparse || nmPatterns ? undefined : () => {},
    });
    if (flags.sparse) {
      await benchSparse(gpu, LAYERS, sparseRows);
      return;
    }
    if (nmPatterns) {
      await benchNm(gpu, LAYERS, sparseRows, nmPatterns, `${outDir}/nm_speed.json`);
      return;
    }
    const rows: MatmulRow[] = [];
    const names = MATMUL_VARIANTS.map((v) => v.name);
    console.log(
      `form    ${"m×n×k".padEnd(16)} ${names.map((n) => `${n} ms`.padStart(13)).join("")}  chosen` +
        "    GFLOP/s",
    );
    for (const [form, shape] of benchShapes(batches)) {
      const entry = await tuneShape(gpu, shape);
      // Under --kernel auto the measured winner is what training will use: cache it.
      if (kernel === "auto") choices.set(shapeKey(shape), entry);
      const chosen = kernel === "auto"
        ? entry.variant
        : (await chooseMatmulVariant(gpu, shape)).name;
      const ms = entry.ms[chosen];
      const gflops = (2 * shape.m * shape.n * shape.k) / (ms * 1e6);
      rows.push({ form, m: shape.m, n: shape.n, k: shape.k, variants: entry.ms, chosen, gflops });
      console.log(
        `${form.padEnd(7)} ${`${shape.m}×${shape.n}×${shape.k}`.padEnd(16)} ${
          names.map((n) => (entry.ms[n] === undefined ? "—" : entry.ms[n].toFixed(2)).padStart(13))
            .join("")
        }  ${chosen.padEnd(9)} ${gflops.toFixed(1).padStart(7)}`,
      );
    }
    if (kernel === "auto") await saveTuning(gpu, `${outDir}/${TUNING_FILE}`, choices);
    const forwardMs = await timeForward(gpu, 10000);
    console.log(`dense forward over 10000 samples (1000-row chunks): ${forwardMs.toFixed(0)} ms`);
    const overheadUs = await dispatchOverheadUs(gpu);
    let epoch:
      | { model: string; seconds: number } & Record<string, number | string>
      | undefined;
    if (!flags["no-epoch"]) {
      const rng = createRng(2);
      const split = {
        count: samples,
        features: 784,
        pixels: new Uint8Array(samples * 784).map(() => Math.floor(rng() * 256)),
        labels: new Uint8Array(samples).map(() => Math.floor(rng() * 10)),
      };
      const train = uploadSplit(gpu, split, "bench-train");
      let dispatches = 0;
      const outcome = await trainModel(gpu, {
        model: initModel(
          modelSpec(modelName, { features: 784, classes: 10, hidden: HIDDEN, bias: false }),
          0,
        ),
        train,
        epochs: 1,
        batchSize: 128,
        adam: { lr: 1e-3 },
        seed: 0,
        keepBest: false,
        label: "bench epoch",
        progress: terminalProgress,
        onNetwork: (net) => dispatches = net.dispatchesPerStep,
      });
      destroySplit(train);
      const steps = Math.floor(samples / 128);
      epoch = {
        model: modelName,
        samples,
        batch_size: 128,
        seconds: outcome.secondsPerEpoch,
        dispatches_per_step: dispatches,
        dispatch_overhead_ms_per_step: (dispatches * overheadUs) / 1000,
      };
      console.log(
        `training epoch (${modelName}): ${samples} samples at batch 128 in ${
          outcome.secondsPerEpoch.toFixed(1)
        } s (${(outcome.secondsPerEpoch * 1000 / steps).toFixed(1)} ms per step)`,
      );
      console.log(
        `dispatch overhead: ${overheadUs.toFixed(1)} µs per dispatch × ${dispatches} dispatches ` +
          `= ${((dispatches * overheadUs) / 1000).toFixed(2)} ms per step`,
      );
    } else {
      console.log(`dispatch overhead: ${overheadUs.toFixed(1)} µs per dispatch`);
    }
    let torch: TorchBench | undefined;
    const product = rows[rows.length - 1];
    if (flags["vs-torch"]) {
      torch = await runTorchBench(samples, !flags["no-epoch"], modelName, torchDevice);
      if (torch) {
        console.log(
          `side by side (wgprune / PyTorch ${torch.torch} on ${torch.device}, ` +
            `${torch.threads} threads):`,
        );
        console.log(
          `  10000×784·784×1000 product: ${product.gflops.toFixed(1)} vs ${
            torch.matmul_gflops.toFixed(1)
          } GFLOP/s (${ratio(torch.matmul_gflops, product.gflops)} slower)`,
        );
        console.log(
          `  dense forward, 10000 samples: ${forwardMs.toFixed(0)} vs ${
            torch.forward_ms.toFixed(0)
          } ms (${ratio(forwardMs, torch.forward_ms)})`,
        );
        if (epoch && torch.epoch_s !== null) {
          console.log(
            `  training epoch (${modelName}): ${epoch.seconds.toFixed(1)} vs ${
              torch.epoch_s.toFixed(1)
            } s (${ratio(epoch.seconds, torch.epoch_s)})`,
          );
        }
      }
    }
    await writeJsonAtomic(flags.out, {
      adapter: gpu.adapter,
      backend: gpu.backend,
      software: gpu.software,
      date: new Date().toISOString(),
      kernel,
      matmul: rows,
      forward_10k_ms: forwardMs,
      dispatch_overhead_us: overheadUs,
      epoch,
      torch,
    });
    console.log(`wrote ${flags.out}`);
  });
}
