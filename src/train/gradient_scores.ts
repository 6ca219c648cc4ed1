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
import { type DataSplits, destroySplit, type GpuSplit, uploadSplit } from "./splits.ts";
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
 * SynFlow's scoring network for one model (Tanaka et al. 2020, "Pruning neural networks without
 * any data by iteratively conserving synaptic flow"): every parameter replaced by |θ|, one
 * all-ones input, R = Σ logits. Built once and reused by every round: each round uploads |θ|
 * again, applies its masks and reads |θ ⊙ ∂R/∂θ| of the prunable parameters back.
 */
export class SynflowSession {
  readonly #net: GpuNetwork;
  readonly #ones: GpuSplit;
  readonly #positive: Model;

  private constructor(net: GpuNetwork, ones: GpuSplit, positive: Model) {
    this.#net = net;
    this.#ones = ones;
    this.#positive = positive;
  }

  /** Builds the network of |θ| of `model`, scoring the `prunable` parameters. */
  static async open(
    gpu: GpuContext,
    model: Model,
    prunable: readonly string[],
  ): Promise<SynflowSession> {
    const positive: Model = {
      spec: model.spec,
      params: new Map(
        [...model.params].map(([name, t]) => [name, {
          shape: [...t.shape],
          data: t.data.map(Math.abs),
        }]),
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
      frozen: new Set(paramInfos(model.spec).map((p) => p.name)),
      scored: prunable,
      objective: "sum",
    });
    await net.bindTrain(ones);
    return new SynflowSession(net, ones, positive);
  }

  /** One round's scores with `masks` applied to |θ| (pruned entries 0). */
  async scores(masks: Masks): Promise<Map<string, Float32Array>> {
    this.#net.setParams(this.#positive);
    this.#net.setMasks(masks);
    this.#net.resetScores();
    this.#net.startEpoch(new Uint32Array(1));
    this.#net.trainSteps(1);
    return await this.#net.readScores();
  }

  /** Frees the network and the input. */
  close(): void {
    this.#net.destroy();
    destroySplit(this.#ones);
  }
}

/** One round of SynFlow's scores on a session of its own (see `SynflowSession`). */
export async function synflowScores(
  gpu: GpuContext,
  model: Model,
  prunable: readonly string[],
  masks: Masks,
): Promise<Map<string, Float32Array>> {
  const session = await SynflowSession.open(gpu, model, prunable);
  try {
    return await session.scores(masks);
  } finally {
    session.close();
  }
}

/** The GPU scorer of a sweep. */
export function gpuScorer(
  gpu: GpuContext,
  data: DataSplits,
  options: ScorerOptions,
): GradientScorer {
  // The rounds of one SynFlow preparation share one network (same model and parameters).
  let open: { model: Model; prunable: readonly string[]; session: SynflowSession } | undefined;
  const release = () => {
    open?.session.close();
    open = undefined;
  };
  return {
    taylor: (model, prunable) => taylorScores(gpu, data, model, prunable, options),
    async synflow(model, prunable, masks) {
      if (open?.model !== model || open.prunable !== prunable) {
        release();
        open = { model, prunable, session: await SynflowSession.open(gpu, model, prunable) };
      }
      return await open.session.scores(masks);
    },
    release,
    init: options.init,
  };
}
