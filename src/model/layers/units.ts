/**
 * The two unit structures of wgprune's layers with weights (see `UnitStructure`): output units
 * as the columns of a dense `W[in, out]`, and as the filters (first axis) of a convolution's
 * `w[out, in, kh, kw]`. Each says how its units are cut (`pruneOut`) and how it stops reading a
 * producer's removed units (`pruneIn`), folding their constant outputs into its bias.
 *
 * @module
 */

import { fromOutputMajor, outputMajor, type Tensor } from "../tensor.ts";
import type { LayerSpec, UnitStructure } from "./layer.ts";

/** Biases `b` kept at units `kept`. */
function keptBias(b: Tensor, kept: readonly number[]): Tensor {
  return { shape: [kept.length], data: Float32Array.from(kept, (u) => b.data[u]) };
}

/** Units of a dense layer: column j of W[in, out] holds unit j's incoming weights. */
export const columnUnits: UnitStructure = {
  count: (spec) => (spec as Extract<LayerSpec, { kind: "dense" }>).units,
  resized: (spec, units) => ({ ...spec, units }) as LayerSpec,
  unitOf: (shape, index) => index % shape[1],
  outputs: (shape) => shape[1],
  outputAxis: 1,
  outputMajor: (data, shape) => outputMajor(data, shape),
  fromOutputMajor: (data, shape) => fromOutputMajor(data, shape),
  pruneOut([w, b], kept) {
    const [rows, cols] = w.shape;
    const data = new Float32Array(rows * kept.length);
    for (let r = 0; r < rows; r++) {
      kept.forEach((c, k) => (data[r * kept.length + k] = w.data[r * cols + c]));
    }
    const out: Tensor[] = [{ shape: [rows, kept.length], data }];
    return b ? [...out, keptBias(b, kept)] : out;
  },
  // After a flatten, rows u·span … (u+1)·span − 1 of W read unit u.
  readsUnits: () => true,
  pruneIn([w, b], kept, span) {
    const outs = w.shape[1];
    const block = span * outs;
    const data = new Float32Array(kept.length * block);
    kept.forEach((u, k) => data.set(w.data.subarray(u * block, (u + 1) * block), k * block));
    const out: Tensor[] = [{ shape: [kept.length * span, outs], data }];
    return b ? [...out, b] : out;
  },
  foldsConstants: (_spec, params) => params.length > 1,
  foldConstant([w, b], unit, span, c) {
    const outs = w.shape[1];
    for (let r = unit * span; r < (unit + 1) * span; r++) {
      for (let o = 0; o < outs; o++) b.data[o] += c * w.data[r * outs + o];
    }
  },
};

/** Units of a convolution: filter f is the block w[f, :, :, :] of w[out, in, kh, kw]. */
export const filterUnits: UnitStructure = {
  count: (spec) => (spec as Extract<LayerSpec, { kind: "conv2d" }>).filters,
  resized: (spec, filters) => ({ ...spec, filters }) as LayerSpec,
  unitOf: (shape, index) => Math.floor(index / (shape[1] * shape[2] * shape[3])),
  outputs: (shape) => shape[0],
  outputAxis: 0,
  outputMajor: (data) => data,
  fromOutputMajor: (data) => data,
  pruneOut([w, b], kept) {
    const per = w.data.length / w.shape[0];
    const data = new Float32Array(kept.length * per);
    kept.forEach((f, k) => data.set(w.data.subarray(f * per, (f + 1) * per), k * per));
    const out: Tensor[] = [{ shape: [kept.length, ...w.shape.slice(1)], data }];
    return b ? [...out, keptBias(b, kept)] : out;
  },
  // A convolution reads a producer's channel as one input channel.
  readsUnits: (span) => span === 1,
  pruneIn([w, b], kept) {
    const [outs, ins, kh, kw] = w.shape;
    const taps = kh * kw;
    const data = new Float32Array(outs * kept.length * taps);
    for (let o = 0; o < outs; o++) {
      kept.forEach((u, k) =>
        data.set(
          w.data.subarray((o * ins + u) * taps, (o * ins + u + 1) * taps),
          (o * kept.length + k) * taps,
        )
      );
    }
    const out: Tensor[] = [{ shape: [outs, kept.length, kh, kw], data }];
    return b ? [...out, b] : out;
  },
  // Border positions of a padded convolution see the padding's zeros, not the constant.
  foldsConstants: (spec, params) =>
    params.length > 1 && (spec as Extract<LayerSpec, { kind: "conv2d" }>).padding === 0,
  foldConstant([w, b], unit, _span, c) {
    const [outs, ins, kh, kw] = w.shape;
    const taps = kh * kw;
    for (let o = 0; o < outs; o++) {
      const at = (o * ins + unit) * taps;
      for (let t = 0; t < taps; t++) b.data[o] += c * w.data[at + t];
    }
  },
};
