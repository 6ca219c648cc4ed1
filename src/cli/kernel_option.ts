/**
 * `--kernel auto|tiled|uniform|workgroup`: which matmul variant runs. `auto` (the default, or
 * `WGPRUNE_KERNEL` when set) uses the fastest variant measured for each product shape on this
 * adapter, tuning shapes not yet in `<output-dir>/kernel_tuning.json` on first use
 * (src/experiment/kernels.ts).
 *
 * @module
 */

import { kernelChoices } from "../kernels/matmul_tuner.ts";
import { UsageError } from "../util/errors.ts";

/** parseArgs entry of `--kernel`. */
export const KERNEL_FLAG = {
  kernel: { type: "string", default: Deno.env.get("WGPRUNE_KERNEL") ?? "auto" },
} as const;

/** Help line of `--kernel`. */
export const KERNEL_HELP =
  `  --kernel NAME             matmul variant: auto (default: the fastest measured on this adapter,
                            cached in <output-dir>/kernel_tuning.json), tiled, uniform or workgroup`;

/** Checks a `--kernel` value. */
export function parseKernel(raw: string): string {
  const choices = kernelChoices();
  if (!choices.includes(raw)) {
    throw new UsageError(`--kernel must be one of ${choices.join(", ")}, got "${raw}"`);
  }
  return raw;
}
