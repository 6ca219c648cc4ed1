/**
 * `nm`: N:M structured sparsity (Mishra et al. 2021, "Accelerating Sparse Deep Neural
 * Networks"; NVIDIA's 2:4): for every output unit, each group of M consecutive input weights
 * keeps exactly its N largest |w| — a dense weight `W [in, out]` is grouped along `in` within
 * each column, a convolution `[out, in, kh, kw]` along its flattened `in·kh·kw` per filter. A
 * last group shorter than M (inputs not a multiple of M) keeps min(N, its size). The sparsity is
 * 1 − N/M whatever `k` is asked for, so `--method nm --nm N:M` needs no `--k`; the method is
 * named `nmN:M` (e.g. `nm2:4`) in sweep.csv.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { Masks } from "../model/masks.ts";
import { type MethodFamily, prunableData, type PruneMethod } from "./method.ts";

/** An N:M pattern. */
export interface NmPattern {
  /** Weights kept per group. */
  n: number;
  /** Group size. */
  m: number;
}

/** Parses `--nm N:M` (1 ≤ N < M ≤ 64). */
export function parseNm(raw: string): NmPattern {
  const match = raw.match(/^(\d+):(\d+)$/);
  const n = match ? Number(match[1]) : NaN;
  const m = match ? Number(match[2]) : NaN;
  if (!match || !(n >= 1 && n < m && m <= 64)) {
    throw new UsageError(`--nm must be N:M with 1 <= N < M <= 64, e.g. 2:4; got "${raw}"`);
  }
  return { n, m };
}

/** The sweep.csv name of a pattern's method, e.g. `nm2:4`. */
export function nmMethodName(p: NmPattern): string {
  return `nm${p.n}:${p.m}`;
}

/** The pattern of a method name `nmN:M`, or undefined. */
export function nmPatternOf(name: string): NmPattern | undefined {
  const match = name.match(/^nm(\d+:\d+)$/);
  return match ? parseNm(match[1]) : undefined;
}

/** The k (percent) an N:M pattern prunes: 100 · (1 − N/M). */
export function nmSparsity(p: NmPattern): number {
  return 100 * (1 - p.n / p.m);
}

/**
 * The N:M keep-mask of one weight: `rows` output units (columns of a dense `[in, out]`,
 * `outputs` = out; filters of a convolution) each with `inputs` weights; ties keep the lower
 * input index.
 */
export function nmMask(
  w: Float32Array,
  shape: readonly number[],
  p: NmPattern,
): Float32Array {
  const mask = new Float32Array(w.length);
  // Index of input i of output unit j in w's layout.
  const dense = shape.length === 2;
  const outputs = dense ? shape[1] : shape[0];
  const inputs = w.length / outputs;
  const at = (j: number, i: number) => (dense ? i * outputs + j : j * inputs + i);
  const group: number[] = [];
  for (let j = 0; j < outputs; j++) {
    for (let start = 0; start < inputs; start += p.m) {
      group.length = 0;
      for (let i = start; i < Math.min(start + p.m, inputs); i++) group.push(i);
      group.sort((a, b) => Math.abs(w[at(j, b)]) - Math.abs(w[at(j, a)]) || a - b);
      for (const i of group.slice(0, p.n)) mask[at(j, i)] = 1;
    }
  }
  return mask;
}

/** What every N:M method zeroes. */
const NM_DESCRIPTION =
  "per output unit, the N largest |w| of every M consecutive inputs (--nm N:M)";

/** N:M pruning with pattern `p` of every prunable dense and convolution weight. */
export function nmPruning(p: NmPattern): PruneMethod {
  return {
    name: nmMethodName(p),
    description: NM_DESCRIPTION,
    kind: "pattern",
    fixedLevel: nmSparsity(p),
    prepare(model, prunable) {
      const masks: Masks = new Map();
      for (const [name, w] of prunableData(model, prunable)) {
        const shape = model.params.get(name)!.shape;
        if (shape.length !== 2 && shape.length !== 4) {
          throw new UsageError(
            `${
              nmMethodName(p)
            } prunes dense and convolution weights; ${name} has shape [${shape}] ` +
              "(choose weights with --prune-params)",
          );
        }
        masks.set(name, nmMask(w, shape, p));
      }
      // The pattern fixes the sparsity: every k gets the same masks.
      return { masks: () => ({ masks }) };
    },
  };
}

/** The N:M family: `--method nm --nm N:M` (default 2:4), members named `nmN:M`. */
export const nmFamily: MethodFamily = {
  name: "nm",
  description: NM_DESCRIPTION,
  defaultParameter: "2:4",
  parameterForm: "N:M",
  member: (parameter) => nmPruning(parseNm(parameter)),
  memberNamed(name) {
    const pattern = nmPatternOf(name);
    return pattern ? nmPruning(pattern) : undefined;
  },
};
