/**
 * Name → pruning method registry (the pattern of jaxpruner's `create_updater_from_config`).
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { MethodFamily, PruneMethod } from "./method.ts";
import { weightPruning } from "./weight.ts";
import { globalPruning } from "./global.ts";
import { unitPruning } from "./unit.ts";
import { stdPruning } from "./std.ts";
import { randomPruning } from "./random.ts";
import { taylorPruning } from "./taylor.ts";
import { snipPruning } from "./snip.ts";
import { nmFamily } from "./nm.ts";
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

/** Every family of methods with a parameter, by its `--method` name (`nm` with `--nm N:M`). */
export const METHOD_FAMILIES: ReadonlyMap<string, MethodFamily> = new Map(
  [nmFamily].map((f) => [f.name, f]),
);

/** Every name `--method` takes: the methods, then the families. */
export function methodNames(): string[] {
  return [...PRUNE_METHODS.keys(), ...METHOD_FAMILIES.keys()];
}

/** True when `name` is a method's or a family member's (`nm2:4`) sweep.csv name. */
export function isMethodName(name: string): boolean {
  return PRUNE_METHODS.has(name) ||
    [...METHOD_FAMILIES.values()].some((f) => f.memberNamed(name) !== undefined);
}

/**
 * Looks a method up by name (a family member by its sweep.csv name, e.g. `nm2:4`); unknown names
 * are a usage error listing the valid ones.
 *
 * @example
 * ```ts
 * const unit = getPruneMethod("unit");
 * ```
 */
export function getPruneMethod(name: string): PruneMethod {
  const method = PRUNE_METHODS.get(name) ??
    [...METHOD_FAMILIES.values()].map((f) => f.memberNamed(name)).find((m) => m);
  if (!method) {
    throw new UsageError(
      `unknown pruning method "${name}"; valid methods: ${methodNames().join(", ")}`,
    );
  }
  return method;
}
