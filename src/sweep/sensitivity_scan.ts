/**
 * The sensitivity scan behind `deno task sensitivity`: every prunable layer pruned alone (the
 * others dense) at every k by one method, its test accuracy measured on the GPU. The curves are
 * what `--allocation sensitivity:PATH` allocates from (src/prune/sensitivity.ts).
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import type { Model } from "../model/network.ts";
import type { PruneMethod } from "../prune/method.ts";
import { prepareMethod, type PrepareOptions } from "../prune/prepare.ts";
import type { SensitivityFile } from "../prune/sensitivity.ts";
import { createInferenceNetwork } from "../train/inference_network.ts";
import type { Masks } from "../model/masks.ts";
import type { GpuSplit } from "../train/splits.ts";
import { type ProgressFactory, SILENT_PROGRESS } from "../util/progress.ts";

/** One measured point of the scan (a row of sensitivity_<method>.csv). */
export interface SensitivityRow {
  /** The parameter pruned. */
  layer: string;
  /** Its sparsity in percent. */
  k: number;
  /** Test accuracy with only it pruned. */
  accuracy: number;
  /** Test loss. */
  loss: number;
}

/**
 * Scans `prunable` one at a time over `ks` (0 is always measured: the dense model) with
 * `method`, whose masks for all layers are prepared once on `model`.
 */
export async function scanSensitivity(
  gpu: GpuContext,
  model: Model,
  prunable: readonly string[],
  method: PruneMethod,
  ks: readonly number[],
  test: GpuSplit,
  options: PrepareOptions & { seed: number; progress?: ProgressFactory },
): Promise<{ file: SensitivityFile; rows: SensitivityRow[] }> {
  const levels = [...new Set([0, ...ks])].sort((a, b) => a - b);
  const prepared = await prepareMethod(method, model, prunable, options.seed, {
    ...options,
    levels,
  });
  // One network for every measurement: each one uploads the weights again and applies its mask.
  const net = await createInferenceNetwork(gpu, model);
  const evaluate = (masks: Masks) => {
    net.setParams(model);
    net.setMasks(masks);
    return net.evaluate(test);
  };
  const rows: SensitivityRow[] = [];
  const progress = (options.progress ?? SILENT_PROGRESS)(
    "sensitivity",
    prunable.length * levels.length,
  );
  let done = 0;
  let dense;
  try {
    dense = await evaluate(new Map());
    for (const layer of prunable) {
      for (const k of levels) {
        const result = k === 0
          ? dense
          : await evaluate(new Map([[layer, prepared.masks(k).masks.get(layer)!]]));
        rows.push({ layer, k, accuracy: result.accuracy, loss: result.loss });
        progress.update(++done, { rate: `${layer}@${k}% ${(result.accuracy * 100).toFixed(2)}%` });
      }
    }
  } finally {
    progress.stop();
    net.destroy();
  }
  return {
    rows,
    file: {
      method: method.name,
      dense_accuracy: dense.accuracy,
      layers: prunable.map((name) => ({
        name,
        size: model.params.get(name)!.data.length,
        points: rows.filter((r) => r.layer === name).map((r) => ({ k: r.k, accuracy: r.accuracy })),
      })),
    },
  };
}
