/**
 * `random`: per parameter, k% of the entries chosen uniformly at random (seeded) — the baseline
 * every pruning criterion must beat (Blalock et al. 2020, "What is the State of Neural Network
 * Pruning?").
 *
 * @module
 */

import { prepareLayerwise, prunableData, type PruneMethod } from "./method.ts";
import { createRng } from "../util/rng.ts";

/** Random pruning with a fixed per-layer random ranking, so masks are nested across k. */
export const randomPruning: PruneMethod = {
  name: "random",
  kind: "weights",
  description: "per parameter, k% of the entries chosen at random (baseline)",
  prepare(model, prunable, seed) {
    const rng = createRng(seed ^ 0x7a11d0);
    return prepareLayerwise(model, prunable, (w) => new Float32Array(w.length).map(() => rng()));
  },
  scores(model, prunable, seed) {
    const rng = createRng(seed ^ 0x7a11d0);
    return new Map(
      prunableData(model, prunable).map(([name, w]) => [
        name,
        new Float32Array(w.length).map(() => rng()),
      ]),
    );
  },
};
