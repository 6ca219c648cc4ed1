/**
 * The small-dense baseline (`--baseline small-dense`): for each sparsity level k, a dense network
 * whose hidden widths are (1 − k) of the trained one's, trained from scratch for the experiment's
 * epochs with its settings — what unit pruning at k must beat to be worth doing (Liu et al.
 * 2019, "Rethinking the Value of Network Pruning"; the pruning challenge compared by hand). Each
 * is a second kind of sweep point, method `small-dense`, strategy `scratch`, recorded like the
 * pruned ones and plotted beside unit pruning.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { median } from "../util/stats.ts";
import { SILENT_PROGRESS } from "../util/progress.ts";
import { hiddenWidths, initModel, type Model, scaledSpec } from "../model/network.ts";
import { prunableParams } from "../model/masks.ts";
import { sizeOf } from "../model/tensor.ts";
import { createInferenceNetwork } from "../train/inference_network.ts";
import { trainModel } from "../train/trainer.ts";
import type { TrainingSettings } from "../recover/strategy.ts";
import { compressedSizes, gzipBytes, timeForward } from "./measure.ts";
import { PointId } from "./point_id.ts";
import { NO_COMPRESSION_FIGURES, type SweepRow } from "./results.ts";
import type { DenseReference, PointOutcome, SweepJob, SweepPoint } from "./job.ts";

/** Method name of the baseline's rows. */
export const SMALL_DENSE = "small-dense";

/** Parameters of a model's prunable tensors under `pattern`. */
function prunableCount(model: Model, pattern: string): number {
  return prunableParams(model.spec, pattern).reduce(
    (n, name) => n + model.params.get(name)!.data.length,
    0,
  );
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

/** The small network of level k trained from scratch. */
async function trainSmall(gpu: GpuContext, job: SweepJob, k: number): Promise<Model> {
  const t = job.training;
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
  return outcome.model;
}

/** Trains and measures the small dense network of level k. */
async function computeSmallDense(
  gpu: GpuContext,
  job: SweepJob,
  k: number,
  dense: DenseReference,
): Promise<PointOutcome> {
  const small = await trainSmall(gpu, job, k);
  const net = await createInferenceNetwork(gpu, small);
  let test;
  let smallMs;
  try {
    test = await net.evaluate(job.data.test); // also the warm-up of the timed passes
    smallMs = median(await timeForward(net, job.data.test, job.inferRepeats));
  } finally {
    net.destroy();
  }
  const fullParams = [...job.trained.params.values()].reduce((n, p) => n + p.data.length, 0);
  const params = [...small.params.values()].reduce((n, p) => n + sizeOf(p.shape), 0);
  const sizes = compressedSizes(small);
  const gz = gzipBytes(small);
  const hidden = hiddenWidths(small.spec);
  const row: SweepRow = {
    ...smallDenseFields(job.model, job.training, job.pruneParams),
    k,
    sparsity: 1 -
      prunableCount(small, job.pruneParams) / prunableCount(job.trained, job.pruneParams),
    sparsity_total: 1 - params / fullParams,
    accuracy: test.accuracy,
    loss: test.loss,
    nonzeros: params,
    infer_ms: dense.ms,
    compact_hidden: hidden.join("-"),
    infer_compact_ms: smallMs,
    infer_sparse_ms: smallMs,
    speedup: dense.ms / smallMs,
    infer_path: "d".repeat(hidden.length + 1),
    gzip_bytes: gz,
    compression: dense.gzip / gz,
    detail: "",
    accuracy_f32: test.accuracy,
    ...sizes,
    // Sizes against the full network's dense bytes, as every other row's.
    bytes_dense: 4 * fullParams,
    compression_dc: (4 * fullParams) / sizes.bytes_huffman,
  };
  // Non-zeros of each weight, `nonzeros_<p>` as in every row: all of the small network's.
  for (const [name, t] of small.params) {
    const layer = name.match(/^layers\.(\d+)\.weight$/);
    if (layer) row[`nonzeros_${layer[1]}`] = t.data.length;
  }
  job.log?.(
    `${SMALL_DENSE} k=${k}% (${row.compact_hidden}): test accuracy ${
      (test.accuracy * 100).toFixed(2)
    }%`,
  );
  return { row, history: [], report: "" };
}

/** The levels the baseline trains at: every k but 0 (the trained model itself). */
export function baselineLevels(ks: readonly number[]): number[] {
  return ks.filter((k) => k > 0);
}

/** The baseline's points of a job: one per k > 0, each trained from scratch. */
export function smallDensePoints(job: SweepJob): SweepPoint[] {
  const base = smallDenseFields(job.model, job.training, job.pruneParams);
  return baselineLevels(job.ks).map((k) => ({
    method: SMALL_DENSE,
    k,
    id: new PointId({ ...base, k }),
    exports: false,
    compute: (gpu, dense) => computeSmallDense(gpu, job, k, dense),
  }));
}
