/**
 * The ReLU multilayer perceptron: layer sizes, parameters on the CPU, seeded initialisation, and
 * conversion to and from named tensors.
 *
 * Layer l maps activations [batch, sizes[l]] to [batch, sizes[l+1]] with W_l: [in, out]
 * row-major (column j holds the incoming weights of unit j) and optional bias b_l: [out].
 * Hidden layers use ReLU; the last layer produces logits.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { Tensor } from "./safetensors.ts";
import { createRng, normal } from "../reference/random.ts";

/** Parameters of an MLP on the CPU. */
export interface MlpParams {
  /** Layer widths including input and output, e.g. [784, 1000, 1000, 500, 200, 10]. */
  sizes: number[];
  /** W_l: [sizes[l], sizes[l+1]] row-major. */
  weights: Float32Array[];
  /** b_l: [sizes[l+1]], or null when the model has no biases. */
  biases: Float32Array[] | null;
}

/** Number of weight layers. */
export function layerCount(params: MlpParams): number {
  return params.sizes.length - 1;
}

/**
 * Seeded initialisation: He normal (std √(2/in), He et al. 2015) for layers followed by ReLU,
 * Glorot uniform (Glorot & Bengio 2010) for the logits layer; biases start at 0.
 *
 * @example
 * ```ts
 * const p = initMlp([784, 1000, 10], false, 0);
 * ```
 */
export function initMlp(sizes: number[], bias: boolean, seed: number): MlpParams {
  const rng = createRng(seed);
  const weights: Float32Array[] = [];
  for (let l = 0; l < sizes.length - 1; l++) {
    const fanIn = sizes[l];
    const fanOut = sizes[l + 1];
    const w = new Float32Array(fanIn * fanOut);
    if (l < sizes.length - 2) {
      const std = Math.sqrt(2 / fanIn);
      for (let i = 0; i < w.length; i++) w[i] = normal(rng) * std;
    } else {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < w.length; i++) w[i] = (rng() * 2 - 1) * limit;
    }
    weights.push(w);
  }
  const biases = bias ? sizes.slice(1).map((n) => new Float32Array(n)) : null;
  return { sizes, weights, biases };
}

/** Deep copy of parameters. */
export function cloneParams(p: MlpParams): MlpParams {
  return {
    sizes: [...p.sizes],
    weights: p.weights.map((w) => w.slice()),
    biases: p.biases ? p.biases.map((b) => b.slice()) : null,
  };
}

/** Named tensors `layers.{l}.weight` ([in, out]) and `layers.{l}.bias` ([out]). */
export function paramsToTensors(p: MlpParams): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  p.weights.forEach((w, l) => {
    out.set(`layers.${l}.weight`, { shape: [p.sizes[l], p.sizes[l + 1]], data: w });
    if (p.biases) out.set(`layers.${l}.bias`, { shape: [p.sizes[l + 1]], data: p.biases[l] });
  });
  return out;
}

/** Returns `data` if every value is finite; a NaN or infinity is a `UsageError` naming it. */
function checkFinite(data: Float32Array, name: string, path: string): Float32Array {
  const at = data.findIndex((v) => !Number.isFinite(v));
  if (at >= 0) {
    throw new UsageError(
      `${path}: ${name} holds ${data[at]} at index ${at}; a usable checkpoint has finite weights ` +
        "(retrain with --force-train)",
    );
  }
  return data;
}

/**
 * Rebuilds parameters from named tensors, checking them against the expected layer sizes;
 * `path` names the file in errors.
 */
export function tensorsToParams(
  tensors: Map<string, Tensor>,
  sizes: number[],
  bias: boolean,
  path: string,
): MlpParams {
  const weights: Float32Array[] = [];
  const biases: Float32Array[] = [];
  for (let l = 0; l < sizes.length - 1; l++) {
    const w = tensors.get(`layers.${l}.weight`);
    const expected = [sizes[l], sizes[l + 1]];
    if (!w) {
      throw new UsageError(`${path}: missing layers.${l}.weight (expected shape [${expected}])`);
    }
    if (w.shape.join() !== expected.join()) {
      throw new UsageError(
        `${path}: layers.${l}.weight has shape [${w.shape}], expected [${expected}] from --hidden`,
      );
    }
    weights.push(checkFinite(w.data, `layers.${l}.weight`, path));
    if (bias) {
      const b = tensors.get(`layers.${l}.bias`);
      if (!b || b.shape.join() !== String(sizes[l + 1])) {
        throw new UsageError(`${path}: layers.${l}.bias missing or not of shape [${sizes[l + 1]}]`);
      }
      biases.push(checkFinite(b.data, `layers.${l}.bias`, path));
    }
  }
  if (tensors.has(`layers.${sizes.length - 1}.weight`)) {
    throw new UsageError(`${path}: has more layers than --hidden describes (${sizes.length - 1})`);
  }
  return { sizes, weights, biases: bias ? biases : null };
}
