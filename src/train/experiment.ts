/**
 * One experiment folder, `<output-dir>/<id>/`: trains (or reuses the finished checkpoint),
 * evaluates on the test set, and writes checkpoint.safetensors, init.safetensors, history.csv,
 * metrics.json and training.png, each atomically.
 *
 * What is reused is checked first: a checkpoint carries its data checksum, the fingerprint of the
 * data it was trained on and its configuration, and is reused only when all three agree with
 * this run. Training holds `train.lock` in the folder, so a second process on the same
 * experiment waits and then reuses the result instead of sharing `last.safetensors`.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { UsageError } from "../util/errors.ts";
import { deriveExperimentId, modelIdentity, type TrainConfig } from "../cli/train_options.ts";
import { type Dataset, loadDataset } from "../data/datasets.ts";
import { initMlp, type MlpParams, paramsToTensors, tensorsToParams } from "../model/mlp.ts";
import {
  CHECKSUM_KEY,
  dataChecksum,
  readSafetensors,
  type SafetensorsFile,
  writeSafetensors,
} from "../model/safetensors.ts";
import {
  ensureWritableDir,
  exists,
  readTextOrFail,
  withFileLock,
  writeFileAtomic,
  writeJsonAtomic,
} from "../util/files.ts";
import { destroySplit, type GpuSplit, uploadSplit } from "./gpu_mlp.ts";
import { gradualPruner } from "../prune/gradual.ts";
import { getPruneMethod } from "../prune/registry.ts";
import { sparsityOf } from "../sweep/measure.ts";
import { DivergedError, type EpochRecord, evaluateParams, trainMlp } from "./trainer.ts";
import { parseHistoryCsv, parseMetricsJson, type TrainMetrics, writeHistory } from "./records.ts";

export { type TrainMetrics, writeHistory } from "./records.ts";

/** Files of an experiment folder. */
export function experimentPaths(config: TrainConfig) {
  if (!config.experimentId) throw new Error("experimentPaths: the experiment id is not known yet");
  const dir = `${config.outputDir === "/" ? "" : config.outputDir}/${config.experimentId}`;
  return {
    dir,
    checkpoint: `${dir}/checkpoint.safetensors`,
    init: `${dir}/init.safetensors`,
    history: `${dir}/history.csv`,
    metrics: `${dir}/metrics.json`,
    trainingPng: `${dir}/training.png`,
    snapshot: (epoch: number) => `${dir}/epoch_${epoch}.safetensors`,
    masks: `${dir}/masks.safetensors`,
    last: `${dir}/last.safetensors`,
    best: `${dir}/best.safetensors`,
    trainLock: `${dir}/train.lock`,
    sweep: `${dir}/sweep.csv`,
  };
}

/** Layer widths of the configured model (784 inputs, 10 logits). */
export function modelSizes(config: TrainConfig, features = 784, classes = 10): number[] {
  return [features, ...config.hidden, classes];
}

/** Data of an experiment, uploaded once. */
export interface LoadedData {
  /** CPU copy of the splits. */
  data: Dataset;
  /** Training split on the GPU. */
  train: GpuSplit;
  /** Validation split on the GPU. */
  valid: GpuSplit;
  /** Test split on the GPU. */
  test: GpuSplit;
  /** Frees the GPU copies. */
  destroy(): void;
}

/**
 * Loads the configured dataset, records its fingerprint in `config` (and the experiment id derived
 * from it unless `--experiment-id` gave one), checks the batch fits the training split, and
 * uploads the splits.
 */
export async function loadData(gpu: GpuContext, config: TrainConfig): Promise<LoadedData> {
  const data = await loadDataset({
    dataset: config.dataset,
    dataDir: config.dataDir,
    numValid: config.numValid,
    seed: config.seed,
    limitTrain: config.limitTrain,
  });
  config.dataFingerprint = data.fingerprint;
  if (!config.experimentIdGiven) config.experimentId = deriveExperimentId(config);
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
    destroy() {
      destroySplit(train);
      if (valid !== train) destroySplit(valid);
      destroySplit(test);
    },
  };
}

/** A finished checkpoint read back and verified. */
export interface Checkpoint {
  /** The parameters (finite, of the configured shapes). */
  params: MlpParams;
  /** Its metadata (test accuracy, best epoch, configuration, `data_sha256`, …). */
  metadata: Record<string, string>;
}

/** What to tell a user whose saved file cannot be used. */
const RETRAIN_ADVICE = "pass --force-train to retrain, or delete it";

/**
 * Reads a wgprune safetensors file (checksum required and verified, weights finite, shapes as
 * configured); every problem is a one-line `UsageError` ending in what to do.
 */
async function readVerified(
  config: TrainConfig,
  path: string,
  sizes: number[],
): Promise<{ file: SafetensorsFile; params: MlpParams }> {
  try {
    const file = await readSafetensors(path, { requireChecksum: true });
    return { file, params: tensorsToParams(file.tensors, sizes, config.bias, path) };
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${err.message}; ${RETRAIN_ADVICE}`);
    throw err;
  }
}

/**
 * Explains why a saved file's configuration differs from this run's: other data (fingerprints
 * differ) or other settings (the first differing one is named).
 */
function identityMismatch(path: string, stored: string | undefined, config: TrainConfig): string {
  let old: Record<string, unknown> = {};
  try {
    old = JSON.parse(stored ?? "{}");
  } catch {
    // unreadable: reported as other settings below
  }
  const now = JSON.parse(modelIdentity(config)) as Record<string, unknown>;
  if (old.dataFingerprint !== now.dataFingerprint) {
    const a = String(old.dataFingerprint ?? "unknown").slice(0, 12);
    return `${path} was trained on other data (sha256 ${a}…; the data loaded now is ` +
      `${config.dataFingerprint.slice(0, 12)}…); ${RETRAIN_ADVICE}, or use another --experiment-id`;
  }
  const key = Object.keys({ ...old, ...now }).find((k) =>
    JSON.stringify(old[k]) !== JSON.stringify(now[k])
  );
  return `${path} was trained with other settings (${key ?? "configuration"}: ` +
    `${JSON.stringify(old[key ?? ""])} then, ${JSON.stringify(now[key ?? ""])} now); ` +
    `${RETRAIN_ADVICE}, or use another --experiment-id`;
}

/**
 * Reads the finished checkpoint of this experiment, or undefined if there is none. A checkpoint
 * that is corrupt, non-finite, or was trained on other data or settings is a `UsageError`.
 */
export async function readCheckpoint(
  config: TrainConfig,
  sizes: number[],
): Promise<Checkpoint | undefined> {
  const path = experimentPaths(config).checkpoint;
  if (!(await exists(path))) return undefined;
  const { file, params } = await readVerified(config, path, sizes);
  if (file.metadata.finished !== "true") return undefined;
  if (file.metadata.config !== modelIdentity(config)) {
    throw new UsageError(identityMismatch(path, file.metadata.config, config));
  }
  return { params, metadata: file.metadata };
}

/** Reads a saved snapshot (`init`, `epoch_E`) of this experiment for rewinding, verified. */
export async function readSnapshot(
  config: TrainConfig,
  path: string,
  sizes: number[],
): Promise<MlpParams> {
  const { file, params } = await readVerified(config, path, sizes);
  if (file.metadata.config !== modelIdentity(config)) {
    throw new UsageError(identityMismatch(path, file.metadata.config, config));
  }
  return params;
}

/** Writes parameters (with metadata) as safetensors; returns their data_sha256. */
export async function saveParams(
  path: string,
  params: MlpParams,
  metadata: Record<string, string>,
): Promise<string> {
  const tensors = paramsToTensors(params);
  await writeSafetensors(path, tensors, metadata);
  return dataChecksum(tensors);
}

/** A trained model: parameters, figures, and its checkpoint's data_sha256. */
export interface TrainedModel {
  /** Trained parameters. */
  params: MlpParams;
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
): Promise<TrainedModel> {
  const paths = experimentPaths(config);
  await ensureWritableDir(paths.dir);
  return await withFileLock(
    paths.trainLock,
    () => trainOrReuse(gpu, config, loaded),
    () => console.error(`train: another process is training ${paths.dir}; waiting for it`),
  );
}

async function trainOrReuse(
  gpu: GpuContext,
  config: TrainConfig,
  loaded: LoadedData,
): Promise<TrainedModel> {
  const paths = experimentPaths(config);
  const sizes = modelSizes(config, loaded.data.train.features);
  if (!config.forceTrain) {
    const cached = await readCheckpoint(config, sizes);
    if (cached) {
      const checksum = cached.metadata[CHECKSUM_KEY];
      const metrics = await reusedMetrics(gpu, config, loaded, cached);
      console.error(
        `train: reusing ${paths.checkpoint} (test accuracy ${
          (metrics.test_accuracy * 100).toFixed(2)
        }%); pass --force-train to retrain`,
      );
      return { params: cached.params, metrics, reused: true, checksum };
    }
  }
  const init = initMlp(sizes, config.bias, config.seed);
  const meta: Record<string, string> = {
    format: "wgprune-mlp",
    dataset: config.dataDir ? "custom" : config.dataset,
    data_sha256: config.dataFingerprint,
    sizes: JSON.stringify(init.sizes),
    bias: String(config.bias),
    config: modelIdentity(config),
  };
  const resume = config.forceTrain || config.gradual
    ? undefined
    : await findResumePoint(config, sizes);
  if (!resume) await saveParams(paths.init, init, { ...meta, finished: "true", kind: "init" });
  else {
    console.error(
      `train: resuming after epoch ${resume.epochsDone}/${config.epochs} from ${paths.last} ` +
        "(Adam's moments restart); pass --force-train to start over",
    );
  }
  const history: EpochRecord[] = [...(resume?.history ?? [])];
  const pruner = config.gradual
    ? gradualPruner(getPruneMethod(config.gradual.method), config.gradual.schedule, config.seed)
    : undefined;
  let outcome;
  try {
    outcome = await trainMlp(gpu, {
      params: resume?.params ?? init,
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
      onEpoch: async (record, params, best) => {
        history.push(record);
        await writeHistory(paths.history, history);
        // Resume points: the weights after this epoch and the best so far.
        const progress = { ...meta, finished: "false", epoch: String(record.epoch) };
        await saveParams(paths.last, await params(), { ...progress, kind: "last" });
        if (best && best.epoch === record.epoch) {
          await saveParams(paths.best, best.params, {
            ...progress,
            kind: "best",
            best_epoch: String(best.epoch),
            best_valid_accuracy: String(best.accuracy),
          });
        }
        // Snapshots for lottery-ticket rewinding to an early epoch (Frankle et al. 2020).
        if (record.epoch <= 2) {
          await saveParams(paths.snapshot(record.epoch), await params(), {
            ...meta,
            finished: "true",
            kind: `epoch ${record.epoch}`,
          });
        }
      },
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
  const test = await evaluateParams(gpu, outcome.params, loaded.test);
  let sparsity: number | undefined;
  if (pruner) {
    const masks = pruner.current() ??
      outcome.params.weights.map((w) => new Float32Array(w.length).fill(1));
    const tensors = new Map(masks.map((m, l) => [
      `layers.${l}.mask`,
      { shape: [init.sizes[l], init.sizes[l + 1]], data: m },
    ]));
    await writeSafetensors(paths.masks, tensors, { ...meta, kind: "masks" });
    sparsity = sparsityOf(outcome.params).sparsity;
    console.error(
      `train: gradual ${config.gradual!.method} pruning reached ${(sparsity * 100).toFixed(2)}% ` +
        `sparsity (target ${(config.gradual!.schedule.target * 100).toFixed(2)}%)`,
    );
  }
  const checkpointMeta = {
    ...meta,
    finished: "true",
    kind: "trained",
    test_accuracy: String(test.accuracy),
    test_loss: String(test.loss),
    best_epoch: String(outcome.bestEpoch),
    epochs: String(config.epochs),
    seconds_per_epoch: String(outcome.secondsPerEpoch),
    train_samples: String(loaded.data.train.count),
    adapter: `${gpu.adapter} via ${gpu.backend}`,
    ...(sparsity === undefined ? {} : { sparsity: String(sparsity) }),
  };
  const checksum = await saveParams(paths.checkpoint, outcome.params, checkpointMeta);
  const metrics = metricsOf(checkpointMeta, checksum);
  await writeJsonAtomic(paths.metrics, metrics);
  for (const done of [paths.last, paths.best]) await Deno.remove(done).catch(() => {});
  const { renderTrainingPng } = await import("../report/charts.ts");
  await writeFileAtomic(paths.trainingPng, await renderTrainingPng(history));
  console.error(
    `train: test accuracy ${(test.accuracy * 100).toFixed(2)}%, loss ${test.loss.toFixed(4)}, ` +
      `${outcome.secondsPerEpoch.toFixed(1)} s/epoch; wrote ${paths.dir}/`,
  );
  return { params: outcome.params, metrics, reused: false, checksum };
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
    const test = await evaluateParams(gpu, cached.params, loaded.test);
    meta.test_accuracy ??= String(test.accuracy);
    meta.test_loss ??= String(test.loss);
  }
  meta.epochs ??= String(config.epochs);
  meta.seconds_per_epoch ??= "0";
  meta.train_samples ??= String(loaded.data.train.count);
  meta.adapter ??= `${gpu.adapter} via ${gpu.backend}`;
  const metrics = metricsOf(meta, checksum);
  await writeJsonAtomic(paths.metrics, metrics);
  console.error(`train: rebuilt ${paths.metrics} from ${paths.checkpoint}`);
  return metrics;
}

/**
 * A resume point of an interrupted run of the same configuration: `last.safetensors` (weights
 * after the last finished epoch), the history so far and `best.safetensors`. Files of other
 * settings are ignored (training starts over and replaces them); corrupt ones are an error.
 */
async function findResumePoint(config: TrainConfig, sizes: number[]) {
  const paths = experimentPaths(config);
  if (!(await exists(paths.last)) || !(await exists(paths.history))) return undefined;
  const last = await readVerified(config, paths.last, sizes);
  const epochsDone = Number(last.file.metadata.epoch);
  if (last.file.metadata.config !== modelIdentity(config)) {
    console.error(`train: ${paths.last} belongs to other settings; training starts over`);
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
    const file = await readVerified(config, paths.best, sizes);
    best = {
      accuracy: Number(file.file.metadata.best_valid_accuracy),
      epoch: Number(file.file.metadata.best_epoch),
      params: file.params,
    };
  }
  return { epochsDone, history, best, params: last.params };
}
