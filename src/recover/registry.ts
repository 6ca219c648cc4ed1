/**
 * Name → recovery strategy. A new strategy is one file and one line here; `--strategy`, the help
 * text and the tests take their lists from this map.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { RecoveryStrategy } from "./strategy.ts";
import { oneshotStrategy } from "./oneshot.ts";
import { finetuneStrategy } from "./finetune.ts";
import { finetuneFreezeStrategy } from "./finetune_freeze.ts";
import { iterativeStrategy } from "./iterative.ts";
import { gradualStrategy } from "./gradual.ts";
import { rewindStrategy } from "./rewind.ts";
import { lrRewindStrategy } from "./lr_rewind.ts";
import { surgeryStrategy } from "./surgery.ts";

/** Every strategy, by name. */
export const STRATEGIES: ReadonlyMap<string, RecoveryStrategy> = new Map(
  [
    oneshotStrategy,
    finetuneStrategy,
    finetuneFreezeStrategy,
    iterativeStrategy,
    gradualStrategy,
    rewindStrategy,
    lrRewindStrategy,
    surgeryStrategy,
  ].map((s) => [s.name, s]),
);

/** Looks a strategy up; an unknown name is a `UsageError` listing the valid ones. */
export function getStrategy(name: string): RecoveryStrategy {
  const strategy = STRATEGIES.get(name);
  if (!strategy) {
    throw new UsageError(
      `unknown --strategy "${name}"; valid strategies: ${[...STRATEGIES.keys()].join(", ")}`,
    );
  }
  return strategy;
}
