/**
 * Running an experiment: load its data once, then train the configured model (or reuse the
 * finished checkpoint), evaluate it on the test set, and write checkpoint.safetensors,
 * init.safetensors, history.csv, metrics.json and training.png, each atomically.
 *
 * What is reused is checked first (src/experiment/checkpoints.ts). Training holds `train.lock`
 * in the folder, so a second process on the same experiment waits and then reuses the result
 * instead of sharing `last.safetensors`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { ensureDatasetInstalled } from "./system.ts";
import { decodeOnnx } from "../export/onnx_import.ts";
import { CHECKPOINT_FORMAT } from "../export/formats.ts";
import { parseModelSpec } from "../model/spec_file.ts";
import type { GpuContext } from "../gpu/device.ts";
import { UsageError } from "../util/errors.ts";
import {
  ensureWritableDir,
  exists,
  readFileOrFail,
  readTextOrFail,
  removeIfPresent,
  withFileLock,
  writeFileAtomic,
  writeJsonAtomic,
} from "../util/files.ts";
import type { ProgressFactory } from "../util/progress.ts";
import { type Dataset, loadDataset } from "../data/datasets.ts";
import { initModel, type Model, type ModelSpec } from "../model/network.ts";
import { prunableParams, sparsityOf } from "../model/masks.ts";
import { CHECKSUM_KEY, writeSafetensors } from "../model/safetensors.ts";
import { type GradualPruner, gradualPruner } from "../prune/gradual.ts";
import { getPruneMethod } from "../prune/registry.ts";
import { type DataSplits, destroySplit, type GpuSplit, uploadSplit } from "../train/splits.ts";
import { DivergedError, type EpochRecord, evaluateModel, trainModel } from "../train/trainer.ts";
import { parseHistoryCsv, writeHistory } from "../train/history.ts";
import { deriveExperimentId, modelIdentity, modelSpecOf, type TrainConfig } from "./config.ts";
import { experimentPaths } from "./paths.ts";
import { type Checkpoint, readCheckpoint, readVerified, saveModel } from "./checkpoints.ts";
import { parseMetricsJson, type TrainMetrics } from "./metrics.ts";

/** How a run reports: progress bars and log lines (the command line passes its own). */
export interface RunOutput {
  /** Progress display of each epoch's steps. */
  progress: ProgressFactory;
  /** Receives notes and epoch summaries. */
  log: (line: string) => void;
}

/** Data of an experiment, uploaded once. */
export interface LoadedData extends DataSplits {
  /** CPU copy of the splits. */
  data: Dataset;
  /** Training split on the GPU. */
  train: GpuSplit;
  /** Validation split on the GPU. */
  valid: GpuSplit;
  /** Test split on the GPU. */
  test: GpuSplit;
  /** The model the configuration trains on this data. */
  spec: ModelSpec;
  /** Frees the GPU copies. */
  destroy(): void;
}

/**
 * Reads an ONNX `--model` once: its model, what the import folded or dropped, and the file's
 * sha256 (which names the experiment, as the data's does).
 */
async function readModelFile(config: TrainConfig): Promise<void> {
  if (!config.modelFile || config.imported || config.fileSpec) return;
  const bytes = await readFileOrFail(config.modelFile);
  config.modelFingerprint = createHash("sha256").update(bytes).digest("hex");
  if (config.model === "spec") {
    config.fileSpec = parseModelSpec(new TextDecoder().decode(bytes), config.modelFile);
    return;
  }
  const { model, notes } = decodeOnnx(bytes, config.modelFile);
  config.imported = model;
  config.importNotes = notes;
}

/**
 * Reads the configured dataset on the CPU (installing Debian's package of it first where it
 * has one and is missing, see src/experiment/system.ts) and records its fingerprint in `config` (and the
 * experiment id derived from it unless `--experiment-id` gave one): what names the experiment
 * folder, with no GPU needed.
 */
export async function readDataOf(config: TrainConfig) {
  await readModelFile(config);
  if (!config.dataDir) await ensureDatasetInstalled(config.dataset);
  const data = await loadDataset({
    dataset: config.dataset,
    dataDir: config.dataDir,
    numValid: config.numValid,
    seed: config.seed,
    limitTrain: config.limitTrain,
  });
  config.dataFingerprint = data.fingerprint;
  if (!config.experimentIdGiven) config.experimentId = deriveExperimentId(config);
  return data;
}

/**
 * Loads the configured dataset, records its fingerprint in `config` (and the experiment id derived
 * from it unless `--experiment-id` gave one), checks the batch fits the training split, and
 * uploads the splits.
 */
export async function loadData(gpu: GpuContext, config: TrainConfig): Promise<LoadedData> {
  const data = await readDataOf(config);
  if (config.batchSize > data.train.count) {
    throw new UsageError(
      `--batch-size ${config.batchSize} is larger than the training split ` +
        `(${data.train.count} samples after --num-valid and --limit-train); ` +
        `expected at most ${data.train.count}`,
    );
  }
  const train = uploadSplit(gpu, data.train, "train");
  const valid = data.valid.count > 0 ? uploadSplit(gpu, data.valid, "valid") : train;
  const test = uploadSplit(gpu, data.test, "test");
  return {
    data,
    train,
    valid,
    test,
    spec: modelSpecOf(config, data.train.features, data.classes),
    destroy() {
      destroySplit(train);
      if (valid !== train) destroySplit(valid);
      destroySplit(test);
    },
  };
}

/** A trained model: parameters, figures, and its checkpoint's data_sha256. */
export interface TrainedModel {
  /** The trained model. */
  model: Model;
  /** Figures of metrics.json. */
  metrics: TrainMetrics;
  /** True when a finished checkpoint was reused. */
  reused: boolean;
  /** data_sha256 of checkpoint.safetensors: identifies the model in sweep.csv. */
  checksum: string;
}

/**
 * Trains the configured model unless a finished checkpoint exists (and `forceTrain` is off);
 * returns the parameters either way. Holds the experiment's training lock throughout: a second
 * process waits, then reuses what the first one trained.
 */
export async function ensureTrained(
  gpu: GpuContext,
  config: TrainConfig,
  loaded: LoadedData,
  out: RunOutput,
): Promise<TrainedModel> {
  const paths = experimentPaths(config);
  await ensureWritableDir(paths.dir);
  return await withFileLock(
    paths.trainLock,
    () => trainOrReuse(gpu, config, loaded, out),
    () => out.log(`train: another process is training ${paths.dir}; waiting for it`),
  );
}

/** The reused checkpoint of the configuration, or undefined when it must be trained. */
async function reusedModel(
  gpu: GpuContext,
  config: TrainConfig,
  loaded: LoadedData,
  out: RunOutput,
): Promise<TrainedModel | undefined> {
  if (config.forceTrain) return undefined;
  const cached = await readCheckpoint(config, loaded.spec);
  if (!cached) return undefined;
  const metrics = await reusedMetrics(gpu, config, loaded, cached, out);
  out.log(
    `train: reusing ${experimentPaths(config).checkpoint} (test accuracy ${
      (metrics.test_accuracy * 100).toFixed(2)
    }%); pass --force-train to retrain`,
  );
  return { model: cached.model, metrics, reused: true, checksum: cached.metadata[CHECKSUM_KEY] };
}

/** The metadata every file of the experiment's training carries. */
function trainingMeta(config: TrainConfig, spec: LoadedData["spec"]): Record<string, string> {
  return {
    format: CHECKPOINT_FORMAT,
    dataset: config.dataDir ? "custom" : config.dataset,
    data_sha256: config.dataFingerprint,
    layers: JSON.stringify(spec),
    bias: String(config.bias),
    config: modelIdentity(config),
  };
}

/**
 * After each epoch: the history, the resume points (the weights after this epoch and the best so
 * far) and, for epochs 1 and 2, the snapshots lottery-ticket rewinding returns to (Frankle et al.
 * 2020).
 */
function epochWriter(config: TrainConfig, meta: Record<string, string>, history: EpochRecord[]) {
  const paths = experimentPaths(config);
  return async (
    record: EpochRecord,
    model: () => Promise<Model>,
    best: { epoch: number; accuracy: number; model: Model } | undefined,
  ) => {
    history.push(record);
    await writeHistory(paths.history, history);
    const progress = { ...meta, finished: "false", epoch: String(record.epoch) };
    await saveModel(paths.last, await model(), { ...progress, kind: "last" });
    if (best && best.epoch === record.epoch) {
      await saveModel(paths.best, best.model, {
        ...progress,
        kind: "best",
        best_epoch: String(best.epoch),
        best_valid_accuracy: String(best.accuracy),
      });
    }
    if (record.epoch <= 2) {
      await saveModel(paths.snapshot(record.epoch), await model(), {
        ...meta,
        finished: "true",
        kind: `epoch ${record.epoch}`,
      });
    }
  };
}

/** Writes the gradual pruner's final masks (`<name>.mask`) and returns the sparsity reached. */
async function saveGradualMasks(
  config: TrainConfig,
  meta: Record<string, string>,
  model: Model,
  prunable: string[],
  pruner: GradualPruner,
  out: RunOutput,
): Promise<number> {
  // Masks by parameter name, `<name>.mask` (e.g. layers.0.weight.mask), each of its shape.
  const masks = pruner.current() ?? new Map();
  const tensors = new Map(prunable.map((name) => {
    const shape = model.params.get(name)!.shape;
    const data = masks.get(name) ?? new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1);
    return [`${name}.mask`, { shape: [...shape], data }];
  }));
  await writeSafetensors(experimentPaths(config).masks, tensors, { ...meta, kind: "masks" });
  const sparsity = sparsityOf(model, prunable).sparsity;
  out.log(
    `train: gradual ${config.gradual!.method} pruning reached ${(sparsity * 100).toFixed(2)}% ` +
      `sparsity (target ${(config.gradual!.schedule.target * 100).toFixed(2)}%)`,
  );
  return sparsity;
}

/** An ONNX model's weights as the trained model (`--weights imported`): evaluated, saved. */
async function importedAsTrained(
  gpu: GpuContext,
  config: TrainConfig,
  loaded: LoadedData,
  out: RunOutput,
  imported: Model,
): Promise<TrainedModel> {
  const meta = trainingMeta(config, loaded.spec);
  await saveModel(experimentPaths(config).init, imported, {
    ...meta,
    finished: "true",
    kind: "init",
  });
  out.log(`train: ${config.modelFile}'s weights are the trained model (--weights imported)`);
  return await finishTraining(gpu, config, loaded, out, {
    model: imported,
    bestEpoch: 0,
    secondsPerEpoch: 0,
    history: [],
    meta,
  });
}

/** Trains the configuration's model (resuming an interrupted run), or reuses its checkpoint. */
async function trainOrReuse(
  gpu: GpuContext,
  config: TrainConfig,
  loaded: LoadedData,
  out: RunOutput,
): Promise<TrainedModel> {
  const reused = await reusedModel(gpu, config, loaded, out);
  if (reused) return reused;
  const paths = experimentPaths(config);
  const spec = loaded.spec;
  for (const note of config.importNotes) out.log(`import: ${note}`);
  // An ONNX model's weights start training (finetune) or are the trained model (imported).
  const init = config.imported && config.weights !== "scratch"
    ? config.imported
    : initModel(spec, config.seed, config.init);
  if (config.imported && config.weights === "imported") {
    return await importedAsTrained(gpu, config, loaded, out, init);
  }

  const meta = trainingMeta(config, spec);
  const resume = config.forceTrain || config.gradual
    ? undefined
    : await findResumePoint(config, spec, out);
  if (!resume) await saveModel(paths.init, init, { ...meta, finished: "true", kind: "init" });
  else {
    out.log(
      `train: resuming after epoch ${resume.epochsDone}/${config.epochs} from ${paths.last} ` +
        "(Adam's moments restart); pass --force-train to start over",
    );
  }
  const history: EpochRecord[] = [...(resume?.history ?? [])];
  const prunable = prunableParams(spec, config.pruneParams);
  const pruner = config.gradual
    ? gradualPruner(
      getPruneMethod(config.gradual.method),
      config.gradual.schedule,
      config.seed,
      prunable,
    )
    : undefined;
  let outcome;
  try {
    outcome = await trainModel(gpu, {
      model: resume?.model ?? init,
      resume,
      train: loaded.train,
      valid: loaded.valid,
      epochs: config.epochs,
      batchSize: config.batchSize,
      adam: { lr: config.learningRate, l1: config.l1, l2: config.l2 },
      seed: config.seed,
      // While pruning gradually, earlier epochs are less sparse: keep the last epoch.
      keepBest: config.keepBest && !pruner,
      maskSchedule: pruner,
      scored: pruner?.scored,
      progress: out.progress,
      log: out.log,
      onEpoch: epochWriter(config, meta, history),
    });
  } catch (err) {
    if (err instanceof DivergedError) {
      const last = history.at(-1);
      throw new UsageError(
        err.message + (last ? `; weights after epoch ${last.epoch} are in ${paths.last}` : ""),
      );
    }
    throw err;
  }
  const sparsity = pruner
    ? await saveGradualMasks(config, meta, outcome.model, prunable, pruner, out)
    : undefined;
  return await finishTraining(gpu, config, loaded, out, { ...outcome, history, meta, sparsity });
}

/**
 * Evaluates the trained model, writes its checkpoint (test figures in the metadata),
 * metrics.json and training.png, and removes the resume points.
 */
async function finishTraining(
  gpu: GpuContext,
  config: TrainConfig,
  loaded: LoadedData,
  out: RunOutput,
  trained: {
    model: Model;
    bestEpoch: number;
    secondsPerEpoch: number;
    history: EpochRecord[];
    meta: Record<string, string>;
    sparsity?: number;
  },
): Promise<TrainedModel> {
  const paths = experimentPaths(config);
  const test = await evaluateModel(gpu, trained.model, loaded.test);
  const checkpointMeta = {
    ...trained.meta,
    finished: "true",
    kind: "trained",
    test_accuracy: String(test.accuracy),
    test_loss: String(test.loss),
    best_epoch: String(trained.bestEpoch),
    epochs: String(config.epochs),
    seconds_per_epoch: String(trained.secondsPerEpoch),
    train_samples: String(loaded.data.train.count),
    adapter: `${gpu.adapter} via ${gpu.backend}`,
    ...(trained.sparsity === undefined ? {} : { sparsity: String(trained.sparsity) }),
  };
  const checksum = await saveModel(paths.checkpoint, trained.model, checkpointMeta);
  const metrics = metricsOf(checkpointMeta, checksum);
  await writeJsonAtomic(paths.metrics, metrics);
  for (const done of [paths.last, paths.best]) await removeIfPresent(done);
  if (trained.history.length > 0) {
    const { renderTrainingPng } = await import("../report/charts.ts");
    await writeFileAtomic(paths.trainingPng, await renderTrainingPng(trained.history));
  }
  out.log(
    `train: test accuracy ${(test.accuracy * 100).toFixed(2)}%, loss ${test.loss.toFixed(4)}, ` +
      `${trained.secondsPerEpoch.toFixed(1)} s/epoch; wrote ${paths.dir}/`,
  );
  return { model: trained.model, metrics, reused: false, checksum };
}

/** metrics.json's figures, all taken from a checkpoint's metadata. */
function metricsOf(meta: Record<string, string>, checksum: string): TrainMetrics {
  const metrics: TrainMetrics = {
    test_accuracy: Number(meta.test_accuracy),
    test_loss: Number(meta.test_loss),
    epochs: Number(meta.epochs),
    best_epoch: Number(meta.best_epoch),
    seconds_per_epoch: Number(meta.seconds_per_epoch),
    train_samples: Number(meta.train_samples),
    adapter: meta.adapter,
    config: JSON.parse(meta.config),
    checkpoint_sha256: checksum,
  };
  if (meta.sparsity !== undefined) metrics.sparsity = Number(meta.sparsity);
  return metrics;
}

/**
 * metrics.json of a reused checkpoint. The checkpoint is the source of truth: a metrics.json that
 * belongs to another checkpoint (stale) or is missing is rebuilt from the checkpoint's metadata;
 * one that cannot be parsed is a `UsageError`.
 */
async function reusedMetrics(
  gpu: GpuContext,
  config: TrainConfig,
  loaded: LoadedData,
  cached: Checkpoint,
  out: RunOutput,
): Promise<TrainMetrics> {
  const paths = experimentPaths(config);
  const checksum = cached.metadata[CHECKSUM_KEY];
  if (await exists(paths.metrics)) {
    const metrics = parseMetricsJson(
      await readTextOrFail(paths.metrics),
      paths.metrics,
      "delete it to rebuild it from the checkpoint, or pass --force-train to retrain",
    );
    if (metrics.checkpoint_sha256 === checksum) return metrics;
  }
  const meta = { ...cached.metadata };
  if (meta.test_accuracy === undefined || meta.seconds_per_epoch === undefined) {
    // Figures missing from the metadata: measure what can be measured again.
    const test = await evaluateModel(gpu, cached.model, loaded.test);
    meta.test_accuracy ??= String(test.accuracy);
    meta.test_loss ??= String(test.loss);
  }
  meta.epochs ??= String(config.epochs);
  meta.seconds_per_epoch ??= "0";
  meta.train_samples ??= String(loaded.data.train.count);
  meta.adapter ??= `${gpu.adapter} via ${gpu.backend}`;
  const metrics = metricsOf(meta, checksum);
  await writeJsonAtomic(paths.metrics, metrics);
  out.log(`train: rebuilt ${paths.metrics} from ${paths.checkpoint}`);
  return metrics;
}

/**
 * A resume point of an interrupted run of the same configuration: `last.safetensors` (weights
 * after the last finished epoch), the history so far and `best.safetensors`. Files of other
 * settings are ignored (training starts over and replaces them); corrupt ones are an error.
 */
async function findResumePoint(config: TrainConfig, spec: ModelSpec, out: RunOutput) {
  const paths = experimentPaths(config);
  if (!(await exists(paths.last)) || !(await exists(paths.history))) return undefined;
  const last = await readVerified(spec, paths.last);
  const epochsDone = Number(last.file.metadata.epoch);
  if (last.file.metadata.config !== modelIdentity(config)) {
    out.log(`train: ${paths.last} belongs to other settings; training starts over`);
    return undefined;
  }
  if (!(epochsDone >= 1 && epochsDone < config.epochs)) return undefined;
  const history = parseHistoryCsv(
    await readTextOrFail(paths.history),
    paths.history,
    "pass --force-train to start over, or delete it",
  ).slice(0, epochsDone);
  if (history.length !== epochsDone) return undefined;
  let best;
  if (await exists(paths.best)) {
    const file = await readVerified(spec, paths.best);
    best = {
      accuracy: Number(file.file.metadata.best_valid_accuracy),
      epoch: Number(file.file.metadata.best_epoch),
      model: file.model,
    };
  }
  return { epochsDone, history, best, model: last.model };
}
