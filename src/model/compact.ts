/**
 * Compaction: turns unit and filter sparsity into a smaller dense model that computes the same
 * function, so pruned neurons and filters cost nothing at inference (real speed, not just zeros;
 * the "physical removal" of Li et al. 2017, "Pruning Filters for Efficient ConvNets").
 *
 * A producer (a dense layer, or a convolution) feeds a consumer (the next dense layer or
 * convolution) through layers that keep channels apart: ReLU, max-pooling and flatten. A unit of
 * the producer whose incoming weights are all zero (a column of a dense W[in, out], or a whole
 * filter w[j, :, :, :] of a convolution) outputs the constant c_j = b_j (0 without a bias), then
 * relu(c_j) after a ReLU; a max-pool of a constant plane is the same constant. It is removed with
 * what reads it in the consumer:
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

import type { LayerSpec } from "./layers/layer.ts";
import { activationShapes, type Model, paramInfos } from "./network.ts";
import type { Params, Tensor } from "./tensor.ts";

/** Layers between a producer and its consumer that keep each channel's values apart. */
const PASS_THROUGH = new Set<LayerSpec["kind"]>(["relu", "maxpool2d", "flatten"]);

/** How a producer's unit j appears in its consumer's input. */
interface Link {
  /** Index of the consumer layer. */
  consumer: number;
  /** A ReLU lies between (the constant output of a dead unit is then relu(b_j)). */
  relu: boolean;
  /** Consumer inputs per producer unit: H·W after a flatten, else 1. */
  span: number;
}

/** The consumer of producer `i` and how it reads it, or undefined when there is none to shrink. */
function linkOf(layers: LayerSpec[], shapes: number[][], i: number): Link | undefined {
  const producer = layers[i];
  if (producer.kind !== "dense" && producer.kind !== "conv2d") return undefined;
  let j = i + 1;
  let relu = false;
  let span = 1;
  while (j < layers.length && PASS_THROUGH.has(layers[j].kind)) {
    if (layers[j].kind === "relu") relu = true;
    if (layers[j].kind === "flatten") span = shapes[j][1] * shapes[j][2];
    j++;
  }
  const consumer = layers[j];
  if (consumer?.kind === "dense") return { consumer: j, relu, span };
  if (consumer?.kind === "conv2d" && producer.kind === "conv2d") return { consumer: j, relu, span };
  return undefined;
}

/** Units (columns of a dense W[in, out], filters of a conv w[out, …]) with a non-zero weight. */
function liveUnits(kind: "dense" | "conv2d", w: Tensor): boolean[] {
  const units = kind === "dense" ? w.shape[1] : w.shape[0];
  const live = new Array<boolean>(units).fill(false);
  if (kind === "dense") {
    w.data.forEach((v, i) => v !== 0 && (live[i % units] = true));
  } else {
    const per = w.data.length / units;
    w.data.forEach((v, i) => v !== 0 && (live[Math.floor(i / per)] = true));
  }
  return live;
}

/**
 * Removes dead units and filters (all-zero incoming weights) from an already-masked model,
 * with what reads them in the next layer, folding their constant outputs into its bias.
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
  const nameOf = (layer: number, suffix: string) =>
    infos.find((p) => p.layer === layer && p.suffix === suffix)?.name;
  for (let i = 0; i < layers.length; i++) {
    const producer = layers[i];
    const link = linkOf(layers, shapes, i);
    if (!link || (producer.kind !== "dense" && producer.kind !== "conv2d")) continue;
    const consumer = layers[link.consumer];
    if (consumer.kind !== "dense" && consumer.kind !== "conv2d") continue;
    const w = params.get(nameOf(i, "weight")!)!;
    const bias = nameOf(i, "bias");
    const b = bias ? params.get(bias)!.data : undefined;
    const next = params.get(nameOf(link.consumer, "weight")!)!;
    const nextBiasName = nameOf(link.consumer, "bias");
    const nextBias = nextBiasName ? params.get(nextBiasName)!.data : undefined;
    const constantOf = (u: number) => {
      const v = b ? b[u] : 0;
      return link.relu ? Math.max(0, v) : v;
    };
    // A dead unit with a non-zero constant output goes only where folding it is exact.
    const foldable = nextBias !== undefined &&
      (consumer.kind === "dense" || consumer.padding === 0);
    const live = liveUnits(producer.kind, w);
    const keep = live.map((alive, u) => alive || (constantOf(u) !== 0 && !foldable));
    const kept = keep.flatMap((k, u) => (k ? [u] : []));
    if (kept.length === keep.length || kept.length === 0) continue;

    // Fold the constants of removed units into the consumer's bias.
    for (let u = 0; u < keep.length; u++) {
      const c = constantOf(u);
      if (keep[u] || c === 0) continue;
      if (consumer.kind === "dense") {
        // next: W[in, out], rows u·span … (u+1)·span − 1 read unit u.
        const outs = next.shape[1];
        for (let r = u * link.span; r < (u + 1) * link.span; r++) {
          for (let o = 0; o < outs; o++) nextBias![o] += c * next.data[r * outs + o];
        }
      } else {
        // next: w[out, in, kh, kw]; channel u of every filter.
        const [outs, ins, kh, kw] = next.shape;
        const taps = kh * kw;
        for (let o = 0; o < outs; o++) {
          const at = (o * ins + u) * taps;
          for (let t = 0; t < taps; t++) nextBias![o] += c * next.data[at + t];
        }
      }
    }

    // Producer: keep the live columns (dense) or filters (conv), and their biases.
    if (producer.kind === "dense") {
      const [rows, cols] = w.shape;
      const data = new Float32Array(rows * kept.length);
      for (let r = 0; r < rows; r++) {
        kept.forEach((c, k) => (data[r * kept.length + k] = w.data[r * cols + c]));
      }
      params.set(nameOf(i, "weight")!, { shape: [rows, kept.length], data });
      layers[i] = { ...producer, units: kept.length };
    } else {
      const per = w.data.length / w.shape[0];
      const data = new Float32Array(kept.length * per);
      kept.forEach((f, k) => data.set(w.data.subarray(f * per, (f + 1) * per), k * per));
      params.set(nameOf(i, "weight")!, { shape: [kept.length, ...w.shape.slice(1)], data });
      layers[i] = { ...producer, filters: kept.length };
    }
    if (bias) {
      params.set(bias, {
        shape: [kept.length],
        data: Float32Array.from(kept, (u) => b![u]),
      });
    }

    // Consumer: keep what reads the kept units.
    if (consumer.kind === "dense") {
      const outs = next.shape[1];
      const block = link.span * outs;
      const data = new Float32Array(kept.length * block);
      kept.forEach((u, k) => data.set(next.data.subarray(u * block, (u + 1) * block), k * block));
      params.set(nameOf(link.consumer, "weight")!, {
        shape: [kept.length * link.span, outs],
        data,
      });
    } else {
      const [outs, ins, kh, kw] = next.shape;
      const taps = kh * kw;
      const data = new Float32Array(outs * kept.length * taps);
      for (let o = 0; o < outs; o++) {
        kept.forEach((u, k) =>
          data.set(
            next.data.subarray((o * ins + u) * taps, (o * ins + u + 1) * taps),
            (o * kept.length + k) * taps,
          )
        );
      }
      params.set(nameOf(link.consumer, "weight")!, { shape: [outs, kept.length, kh, kw], data });
    }
  }
  return { spec: { input: [...model.spec.input], layers }, params };
}
