/**
 * Per-sample predictions of an inference network: the logits of every sample of a split
 * (`GpuNetwork.predict`), their argmax, and the margin between the two largest logits (what says
 * a prediction is a near-tie that another summation order may flip).
 *
 * @module
 */

import { outputSize } from "../model/network.ts";
import type { InferenceNetwork } from "./inference_network.ts";
import type { GpuSplit } from "./splits.ts";

/** What a network predicts for each sample of a split. */
export interface Predictions {
  /** Classes per sample. */
  classes: number;
  /** Logits [count, classes], row-major. */
  logits: Float32Array;
  /** Predicted class [count]: the first largest logit. */
  predicted: Uint8Array;
  /** Largest minus second-largest logit [count]. */
  margin: Float32Array;
}

/** Argmax (the first largest) and top-two margin of each row of logits [rows, classes]. */
export function argmaxRows(logits: Float32Array, classes: number): Predictions {
  const rows = logits.length / classes;
  const predicted = new Uint8Array(rows);
  const margin = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = -Infinity;
    let second = -Infinity;
    let arg = 0;
    for (let c = 0; c < classes; c++) {
      const v = logits[r * classes + c];
      if (v > best) {
        second = best;
        best = v;
        arg = c;
      } else if (v > second) second = v;
    }
    predicted[r] = arg;
    margin[r] = best - second;
  }
  return { classes, logits, predicted, margin };
}

/**
 * Predicts every sample of an uploaded split with `net`.
 *
 * @example
 * ```ts
 * const net = await createInferenceNetwork(gpu, model);
 * const { predicted } = await predictSplit(net, test);
 * net.destroy();
 * ```
 */
export async function predictSplit(net: InferenceNetwork, split: GpuSplit): Promise<Predictions> {
  return argmaxRows(await net.predict(split), outputSize(net.spec));
}
