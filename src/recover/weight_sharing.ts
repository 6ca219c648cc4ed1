/**
 * Trained weight sharing after recovery (Han et al. 2016, "Deep Compression", section 3): the
 * pruned point's weight tensors are clustered into 2^B shared values, then the codebooks (not
 * the weights) are fine-tuned for `epochs` with the pruning masks held, so pruned weights stay
 * exactly 0 and no weight changes cluster. Runs after any recovery strategy.
 *
 * @module
 */

import type { Model } from "../model/network.ts";
import type { Masks } from "../model/masks.ts";
import {
  codebooksOf,
  decodeShared,
  type QuantizeBits,
  type SharedWeights,
  shareWeights,
} from "../quant/weight_sharing.ts";
import { type EpochRecord, trainModel } from "../train/trainer.ts";
import type { RecoveryContext } from "./strategy.ts";

/** `--quantize-bits`, `--quantize-epochs`, `--quantize-lr`. */
export interface QuantizeOptions {
  /** Cluster-index bits by layer kind. */
  bits: QuantizeBits;
  /** Epochs of centroid fine-tuning (0: cluster only). */
  epochs: number;
  /** Adam learning rate of the centroids. */
  lr: number;
}

/** The weight-shared model (dense, rebuilt from the codebooks) and its sharing. */
export interface SharedResult {
  /** The model with every shared tensor rebuilt from its trained codebook. */
  model: Model;
  /** Codebooks and cluster indices. */
  shared: SharedWeights;
}

/**
 * Clusters `model` (masks applied) and fine-tunes the centroids; the epochs are appended to
 * `history` (numbered on from it), keeping the best validation epoch.
 */
export async function shareAndRetrain(
  ctx: Pick<RecoveryContext, "gpu" | "data" | "training" | "progress" | "log">,
  model: Model,
  masks: Masks,
  options: QuantizeOptions,
  history: EpochRecord[],
): Promise<SharedResult> {
  const clustered = shareWeights(model, masks, options.bits);
  const start = decodeShared(model, clustered);
  if (options.epochs <= 0) return { model: start, shared: clustered };
  const outcome = await trainModel(ctx.gpu, {
    model: start,
    train: ctx.data.train,
    valid: ctx.data.valid,
    epochs: options.epochs,
    batchSize: ctx.training.batchSize,
    adam: { lr: options.lr },
    seed: ctx.training.seed + 1000 + history.length,
    keepBest: true,
    masks,
    shared: clustered,
    label: "weight sharing",
    progress: ctx.progress,
    log: ctx.log,
  });
  history.push(...outcome.history.map((r) => ({ ...r, epoch: history.length + r.epoch })));
  return { model: outcome.model, shared: codebooksOf(outcome.model, clustered) };
}
