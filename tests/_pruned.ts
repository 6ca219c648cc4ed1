/**
 * Seeded, randomly pruned models for the tests of the compressed formats.
 *
 * @module
 */

import { initModel, type Model, type ModelSpec } from "../src/model/network.ts";
import type { Masks } from "../src/model/masks.ts";
import { createRng } from "../src/util/rng.ts";

/**
 * A model of `spec` initialised with `seed` whose weights each survive with probability `keep`
 * (the others exactly 0), and the masks that pruned it (1 = kept); biases stay whole.
 */
export function prunedAtRandom(
  spec: ModelSpec,
  seed: number,
  keep: number,
): { model: Model; masks: Masks } {
  const model = initModel(spec, seed);
  const rng = createRng(seed);
  const masks: Masks = new Map();
  for (const [name, t] of model.params) {
    if (!name.endsWith(".weight")) continue;
    const mask = Float32Array.from(t.data, () => (rng() < keep ? 1 : 0));
    t.data.forEach((_, i) => (t.data[i] *= mask[i]));
    masks.set(name, mask);
  }
  return { model, masks };
}
