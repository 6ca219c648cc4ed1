/**
 * Gradient-based pruning scores on the GPU: a scoring pass runs forward and backward over
 * `batches` training batches of a frozen copy of the model (no update), each step adding
 * |w ⊙ ∂L/∂w| to a score buffer per prunable parameter (src/kernels/scores.ts); one submit, one
 * readback.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import type { Model } from "../model/network.ts";
import { paramInfos } from "../model/network.ts";
import type { GradientScorer } from "../prune/method.ts";
import { createRng, permutation } from "../util/rng.ts";
import { GpuNetwork } from "./gpu_network.ts";
import { type DataSplits, destroySplit, uploadSplit } from "./splits.ts";
import type { Masks } from "../model/masks.ts";
import { sizeOf } from "../model/tensor.ts";

/** What a scorer needs. */
export interface ScorerOptions {
  /** Samples per batch. */
  batchSize: number;
  /** Batches summed per score. */
  batches: number;
  /** Seed of the batches' sample order. */
  seed: number;
  /** Loads the experiment's initial weights. */
  init: () => Promise<Model>;
}

/**
 * Σ over `batches` batches of |w ⊙ ∂L/∂w| for the `prunable` parameters of `model`, on the
 * training split, in a seeded order.
 */
export async function taylorScores(
  gpu: GpuContext,
  data: DataSplits,
  model: Model,
  prunable: readonly string[],
  options: Omit<ScorerOptions, "init">,
): Promise<Map<string, Float32Array>> {
  const net = await GpuNetwork.create(gpu, model, {
    batch: options.batchSize,
    evalBatch: options.batchSize,
    adam: { lr: 0 },
    frozen: new Set(paramInfos(model.spec).map((p) => p.name)),
    scored: prunable,
  });
  try {
    await net.bindTrain(data.train);
    net.startEpoch(permutation(createRng(options.seed ^ 0x5c0e), data.train.count));
    const steps = Math.min(options.batches, net.stepsPerEpoch);
    for (let done = 0; done < steps; done += 16) net.trainSteps(Math.min(16, steps - done));
    return await net.readScores();
  } finally {
    net.destroy();
  }
}

/**
 * One round of SynFlow's scores (Tanaka et al. 2020, "Pruning neural networks without any data
 * by iteratively conserving synaptic flow"): every parameter replaced by |θ| and masked, one
 * all-ones input, R = Σ logits, and the scores |θ ⊙ ∂R/∂θ| of the `prunable` parameters.
 */
export async function synflowScores(
  gpu: GpuContext,
  model: Model,
  prunable: readonly string[],
  masks: Masks,
): Promise<Map<string, Float32Array>> {
  const positive: Model = {
    spec: model.spec,
    params: new Map(
      [...model.params].map(([name, t]) => {
        const mask = masks.get(name);
        const data = t.data.map((v, i) => (mask && mask[i] === 0 ? 0 : Math.abs(v)));
        return [name, { shape: [...t.shape], data }];
      }),
    ),
  };
  const features = sizeOf(model.spec.input);
  const ones = uploadSplit(gpu, {
    count: 1,
    features,
    pixels: new Uint8Array(features).fill(255), // 255 / 255 = 1.0 after the gather
    labels: new Uint8Array(1),
  }, "synflow-ones");
  const net = await GpuNetwork.create(gpu, positive, {
    batch: 1,
    evalBatch: 1,
    adam: { lr: 0 },
    frozen: new Set(paramInfos(model.spec).map((p) => p.name)),
    scored: prunable,
    objective: "sum",
  });
  try {
    await net.bindTrain(ones);
    net.startEpoch(new Uint32Array(1));
    net.trainSteps(1);
    return await net.readScores();
  } finally {
    net.destroy();
    destroySplit(ones);
  }
}

/** The GPU scorer of a sweep. */
export function gpuScorer(
  gpu: GpuContext,
  data: DataSplits,
  options: ScorerOptions,
): GradientScorer {
  return {
    taylor: (model, prunable) => taylorScores(gpu, data, model, prunable, options),
    synflow: (model, prunable, masks) => synflowScores(gpu, model, prunable, masks),
    init: options.init,
  };
}
