/**
 * `lr-rewind`: learning-rate rewinding (Renda et al. 2020, "Comparing Rewinding and Fine-tuning
 * in Neural Network Pruning") — keep the trained weights, retrain with the mask for the training's
 * epochs at the training's learning rate.
 *
 * @module
 */

import type { EpochRecord } from "../train/trainer.ts";
import { applyMasks } from "../model/masks.ts";
import { trainMasked } from "./masked_training.ts";
import type { RecoveryStrategy } from "./strategy.ts";

/** Learning-rate rewinding. */
export const lrRewindStrategy: RecoveryStrategy = {
  name: "lr-rewind",
  description: "keep the weights, retrain for the training's epochs at its learning rate",
  flags: [],
  rowSettings: (_o, t) => ({
    finetuneEpochs: t.epochs,
    recoveryLr: t.learningRate,
    steps: 0,
    rewind: "lr",
  }),
  async recover(ctx) {
    const { masks, detail } = ctx.prepared.masks(ctx.k);
    const history: EpochRecord[] = [];
    const model = await trainMasked(ctx, history, {
      start: applyMasks(ctx.trained, masks),
      masks,
      epochs: ctx.training.epochs,
      lr: ctx.training.learningRate,
      label: `${ctx.method.name}@${ctx.k}% lr-rewind`,
    });
    return { model, masks, detail, history };
  },
};
