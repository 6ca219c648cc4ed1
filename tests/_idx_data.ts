/**
 * Small synthetic datasets in the four standard IDX files, for tests that run the command line
 * on `--data-dir` without MNIST's 55 MB: 8×8 images whose class is which quarter of the image is
 * bright, so a tiny network learns it in one epoch.
 *
 * @module
 */

import { createRng } from "../src/util/rng.ts";

/** Options of `writeIdxDir`. */
export interface IdxDirOptions {
  /** Training images (default 1200). */
  train?: number;
  /** Test images (default 300). */
  test?: number;
  /** Seed of the pixels (default 1). */
  seed?: number;
  /** Added to every label mod 10, to make a folder that differs only in its labels. */
  labelShift?: number;
}

function images(count: number, labels: Uint8Array, rng: () => number): Uint8Array {
  const out = new Uint8Array(16 + count * 64);
  const view = new DataView(out.buffer);
  view.setUint32(0, 2051);
  view.setUint32(4, count);
  view.setUint32(8, 8);
  view.setUint32(12, 8);
  for (let i = 0; i < count; i++) {
    const label = labels[i];
    for (let p = 0; p < 64; p++) {
      const row = p >> 3;
      const col = p & 7;
      const cell = (row >> 2) * 2 + (col >> 2); // quarter 0..3
      const lit = cell === label % 4 || (label >= 4 && (row + col) % (label - 2) === 0);
      out[16 + i * 64 + p] = lit ? 200 + Math.floor(rng() * 55) : Math.floor(rng() * 40);
    }
  }
  return out;
}

function labelFile(labels: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + labels.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 2049);
  view.setUint32(4, labels.length);
  out.set(labels, 8);
  return out;
}

/** Writes train/test IDX files (raw) into `dir` (created if needed). */
export async function writeIdxDir(dir: string, options: IdxDirOptions = {}): Promise<void> {
  const rng = createRng(options.seed ?? 1);
  await Deno.mkdir(dir, { recursive: true });
  for (
    const [name, count] of [["train", options.train ?? 1200], [
      "t10k",
      options.test ?? 300,
    ]] as const
  ) {
    const labels = new Uint8Array(count).map(() => Math.floor(rng() * 10));
    const shifted = labels.map((l) => (l + (options.labelShift ?? 0)) % 10);
    await Deno.writeFile(`${dir}/${name}-images-idx3-ubyte`, images(count, labels, rng));
    await Deno.writeFile(`${dir}/${name}-labels-idx1-ubyte`, labelFile(shifted));
  }
}
