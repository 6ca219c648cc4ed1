/**
 * `deno task train`: trains the MLP on the GPU and writes the experiment folder.
 *
 * @module
 */

import { runMain } from "./errors.ts";
import { parseFlags, toTrainConfig, TRAIN_FLAGS, TRAIN_HELP } from "./train_options.ts";
import { getGpu } from "../gpu/device.ts";
import { ensureTrained, loadData } from "../train/experiment.ts";

const USAGE = `Usage: deno task train [flags]

Trains a ReLU MLP on MNIST or Fashion-MNIST with WebGPU and writes
<output-dir>/<experiment-id>/{checkpoint.safetensors,init.safetensors,history.csv,metrics.json,training.png}.

${TRAIN_HELP}`;

if (import.meta.main) {
  await runMain("train", async () => {
    const flags = parseFlags(Deno.args, TRAIN_FLAGS);
    if (flags.help) {
      console.log(USAGE);
      return;
    }
    const config = toTrainConfig(flags);
    const gpu = await getGpu();
    const loaded = await loadData(gpu, config);
    try {
      await ensureTrained(gpu, config, loaded);
    } finally {
      loaded.destroy();
    }
  });
}
