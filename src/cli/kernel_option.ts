/**
 * `--kernel auto|tiled|uniform|workgroup`: which matmul variant runs. `auto` (the default, or
 * `WGPRUNE_KERNEL` when set) uses the fastest variant measured for each product shape on this
 * adapter, tuning shapes not yet in `<output-dir>/kernel_tuning.json` on first use.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { installMatmulTuning, kernelChoices, networkProducts } from "../kernels/matmul_tuner.ts";
import { hiddenWidths, type ModelSpec, outputSize } from "../model/network.ts";
import { sizeOf } from "../model/tensor.ts";
import { UsageError } from "../util/errors.ts";

/** parseArgs entry of `--kernel`. */
export const KERNEL_FLAG = {
  kernel: { type: "string", default: Deno.env.get("WGPRUNE_KERNEL") ?? "auto" },
} as const;

/** Help line of `--kernel`. */
export const KERNEL_HELP =
  `  --kernel NAME             matmul variant: auto (default: the fastest measured on this adapter,
                            cached in <output-dir>/kernel_tuning.json), tiled, uniform or workgroup`;

/** File name of the tuning cache inside the output folder. */
export const TUNING_FILE = "kernel_tuning.json";

/** Checks a `--kernel` value. */
export function parseKernel(raw: string): string {
  const choices = kernelChoices();
  if (!choices.includes(raw)) {
    throw new UsageError(`--kernel must be one of ${choices.join(", ")}, got "${raw}"`);
  }
  return raw;
}

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
