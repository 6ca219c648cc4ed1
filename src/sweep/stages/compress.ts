/**
 * Compress: after recovery, the point's weights are stored as they are (f32), weight-shared and
 * fine-tuned (Deep Compression's second stage, Han et al. 2016; `--quantize-bits`), or
 * post-training quantised to int8/f16 (`--ptq`). A quantised point's accuracy is measured here,
 * by the kernels that read the quantised weights; its f32 accuracy is kept beside it.
 *
 * @module
 */

import type { GpuContext } from "../../gpu/device.ts";
import type { Model } from "../../model/network.ts";
import type { StoredValues } from "../../quant/dc_file.ts";
import { dequantizedModel, quantizeModelWeights } from "../../quant/ptq_model.ts";
import { shareAndRetrain } from "../../recover/weight_sharing.ts";
import { evaluateModel } from "../../train/trainer.ts";
import type { EvalResult } from "../../train/gpu_network.ts";
import { createInferenceNetwork, ptqRepresentations } from "../../train/inference_network.ts";
import { SILENT_PROGRESS } from "../../util/progress.ts";
import type { SweepJob } from "../job.ts";
import type { Recovered } from "./recover.ts";

/** A compressed point. */
export interface Compressed {
  /** The values its weights stand for (dequantised after PTQ, decoded after sharing). */
  model: Model;
  /** How the values are stored (codebooks, quantised words), for sizes and exports. */
  stored: StoredValues;
  /** Accuracy before quantisation, when it was quantised. */
  accuracyF32?: number;
  /** Test figures by the quantised kernels (PTQ only). */
  quantizedTest?: EvalResult;
}

/** Applies the job's compression to a recovered point. */
export async function compressPoint(
  gpu: GpuContext,
  job: SweepJob,
  recovered: Recovered,
): Promise<Compressed> {
  const pruned = recovered.pruned;
  if (job.quantize) {
    const accuracyF32 = (await evaluateModel(gpu, pruned, job.data.test)).accuracy;
    const { model, shared } = await shareAndRetrain(
      {
        gpu,
        data: job.data,
        training: job.training,
        progress: job.verbose ? job.progress ?? SILENT_PROGRESS : SILENT_PROGRESS,
        log: job.verbose ? job.log : undefined,
      },
      pruned,
      recovered.masks,
      job.quantize,
      recovered.history,
    );
    return { model, stored: { shared }, accuracyF32 };
  }
  if (job.ptq) {
    const accuracyF32 = (await evaluateModel(gpu, pruned, job.data.test)).accuracy;
    const ptq = quantizeModelWeights(pruned, job.ptq);
    const net = await createInferenceNetwork(gpu, pruned, ptqRepresentations(ptq));
    let quantizedTest: EvalResult;
    try {
      quantizedTest = await net.evaluate(job.data.test);
    } finally {
      net.destroy();
    }
    // Sizes, exports and the timed paths use the values the quantised weights stand for.
    return { model: dequantizedModel(pruned, ptq), stored: { ptq }, accuracyF32, quantizedTest };
  }
  return { model: pruned, stored: {} };
}
