/**
 * Relative indexing of a sparse tensor's non-zeros (Han et al. 2016, "Deep Compression", section
 * 3 and figure 3): instead of absolute positions, each non-zero stores how many zeros precede it
 * since the previous one, in `bits` bits. A run of zeros longer than a width can say is bridged
 * by filler entries. Here the largest code, 2^bits − 1, is the filler: it skips that many
 * positions and carries no weight, so fillers cost index bits only (the paper stores a filler as
 * an explicit zero weight).
 *
 * Positions are flat indices into the tensor in its storage order (see src/quant/dc_file.ts).
 *
 * @module
 */

/**
 * Gap codes of ascending `positions`: a code c < 2^bits − 1 places the next non-zero after c
 * zeros; the code 2^bits − 1 skips 2^bits − 1 zeros.
 *
 * @example
 * ```ts
 * relativeIndex(Uint32Array.of(1, 2, 12), 3); // [1, 0, 7, 2]: gaps 1, 0, 9 = 7 + 2
 * ```
 */
export function relativeIndex(positions: Uint32Array, bits: number): Uint32Array {
  const filler = 2 ** bits - 1;
  const codes: number[] = [];
  let next = 0; // the first position the next non-zero may take
  for (const p of positions) {
    let gap = p - next;
    if (gap < 0) throw new Error(`relativeIndex: positions not ascending at ${p}`);
    while (gap >= filler) {
      codes.push(filler);
      gap -= filler;
    }
    codes.push(gap);
    next = p + 1;
  }
  return Uint32Array.from(codes);
}

/** The positions encoded by `relativeIndex` (`codes` of width `bits`). */
export function absoluteIndex(codes: Uint32Array, bits: number): Uint32Array {
  const filler = 2 ** bits - 1;
  const positions: number[] = [];
  let next = 0;
  for (const c of codes) {
    if (c === filler) next += filler;
    else {
      positions.push(next + c);
      next += c + 1;
    }
  }
  return Uint32Array.from(positions);
}
