/**
 * `deno task eval PATH`: evaluates an exported model (model.safetensors, model_compact.safetensors
 * or model_csr.safetensors) on its dataset's test set and prints accuracy, loss and time.
 *
 * @module
 */

import { runMain } from "./main.ts";
import { UsageError } from "../util/errors.ts";
import { exists, readTextOrFail } from "../util/files.ts";
import { median } from "../util/stats.ts";
import { numberFlag, parseCommandLine } from "./train_options.ts";
import { getGpu } from "../gpu/device.ts";
import { KERNEL_FLAG, parseKernel, setupKernels } from "./kernel_option.ts";
import { type DatasetName, DATASETS, loadDataset } from "../data/datasets.ts";
import { sizeOf } from "../model/tensor.ts";
import { loadExported } from "../export/formats.ts";
import { compressedSizes } from "../sweep/measure.ts";
import { GpuNetwork } from "../train/gpu_network.ts";
import { choosePaths, parseInferMode, readCrossovers, readNmSpeeds } from "../train/infer_paths.ts";
import { destroySplit, uploadSplit } from "../train/splits.ts";

const USAGE = `Usage: deno task eval PATH [--dataset mnist|fashion] [--data-dir DIR] [--repeats 3]
                      [--infer auto|dense|sparse|nm] [--kernel auto|tiled|uniform|workgroup]

Evaluates an exported model (any of model.safetensors, model_compact.safetensors,
model_csr.safetensors, model_q.safetensors, model_int8.safetensors, model_f16.safetensors,
model.dcz) on the test set; int8 and f16 weights run on the kernels that read them packed. The dataset is taken from meta.json beside PATH unless
--dataset or --data-dir says otherwise. --infer nm runs every N:M-sparse dense layer (--method nm)
on the N:M kernel; auto picks, per layer, the kernel measured fastest by deno task bench --sparse
and deno task bench --nm on this adapter.`;

if (import.meta.main) {
  await runMain("eval", async () => {
    const { values: flags, positionals: args } = parseCommandLine(Deno.args, {
      dataset: { type: "string" },
      "data-dir": { type: "string" },
      repeats: { type: "string", default: "3" },
      infer: { type: "string", default: "auto" },
      ...KERNEL_FLAG,
      help: { type: "boolean", short: "h", default: false },
    }, true);
    if (flags.help) {
      console.log(USAGE);
      return;
    }
    if (args.length !== 1) throw new UsageError("eval needs exactly one PATH (see --help)");
    const path = args[0];
    const repeats = numberFlag("repeats", flags.repeats, { integer: true, min: 1 });
    const infer = parseInferMode(String(flags.infer));
    const kernel = parseKernel(String(flags.kernel));
    const metaPath = path.replace(/[^/]*$/, "meta.json");
    let dataset = flags.dataset;
    if (dataset === undefined && flags["data-dir"] === undefined && await exists(metaPath)) {
      dataset = String(JSON.parse(await readTextOrFail(metaPath)).dataset ?? "mnist");
      if (dataset === "custom") {
        throw new UsageError(`${path} was trained on a --data-dir; pass --data-dir DIR`);
      }
    }
    dataset ??= "mnist";
    if (!(DATASETS as readonly string[]).includes(dataset)) {
      throw new UsageError(`--dataset must be one of ${DATASETS.join(", ")}, got "${dataset}"`);
    }
    const { model, format, stored } = await loadExported(path);
    const ptq = stored.ptq;
    const data = await loadDataset({
      dataset: dataset as DatasetName,
      dataDir: flags["data-dir"],
      numValid: 0,
      seed: 0,
      limitTrain: 1,
    });
    if (data.test.features !== sizeOf(model.spec.input)) {
      throw new UsageError(
        `${path} takes ${sizeOf(model.spec.input)} inputs, the test set has ${data.test.features}`,
      );
    }
    const gpu = await getGpu();
    await setupKernels(gpu, kernel, { outputDir: "results" });
    const test = uploadSplit(gpu, data.test, "test");
    // Post-training-quantised weights are read packed by their own kernel, never sparse.
    const paths = ptq ? [] : choosePaths(
      model,
      infer,
      readCrossovers(gpu.adapter),
      gpu.software,
      readNmSpeeds(gpu.adapter),
    );
    if (ptq) {
      const kind = [...ptq.values()][0]?.format;
      console.error(`eval: ${kind} weights read by the quantised kernels`);
    }
    for (const p of paths) {
      const pattern = p.nm ? `, ${p.nm.n}:${p.nm.m}` : "";
      console.error(
        `eval: ${p.name} ${(p.density * 100).toFixed(1)}% dense${pattern} → ${p.path} ` +
          `kernel (crossover ${(p.crossover * 100).toFixed(0)}%)`,
      );
    }
    const sparse = new Set(paths.filter((p) => p.path === "sparse").map((p) => p.name));
    const nm = new Map(paths.flatMap((p) => (p.path === "nm" && p.nm ? [[p.name, p.nm]] : [])));
    const net = await GpuNetwork.create(gpu, model, {
      batch: 1,
      evalBatch: 1000,
      adam: { lr: 0 },
      sparse,
      nm,
      ptq,
    });
    try {
      const result = await net.evaluate(test);
      const times: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const t0 = performance.now();
        await net.evaluate(test);
        times.push(performance.now() - t0);
      }
      const sizes = compressedSizes(model, stored);
      console.log(
        `eval: ${path} (${format}): test accuracy ${(result.accuracy * 100).toFixed(2)}%, loss ${
          result.loss.toFixed(4)
        }, ${median(times).toFixed(1)} ms per pass over ${test.count} images`,
      );
      console.log(
        `eval: bytes dense f32 ${sizes.bytes_dense}, CSR ${sizes.bytes_csr}, fixed-width ` +
          `${sizes.bytes_q}, Huffman (model.dcz) ${sizes.bytes_huffman}: ` +
          `${sizes.compression_dc.toFixed(1)}× smaller than dense`,
      );
    } finally {
      net.destroy();
      destroySplit(test);
    }
  });
}
