/**
 * Dataset splits on the GPU: uploaded once (u8 pixels packed four per u32, labels as u32) with a
 * sample-order buffer that training reshuffles each epoch.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { uploadStorage, writeStorage } from "../gpu/buffers.ts";
import type { Split } from "../data/datasets.ts";

/** A dataset split uploaded once: u8 pixels packed 4 per u32, labels as u32. */
export interface GpuSplit {
  /** Samples in the split. */
  count: number;
  /** Pixels per sample. */
  features: number;
  /** Packed pixels. */
  pixels: GPUBuffer;
  /** Labels [count] u32. */
  labels: GPUBuffer;
  /** Sample order [count] u32 (shuffled per epoch for training, identity for evaluation). */
  order: GPUBuffer;
}

/** Uploads a split; the order starts as the identity. */
export function uploadSplit(gpu: GpuContext, split: Split, label: string): GpuSplit {
  return {
    count: split.count,
    features: split.features,
    pixels: uploadStorage(gpu, split.pixels, `${label}.pixels`),
    labels: uploadStorage(gpu, Uint32Array.from(split.labels), `${label}.labels`),
    order: uploadStorage(
      gpu,
      Uint32Array.from({ length: split.count }, (_, i) => i),
      `${label}.order`,
    ),
  };
}

/**
 * Writes new samples into an uploaded split of the same size (e.g. the one image a drawing pad
 * classifies, again and again, on the same buffers and plans).
 */
export function rewriteSplit(gpu: GpuContext, uploaded: GpuSplit, split: Split): void {
  if (split.count !== uploaded.count || split.features !== uploaded.features) {
    throw new Error(
      `rewriteSplit: ${split.count}×${split.features} samples into a split of ` +
        `${uploaded.count}×${uploaded.features}`,
    );
  }
  writeStorage(gpu, uploaded.pixels, split.pixels);
  writeStorage(gpu, uploaded.labels, Uint32Array.from(split.labels));
}

/** Frees a split's buffers. */
export function destroySplit(split: GpuSplit): void {
  split.pixels.destroy();
  split.labels.destroy();
  split.order.destroy();
}

/** The three splits of an experiment on the GPU. */
export interface DataSplits {
  /** Training split. */
  train: GpuSplit;
  /** Validation split (the training split when no samples are held out). */
  valid: GpuSplit;
  /** Test split. */
  test: GpuSplit;
}
