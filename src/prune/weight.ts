/**
 * `weight`: per layer, zero the k% of weights with the smallest magnitude |w| (magnitude pruning,
 * Han et al. 2015, "Learning both Weights and Connections for Efficient Neural Networks").
 *
 * @module
 */

import { prepareLayerwise, prunableData, type PruneMethod } from "./method.ts";

/** Layer-wise magnitude pruning. */
export const weightPruning: PruneMethod = {
  name: "weight",
  kind: "weights",
  description: "per parameter, the k% of entries with the smallest |w|",
  prepare: (model, prunable) => prepareLayerwise(model, prunable, (w) => w.map(Math.abs)),
  scores: (model, prunable) =>
    new Map(prunableData(model, prunable).map(([name, w]) => [name, w.map(Math.abs)])),
};
