/**
 * The files of an experiment folder, `<output-dir>/<experiment-id>/`.
 *
 * @module
 */

import type { TrainConfig } from "./config.ts";

/** Files of an experiment folder. */
export function experimentPaths(config: TrainConfig) {
  if (!config.experimentId) throw new Error("experimentPaths: the experiment id is not known yet");
  const dir = `${config.outputDir === "/" ? "" : config.outputDir}/${config.experimentId}`;
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
