/**
 * The N:M-compressed form of a dense layer's weight that shaders/matmul_nm.wgsl reads, and the
 * checks around it. N:M structured sparsity (Mishra et al. 2021, "Accelerating Sparse Deep
 * Neural Networks", arXiv 2104.08378): for each output unit, every group of M consecutive inputs
 * holds at most N non-zeros (src/prune/nm.ts makes such weights), so a group is stored as N
 * values and N small in-group offsets instead of M floats.
 *
 * W is wgprune's dense layout `[inputs, outputs]` row-major (column o holds unit o's incoming
 * weights). Group g of unit o covers inputs g·M .. min(g·M + M, inputs) − 1; the last group is
 * short when M does not divide `inputs`. Packed (`NmLayout` gives the sizes):
 *
 * - `values`: [outputs, groups, N] f32, row-major: value of slot j of group g of unit o at
 *   `(o·groups + g)·N + j`, the slots of a group in ascending input order; a group with fewer
 *   than N non-zeros fills its remaining slots with 0.
 * - `offsets`: [outputs, words] u32, row-major: the offset (0 .. M − 1, input g·M + offset) of
 *   slot j of group g of unit o in bits `((g mod groupsPerWord)·N + j)·bits` ..  `+ bits − 1` of
 *   word `o·words + ⌊g / groupsPerWord⌋`, `bits` = ⌈log2 M⌉; unused bits are 0. The N offsets of
 *   a group are distinct: the slots a group leaves empty take its lowest positions not holding a
 *   non-zero (their values are 0), so the kernel can pick each input's weight by a chain of
 *   selects.
 *
 * This module sits in kernels/ (below model/ and prune/) because the kernel wrapper, the
 * network (src/train/gpu_network.ts) and the choice of paths (src/train/infer_paths.ts) all
 * need it; `NmPattern` is declared here structurally, as src/prune/nm.ts's type is.
 *
 * @module
 */

/** An N:M pattern: at most `n` non-zeros in every group of `m` consecutive inputs. */
export interface NmPattern {
  /** Non-zeros kept per group (1 ≤ n < m). */
  n: number;
  /** Group size (m ≤ 64). */
  m: number;
}

/** Sizes of the packed form of one weight (see the module comment). */
export interface NmLayout {
  /** Groups per output unit: ⌈inputs / m⌉. */
  groups: number;
  /** Bits per offset: ⌈log2 m⌉ (at least 1). */
  bits: number;
  /** Groups whose offsets share one u32 word: ⌊32 / (n·bits)⌋. */
  groupsPerWord: number;
  /** Offset words per output unit: ⌈groups / groupsPerWord⌉. */
  words: number;
}

/**
 * A weight that cannot be packed as asked: not N:M, or a pattern the packing cannot hold (the
 * kernel wrapper turns it into a `ShapeError`).
 */
export class NmPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NmPatternError";
  }
}

/**
 * The packed sizes of a weight with `inputs` inputs per unit under pattern `p`. Throws
 * `NmPatternError` for a pattern outside 1 ≤ n < m ≤ 64 or whose n offsets do not fit one u32
 * word (n·⌈log2 m⌉ > 32, e.g. 16:32).
 *
 * @example
 * ```ts
 * nmLayout(784, { n: 2, m: 4 }); // { groups: 196, bits: 2, groupsPerWord: 8, words: 25 }
 * ```
 */
export function nmLayout(inputs: number, p: NmPattern): NmLayout {
  if (!(Number.isInteger(p.n) && Number.isInteger(p.m) && 1 <= p.n && p.n < p.m && p.m <= 64)) {
    throw new NmPatternError(`N:M pattern must have 1 <= N < M <= 64, got ${p.n}:${p.m}`);
  }
  if (!(Number.isInteger(inputs) && inputs >= 1)) {
    throw new NmPatternError(`inputs must be a positive integer, got ${inputs}`);
  }
  const bits = Math.max(1, Math.ceil(Math.log2(p.m)));
  const groupsPerWord = Math.floor(32 / (p.n * bits));
  if (groupsPerWord < 1) {
    throw new NmPatternError(
      `${p.n}:${p.m} needs ${p.n * bits} offset bits per group; at most 32 fit the packing`,
    );
  }
  const groups = Math.ceil(inputs / p.m);
  return { groups, bits, groupsPerWord, words: Math.ceil(groups / groupsPerWord) };
}

/**
 * The first group of W [inputs, outputs] (row-major) with more than `p.n` non-zeros, as a
 * sentence, or undefined when W is N:M under `p`. Units are scanned in order, then groups.
 */
export function nmViolation(
  w: Float32Array,
  inputs: number,
  outputs: number,
  p: NmPattern,
): string | undefined {
  if (w.length !== inputs * outputs) {
    return `has ${w.length} entries, not inputs ${inputs} × outputs ${outputs}`;
  }
  for (let o = 0; o < outputs; o++) {
    for (let start = 0; start < inputs; start += p.m) {
      const end = Math.min(start + p.m, inputs);
      let count = 0;
      for (let i = start; i < end; i++) if (w[i * outputs + o] !== 0) count++;
      if (count > p.n) {
        return `output ${o}, inputs ${start}..${end - 1} hold ${count} non-zeros ` +
          `(at most ${p.n} of every ${p.m})`;
      }
    }
  }
  return undefined;
}

/** The packed weight: values, offsets and their sizes. */
export interface NmPacked extends NmLayout {
  /** The pattern it was packed with. */
  pattern: NmPattern;
  /** Inputs per output unit. */
  inputs: number;
  /** Output units. */
  outputs: number;
  /** [outputs, groups, n] f32 (see the module comment). */
  values: Float32Array;
  /** [outputs, words] u32 (see the module comment). */
  offsets: Uint32Array;
}

/**
 * Packs W [inputs, outputs] (row-major, wgprune's dense layout) as N:M under `p`. Pure; throws
 * `NmPatternError` naming the first group with more than n non-zeros when W is not N:M.
 *
 * @example
 * ```ts
 * // W [in 4, out 1] = (0, 5, 0, 7)ᵀ as 2:4: values (5, 7), offsets 1 and 3 → 0b11_01.
 * const p = packNm(Float32Array.of(0, 5, 0, 7), 4, 1, { n: 2, m: 4 });
 * // p.values = [5, 7], p.offsets = [13]
 * ```
 */
export function packNm(
  w: Float32Array,
  inputs: number,
  outputs: number,
  p: NmPattern,
): NmPacked {
  const layout = nmLayout(inputs, p);
  if (!(Number.isInteger(outputs) && outputs >= 1)) {
    throw new NmPatternError(`outputs must be a positive integer, got ${outputs}`);
  }
  const bad = nmViolation(w, inputs, outputs, p);
  if (bad !== undefined) throw new NmPatternError(`weight is not ${p.n}:${p.m}: ${bad}`);
  const { groups, bits, groupsPerWord, words } = layout;
  const values = new Float32Array(outputs * groups * p.n);
  const offsets = new Uint32Array(outputs * words);
  const slots: number[] = [];
  for (let o = 0; o < outputs; o++) {
    for (let g = 0; g < groups; g++) {
      const start = g * p.m;
      const size = Math.min(p.m, inputs - start);
      slots.length = 0;
      for (let k = 0; k < size; k++) if (w[(start + k) * outputs + o] !== 0) slots.push(k);
      // Empty slots take the lowest positions that hold no non-zero, so offsets stay distinct.
      for (let k = 0; slots.length < p.n; k++) if (!slots.includes(k)) slots.push(k);
      slots.sort((a, b) => a - b);
      const word = o * words + Math.floor(g / groupsPerWord);
      for (let j = 0; j < p.n; j++) {
        const k = slots[j];
        values[(o * groups + g) * p.n + j] = k < size ? w[(start + k) * outputs + o] : 0;
        // `|` works in signed 32 bits; the Uint32Array keeps the same bits.
        offsets[word] |= k << (((g % groupsPerWord) * p.n + j) * bits);
      }
    }
  }
  return { ...layout, pattern: { ...p }, inputs, outputs, values, offsets };
}

/** W [inputs, outputs] row-major back from its packed form (the inverse of `packNm`). */
export function unpackNm(packed: NmPacked): Float32Array {
  const { inputs, outputs, groups, bits, groupsPerWord, words, pattern, values, offsets } = packed;
  const w = new Float32Array(inputs * outputs);
  for (let o = 0; o < outputs; o++) {
    for (let g = 0; g < groups; g++) {
      const word = offsets[o * words + Math.floor(g / groupsPerWord)];
      for (let j = 0; j < pattern.n; j++) {
        const k = (word >>> (((g % groupsPerWord) * pattern.n + j) * bits)) & ((1 << bits) - 1);
        const v = values[(o * groups + g) * pattern.n + j];
        if (v !== 0) w[(g * pattern.m + k) * outputs + o] = v;
      }
    }
  }
  return w;
}

/** Group sizes `detectNm` tries, smallest first. */
export const NM_GROUP_SIZES: readonly number[] = [4, 8, 16];

/**
 * The sparsest N:M pattern W [inputs, outputs] follows among group sizes `sizes` (those up to
 * `inputs`): for each M, N is the most non-zeros any group holds; the pattern with the lowest N/M wins (the smaller M
 * on ties), or undefined when no M gives N < M (W is not N:M for any of them, e.g. unpruned);
 * only patterns `packNm` can hold are returned.
 * A weight pruned by `--method nm --nm 2:4` yields 2:4 (or a sparser pattern when its kept
 * weights happen to hold exact zeros).
 */
export function detectNm(
  w: Float32Array,
  inputs: number,
  outputs: number,
  sizes: readonly number[] = NM_GROUP_SIZES,
): NmPattern | undefined {
  let best: NmPattern | undefined;
  for (const m of sizes) {
    // A group size past the inputs proves nothing (one short group of any count).
    if (m > 64 || m < 2 || m > inputs) continue;
    let n = 0;
    for (let o = 0; o < outputs && n < m; o++) {
      for (let start = 0; start < inputs; start += m) {
        let count = 0;
        for (let i = start; i < Math.min(start + m, inputs); i++) {
          if (w[i * outputs + o] !== 0) count++;
        }
        n = Math.max(n, count);
      }
    }
    // An all-zero weight keeps nothing: call it 1:M (the kernel needs N ≥ 1).
    n = Math.max(1, n);
    // Only patterns the packing holds (n offsets in one word).
    const packable = n * Math.max(1, Math.ceil(Math.log2(m))) <= 32;
    if (n < m && packable && (best === undefined || n / m < best.n / best.m)) best = { n, m };
  }
  return best;
}
