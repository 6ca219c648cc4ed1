/**
 * How much of the sparsity each layer takes (jaxpruner's "sparsity distribution"), for any
 * per-weight score: `uniform` prunes k% of every prunable tensor; `global` one threshold over all
 * of them; `erk` gives each layer the density of Erdős–Rényi-Kernel (Evci et al. 2020, "Rigging
 * the Lottery"), proportional to the sum of its dimensions over their product, so small layers
 * stay denser; `lamp` ranks every weight by its layer-adaptive magnitude score (Lee et al. 2021,
 * "Layer-adaptive Sparsity for the Magnitude-based Pruning"), s_u² / Σ_{s_v ≥ s_u} s_v² within its
 * layer, then prunes globally. Within a layer the smallest scores go first, exactly (select.ts).
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { Masks } from "../model/masks.ts";
import type { PreparedMethod } from "./method.ts";
import { pruneCount, pruneSmallest, sortedScores } from "./select.ts";
import { prepareJoint } from "./global.ts";
import { checkSensitivityFits, type LoadedSensitivity, sensitivityKs } from "./sensitivity.ts";

/** The `--allocation` choices that need no file. */
export const ALLOCATIONS = ["uniform", "global", "erk", "lamp"] as const;

/**
 * How sparsity is spread over the prunable tensors: one of `ALLOCATIONS`, or
 * `sensitivity:PATH` (a file of `deno task sensitivity`, src/prune/sensitivity.ts).
 */
export type Allocation = typeof ALLOCATIONS[number] | `sensitivity:${string}`;

/** Checks `--allocation`. */
export function parseAllocation(raw: string): Allocation {
  if (raw.startsWith("sensitivity:") && raw.length > "sensitivity:".length) {
    return raw as Allocation;
  }
  if (!(ALLOCATIONS as readonly string[]).includes(raw)) {
    throw new UsageError(
      `--allocation must be one of ${ALLOCATIONS.join(", ")} or sensitivity:PATH, got "${raw}"`,
    );
  }
  return raw as Allocation;
}

/** One prunable tensor's scores (higher = keep) and its shape. */
export interface ScoredTensor {
  /** Parameter name. */
  name: string;
  /** Shape (a dense weight `[in, out]`, a convolution `[out, in, kh, kw]`). */
  shape: number[];
  /** One non-negative score per entry. */
  scores: Float32Array;
}

/**
 * ERK densities of tensors of these shapes at overall density `density` (0..1): density_l =
 * ε · Σ dims / Π dims, with ε solved so the weighted total is `density`; a layer whose density
 * would pass 1 stays dense and ε is solved again over the rest (the RigL code's loop).
 *
 * @example
 * ```ts
 * erkDensities([[784, 300], [300, 100], [100, 10]], 0.1); // the small layers keep more
 * ```
 */
export function erkDensities(shapes: number[][], density: number): number[] {
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const raw = shapes.map((s, i) => s.reduce((a, b) => a + b, 0) / sizes[i]);
  const dense = new Set<number>();
  const total = sizes.reduce((a, b) => a + b, 0);
  for (;;) {
    // Σ_{sparse l} ε·raw_l·n_l = density·total − Σ_{dense l} n_l
    let budget = density * total;
    let weighted = 0;
    sizes.forEach((n, i) => {
      if (dense.has(i)) budget -= n;
      else weighted += raw[i] * n;
    });
    const epsilon = weighted > 0 ? Math.max(0, budget) / weighted : 0;
    const over = raw.findIndex((r, i) => !dense.has(i) && epsilon * r > 1);
    if (over < 0) return raw.map((r, i) => (dense.has(i) ? 1 : epsilon * r));
    // The layer with the largest raw density becomes dense first.
    let largest = over;
    raw.forEach((r, i) => {
      if (!dense.has(i) && r > raw[largest]) largest = i;
    });
    dense.add(largest);
  }
}

/**
 * LAMP scores of one tensor: for each entry u, s_u² / Σ_{v: s_v ≥ s_u} s_v² (the entry itself
 * included, ties ordered by index), so each layer's largest entry scores 1.
 */
export function lampScores(scores: Float32Array): Float32Array {
  const order = [...scores.keys()].sort((a, b) => scores[a] - scores[b] || a - b);
  const out = new Float32Array(scores.length);
  let tail = 0; // Σ s² over the entries at and after the current one in ascending order
  for (let j = order.length - 1; j >= 0; j--) {
    const s2 = scores[order[j]] ** 2;
    tail += s2;
    out[order[j]] = tail > 0 ? s2 / tail : 0;
  }
  return out;
}

/**
 * Masks at every k from per-entry scores, the sparsity spread by `allocation` (`sensitivity`
 * reads its per-layer k from `sensitivity`, the scan's curves).
 */
export function prepareAllocated(
  parts: ScoredTensor[],
  allocation: Allocation,
  sensitivity?: LoadedSensitivity,
): PreparedMethod {
  if (allocation === "global") return prepareJoint(parts);
  if (allocation === "lamp") {
    if (parts.some((p) => p.scores.some((s) => s < 0))) {
      throw new UsageError("--allocation lamp needs non-negative scores; movement's are signed");
    }
    return prepareJoint(parts.map((p) => ({ ...p, scores: lampScores(p.scores) })));
  }
  const sorted = parts.map((p) => sortedScores(p.scores));
  if (allocation.startsWith("sensitivity:")) {
    if (!sensitivity) throw new Error("prepareAllocated: sensitivity allocation without its file");
    checkSensitivityFits(sensitivity, parts.map((p) => ({ name: p.name, size: p.scores.length })));
    return {
      masks(k) {
        const ks = sensitivityKs(
          {
            ...sensitivity,
            layers: sensitivity.layers.filter((l) => parts.some((p) => p.name === l.name)),
          },
          k,
        );
        const masks: Masks = new Map();
        parts.forEach((p, i) => {
          masks.set(
            p.name,
            pruneSmallest(p.scores, sorted[i], pruneCount(ks.get(p.name)!, p.scores.length)),
          );
        });
        return { masks };
      },
    };
  }
  return {
    masks(k) {
      const densities = allocation === "erk"
        ? erkDensities(parts.map((p) => p.shape), 1 - k / 100)
        : parts.map(() => 1 - k / 100);
      const masks: Masks = new Map();
      parts.forEach((p, i) => {
        const n = p.scores.length;
        const prune = allocation === "erk" ? n - Math.round(densities[i] * n) : pruneCount(k, n);
        masks.set(p.name, pruneSmallest(p.scores, sorted[i], prune));
      });
      return { masks };
    },
  };
}
