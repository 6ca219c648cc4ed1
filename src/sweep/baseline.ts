/**
 * The small-dense baseline (`--baseline small-dense`): for each sparsity level k, a dense network
 * whose hidden widths are (1 − k) of the trained one's, trained from scratch for the experiment's
 * epochs with its settings — what unit pruning at k must beat to be worth doing (Liu et al.
 * 2019, "Rethinking the Value of Network Pruning"; the pruning challenge compared by hand). Each
 * becomes a sweep.csv row, method `small-dense`, strategy `scratch`, plotted beside unit pruning.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { median } from "../util/stats.ts";
import { type ProgressFactory, SILENT_PROGRESS } from "../util/progress.ts";
import { hiddenWidths, initModel, type Model, scaledSpec } from "../model/network.ts";
import { prunableParams } from "../model/masks.ts";
import { sizeOf } from "../model/tensor.ts";
import { GpuNetwork } from "../train/gpu_network.ts";
import { trainModel } from "../train/trainer.ts";
import type { DataSplits, GpuSplit } from "../train/splits.ts";
import type { TrainingSettings } from "../recover/strategy.ts";
import { compressedSizes, gzipBytes, timeForward } from "./measure.ts";
import { pointKey } from "./point_id.ts";
import { NO_COMPRESSION_FIGURES, readModelRows, type SweepRow, updateSweep } from "./results.ts";

/** Method name of the baseline's rows. */
export const SMALL_DENSE = "small-dense";

/** What the baseline needs. */
export interface BaselineJob {
  /** The trained (full-width) model. */
  trained: Model;
  /** Its id (sweep.csv's `model`). */
  model: string;
  /** Data on the GPU. */
  data: DataSplits;
  /** Levels k in percent (0 is skipped: it is the trained model). */
  ks: number[];
  /** `--prune-params`: which weights count towards `sparsity`. */
  pruneParams: string;
  /** The experiment's training settings, reused for every small network. */
  training: TrainingSettings;
  /** sweep.csv. */
  csvPath: string;
  /** Recompute rows already there. */
  force: boolean;
  /** Forward passes timed. */
  inferRepeats: number;
  /** Progress of training epochs. */
  progress?: ProgressFactory;
  /** Epoch summaries. */
  log?: (line: string) => void;
  /**
   * A sharded sweep's share: only the levels `select` accepts are trained, into `csvPath` (the
   * shard's file); rows of `mergedCsvPath` (sweep.csv) count as done.
   */
  shard?: { select: (k: number) => boolean; mergedCsvPath: string };
}

/** Parameters of a model's prunable tensors under `pattern`. */
function prunableCount(model: Model, pattern: string): number {
  return prunableParams(model.spec, pattern).reduce(
    (n, name) => n + model.params.get(name)!.data.length,
    0,
  );
}

/**
 * Test accuracy and loss of `model` from one pass (which also warms up its kernels), then the
 * median time of `repeats` more.
 */
async function measured(gpu: GpuContext, model: Model, split: GpuSplit, repeats: number) {
  const net = await GpuNetwork.create(gpu, model, { batch: 1, evalBatch: 1000, adam: { lr: 0 } });
  try {
    const test = await net.evaluate(split);
    return { test, ms: median(await timeForward(net, split, repeats)) };
  } finally {
    net.destroy();
  }
}

/**
 * The identifying fields of the baseline's rows of the trained model `model` (every field of a
 * point but k): trained from scratch for the experiment's epochs at its learning rate.
 */
export function smallDenseFields(model: string, training: TrainingSettings, pruneParams: string) {
  return {
    ...NO_COMPRESSION_FIGURES,
    model,
    method: SMALL_DENSE,
    strategy: "scratch",
    finetune_epochs: training.epochs,
    recovery_lr: training.learningRate,
    steps: 0,
    prune_params: pruneParams,
    rewind: "none",
  };
}

/** Trains and measures the small dense networks; merges their rows into sweep.csv. */
export async function runSmallDenseBaseline(gpu: GpuContext, job: BaselineJob): Promise<void> {
  const t = job.training;
  const base = smallDenseFields(job.model, t, job.pruneParams);
  const existing = new Set((await updateSweep(job.csvPath, () => undefined)).map(pointKey));
  if (job.shard) {
    for (const row of await readModelRows(job.shard.mergedCsvPath, job.model)) {
      existing.add(pointKey(row));
    }
  }
  const levels = job.ks.filter((k) => k > 0 && (job.shard?.select(k) ?? true));
  if (levels.every((k) => !job.force && existing.has(pointKey({ ...base, k })))) return;
  const denseMs = (await measured(gpu, job.trained, job.data.test, job.inferRepeats)).ms;
  const fullPrunable = prunableCount(job.trained, job.pruneParams);
  const fullParams = [...job.trained.params.values()].reduce((n, p) => n + p.data.length, 0);
  const denseBytes = 4 * fullParams;
  for (const k of levels) {
    if (!job.force && existing.has(pointKey({ ...base, k }))) continue;
    const spec = scaledSpec(job.trained.spec, 1 - k / 100);
    const outcome = await trainModel(gpu, {
      model: initModel(spec, t.seed, t.init),
      train: job.data.train,
      valid: job.data.valid,
      epochs: t.epochs,
      batchSize: t.batchSize,
      adam: { lr: t.learningRate },
      seed: t.seed,
      keepBest: true,
      label: `${SMALL_DENSE} ${hiddenWidths(spec).join("-")}`,
      progress: job.progress ?? SILENT_PROGRESS,
      log: job.log,
    });
    const small = outcome.model;
    const { test, ms: smallMs } = await measured(gpu, small, job.data.test, job.inferRepeats);
    const params = [...small.params.values()].reduce((n, p) => n + sizeOf(p.shape), 0);
    const sizes = compressedSizes(small);
    const gz = gzipBytes(small);
    const row: SweepRow = {
      ...base,
      k,
      sparsity: 1 - prunableCount(small, job.pruneParams) / fullPrunable,
      sparsity_total: 1 - params / fullParams,
      accuracy: test.accuracy,
      loss: test.loss,
      nonzeros: params,
      infer_ms: denseMs,
      compact_hidden: hiddenWidths(spec).join("-"),
      infer_compact_ms: smallMs,
      infer_sparse_ms: smallMs,
      speedup: denseMs / smallMs,
      infer_path: "d".repeat(hiddenWidths(spec).length + 1),
      gzip_bytes: gz,
      compression: gzipBytes(job.trained) / gz,
      detail: "",
      accuracy_f32: test.accuracy,
      ...sizes,
      // Sizes against the full network's dense bytes, as every other row's.
      bytes_dense: denseBytes,
      compression_dc: denseBytes / sizes.bytes_huffman,
    };
    // Non-zeros of each weight, `nonzeros_<p>` as in every row: all of the small network's.
    for (const [name, t] of small.params) {
      const m = name.match(/^layers\.(\d+)\.weight$/);
      if (m) row[`nonzeros_${m[1]}`] = t.data.length;
    }
    await updateSweep(job.csvPath, ({ rows }) => [
      ...rows.filter((r) => pointKey(r) !== pointKey(row)),
      row,
    ]);
    job.log?.(
      `${SMALL_DENSE} k=${k}% (${row.compact_hidden}): test accuracy ${
        (test.accuracy * 100).toFixed(2)
      }%`,
    );
  }
}
