/**
 * One experiment folder, `<output-dir>/<id>/`: trains (or reuses the finished checkpoint),
 * evaluates on the test set, and writes checkpoint.safetensors, init.safetensors, history.csv,
 * metrics.json and training.png, each atomically.
 *
 * @module
 */

import { stringify } from "csv-stringify/sync";
import { parse } from "csv-parse/sync";
import type { GpuContext } from "../gpu/device.ts";
import { UsageError } from "../cli/errors.ts";
import type { TrainConfig } from "../cli/train_options.ts";
import { type Dataset, loadDataset } from "../data/datasets.ts";
import { initMlp, type MlpParams, paramsToTensors, tensorsToParams } from "../model/mlp.ts";
import { readSafetensors, writeSafetensors } from "../model/safetensors.ts";
import { exists, writeFileAtomic, writeJsonAtomic } from "../io/files.ts";
import { destroySplit, type GpuSplit, uploadSplit } from "./gpu_mlp.ts";
import { gradualPruner } from "../prune/gradual.ts";
import { getPruneMethod } from "../prune/registry.ts";
import { sparsityOf } from "../sweep/measure.ts";
import { DivergedError, type EpochRecord, evaluateParams, trainMlp } from "./trainer.ts";

/** Files of an experiment folder. */
export function experimentPaths(config: TrainConfig) {
  const dir = `${config.outputDir.replace(/\/$/, "")}/${config.experimentId}`;
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

/** Loads the configured dataset and uploads its splits. */
export async function loadData(gpu: GpuContext, config: TrainConfig): Promise<LoadedData> {
  const data = await loadDataset({
    dataset: config.dataset,
    dataDir: config.dataDir,
    numValid: config.numValid,
    seed: config.seed,
    limitTrain: config.limitTrain,
  });
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

/** Metrics written to metrics.json. */
export interface TrainMetrics {
  /** Test-set accuracy of the kept parameters. */
  test_accuracy: number;
  /** Test-set mean cross-entropy. */
  test_loss: number;
  /** Epochs trained. */
  epochs: number;
  /** Epoch whose parameters were kept. */
  best_epoch: number;
  /** Mean seconds per epoch of training steps. */
  seconds_per_epoch: number;
  /** Training samples per epoch. */
  train_samples: number;
  /** Adapter that ran the training. */
  adapter: string;
  /** The configuration. */
  config: TrainConfig;
  /** Sparsity of the prunable layers reached by gradual pruning (absent without it). */
  sparsity?: number;
}

/** Reads a finished checkpoint of this experiment, or undefined if there is none. */
export async function readCheckpoint(
  config: TrainConfig,
  path = experimentPaths(config).checkpoint,
): Promise<{ params: MlpParams; metadata: Record<string, string> } | undefined> {
  if (!(await exists(path))) return undefined;
  const file = await readSafetensors(path);
  if (file.metadata.finished !== "true") return undefined;
  const params = tensorsToParams(file.tensors, modelSizes(config), config.bias, path);
  return { params, metadata: file.metadata };
}

/** Writes parameters (with metadata) as safetensors. */
export function saveParams(
  path: string,
  params: MlpParams,
  metadata: Record<string, string>,
): Promise<void> {
  return writeSafetensors(path, paramsToTensors(params), metadata);
}

/** Column order of history.csv. */
export const HISTORY_COLUMNS: (keyof EpochRecord)[] = [
  "epoch",
  "train_loss",
  "train_accuracy",
  "valid_loss",
  "valid_accuracy",
  "seconds",
];

/** Writes a training history as CSV (atomically). */
export function writeHistory(path: string, history: EpochRecord[]): Promise<void> {
  return writeFileAtomic(path, stringify(history, { header: true, columns: HISTORY_COLUMNS }));
}

/**
 * Trains the configured model unless a finished checkpoint exists (and `forceTrain` is off);
 * returns the parameters either way.
 */
export async function ensureTrained(
  gpu: GpuContext,
  config: TrainConfig,
  loaded: LoadedData,
): Promise<{ params: MlpParams; metrics: TrainMetrics; reused: boolean }> {
  const paths = experimentPaths(config);
  try {
    await Deno.mkdir(paths.dir, { recursive: true });
  } catch (err) {
    throw new UsageError(`cannot create ${paths.dir} (${(err as Error).message})`);
  }
  if (!config.forceTrain) {
    const cached = await readCheckpoint(config);
    if (cached && await exists(paths.metrics)) {
      const metrics = JSON.parse(await Deno.readTextFile(paths.metrics)) as TrainMetrics;
      console.error(
        `train: reusing ${paths.checkpoint} (test accuracy ${
          (metrics.test_accuracy * 100).toFixed(2)
        }%); pass --force-train to retrain`,
      );
      return { params: cached.params, metrics, reused: true };
    }
  }
  const sizes = modelSizes(config, loaded.data.train.features);
  const init = initMlp(sizes, config.bias, config.seed);
  const meta = {
    format: "wgprune-mlp",
    dataset: loaded.data.name,
    sizes: JSON.stringify(init.sizes),
    bias: String(config.bias),
    config: JSON.stringify(config),
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
  const metrics: TrainMetrics = {
    test_accuracy: test.accuracy,
    test_loss: test.loss,
    epochs: config.epochs,
    best_epoch: outcome.bestEpoch,
    seconds_per_epoch: outcome.secondsPerEpoch,
    train_samples: loaded.data.train.count,
    adapter: `${gpu.adapter} via ${gpu.backend}`,
    config,
    sparsity,
  };
  await saveParams(paths.checkpoint, outcome.params, {
    ...meta,
    finished: "true",
    kind: "trained",
    test_accuracy: String(test.accuracy),
    test_loss: String(test.loss),
    best_epoch: String(outcome.bestEpoch),
  });
  await writeJsonAtomic(paths.metrics, metrics);
  for (const done of [paths.last, paths.best]) await Deno.remove(done).catch(() => {});
  const { renderTrainingPng } = await import("../report/charts.ts");
  await writeFileAtomic(paths.trainingPng, await renderTrainingPng(history));
  console.error(
    `train: test accuracy ${(test.accuracy * 100).toFixed(2)}%, loss ${test.loss.toFixed(4)}, ` +
      `${outcome.secondsPerEpoch.toFixed(1)} s/epoch; wrote ${paths.dir}/`,
  );
  return { params: outcome.params, metrics, reused: false };
}

/**
 * A resume point of an interrupted run of the same configuration: `last.safetensors` (weights
 * after the last finished epoch), the history so far and `best.safetensors`.
 */
async function findResumePoint(config: TrainConfig, sizes: number[]) {
  const paths = experimentPaths(config);
  if (!(await exists(paths.last)) || !(await exists(paths.history))) return undefined;
  const last = await readSafetensors(paths.last);
  const sameConfig = (stored: string | undefined) => {
    if (!stored) return false;
    const { forceTrain: _a, ...a } = JSON.parse(stored) as TrainConfig;
    const { forceTrain: _b, ...b } = config;
    return JSON.stringify(a) === JSON.stringify(b);
  };
  const epochsDone = Number(last.metadata.epoch);
  if (!sameConfig(last.metadata.config) || !(epochsDone >= 1 && epochsDone < config.epochs)) {
    return undefined;
  }
  const rows = parse(await Deno.readTextFile(paths.history), { columns: true }) as Record<
    string,
    string
  >[];
  const history: EpochRecord[] = rows.slice(0, epochsDone).map((r) => ({
    epoch: Number(r.epoch),
    train_loss: Number(r.train_loss),
    train_accuracy: Number(r.train_accuracy),
    valid_loss: Number(r.valid_loss),
    valid_accuracy: Number(r.valid_accuracy),
    seconds: Number(r.seconds),
  }));
  if (history.length !== epochsDone) return undefined;
  let best;
  if (await exists(paths.best)) {
    const file = await readSafetensors(paths.best);
    best = {
      accuracy: Number(file.metadata.best_valid_accuracy),
      epoch: Number(file.metadata.best_epoch),
      params: tensorsToParams(file.tensors, sizes, config.bias, paths.best),
    };
  }
  return {
    epochsDone,
    history,
    best,
    params: tensorsToParams(last.tensors, sizes, config.bias, paths.last),
  };
}
