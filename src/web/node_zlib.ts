/**
 * What the browser bundle gets for `node:zlib`: the calls wgprune makes (`gzipSync`,
 * `deflateRawSync`, `inflateRawSync`, `crc32`), on fflate's DEFLATE and SheetJS's CRC-32. The
 * compressed bytes may differ from zlib's (another encoder); every reader decodes both.
 *
 * @module
 */

import { deflateSync, gzipSync as fflateGzip, inflateSync } from "fflate";
import CRC32 from "crc-32";

/** Compression options wgprune passes (`level` 0–9). */
interface Options {
  /** Compression level. */
  level?: number;
}

/** A fflate level (0–9) from zlib's options. */
function levelOf(options?: Options): 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 {
  return Math.max(0, Math.min(9, options?.level ?? 6)) as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

/** gzip of `data`. */
export function gzipSync(data: Uint8Array, options?: Options): Uint8Array {
  return fflateGzip(data, { level: levelOf(options) });
}

/** Raw DEFLATE of `data` (no zlib or gzip wrapper). */
export function deflateRawSync(data: Uint8Array, options?: Options): Uint8Array {
  return deflateSync(data, { level: levelOf(options) });
}

/** Inflates raw DEFLATE. */
export function inflateRawSync(data: Uint8Array): Uint8Array {
  return inflateSync(data);
}

/** CRC-32 (IEEE) of `data`, unsigned. */
export function crc32(data: Uint8Array): number {
  return CRC32.buf(data) >>> 0;
}
