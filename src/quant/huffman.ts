/**
 * Huffman coding, stage three of Deep Compression (Han et al. 2016, section 4): the cluster
 * indices and the relative positions of a pruned, weight-shared layer are far from uniform, so
 * variable-length codes save a further 20–30%. Codes are canonical (RFC 1951 section 3.2.2): a
 * file stores only each symbol's code length, and the decoder rebuilds the codes from them.
 * Lengths come from the classic Huffman merge with ties broken by symbol, so the same input
 * always gives the same file.
 *
 * @module
 */

import { BitReader, BitWriter } from "./bitstream.ts";

/** The longest code this coder writes; a deeper tree is flattened to fit (see `codeLengths`). */
export const MAX_CODE_LENGTH = 24;

/** How often each symbol 0..alphabet−1 occurs in `symbols`. */
export function symbolCounts(symbols: ArrayLike<number>, alphabet: number): Float64Array {
  const counts = new Float64Array(alphabet);
  for (let i = 0; i < symbols.length; i++) counts[symbols[i]]++;
  return counts;
}

/**
 * Code length of each symbol (0 for a symbol that never occurs) of an optimal prefix code for
 * `counts`; a lone symbol gets length 1. When the tree is deeper than `MAX_CODE_LENGTH`, the
 * counts are halved (rounding up, so no used symbol vanishes) until it fits.
 */
export function codeLengths(counts: ArrayLike<number>): Uint8Array {
  let weights = Array.from(counts);
  for (;;) {
    const lengths = mergeLengths(weights);
    if (lengths.every((l) => l <= MAX_CODE_LENGTH)) return lengths;
    weights = weights.map((w) => (w > 0 ? Math.ceil(w / 2) : 0));
  }
}

/** Huffman's merge over a sorted list (alphabets here have at most a few hundred symbols). */
function mergeLengths(counts: number[]): Uint8Array {
  const lengths = new Uint8Array(counts.length);
  type Node = { weight: number; order: number; symbols: number[] };
  let nodes: Node[] = [];
  counts.forEach((w, s) => {
    if (w > 0) nodes.push({ weight: w, order: s, symbols: [s] });
  });
  if (nodes.length === 1) lengths[nodes[0].symbols[0]] = 1;
  let order = counts.length;
  while (nodes.length > 1) {
    nodes.sort((a, b) => a.weight - b.weight || a.order - b.order);
    const [a, b] = nodes;
    for (const s of [...a.symbols, ...b.symbols]) lengths[s]++;
    nodes = [
      { weight: a.weight + b.weight, order: order++, symbols: [...a.symbols, ...b.symbols] },
      ...nodes.slice(2),
    ];
  }
  return lengths;
}

/** Canonical codes from code lengths: shorter codes first, then by symbol (RFC 1951). */
export function canonicalCodes(lengths: Uint8Array): Uint32Array {
  const codes = new Uint32Array(lengths.length);
  const symbols = [...lengths.keys()].filter((s) => lengths[s] > 0)
    .sort((a, b) => lengths[a] - lengths[b] || a - b);
  let code = 0;
  let length = symbols.length ? lengths[symbols[0]] : 0;
  for (const s of symbols) {
    code <<= lengths[s] - length;
    length = lengths[s];
    codes[s] = code++;
  }
  return codes;
}

/** Writes `symbols` with the canonical code of `lengths` (every symbol must have a length). */
export function huffmanEncode(
  symbols: ArrayLike<number>,
  lengths: Uint8Array,
  out: BitWriter,
): void {
  const codes = canonicalCodes(lengths);
  for (let i = 0; i < symbols.length; i++) {
    const s = symbols[i];
    if (!(lengths[s] > 0)) throw new Error(`huffmanEncode: symbol ${s} has no code`);
    out.writeCode(codes[s], lengths[s]);
  }
}

/** Reads `count` symbols written by `huffmanEncode` with the same `lengths`. */
export function huffmanDecode(lengths: Uint8Array, count: number, input: BitReader): Uint32Array {
  // Canonical decoding (as zlib's "puff"): per length, the first code and where its symbols start.
  const maxLength = Math.max(0, ...lengths);
  const perLength = new Uint32Array(maxLength + 1);
  for (const l of lengths) if (l > 0) perLength[l]++;
  const sorted = [...lengths.keys()].filter((s) => lengths[s] > 0)
    .sort((a, b) => lengths[a] - lengths[b] || a - b);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let l = 1;; l++) {
      if (l > maxLength) throw new RangeError("huffmanDecode: invalid code in the stream");
      code |= input.bit();
      const n = perLength[l];
      if (code - first < n) {
        out[i] = sorted[index + code - first];
        break;
      }
      index += n;
      first = (first + n) << 1;
      code <<= 1;
    }
  }
  return out;
}
