/**
 * Masks keyed by parameter name, and the one rule of which parameters are pruned.
 *
 * A mask is a 0/1 f32 array of its parameter's shape; a parameter without a mask is kept whole.
 * By default every weight but the output layer's is prunable (the pruning challenge's rule);
 * `--prune-params` replaces the rule with a comma list of name patterns (`*` matches any run of
 * characters, e.g. `layers.*.weight`) or `all` (every parameter, output layer and biases
 * included).
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { Model } from "./network.ts";
import { type ModelSpec, paramInfos } from "./network.ts";

/** Keep-masks (1 keep, 0 pruned) by parameter name. */
export type Masks = Map<string, Float32Array>;

/** The `--prune-params` default: every weight but the output layer's. */
export const DEFAULT_PRUNE_PARAMS = "default";

/**
 * Names of the prunable parameters of `spec` under `pattern` (`default`, `all`, or a comma list
 * of globs); a pattern that matches nothing is a `UsageError`.
 *
 * @example
 * ```ts
 * prunableParams(mlpSpec(784, [300, 100], 10, true), "default");
 * // ["layers.0.weight", "layers.1.weight"]
 * ```
 */
export function prunableParams(spec: ModelSpec, pattern = DEFAULT_PRUNE_PARAMS): string[] {
  const infos = paramInfos(spec);
  if (pattern === DEFAULT_PRUNE_PARAMS) {
    const last = Math.max(...infos.map((p) => p.group));
    return infos.filter((p) => p.suffix === "weight" && p.group < last).map((p) => p.name);
  }
  if (pattern === "all") return infos.map((p) => p.name);
  const globs = pattern.split(",").map((s) => s.trim());
  if (globs.some((g) => g === "" || !/^[\w.*-]+$/.test(g))) {
    throw new UsageError(
      `--prune-params must be default, all, or a comma list of name patterns like layers.*.weight, got "${pattern}"`,
    );
  }
  const names = new Set<string>();
  for (const glob of globs) {
    const re = new RegExp(`^${glob.replace(/[.]/g, "\\.").replace(/\*/g, ".*")}$`);
    const hits = infos.filter((p) => re.test(p.name));
    if (hits.length === 0) {
      throw new UsageError(
        `--prune-params "${glob}" matches no parameter; the model has ${
          infos.map((p) => p.name).join(", ")
        }`,
      );
    }
    hits.forEach((p) => names.add(p.name));
  }
  return infos.filter((p) => names.has(p.name)).map((p) => p.name);
}

/** The model with masks applied: pruned entries exactly 0, unmasked parameters copied. */
export function applyMasks(model: Model, masks: Masks): Model {
  const params = new Map();
  for (const [name, t] of model.params) {
    const mask = masks.get(name);
    const data = mask ? t.data.map((x, i) => (mask[i] !== 0 ? x : 0)) : t.data.slice();
    params.set(name, { shape: [...t.shape], data });
  }
  return { spec: model.spec, params };
}

/**
 * Masks that never revive an entry pruned before: `next` ∧ `previous` per parameter (iterative
 * and gradual pruning).
 */
export function keepPruned(next: Masks, previous: Masks | undefined): Masks {
  if (!previous) return next;
  const out: Masks = new Map();
  for (const [name, m] of next) {
    const prev = previous.get(name);
    out.set(name, prev ? m.map((x, i) => (prev[i] !== 0 ? x : 0)) : m);
  }
  for (const [name, prev] of previous) if (!out.has(name)) out.set(name, prev);
  return out;
}

/** Non-zero count of one array. */
export function countNonzeros(a: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) n++;
  return n;
}

/** Non-zero count of one parameter. */
export interface ParamCount {
  /** Parameter name, e.g. `layers.0.weight`. */
  name: string;
  /** Shape. */
  shape: number[];
  /** Non-zero entries. */
  nonzeros: number;
  /** All entries. */
  total: number;
  /** Whether the parameter is prunable under the policy in force. */
  prunable: boolean;
}

/** Sparsity figures of a (pruned) model. */
export interface SparsityReport {
  /** Zeros / entries over the prunable parameters. */
  sparsity: number;
  /** Zeros / parameters over the whole model. */
  sparsityTotal: number;
  /** Non-zero parameters in the whole model. */
  nonzeros: number;
  /** All parameters in the whole model. */
  total: number;
  /** Per parameter, in layer order. */
  params: ParamCount[];
}

/** Counts zeros in a model; `prunable` names the parameters the sparsity is taken over. */
export function sparsityOf(model: Model, prunable: readonly string[]): SparsityReport {
  const pruned = new Set(prunable);
  const params: ParamCount[] = [...model.params].map(([name, t]) => ({
    name,
    shape: [...t.shape],
    nonzeros: countNonzeros(t.data),
    total: t.data.length,
    prunable: pruned.has(name),
  }));
  const sum = (xs: ParamCount[], f: (x: ParamCount) => number) => xs.reduce((s, x) => s + f(x), 0);
  const p = params.filter((x) => x.prunable);
  const pTotal = sum(p, (x) => x.total);
  const total = sum(params, (x) => x.total);
  const nonzeros = sum(params, (x) => x.nonzeros);
  return {
    sparsity: pTotal > 0 ? 1 - sum(p, (x) => x.nonzeros) / pTotal : 0,
    sparsityTotal: 1 - nonzeros / total,
    nonzeros,
    total,
    params,
  };
}
