/**
 * Layer kinds by name. A new kind is one file declaring a
 * `LayerKind` and one line here; the network, the reference, checkpoints and pruning follow.
 *
 * @module
 */

import type { LayerKind, LayerSpec } from "./layer.ts";
import { denseLayer } from "./dense.ts";
import { reluLayer } from "./relu.ts";
import { leakyReluLayer } from "./leaky_relu.ts";
import { conv2dLayer } from "./conv2d.ts";
import { maxPool2dLayer } from "./maxpool2d.ts";
import { flattenLayer } from "./flatten.ts";

/** Every layer kind, by its `kind`. */
export const LAYER_KINDS: ReadonlyMap<string, LayerKind> = new Map(
  [
    denseLayer,
    reluLayer,
    leakyReluLayer,
    conv2dLayer,
    maxPool2dLayer,
    flattenLayer,
  ].map((k) => [k.kind, k]),
);

/** The kind of a layer spec. */
export function layerKind(spec: LayerSpec): LayerKind {
  const kind = LAYER_KINDS.get(spec.kind);
  if (!kind) throw new Error(`unknown layer kind "${spec.kind}"`);
  return kind;
}
