/**
 * Post-training quantisation of a whole (pruned) model, the recipe of TF-MOT's pruning report
 * (Jacob et al. 2018; Krishnamoorthi 2018): every dense and convolution weight becomes symmetric
 * per-output-channel int8 or IEEE float16, packed for the kernels that read it directly
 * (shaders/matmul_quantized.wgsl); biases stay f32. A pruned weight quantises to exactly 0 in
 * both formats.
 *
 * Weights are packed by output channel, PyTorch's layout: a dense `W [in, out]` as `[out, in]`,
 * a convolution's `[out, in, kh, kw]` as `[out, in·kh·kw]`.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { cloneModel, type Model, paramInfos } from "../model/network.ts";
import { layerKind } from "../model/layers/registry.ts";
import { fromOutputMajor } from "../model/tensor.ts";
import type { PtqFormat } from "../kernels/matmul_quantized.ts";
import {
  dequantizeInt8Rows,
  packF16Rows,
  packInt8Rows,
  quantizeInt8Rows,
  roundTripF16,
} from "./ptq.ts";

export type { PtqFormat } from "../kernels/matmul_quantized.ts";

/** The `--ptq` formats. */
export const PTQ_FORMATS: readonly PtqFormat[] = ["int8", "f16"];

/** Checks `--ptq`. */
export function parsePtq(raw: string): PtqFormat {
  if (!(PTQ_FORMATS as readonly string[]).includes(raw)) {
    throw new UsageError(`--ptq must be ${PTQ_FORMATS.join(" or ")}, got "${raw}"`);
  }
  return raw as PtqFormat;
}

/** One weight after post-training quantisation. */
export interface PtqWeight {
  /** Storage format. */
  format: PtqFormat;
  /** Output channels. */
  rows: number;
  /** Weights per output channel. */
  cols: number;
  /** Packed rows [rows, ceil(cols / per-word)] u32 (src/quant/ptq.ts). */
  words: Uint32Array;
  /** int8: levels [rows, cols] and the per-channel scale [rows]. */
  q?: Int8Array;
  scale?: Float32Array;
  /** The f32 weights the stored ones stand for, [rows, cols]. */
  dequantized: Float32Array;
}

/** Quantises the weight of every layer whose kind has a `ptq` forward (dense, conv), by name. */
export function quantizeModelWeights(model: Model, format: PtqFormat): Map<string, PtqWeight> {
  const out = new Map<string, PtqWeight>();
  for (const info of paramInfos(model.spec)) {
    const kind = layerKind(model.spec.layers[info.layer]);
    if (info.suffix !== "weight" || !kind.compressedForwards?.includes("ptq") || !kind.units) {
      continue;
    }
    // [out channels, weights per channel], PyTorch's layout.
    const data = model.params.get(info.name)!.data;
    const rows = kind.units.outputs(info.shape);
    const cols = data.length / rows;
    const w = kind.units.outputMajor(data, info.shape);
    if (format === "int8") {
      const { q, scale } = quantizeInt8Rows(w, rows, cols);
      out.set(info.name, int8Weight(q, scale, rows, cols));
    } else {
      out.set(info.name, f16Weight(roundTripF16(w), rows, cols));
    }
  }
  return out;
}

/** An int8 weight from its levels q [rows, cols] and scales [rows] (as stored in a file). */
export function int8Weight(
  q: Int8Array,
  scale: Float32Array,
  rows: number,
  cols: number,
): PtqWeight {
  return {
    format: "int8",
    rows,
    cols,
    words: packInt8Rows(q, rows, cols),
    q,
    scale,
    dequantized: dequantizeInt8Rows(q, scale, rows, cols),
  };
}

/** An f16 weight from values [rows, cols] that f16 holds exactly (as stored in a file). */
export function f16Weight(values: Float32Array, rows: number, cols: number): PtqWeight {
  return { format: "f16", rows, cols, words: packF16Rows(values, rows, cols), dequantized: values };
}

/**
 * The f32 model that computes what the quantised one computes: every quantised weight replaced
 * by its dequantised values, back in the checkpoint layout.
 */
export function dequantizedModel(model: Model, weights: Map<string, PtqWeight>): Model {
  const out = cloneModel(model);
  for (const [name, p] of weights) {
    const t = out.params.get(name)!;
    t.data.set(fromOutputMajor(p.dequantized, t.shape));
  }
  return out;
}
