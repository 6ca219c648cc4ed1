/**
 * Measure: a deployed point's test accuracy and loss (on its fastest path, or by the quantised
 * kernels after PTQ), its forward times — on the fastest path and compacted but dense — against
 * the trained model's, its sparsity and its sizes through Deep Compression's stages.
 *
 * @module
 */

import type { GpuContext } from "../../gpu/device.ts";
import { sparsityOf, type SparsityReport } from "../../model/masks.ts";
import { hiddenWidths, type Model } from "../../model/network.ts";
import type { EvalResult } from "../../train/gpu_network.ts";
import { createInferenceNetwork } from "../../train/inference_network.ts";
import { median } from "../../util/stats.ts";
import type { DenseReference, SweepJob } from "../job.ts";
import {
  type CompressedSizes,
  type EncodedStages,
  encodeStages,
  gzipBytes,
  sizesOf,
  timeForward,
} from "../measure.ts";
import type { Compressed } from "./compress.ts";
import type { Deployed } from "./deploy.ts";

/** The trained model's dense forward time, widths and gzip size, measured once per run. */
export async function measureDense(gpu: GpuContext, job: SweepJob): Promise<DenseReference> {
  // The dense kernels take the same time whatever the values, so this pass stands for every
  // masked-dense point's `infer_ms`.
  const net = await createInferenceNetwork(gpu, job.trained);
  try {
    return {
      ms: median(await timeForward(net, job.data.test, job.inferRepeats)),
      hidden: hiddenWidths(job.trained.spec).join("-"),
      gzip: gzipBytes(job.trained),
    };
  } finally {
    net.destroy();
  }
}

/** A measured point. */
export interface Measured {
  /** Test loss and accuracy. */
  test: EvalResult;
  /** Median forward time on the chosen paths (ms). */
  sparseMs: number;
  /** Median forward time of the compacted model, dense (ms). */
  compactMs: number;
  /** Sparsity of the prunable parameters, and non-zeros of each. */
  report: SparsityReport;
  /** gzip -9 bytes of the parameters. */
  gzip: number;
  /** The encoded Deep Compression stages and their sizes. */
  stages: EncodedStages;
  /** Sizes of those stages. */
  sizes: CompressedSizes;
}

/** Median time of the compacted model run dense, after one warm-up pass. */
async function compactDenseMs(gpu: GpuContext, job: SweepJob, compact: Model): Promise<number> {
  const net = await createInferenceNetwork(gpu, compact);
  try {
    await net.evaluate(job.data.test); // warm-up
    return median(await timeForward(net, job.data.test, job.inferRepeats));
  } finally {
    net.destroy();
  }
}

/** Accuracy, loss and forward times of the deployed point (one pass is both figure and timing). */
async function timedFigures(
  gpu: GpuContext,
  job: SweepJob,
  deployed: Deployed,
  dense: DenseReference,
): Promise<{ test: EvalResult; sparseMs: number; compactMs: number }> {
  const denseShapes = deployed.hidden === dense.hidden;
  const fastest = await createInferenceNetwork(gpu, deployed.compact, deployed.weights);
  try {
    const t1 = performance.now();
    const test = await fastest.evaluate(job.data.test);
    const firstMs = performance.now() - t1;
    const allDense = deployed.weights.size === 0;
    const sparseMs = allDense && denseShapes ? dense.ms : median([
      firstMs,
      ...await timeForward(fastest, job.data.test, job.inferRepeats - 1),
    ]);
    const compactMs = denseShapes
      ? dense.ms
      : allDense
      ? sparseMs
      : await compactDenseMs(gpu, job, deployed.compact);
    return { test, sparseMs, compactMs };
  } finally {
    fastest.destroy();
  }
}

/** Measures a compressed, deployed point against the trained model's figures. */
export async function measurePoint(
  gpu: GpuContext,
  job: SweepJob,
  compressed: Compressed,
  deployed: Deployed,
  dense: DenseReference,
): Promise<Measured> {
  const timed = await timedFigures(gpu, job, deployed, dense);
  const stages = encodeStages(compressed.model, compressed.stored);
  return {
    ...timed,
    test: compressed.quantizedTest ?? timed.test,
    report: sparsityOf(compressed.model, job.prunable),
    gzip: gzipBytes(compressed.model),
    stages,
    sizes: sizesOf(stages),
  };
}
