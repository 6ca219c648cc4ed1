/**
 * `deno task train`: trains the MLP on the GPU and writes the experiment folder.
 *
 * @module
 */

import { runMain } from "./main.ts";
import { parseFlags } from "./flags.ts";
import {
  GRADUAL_FLAGS,
  GRADUAL_HELP,
  toGradualConfig,
  toTrainConfig,
  TRAIN_FLAGS,
  TRAIN_HELP,
} from "./train_options.ts";
import { logToStderr, terminalProgress } from "./progress.ts";
import { getGpu } from "../gpu/device.ts";
import { parseKernel } from "./kernel_option.ts";
import { setupKernels } from "../experiment/kernels.ts";
import { prunableParams } from "../model/masks.ts";
import { deriveExperimentId } from "../experiment/config.ts";
import { ensureTrained, loadData } from "../experiment/run.ts";

const USAGE = `Usage: deno task train [flags]

Trains a ReLU MLP on MNIST or Fashion-MNIST with WebGPU and writes
<output-dir>/<experiment-id>/{checkpoint.safetensors,init.safetensors,history.csv,metrics.json,training.png}.

${TRAIN_HELP}
${GRADUAL_HELP}`;

/** The train command: trains the experiment's model unless a finished checkpoint exists. */
export async function trainCommand(args: string[]): Promise<void> {
  const flags = parseFlags(args, { ...TRAIN_FLAGS, ...GRADUAL_FLAGS });
  if (flags.help) {
    console.log(USAGE);
    return;
  }
  const config = toTrainConfig(flags);
  // Validate the gradual-pruning flags that need no data before touching the GPU.
  toGradualConfig(flags, Number.MAX_SAFE_INTEGER);
  const kernel = parseKernel(flags.kernel);
  const gpu = await getGpu();
  const loaded = await loadData(gpu, config);
  try {
    await setupKernels(gpu, kernel, config, loaded.spec);
    const steps = config.epochs * Math.floor(loaded.data.train.count / config.batchSize);
    config.gradual = toGradualConfig(flags, steps);
    if (!config.experimentIdGiven) config.experimentId = deriveExperimentId(config);
    prunableParams(loaded.spec, config.pruneParams); // a pattern that matches nothing fails now
    await ensureTrained(gpu, config, loaded, { progress: terminalProgress, log: logToStderr });
  } finally {
    loaded.destroy();
  }
}

if (import.meta.main) {
  await runMain("train", () => trainCommand(Deno.args));
}
