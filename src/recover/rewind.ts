/**
 * `rewind`: the lottery ticket — prune once, reset the survivors to their initial weights
 * (`--rewind init`, Frankle & Carbin 2019) or to an early epoch's (`--rewind epoch:E`, Frankle et
 * al. 2020), or re-initialise them at random (`--rewind random`, the control), then retrain with
 * the mask at the training's learning rate.
 *
 * @module
 */

import type { EpochRecord } from "../train/trainer.ts";
import { applyMasks } from "../model/masks.ts";
import { initModel, type Model } from "../model/network.ts";
import { trainMasked } from "./masked_training.ts";
import type { RecoveryStrategy } from "./strategy.ts";

/** Lottery-ticket rewinding. */
export const rewindStrategy: RecoveryStrategy = {
  name: "rewind",
  description: "reset survivors to init, epoch:E or random weights, then retrain (--rewind)",
  flags: ["finetune-epochs", "rewind"],
  rowSettings: (o, t) => ({
    finetuneEpochs: o.finetuneEpochs > 0 ? o.finetuneEpochs : t.epochs,
    recoveryLr: t.learningRate,
    steps: 0,
    rewind: o.rewind,
  }),
  async recover(ctx) {
    const { masks, detail } = ctx.prepared.masks(ctx.k);
    const target = ctx.options.rewind;
    let start: Model;
    if (target === "init") start = await ctx.snapshot("init");
    else if (target === "random") {
      start = initModel(ctx.trained.spec, ctx.training.seed + 7919, ctx.training.init);
    } else start = await ctx.snapshot(Number(target.slice("epoch:".length)));
    const history: EpochRecord[] = [];
    const model = await trainMasked(ctx, history, {
      start: applyMasks(start, masks),
      masks,
      epochs: ctx.options.finetuneEpochs > 0 ? ctx.options.finetuneEpochs : ctx.training.epochs,
      lr: ctx.training.learningRate,
      label: `${ctx.method.name}@${ctx.k}% rewind ${target}`,
    });
    return { model, masks, detail, history };
  },
};
