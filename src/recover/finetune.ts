/**
 * `finetune`: prune once, then train with the mask for `--finetune-epochs` at `--finetune-lr`
 * (Han et al. 2015, "Learning both Weights and Connections for Efficient Neural Networks"). A
 * method scored while fine-tuning (movement) fine-tunes dense first, scoring, then prunes.
 *
 * @module
 */

import type { EpochRecord } from "../train/trainer.ts";
import { applyMasks } from "../model/masks.ts";
import { trainMasked, trainMaskedScored } from "./masked_training.ts";
import { prepareMethod } from "../prune/prepare.ts";
import type { RecoveryContext, RecoveryResult, RecoveryStrategy } from "./strategy.ts";

/** Prunes and fine-tunes; `freezePruned` trains only the layers without pruned parameters. */
export async function pruneAndFinetune(
  ctx: RecoveryContext,
  freezePruned: boolean,
): Promise<RecoveryResult> {
  if (ctx.method.kind === "training") return scoreThenFinetune(ctx);
  const { masks, detail } = ctx.prepared.masks(ctx.k);
  const history: EpochRecord[] = [];
  const model = await trainMasked(ctx, history, {
    start: applyMasks(ctx.trained, masks),
    masks,
    epochs: ctx.options.finetuneEpochs,
    lr: ctx.options.finetuneLr,
    label: `${ctx.method.name}@${ctx.k}% finetune`,
    freezePruned,
  });
  return { model, masks, detail, history };
}

/**
 * A method whose scores accumulate while fine-tuning (movement, Sanh et al. 2020): fine-tune the
 * dense model for the epochs while scoring, prune by the scores, then fine-tune as many epochs
 * with the mask.
 */
async function scoreThenFinetune(ctx: RecoveryContext): Promise<RecoveryResult> {
  const history: EpochRecord[] = [];
  const epochs = Math.max(1, ctx.options.finetuneEpochs);
  const scored = await trainMaskedScored(ctx, history, {
    start: ctx.trained,
    masks: new Map(),
    epochs,
    lr: ctx.options.finetuneLr,
    label: `${ctx.method.name} scoring`,
    scored: { names: ctx.prunable, mode: "movement" },
  });
  const prepared = await prepareMethod(ctx.method, scored.model, ctx.prunable, ctx.training.seed, {
    ...ctx.prepareOptions,
    trainingScores: scored.scores,
  });
  const { masks, detail } = prepared.masks(ctx.k);
  const model = await trainMasked(ctx, history, {
    start: applyMasks(scored.model, masks),
    masks,
    epochs,
    lr: ctx.options.finetuneLr,
    label: `${ctx.method.name}@${ctx.k}% finetune`,
  });
  return { model, masks, detail, history };
}

/** Masked fine-tuning. */
export const finetuneStrategy: RecoveryStrategy = {
  name: "finetune",
  description: "prune once, then train with the mask (--finetune-epochs, --finetune-lr)",
  flags: ["finetune-epochs", "finetune-lr"],
  rowSettings: (o) => ({
    finetuneEpochs: o.finetuneEpochs,
    recoveryLr: o.finetuneLr,
    steps: 0,
    rewind: "none",
  }),
  recover: (ctx) => pruneAndFinetune(ctx, false),
};
