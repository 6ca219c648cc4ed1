/**
 * `oneshot`: prune once, no retraining — the accuracy the pruning criterion alone keeps.
 *
 * @module
 */

import type { RecoveryStrategy } from "./strategy.ts";

/** One-shot pruning. */
export const oneshotStrategy: RecoveryStrategy = {
  name: "oneshot",
  description: "prune once, no retraining",
  flags: [],
  rowSettings: () => ({ finetuneEpochs: 0, recoveryLr: 0, steps: 0, rewind: "none" }),
  recover(ctx) {
    const { masks, detail } = ctx.prepared.masks(ctx.k);
    return Promise.resolve({ model: ctx.trained, masks, detail, history: [] });
  },
};
