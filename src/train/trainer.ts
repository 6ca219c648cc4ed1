/**
 * The epoch loop: shuffles, encodes many steps per submit, reads loss and accuracy back a few
 * times per epoch for the progress bar, evaluates validation once per epoch, keeps the best
 * weights, and stops cleanly if the loss stops being finite.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { cloneModel, type Model } from "../model/network.ts";
import type { Masks } from "../model/masks.ts";
import { createRng, permutation } from "../util/rng.ts";
import { type ProgressFactory, SILENT_PROGRESS } from "../util/progress.ts";
import { type EvalResult, GpuNetwork } from "./gpu_network.ts";
import type { GpuSplit } from "./splits.ts";
import { createInferenceNetwork } from "./inference_network.ts";
import type { AdamConfig } from "../kernels/adam.ts";
import type { SharedWeights } from "../quant/weight_sharing.ts";
import type { ScoreMode } from "../kernels/scores.ts";

/** One row of `history.csv`. */
export interface EpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean training loss over the epoch's steps. */
  train_loss: number;
  /** Training accuracy over the epoch's steps. */
  train_accuracy: number;
  /** Validation loss after the epoch. */
  valid_loss: number;
  /** Validation accuracy after the epoch. */
  valid_accuracy: number;
  /** Wall-clock seconds of the epoch's training steps. */
  seconds: number;
}

/** Raised when the loss becomes NaN or infinite. */
export class DivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DivergedError";
  }
}

/** What a training run needs. */
export interface TrainJob {
  /** Starting model. */
  model: Model;
  /** Training split on the GPU. */
  train: GpuSplit;
  /** Validation split on the GPU (optional: without it the last epoch is kept). */
  valid?: GpuSplit;
  /** Epochs to run. */
  epochs: number;
  /** Samples per step. */
  batchSize: number;
  /** Adam hyper-parameters. */
  adam: AdamConfig;
  /** Seed of the per-epoch shuffles. */
  seed: number;
  /** Keep the parameters of the best validation epoch. */
  keepBest: boolean;
  /** Masks (0/1 by parameter name) held fixed during training. */
  masks?: Masks;
  /** Parameters not updated, by name. */
  frozen?: ReadonlySet<string>;
  /**
   * Weight-shared tensors: their codebooks are trained instead of their weights (trained
   * quantisation, src/quant/weight_sharing.ts).
   */
  shared?: SharedWeights;
  /**
   * Called after each epoch with the record, the current model and the best so far (e.g. to
   * save snapshots and resume points).
   */
  onEpoch?: (
    record: EpochRecord,
    model: () => Promise<Model>,
    best?: BestEpoch,
  ) => Promise<void>;
  /**
   * Called every `everySteps` steps with the global step, to change masks mid-training
   * (gradual pruning). Returns new masks, or undefined to keep them.
   */
  maskSchedule?: {
    everySteps: number;
    update: (
      step: number,
      model: () => Promise<Model>,
      scores: () => Promise<Map<string, Float32Array>>,
    ) => Promise<Masks | undefined>;
  };
  /**
   * Scores accumulated over every step of the run (src/kernels/scores.ts), e.g. movement
   * pruning's −w ⊙ g: read by `maskSchedule` and returned in the outcome.
   */
  scored?: { names: readonly string[]; mode: ScoreMode };
  /** Parameters trained by dynamic network surgery (see `GpuNetworkOptions.surgery`). */
  surgery?: ReadonlySet<string>;
  /**
   * Resume after this many finished epochs (their records and the best parameters so far);
   * the shuffles of the skipped epochs are drawn and discarded so the run stays seeded.
   */
  resume?: {
    epochsDone: number;
    history: EpochRecord[];
    best?: BestEpoch;
  };
  /** Progress label (e.g. "train" or "finetune 95%"). */
  label?: string;
  /** Progress display of each epoch's steps (default: none). */
  progress?: ProgressFactory;
  /** Receives one summary line per epoch (default: none). */
  log?: (line: string) => void;
  /** Called once the network is built and bound (bench reads its dispatch count). */
  onNetwork?: (net: GpuNetwork) => void;
}

/** The epoch with the best validation accuracy so far and its model. */
export interface BestEpoch {
  /** Validation accuracy. */
  accuracy: number;
  /** 1-based epoch. */
  epoch: number;
  /** The model after that epoch. */
  model: Model;
}

/** Result of a training run. */
export interface TrainOutcome {
  /** Final (or best) model. */
  model: Model;
  /** One record per epoch. */
  history: EpochRecord[];
  /** Epoch whose parameters were kept. */
  bestEpoch: number;
  /** Mean seconds per epoch of training steps. */
  secondsPerEpoch: number;
  /** The scores of `TrainJob.scored`, accumulated over the whole run. */
  scores?: Map<string, Float32Array>;
}

/** Steps encoded per submit: large enough to hide the ~10 ms submit/readback cost. */
const STEPS_PER_SUBMIT = 16;

/**
 * Trains on the GPU. Masks, when given, are applied before the first step and held by the
 * masked Adam kernel.
 */
export async function trainModel(gpu: GpuContext, job: TrainJob): Promise<TrainOutcome> {
  const net = await GpuNetwork.create(gpu, job.model, {
    batch: job.batchSize,
    evalBatch: 1000,
    adam: job.adam,
    frozen: job.frozen,
    shared: job.shared,
    scored: job.scored?.names,
    scoreMode: job.scored?.mode,
    surgery: job.surgery,
  });
  try {
    if (job.masks) net.setMasks(job.masks);
    await net.bindTrain(job.train);
    job.onNetwork?.(net);
    const steps = net.stepsPerEpoch;
    if (steps < 1) {
      throw new DivergedError(
        `training split has ${job.train.count} samples, fewer than one batch of ${job.batchSize}`,
      );
    }
    const rng = createRng(job.seed ^ 0xabcdef);
    const history: EpochRecord[] = [...(job.resume?.history ?? [])];
    let best: BestEpoch | undefined = job.resume?.best;
    const firstEpoch = (job.resume?.epochsDone ?? 0) + 1;
    for (let skipped = 1; skipped < firstEpoch; skipped++) permutation(rng, job.train.count);
    let globalStep = 0;
    for (let epoch = firstEpoch; epoch <= job.epochs; epoch++) {
      const progress = (job.progress ?? SILENT_PROGRESS)(
        `${job.label ?? "train"} epoch ${epoch}/${job.epochs}`,
        steps,
      );
      net.startEpoch(permutation(rng, job.train.count));
      const t0 = performance.now();
      let done = 0;
      let running: EvalResult & { lastLoss: number } = { loss: NaN, accuracy: 0, lastLoss: NaN };
      while (done < steps) {
        let chunk = Math.min(STEPS_PER_SUBMIT, steps - done);
        if (job.maskSchedule) {
          const every = job.maskSchedule.everySteps;
          chunk = Math.min(chunk, every - (globalStep % every));
        }
        net.trainSteps(chunk);
        done += chunk;
        globalStep += chunk;
        running = await net.trainMetrics(done);
        if (!Number.isFinite(running.lastLoss)) {
          progress.stop();
          throw new DivergedError(
            `loss became ${running.lastLoss} in epoch ${epoch} (step ${done}/${steps}); ` +
              "try a lower --learning-rate; the last good checkpoint is kept",
          );
        }
        const elapsed = (performance.now() - t0) / 1000;
        progress.update(done, {
          loss: running.loss.toFixed(4),
          accuracy: running.accuracy.toFixed(4),
          rate: Math.round((done * job.batchSize) / elapsed),
        });
        if (job.maskSchedule && globalStep % job.maskSchedule.everySteps === 0) {
          const masks = await job.maskSchedule.update(
            globalStep,
            () => net.getModel(),
            () => net.readScores(),
          );
          if (masks) net.setMasks(masks);
        }
      }
      await net.sync();
      const seconds = (performance.now() - t0) / 1000;
      progress.stop();
      const valid = job.valid ? await net.evaluate(job.valid) : { loss: NaN, accuracy: NaN };
      const record: EpochRecord = {
        epoch,
        train_loss: running.loss,
        train_accuracy: running.accuracy,
        valid_loss: valid.loss,
        valid_accuracy: valid.accuracy,
        seconds,
      };
      history.push(record);
      job.log?.(
        `${job.label ?? "train"} epoch ${epoch}/${job.epochs}: loss ${
          record.train_loss.toFixed(4)
        } acc ${(record.train_accuracy * 100).toFixed(2)}% | valid loss ${
          valid.loss.toFixed(4)
        } acc ${(valid.accuracy * 100).toFixed(2)}% | ${seconds.toFixed(1)} s`,
      );
      const improved = job.keepBest && job.valid && (!best || valid.accuracy > best.accuracy);
      if (improved) best = { accuracy: valid.accuracy, epoch, model: await net.getModel() };
      if (job.onEpoch) await job.onEpoch(record, () => net.getModel(), best);
    }
    const model = best ? best.model : await net.getModel();
    const ran = history.slice(firstEpoch - 1);
    const secondsPerEpoch = ran.reduce((s, r) => s + r.seconds, 0) / Math.max(1, ran.length);
    return {
      model: cloneModel(model),
      history,
      bestEpoch: best?.epoch ?? job.epochs,
      secondsPerEpoch,
      scores: job.scored ? await net.readScores() : undefined,
    };
  } finally {
    net.destroy();
  }
}

/** Evaluates a model (with optional masks) on a split. */
export async function evaluateModel(
  gpu: GpuContext,
  model: Model,
  split: GpuSplit,
  masks?: Masks,
): Promise<EvalResult> {
  const net = await createInferenceNetwork(gpu, model);
  try {
    if (masks) net.setMasks(masks);
    return await net.evaluate(split);
  } finally {
    net.destroy();
  }
}
