/**
 * The recovery-strategy interface: how a sweep point turns the trained model and a pruning
 * method into a pruned model, optionally winning accuracy back by training with the mask. Each
 * strategy is one file behind the registry (src/recover/registry.ts); it declares which flags it
 * reads and what it writes to sweep.csv's recovery columns.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import type { Model } from "../model/network.ts";
import type { Masks } from "../model/masks.ts";
import type { PreparedMethod, PruneMethod } from "../prune/method.ts";
import type { PrepareOptions } from "../prune/prepare.ts";
import type { InitScheme } from "../model/layers/init.ts";
import type { EpochRecord } from "../train/trainer.ts";
import type { DataSplits } from "../train/splits.ts";
import type { ProgressFactory } from "../util/progress.ts";

/** The recovery flags of the sweep, validated (src/recover/options.ts). */
export interface RecoveryOptions {
  /** Registry name of the strategy. */
  strategy: string;
  /** Training epochs after pruning (per round when iterative; 0 = the training's epochs for rewind). */
  finetuneEpochs: number;
  /** Learning rate of fine-tuning. */
  finetuneLr: number;
  /** Rounds of the iterative schedule. */
  steps: number;
  /** Rewind target: `init`, `epoch:E` or `random`. */
  rewind: string;
}

/** The experiment's training settings a strategy may reuse. */
export interface TrainingSettings {
  /** Samples per step. */
  batchSize: number;
  /** The training's Adam learning rate. */
  learningRate: number;
  /** The training's epochs. */
  epochs: number;
  /** The experiment's seed. */
  seed: number;
  /** The experiment's initialisation scheme (default `he`), for fresh random weights. */
  init?: InitScheme;
}

/** What a strategy writes to sweep.csv besides its name (part of each row's key). */
export interface RowSettings {
  /** Training epochs after pruning (0 for one-shot). */
  finetuneEpochs: number;
  /** Learning rate of that training (0 for one-shot). */
  recoveryLr: number;
  /** Rounds (iterative), else 0. */
  steps: number;
  /** Rewind target (`none`, `init`, `epoch:E`, `random`, `lr`). */
  rewind: string;
}

/** Everything a strategy needs for one point. */
export interface RecoveryContext {
  /** The GPU. */
  gpu: GpuContext;
  /** The trained model. */
  trained: Model;
  /** Names of the parameters pruned. */
  prunable: readonly string[];
  /** The pruning method. */
  method: PruneMethod;
  /** The method prepared on the trained model (scores sorted once for every k). */
  prepared: PreparedMethod;
  /** How the method's sparsity is spread over the layers, and gradient scores when it needs them. */
  prepareOptions: PrepareOptions;
  /** Target sparsity in percent. */
  k: number;
  /** The data on the GPU. */
  data: DataSplits;
  /** Recovery flags. */
  options: RecoveryOptions;
  /** The experiment's training settings. */
  training: TrainingSettings;
  /** Loads the initial weights or an epoch snapshot (for rewinding). */
  snapshot(which: "init" | number): Promise<Model>;
  /** Progress of training epochs. */
  progress: ProgressFactory;
  /** Epoch summaries. */
  log?: (line: string) => void;
}

/** A pruned (and possibly retrained) model. */
export interface RecoveryResult {
  /** The model (pruned entries need not be zero yet: the sweep applies `masks`). */
  model: Model;
  /** The masks in force at the end. */
  masks: Masks;
  /** Method-specific figure, e.g. the `std` method's s. */
  detail?: Record<string, number>;
  /** Per-epoch records of any training, in order. */
  history: EpochRecord[];
}

/** A recovery strategy. */
export interface RecoveryStrategy {
  /** Registry name, written to sweep.csv's `strategy` column. */
  name: string;
  /** One line for the help text. */
  description: string;
  /** The recovery flags it reads (others given with it are refused). */
  flags: readonly string[];
  /**
   * Why it cannot recover a point pruned by `method` (one line for the user), or undefined when
   * it can; checked when the command line is parsed.
   */
  refuses?(method: PruneMethod): string | undefined;
  /** Its sweep.csv recovery columns for these options. */
  rowSettings(options: RecoveryOptions, training: TrainingSettings): RowSettings;
  /** Prunes to `ctx.k` and recovers. */
  recover(ctx: RecoveryContext): Promise<RecoveryResult>;
}
