/**
 * Compaction: turns unit and filter sparsity into a smaller dense model that computes the same
 * function, so pruned neurons and filters cost nothing at inference (real speed, not just zeros;
 * the "physical removal" of Li et al. 2017, "Pruning Filters for Efficient ConvNets").
 *
 * A producer (a layer kind with `units`: dense, convolution) feeds a consumer (the next such
 * layer) through layers that keep channels apart (kinds with `channelwise`: ReLU, leaky ReLU,
 * max-pooling, flatten). A unit of the producer whose incoming weights are all zero (a column of
 * a dense W[in, out], or a whole filter w[j, :, :, :] of a convolution) outputs the constant
 * c_j = b_j (0 without a bias), then each channelwise layer's map of it (relu(c_j) after a ReLU;
 * a max-pool of a constant plane is the same constant). It is removed with what reads it in the
 * consumer:
 * - dense → dense: row j of W_next[in, out];
 * - conv → flatten → dense: the H·W rows of W_next for channel j;
 * - conv → conv: input channel j of w_next[out, in, kh, kw].
 *
 * A non-zero constant is folded into the consumer's bias (b_next += c_j · Σ of the removed
 * weights per output). That is exact except for a padded convolution, whose border positions see
 * the zero padding instead of c_j; such units, and units whose consumer has no bias to fold into,
 * are kept.
 *
 * @module
 */

import type { LayerSpec, UnitStructure } from "./layers/layer.ts";
import { layerKind } from "./layers/registry.ts";
import { activationShapes, type Model, paramInfos } from "./network.ts";
import type { Params, Tensor } from "./tensor.ts";

/** How a producer's unit j appears in its consumer's input. */
interface Link {
  /** Index of the consumer layer. */
  consumer: number;
  /** The consumer's unit structure (how it drops inputs). */
  reads: UnitStructure;
  /** The channelwise layers between, in order (a dead unit's constant passes through each). */
  between: LayerSpec[];
  /** Consumer inputs per producer unit: H·W after a flatten, else 1. */
  span: number;
}

/**
 * The consumer of producer `i` and how it reads it, or undefined when there is none to shrink:
 * the next layer with units, reached through channelwise layers only, that can read the
 * producer's units in blocks of the span they arrive in.
 */
function linkOf(layers: LayerSpec[], shapes: number[][], i: number): Link | undefined {
  if (!layerKind(layers[i]).units) return undefined;
  let j = i + 1;
  let span = 1;
  const between: LayerSpec[] = [];
  for (; j < layers.length; j++) {
    const map = layerKind(layers[j]).channelwise;
    if (!map) break;
    between.push(layers[j]);
    if (map.span) span = map.span(shapes[j]);
  }
  const reads = j < layers.length ? layerKind(layers[j]).units : undefined;
  return reads?.readsUnits(span) ? { consumer: j, reads, between, span } : undefined;
}

/** Units of a producer with a non-zero incoming weight. */
function liveUnits(units: UnitStructure, count: number, w: Tensor): boolean[] {
  const live = new Array<boolean>(count).fill(false);
  w.data.forEach((v, i) => v !== 0 && (live[units.unitOf(w.shape, i)] = true));
  return live;
}

/**
 * Removes dead units and filters (all-zero incoming weights) from an already-masked model,
 * with what reads them in the next layer, folding their constant outputs into its bias. Each
 * layer kind says how (its `units` and `channelwise` declarations, src/model/layers/).
 *
 * @example
 * ```ts
 * const small = compactUnits(applyMasks(model, masks));
 * console.log(hiddenWidths(small.spec)); // e.g. [300, 300, 150, 60] or [10, 25, 500]
 * ```
 */
export function compactUnits(model: Model): Model {
  const layers: LayerSpec[] = model.spec.layers.map((l) => ({ ...l }));
  const params: Params = new Map(
    [...model.params].map(([n, t]) => [n, { shape: [...t.shape], data: t.data.slice() }]),
  );
  const shapes = activationShapes(model.spec);
  const infos = paramInfos(model.spec);
  const namesOf = (layer: number) => infos.filter((p) => p.layer === layer).map((p) => p.name);
  const tensorsOf = (layer: number) => namesOf(layer).map((n) => params.get(n)!);
  const store = (layer: number, tensors: Tensor[]) =>
    namesOf(layer).forEach((n, t) => params.set(n, tensors[t]));
  for (let i = 0; i < layers.length; i++) {
    const link = linkOf(layers, shapes, i);
    if (!link) continue;
    const units = layerKind(layers[i]).units!;
    const [w, b] = tensorsOf(i);
    const next = tensorsOf(link.consumer);
    // A dead unit outputs its bias (0 without one), mapped by each channelwise layer between.
    const constantOf = (u: number) =>
      link.between.reduce((c, l) => layerKind(l).channelwise!.constant(l, c), b ? b.data[u] : 0);
    // A dead unit with a non-zero constant output goes only where folding it is exact.
    const foldable = link.reads.foldsConstants(layers[link.consumer], next);
    const live = liveUnits(units, units.count(layers[i]), w);
    const keep = live.map((alive, u) => alive || (constantOf(u) !== 0 && !foldable));
    const kept = keep.flatMap((k, u) => (k ? [u] : []));
    if (kept.length === keep.length || kept.length === 0) continue;
    for (let u = 0; u < keep.length; u++) {
      const c = constantOf(u);
      if (!keep[u] && c !== 0) link.reads.foldConstant(next, u, link.span, c);
    }
    store(i, units.pruneOut(tensorsOf(i), kept));
    layers[i] = units.resized(layers[i], kept.length);
    store(link.consumer, link.reads.pruneIn(next, kept, link.span));
  }
  return { spec: { input: [...model.spec.input], layers }, params };
}
