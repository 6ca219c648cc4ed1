/**
 * How a layer's parameters start (`--init`), for the dense and convolution kinds alike:
 *
 * - `he`: He-normal, N(0, 2/fan_in), when a ReLU follows (He et al. 2015), Glorot-uniform
 *   otherwise; biases 0. The paper networks' default (src/model/zoo.ts `defaultInit`).
 * - `glorot`: Glorot-uniform, U(±√(6/(fan_in + fan_out))), for every layer (Glorot & Bengio
 *   2010; Keras's default, the recipe the pruning challenge's reports used); biases 0.
 * - `torch`: PyTorch's default for Linear and Conv2d, kaiming_uniform with a = √5, i.e.
 *   U(±1/√fan_in), and biases U(±1/√fan_in). The MLP's default.
 *
 * @module
 */

import { UsageError } from "../../util/errors.ts";
import { normal, type Rng } from "../../util/rng.ts";

/** The `--init` schemes. */
export const INIT_SCHEMES = ["he", "glorot", "torch"] as const;

/** An initialisation scheme. */
export type InitScheme = typeof INIT_SCHEMES[number];

/** Checks `--init`. */
export function parseInitScheme(raw: string): InitScheme {
  if (!(INIT_SCHEMES as readonly string[]).includes(raw)) {
    throw new UsageError(`--init must be one of ${INIT_SCHEMES.join(", ")}, got "${raw}"`);
  }
  return raw as InitScheme;
}

/** `count` weights of a layer with these fans, drawn from `rng` (the `he` draws unchanged). */
export function initWeights(
  rng: Rng,
  count: number,
  fanIn: number,
  fanOut: number,
  reluNext: boolean,
  scheme: InitScheme,
): Float32Array {
  const w = new Float32Array(count);
  if (scheme === "he" && reluNext) {
    const std = Math.sqrt(2 / fanIn);
    for (let i = 0; i < count; i++) w[i] = normal(rng) * std;
  } else {
    const limit = scheme === "torch" ? 1 / Math.sqrt(fanIn) : Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < count; i++) w[i] = (rng() * 2 - 1) * limit;
  }
  return w;
}

/** `count` biases: zeros, or U(±1/√fan_in) for `torch`. */
export function initBiases(
  rng: Rng,
  count: number,
  fanIn: number,
  scheme: InitScheme,
): Float32Array {
  const b = new Float32Array(count);
  if (scheme === "torch") {
    const limit = 1 / Math.sqrt(fanIn);
    for (let i = 0; i < count; i++) b[i] = (rng() * 2 - 1) * limit;
  }
  return b;
}
