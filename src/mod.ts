/**
 * wgprune's public API: what a Deno program or a browser page imports to open an exported model,
 * infer on the fastest exact path, train a network and prune it. The command line and the web app
 * (src/web/) are built on the same modules. In a browser, install a host first
 * (`useHost(memoryHost(files))`, with the MNIST files among them) and supply the shader files
 * (`provideShaderSources`); under Deno both come from the file system.
 *
 * @example Train a small MLP, prune it, and compare the dense and the sparse path
 * ```ts
 * const gpu = await getGpu({ quiet: true });
 * const data = await loadData({ limitTrain: 2000, limitTest: 1000 });
 * const { model, test } = await train(gpu, data, { hidden: [64], epochs: 1 });
 * console.log(`dense ${(test.accuracy * 100).toFixed(2)}%`);
 * const [pruned] = prune(model, "weight", [90]);
 * for (const path of ["dense", "sparse"] as const) {
 *   const inference = await openInference(gpu, pruned.model, { path });
 *   const { accuracy, msPerPass } = await inference.evaluate(data.test);
 *   console.log(`${path}: ${(accuracy * 100).toFixed(2)}% in ${msPerPass.toFixed(1)} ms`);
 *   inference.destroy();
 * }
 * ```
 *
 * @module
 */

import type { GpuContext } from "./gpu/device.ts";
import { type Dataset, loadDataset, type Split } from "./data/datasets.ts";
import { decodeExported, encodeExport, type ExportedModel } from "./export/formats.ts";
import { initModel, type Model } from "./model/network.ts";
import {
  applyMasks,
  DEFAULT_PRUNE_PARAMS,
  type Masks,
  prunableParams,
  sparsityOf,
} from "./model/masks.ts";
import { defaultInit, type ModelName, modelSpec } from "./model/zoo.ts";
import type { InitScheme } from "./model/layers/init.ts";
import { getPruneMethod } from "./prune/registry.ts";
import { prepareFromWeights } from "./prune/prepare.ts";
import { type EpochRecord, evaluateModel, trainModel } from "./train/trainer.ts";
import type { EvalResult } from "./train/gpu_network.ts";
import {
  createInferenceNetwork,
  type InferenceNetwork,
  pathRepresentations,
  ptqRepresentations,
} from "./train/inference_network.ts";
import { choosePaths, type LayerPath, readCrossovers, readNmSpeeds } from "./train/infer_paths.ts";
import { type Predictions, predictSplit } from "./train/predict.ts";
import { destroySplit, type GpuSplit, rewriteSplit, uploadSplit } from "./train/splits.ts";
import type { Progress } from "./util/progress.ts";
import { median } from "./util/stats.ts";

export { getGpu, type GpuContext } from "./gpu/device.ts";
export { provideShaderSources } from "./gpu/kernel.ts";
export { type Dataset, IDX_FILES, type Split } from "./data/datasets.ts";
export type { Model, ModelSpec } from "./model/network.ts";
export type { EpochRecord } from "./train/trainer.ts";
export type { LayerPath } from "./train/infer_paths.ts";
export type { Predictions } from "./train/predict.ts";
export { type FileAccess, type Host, useHost } from "./util/host.ts";
export { memoryHost } from "./util/memory_host.ts";
export { UsageError } from "./util/errors.ts";

/** Options of `loadData`: the command line's data flags, with its defaults. */
export interface DataOptions {
  /** `mnist` (default) or `fashion`. */
  dataset?: "mnist" | "fashion";
  /** A folder with the four IDX files (or numpy arrays) instead of the dataset's own. */
  dataDir?: string;
  /** Training samples held out for validation (default 10000, as `--num-valid`). */
  numValid?: number;
  /** Seed of the hold-out split: train with the same seed as `deno task train --seed` (default 0). */
  seed?: number;
  /** Keep only the first N training samples (`--limit-train`). */
  limitTrain?: number;
  /** Keep only the first N test samples. */
  limitTest?: number;
}

/**
 * Loads a dataset split as `deno task train` splits it (same seed, same hold-out).
 *
 * @example
 * ```ts
 * const data = await loadData({ limitTrain: 1000 });
 * console.log(data.train.count, data.valid.count, data.test.count); // 1000 10000 10000
 * ```
 */
export function loadData(options: DataOptions = {}): Promise<Dataset> {
  return loadDataset({
    dataset: options.dataset ?? "mnist",
    dataDir: options.dataDir,
    numValid: options.numValid ?? 10000,
    seed: options.seed ?? 0,
    limitTrain: options.limitTrain,
    limitTest: options.limitTest,
  });
}

/** An exported model opened from its bytes. */
export interface OpenedModel extends ExportedModel {
  /** The file's name. */
  name: string;
  /** Zeros / entries over the prunable weights. */
  sparsity: number;
}

/**
 * Opens an exported model from its bytes: any file `deno task export` writes
 * (`model_csr.safetensors`, `model.dcz`, `model.onnx`, …), a training checkpoint, or a sequential
 * ONNX model of one's own. `name` picks the reader by its extension and names the file in errors.
 *
 * @example
 * ```ts
 * const bytes = await Deno.readFile("tests/fixtures/onnx/mlp.onnx");
 * const opened = openModel(bytes, "mlp.onnx");
 * console.log(opened.format, opened.model.spec.layers.length); // onnx 5
 * ```
 */
export function openModel(bytes: Uint8Array, name: string): OpenedModel {
  const exported = decodeExported(bytes, name);
  const prunable = prunableParams(exported.model.spec, DEFAULT_PRUNE_PARAMS);
  return { ...exported, name, sparsity: sparsityOf(exported.model, prunable).sparsity };
}

/** Which kernels an inference runs: `auto` (fastest exact, per layer), all `dense` or `sparse`. */
export type InferPath = "auto" | "dense" | "sparse";

/** A model on the GPU for inference. */
export interface Inference {
  /** Per prunable weight, its density and the kernel it runs. */
  layers: LayerPath[];
  /** Accuracy and loss over a split, and the median milliseconds of `repeats` timed passes. */
  evaluate(split: Split, repeats?: number): Promise<EvalResult & { msPerPass: number }>;
  /** Each sample's logits, prediction and top-two margin. */
  predict(split: Split): Promise<Predictions>;
  /** Class probabilities (softmax) of one image of u8 pixels. */
  classify(pixels: Uint8Array): Promise<Float32Array>;
  /** Frees its buffers. */
  destroy(): void;
}

/**
 * Puts a model (or an opened file, with its stored int8/f16 weights) on the GPU for inference.
 * `auto` runs each pruned weight on the CSR kernel where its density is below the crossover
 * `deno task bench --sparse` measured on this adapter (a default where none was measured); both
 * paths compute the same sums, in a different order.
 *
 * @example
 * ```ts
 * const gpu = await getGpu({ quiet: true });
 * const opened = openModel(await Deno.readFile("tests/fixtures/onnx/mlp.onnx"), "mlp.onnx");
 * const inference = await openInference(gpu, opened, { path: "sparse" });
 * const probabilities = await inference.classify(new Uint8Array(784));
 * console.log(probabilities.length); // 10
 * inference.destroy();
 * ```
 */
export async function openInference(
  gpu: GpuContext,
  model: Model | OpenedModel,
  options: { path?: InferPath } = {},
): Promise<Inference> {
  const opened: Pick<ExportedModel, "model" | "stored"> = "params" in model
    ? { model, stored: {} }
    : model;
  const ptq = opened.stored.ptq;
  const layers = ptq ? [] : choosePaths(
    opened.model,
    options.path ?? "auto",
    readCrossovers(gpu.adapter),
    gpu.software,
    readNmSpeeds(gpu.adapter),
  );
  const net = await createInferenceNetwork(
    gpu,
    opened.model,
    ptq ? ptqRepresentations(ptq) : pathRepresentations(layers),
  );
  // Each split is uploaded once per inference (its evaluation plans are bound to its buffers).
  const uploads = new Map<Split, GpuSplit>();
  const uploaded = (split: Split) => {
    let gpuSplit = uploads.get(split);
    if (!gpuSplit) uploads.set(split, gpuSplit = uploadSplit(gpu, split, "inference"));
    return gpuSplit;
  };
  let pad: GpuSplit | undefined; // the one image `classify` rewrites
  return {
    layers,
    evaluate: (split, repeats = 3) => timedEvaluate(net, uploaded(split), repeats),
    predict: (split) => predictSplit(net, uploaded(split)),
    async classify(pixels) {
      const one = { count: 1, features: pixels.length, pixels, labels: new Uint8Array(1) };
      if (pad) rewriteSplit(gpu, pad, one);
      else pad = uploadSplit(gpu, one, "classify");
      return softmax(await net.predict(pad));
    },
    destroy() {
      for (const split of uploads.values()) destroySplit(split);
      if (pad) destroySplit(pad);
      net.destroy();
    },
  };
}

/** Evaluates once, then times `repeats` passes (median). */
async function timedEvaluate(
  net: InferenceNetwork,
  split: GpuSplit,
  repeats: number,
): Promise<EvalResult & { msPerPass: number }> {
  const result = await net.evaluate(split);
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await net.evaluate(split);
    times.push(performance.now() - t0);
  }
  return { ...result, msPerPass: times.length > 0 ? median(times) : NaN };
}

/** Softmax of one row of logits. */
function softmax(logits: Float32Array): Float32Array {
  const top = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Options of `train`: the command line's training flags, with its defaults. */
export interface TrainOptions {
  /** The network (default `mlp`). */
  model?: ModelName;
  /** `mlp`'s hidden widths (default 1000,1000,500,200). */
  hidden?: number[];
  /** `mlp`: biases (default none). */
  bias?: boolean;
  /** Epochs (default 10). */
  epochs?: number;
  /** Samples per step (default 128). */
  batchSize?: number;
  /** Adam's learning rate (default 0.001). */
  learningRate?: number;
  /** Seed of the initialisation and the shuffles (default 0; load the data with the same). */
  seed?: number;
  /** Initialisation (default: torch for mlp, he for the paper networks). */
  init?: InitScheme;
  /** Keep the best validation epoch's weights (default true). */
  keepBest?: boolean;
}

/** The command line's training defaults (`deno task train`'s flags). */
export const TRAIN_DEFAULTS = {
  model: "mlp",
  hidden: [1000, 1000, 500, 200],
  bias: false,
  epochs: 10,
  batchSize: 128,
  learningRate: 0.001,
  seed: 0,
  keepBest: true,
} as const satisfies TrainOptions;

/** Where a training run is: reported every few steps and after each epoch. */
export interface TrainProgress {
  /** 1-based epoch. */
  epoch: number;
  /** Epochs in the run. */
  epochs: number;
  /** Steps done in this epoch. */
  step: number;
  /** Steps per epoch. */
  steps: number;
  /** Mean training loss of the epoch so far. */
  loss: number;
  /** Training accuracy of the epoch so far. */
  accuracy: number;
  /** The finished epoch's record (after each epoch only). */
  record?: EpochRecord;
}

/** A trained model with its history and test figures. */
export interface TrainResult {
  /** The trained model (the best validation epoch's, unless `keepBest` is off). */
  model: Model;
  /** One record per epoch. */
  history: EpochRecord[];
  /** Loss and accuracy on the test split. */
  test: EvalResult;
}

/**
 * Trains on the GPU as `deno task train` does with the same flags (same initialisation, shuffles
 * and optimiser), reporting progress as it goes, and evaluates on the test split.
 *
 * @example
 * ```ts
 * const gpu = await getGpu({ quiet: true });
 * const data = await loadData({ limitTrain: 1000, limitTest: 500 });
 * const run = await train(gpu, data, { hidden: [32], epochs: 1 }, (p) => {
 *   if (p.record) console.log(`epoch ${p.epoch}: valid ${p.record.valid_accuracy}`);
 * });
 * console.log(`test accuracy ${(run.test.accuracy * 100).toFixed(2)}%`);
 * ```
 */
export async function train(
  gpu: GpuContext,
  data: Dataset,
  options: TrainOptions = {},
  onProgress: (progress: TrainProgress) => void = () => {},
): Promise<TrainResult> {
  const o = { ...TRAIN_DEFAULTS, ...options };
  const spec = modelSpec(o.model, {
    features: data.train.features,
    classes: data.classes,
    hidden: [...o.hidden],
    bias: o.bias,
  });
  const init = initModel(spec, o.seed, options.init ?? defaultInit(o.model));
  const splits = {
    train: uploadSplit(gpu, data.train, "train"),
    valid: data.valid.count > 0 ? uploadSplit(gpu, data.valid, "valid") : undefined,
    test: uploadSplit(gpu, data.test, "test"),
  };
  let epoch = 0; // trainModel starts one progress display per epoch
  try {
    const outcome = await trainModel(gpu, {
      model: init,
      train: splits.train,
      valid: splits.valid,
      epochs: o.epochs,
      batchSize: o.batchSize,
      adam: { lr: o.learningRate, l1: 0, l2: 0 },
      seed: o.seed,
      keepBest: o.keepBest,
      progress: (_label, steps): Progress => {
        epoch++;
        return {
          update: (step, payload) =>
            onProgress({
              epoch,
              epochs: o.epochs,
              step,
              steps,
              loss: Number(payload?.loss),
              accuracy: Number(payload?.accuracy),
            }),
          stop() {},
        };
      },
      onEpoch: (record) => {
        onProgress({
          epoch: record.epoch,
          epochs: o.epochs,
          step: 0,
          steps: 0,
          loss: record.train_loss,
          accuracy: record.train_accuracy,
          record,
        });
        return Promise.resolve();
      },
    });
    const test = await evaluateModel(gpu, outcome.model, splits.test);
    return { model: outcome.model, history: outcome.history, test };
  } finally {
    for (const split of [splits.train, splits.valid, splits.test]) if (split) destroySplit(split);
  }
}

/** A model pruned to one level. */
export interface PrunedModel {
  /** The method. */
  method: string;
  /** The level asked for, in percent. */
  k: number;
  /** The model with its pruned entries exactly 0. */
  model: Model;
  /** The masks (0/1 by parameter name). */
  masks: Masks;
  /** Zeros / entries over the prunable weights reached. */
  sparsity: number;
}

/**
 * Prunes a model one-shot at each level (percent) with a method scored from the weights alone
 * (`weight`, `unit`, `random`, `std`, `nm`, …), as `deno task sweep --strategy oneshot` does; the
 * method's preparation is made once for all levels. `prunable` takes `--prune-params`' patterns.
 *
 * @example
 * ```ts
 * const opened = openModel(await Deno.readFile("tests/fixtures/onnx/mlp.onnx"), "mlp.onnx");
 * for (const p of prune(opened.model, "unit", [0, 50, 90])) {
 *   console.log(p.k, p.sparsity.toFixed(3));
 * }
 * ```
 */
export function prune(
  model: Model,
  method: string,
  levels: readonly number[],
  options: { prunable?: string; seed?: number } = {},
): PrunedModel[] {
  const prunable = prunableParams(model.spec, options.prunable ?? DEFAULT_PRUNE_PARAMS);
  const prepared = prepareFromWeights(getPruneMethod(method), model, prunable, options.seed ?? 0);
  return levels.map((k) => {
    const { masks } = prepared.masks(k);
    const pruned = applyMasks(model, masks);
    return { method, k, model: pruned, masks, sparsity: sparsityOf(pruned, prunable).sparsity };
  });
}

/**
 * The files `deno task export --method M --k K` writes for a one-shot pruned model, by name
 * (`model.safetensors`, `model_compact.safetensors`, `model_csr.safetensors`,
 * `masks.safetensors`, `model.dcz`, `model.onnx`, `model_compact.onnx`), as bytes: the same bytes
 * for the same model and masks.
 *
 * @example
 * ```ts
 * const opened = openModel(await Deno.readFile("tests/fixtures/onnx/mlp.onnx"), "mlp.onnx");
 * const [pruned] = prune(opened.model, "weight", [90]);
 * const files = exportFiles(pruned);
 * console.log(openModel(files.get("model.dcz")!, "model.dcz").sparsity.toFixed(2)); // 0.90
 * ```
 */
export function exportFiles(pruned: PrunedModel): Map<string, Uint8Array> {
  const info = { method: pruned.method, k: pruned.k, strategy: "oneshot" };
  return new Map(encodeExport(pruned.model, pruned.masks, info));
}
