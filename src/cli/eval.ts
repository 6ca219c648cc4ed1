/**
 * `deno task eval PATH`: evaluates an exported model file (any format `deno task export`
 * writes), or every model file of an export folder, on its dataset's test set and prints
 * accuracy, loss, time and size.
 *
 * @module
 */

import { runMain } from "./main.ts";
import { UsageError } from "../util/errors.ts";
import { stringify } from "csv-stringify/sync";
import { exists, fileSize, isFolder, writeFileAtomic } from "../util/files.ts";
import { median } from "../util/stats.ts";
import { checkFolder, checkPath, numberFlag, parseCommandLine } from "./flags.ts";
import { getGpu, type GpuContext } from "../gpu/device.ts";
import { KERNEL_FLAG, parseKernel } from "./kernel_option.ts";
import { setupKernels } from "../experiment/kernels.ts";
import { type DatasetName, DATASETS, loadDataset, type Split } from "../data/datasets.ts";
import { type Predictions, predictSplit } from "../train/predict.ts";
import { sizeOf } from "../model/tensor.ts";
import { loadExported, MODEL_FILES } from "../export/formats.ts";
import { META_FILE, readExportMeta } from "../export/meta.ts";
import { compressedSizes } from "../sweep/measure.ts";
import {
  createInferenceNetwork,
  pathRepresentations,
  ptqRepresentations,
} from "../train/inference_network.ts";
import {
  choosePaths,
  type InferMode,
  parseInferMode,
  readCrossovers,
  readNmSpeeds,
} from "../train/infer_paths.ts";
import { destroySplit, type GpuSplit, uploadSplit } from "../train/splits.ts";
import { ensureDatasetInstalled } from "../experiment/system.ts";

const USAGE = `Usage: deno task eval PATH [--dataset mnist|fashion] [--data-dir DIR] [--repeats 3]
                      [--infer auto|dense|sparse|nm] [--kernel auto|tiled|uniform|workgroup]
                      [--predictions FILE.csv]

Evaluates an exported model on the test set. PATH is one file (model.safetensors,
model_compact.safetensors, model_csr.safetensors, model_q.safetensors, model_int8.safetensors,
model_f16.safetensors, model.dcz, model.onnx or model_compact.onnx, or any sequential ONNX
file of the operators src/export/README.md lists) or the export folder that deno task export printed, whose
model files are evaluated one by one (a line each: accuracy, loss, time, bytes on disk). int8 and
f16 weights run on the kernels that read them packed. The dataset is taken from meta.json beside
PATH (in it, for a folder) unless --dataset or --data-dir says otherwise. --infer nm runs every
N:M-sparse dense layer (--method nm) on the N:M kernel; auto picks, per layer, the kernel
measured fastest by deno task bench --sparse and deno task bench --nm on this adapter.
--predictions FILE.csv (one model file) writes each test image's prediction: a CSV with the
header image,label,predicted,margin (margin: largest minus second-largest logit).`;

/** Writes each image's label, prediction and margin as CSV (header image,label,predicted,margin). */
async function writePredictions(path: string, p: Predictions, split: Split): Promise<void> {
  const rows = Array.from(p.predicted, (c, i) => [i, split.labels[i], c, p.margin[i]]);
  await writeFileAtomic(
    path,
    stringify(rows, { header: true, columns: ["image", "label", "predicted", "margin"] }),
  );
  console.error(`eval: wrote ${p.predicted.length} predictions to ${path}`);
}

/** The model files to evaluate and the meta.json that describes them. */
async function filesOf(path: string): Promise<{ files: string[]; metaPath: string }> {
  // A missing file is reported by the reader, naming it.
  if (!(await isFolder(path))) {
    return { files: [path], metaPath: path.replace(/[^/]*$/, META_FILE) };
  }
  const dir = checkFolder("PATH", path);
  const files: string[] = [];
  for (const name of MODEL_FILES) if (await exists(`${dir}/${name}`)) files.push(`${dir}/${name}`);
  if (files.length === 0) {
    throw new UsageError(
      `${dir}: holds none of ${MODEL_FILES.join(", ")}; give an export folder or one of its files`,
    );
  }
  return { files, metaPath: `${dir}/${META_FILE}` };
}

/** The dataset to evaluate on: the flags', else meta.json's, else mnist. */
async function datasetOf(
  flags: { dataset?: string; "data-dir"?: string },
  metaPath: string,
  path: string,
): Promise<DatasetName> {
  let dataset = flags.dataset;
  if (dataset === undefined && flags["data-dir"] === undefined && await exists(metaPath)) {
    dataset = (await readExportMeta(metaPath)).dataset;
    if (dataset === "custom") {
      throw new UsageError(`${path} was trained on a --data-dir; pass --data-dir DIR`);
    }
  }
  dataset ??= "mnist";
  if (!(DATASETS as readonly string[]).includes(dataset)) {
    throw new UsageError(`--dataset must be one of ${DATASETS.join(", ")}, got "${dataset}"`);
  }
  return dataset as DatasetName;
}

/** How a file is evaluated. */
interface EvalSettings {
  /** Timed passes after the first (median reported). */
  repeats: number;
  /** Inference path. */
  infer: InferMode;
  /** Print the per-layer path choice and the size breakdown (one file given). */
  detailed: boolean;
  /** Write each test image's prediction here (CSV). */
  predictions?: string;
  /** The test split on the CPU (for the predictions). */
  testImages: Split;
}

/** An exported file, loaded. */
type LoadedFile = Awaited<ReturnType<typeof loadExported>> & { path: string };

/** Evaluates one exported file on the uploaded test split and prints its line(s). */
async function evaluateFile(
  gpu: GpuContext,
  test: GpuSplit,
  { path, model, format, stored }: LoadedFile,
  settings: EvalSettings,
): Promise<void> {
  const ptq = stored.ptq;
  // Post-training-quantised weights are read packed by their own kernel, never sparse.
  const paths = ptq ? [] : choosePaths(
    model,
    settings.infer,
    readCrossovers(gpu.adapter),
    gpu.software,
    readNmSpeeds(gpu.adapter),
  );
  if (settings.detailed) {
    if (ptq) {
      console.error(`eval: ${[...ptq.values()][0]?.format} weights read by the quantised kernels`);
    }
    for (const p of paths) {
      const pattern = p.nm ? `, ${p.nm.n}:${p.nm.m}` : "";
      console.error(
        `eval: ${p.name} ${(p.density * 100).toFixed(1)}% dense${pattern} → ${p.path} ` +
          `kernel (crossover ${(p.crossover * 100).toFixed(0)}%)`,
      );
    }
  }
  const weights = ptq ? ptqRepresentations(ptq) : pathRepresentations(paths);
  const net = await createInferenceNetwork(gpu, model, weights);
  try {
    const result = await net.evaluate(test);
    const times: number[] = [];
    for (let r = 0; r < settings.repeats; r++) {
      const t0 = performance.now();
      await net.evaluate(test);
      times.push(performance.now() - t0);
    }
    const bytes = await fileSize(path);
    console.log(
      `eval: ${path} (${format}): test accuracy ${(result.accuracy * 100).toFixed(2)}%, loss ${
        result.loss.toFixed(4)
      }, ${median(times).toFixed(1)} ms per pass over ${test.count} images, ${bytes} bytes`,
    );
    if (settings.predictions) {
      await writePredictions(
        settings.predictions,
        await predictSplit(net, test),
        settings.testImages,
      );
    }
    if (settings.detailed) {
      const sizes = compressedSizes(model, stored);
      console.log(
        `eval: bytes dense f32 ${sizes.bytes_dense}, CSR ${sizes.bytes_csr}, fixed-width ` +
          `${sizes.bytes_q}, Huffman (model.dcz) ${sizes.bytes_huffman}: ` +
          `${sizes.compression_dc.toFixed(1)}× smaller than dense`,
      );
    }
  } finally {
    net.destroy();
  }
}

if (import.meta.main) {
  await runMain("eval", async () => {
    const { values: flags, positionals: args } = parseCommandLine(Deno.args, {
      dataset: { type: "string" },
      "data-dir": { type: "string" },
      repeats: { type: "string", default: "3" },
      infer: { type: "string", default: "auto" },
      predictions: { type: "string" },
      ...KERNEL_FLAG,
      help: { type: "boolean", short: "h", default: false },
    }, true);
    if (flags.help) {
      console.log(USAGE);
      return;
    }
    if (args.length !== 1) throw new UsageError("eval needs exactly one PATH (see --help)");
    const path = checkPath("PATH", args[0], "file");
    const dataDir = flags["data-dir"] === undefined
      ? undefined
      : checkPath("--data-dir", flags["data-dir"], "folder");
    const repeats = numberFlag("repeats", flags.repeats, { integer: true, min: 1 });
    const infer = parseInferMode(String(flags.infer));
    const kernel = parseKernel(String(flags.kernel));
    const { files, metaPath } = await filesOf(path);
    if (flags.predictions !== undefined && await isFolder(path)) {
      throw new UsageError("--predictions needs one model file, not a folder of them");
    }
    const dataset = await datasetOf(flags, metaPath, path);
    const loaded: LoadedFile[] = [];
    for (const file of files) loaded.push({ path: file, ...await loadExported(file) });
    if (dataDir === undefined) await ensureDatasetInstalled(dataset);
    const data = await loadDataset({ dataset, dataDir, numValid: 0, seed: 0, limitTrain: 1 });
    for (const { path, model } of loaded) {
      if (data.test.features !== sizeOf(model.spec.input)) {
        throw new UsageError(
          `${path} takes ${
            sizeOf(model.spec.input)
          } inputs, the test set has ${data.test.features}`,
        );
      }
    }
    const gpu = await getGpu();
    await setupKernels(gpu, kernel, { outputDir: "results" });
    const test = uploadSplit(gpu, data.test, "test");
    try {
      for (const file of loaded) {
        await evaluateFile(gpu, test, file, {
          repeats,
          infer,
          detailed: loaded.length === 1,
          predictions: flags.predictions,
          testImages: data.test,
        });
      }
    } finally {
      destroySplit(test);
    }
  });
}
