/**
 * The files of an experiment folder, `<output-dir>/<experiment-id>/`.
 *
 * @module
 */

import type { TrainConfig } from "./config.ts";

/** Files of the experiment folder of `config`. */
export function experimentPaths(config: TrainConfig) {
  if (!config.experimentId) throw new Error("experimentPaths: the experiment id is not known yet");
  return folderPaths(`${config.outputDir === "/" ? "" : config.outputDir}/${config.experimentId}`);
}

/** Files of the experiment folder `dir`. */
export function folderPaths(dir: string) {
  return {
    dir,
    checkpoint: `${dir}/checkpoint.safetensors`,
    init: `${dir}/init.safetensors`,
    history: `${dir}/history.csv`,
    metrics: `${dir}/metrics.json`,
    trainingPng: `${dir}/training.png`,
    snapshot: (epoch: number) => `${dir}/epoch_${epoch}.safetensors`,
    masks: `${dir}/masks.safetensors`,
    last: `${dir}/last.safetensors`,
    best: `${dir}/best.safetensors`,
    trainLock: `${dir}/train.lock`,
    sweep: `${dir}/sweep.csv`,
  };
}
