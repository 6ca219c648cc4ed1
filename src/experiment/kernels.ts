/**
 * The matmul variant of an experiment's device: forced by `--kernel`, or the fastest measured
 * for each product shape on this adapter, cached in `<output-dir>/kernel_tuning.json`.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { installMatmulTuning, networkProducts } from "../kernels/matmul_tuner.ts";
import { hiddenWidths, type ModelSpec, outputSize } from "../model/network.ts";
import { sizeOf } from "../model/tensor.ts";

/** File name of the tuning cache inside the output folder. */
export const TUNING_FILE = "kernel_tuning.json";

/**
 * Installs the matmul choice on the device: forced, or cached under `outputDir`, with `spec`'s
 * own training (at `batchSize` rows) and evaluation products tuned first when missing; other
 * shapes follow the nearest tuned one.
 */
export async function setupKernels(
  gpu: GpuContext,
  kernel: string,
  { outputDir, batchSize }: { outputDir: string; batchSize?: number },
  spec?: ModelSpec,
): Promise<void> {
  // Only an all-dense network's products are known in advance; others follow the nearest tuned.
  const allDense = spec?.layers.every((l) => l.kind === "dense" || l.kind === "relu");
  const shapes = spec && batchSize && allDense
    ? networkProducts([sizeOf(spec.input), ...hiddenWidths(spec), outputSize(spec)], batchSize)
    : [];
  await installMatmulTuning(gpu, { kernel, path: `${outputDir}/${TUNING_FILE}`, shapes });
}
