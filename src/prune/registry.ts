/**
 * Name → pruning method registry (the pattern of jaxpruner's `create_updater_from_config`).
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { PruneMethod } from "./method.ts";
import { weightPruning } from "./weight.ts";
import { globalPruning } from "./global.ts";
import { unitPruning } from "./unit.ts";
import { stdPruning } from "./std.ts";
import { randomPruning } from "./random.ts";
import { taylorPruning } from "./taylor.ts";
import { snipPruning } from "./snip.ts";
import { nmPatternOf, nmPruning } from "./nm.ts";
import { synflowPruning } from "./synflow.ts";
import { movementPruning } from "./movement.ts";

/** Every method, by name. */
export const PRUNE_METHODS: ReadonlyMap<string, PruneMethod> = new Map(
  [
    weightPruning,
    unitPruning,
    globalPruning,
    stdPruning,
    randomPruning,
    taylorPruning,
    snipPruning,
    synflowPruning,
    movementPruning,
  ].map((m) => [m.name, m]),
);

/**
 * Looks a method up by name (an N:M family member as `nmN:M`, e.g. `nm2:4`); unknown names are
 * a usage error listing the valid ones.
 *
 * @example
 * ```ts
 * const unit = getPruneMethod("unit");
 * ```
 */
export function getPruneMethod(name: string): PruneMethod {
  const pattern = nmPatternOf(name);
  if (pattern) return nmPruning(pattern);
  const method = PRUNE_METHODS.get(name);
  if (!method) {
    throw new UsageError(
      `unknown pruning method "${name}"; valid methods: ${[...PRUNE_METHODS.keys()].join(", ")}`,
    );
  }
  return method;
}
