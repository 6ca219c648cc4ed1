/**
 * IDX file reader (the MNIST format of LeCun et al.): images (magic 2051, [count, rows, cols] u8)
 * and labels (magic 2049, [count] u8), raw or gzip-compressed.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { readFileOrFail } from "../util/files.ts";

/** Magic number of an IDX image file (u8 data, 3 dimensions). */
export const IMAGES_MAGIC = 2051;
/** Magic number of an IDX label file (u8 data, 1 dimension). */
export const LABELS_MAGIC = 2049;

/** Images of one IDX file: `count` images of `rows × cols` u8 pixels, sample-major. */
export interface IdxImages {
  /** Number of images. */
  count: number;
  /** Pixel rows per image. */
  rows: number;
  /** Pixel columns per image. */
  cols: number;
  /** Pixels [count, rows·cols] u8. */
  pixels: Uint8Array;
}

/** Largest decompressed IDX file accepted (a gzip bomb stops here, not at the memory limit). */
export const MAX_IDX_BYTES = 512 * 1024 * 1024;

/** Gunzips `bytes`, refusing output beyond `MAX_IDX_BYTES`; `path` names the file in errors. */
export async function gunzip(bytes: Uint8Array, path: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("gzip")).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > MAX_IDX_BYTES) {
        throw new UsageError(
          `${path}: decompresses to more than ${MAX_IDX_BYTES / 2 ** 20} MiB; not an IDX file`,
        );
      }
      chunks.push(value);
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${path}: not a valid gzip file (${(err as Error).message})`);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Reads a file, gunzipping it when it starts with the gzip magic bytes. */
export async function readMaybeGzip(path: string): Promise<Uint8Array> {
  const bytes = await readFileOrFail(path);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return gunzip(bytes, path);
  return bytes;
}

function header(bytes: Uint8Array, path: string, magic: number, dims: number): number[] {
  const need = 4 + 4 * dims;
  if (bytes.length < need) {
    throw new UsageError(`${path}: truncated IDX header (${bytes.length} bytes, need ${need})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = view.getUint32(0, false);
  if (found !== magic) {
    throw new UsageError(`${path}: bad IDX magic ${found}, expected ${magic}`);
  }
  return Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i, false));
}

/** Parses IDX image bytes; `path` names the file in errors. */
export function parseImages(bytes: Uint8Array, path: string): IdxImages {
  const [count, rows, cols] = header(bytes, path, IMAGES_MAGIC, 3);
  const expected = 16 + count * rows * cols;
  if (bytes.length !== expected) {
    throw new UsageError(
      `${path}: ${bytes.length} bytes, expected ${expected} for ${count} images of ${rows}x${cols}` +
        (bytes.length < expected ? " (file truncated)" : ""),
    );
  }
  return { count, rows, cols, pixels: bytes.subarray(16) };
}

/** Parses IDX label bytes; `path` names the file in errors. */
export function parseLabels(bytes: Uint8Array, path: string, classes = 10): Uint8Array {
  const [count] = header(bytes, path, LABELS_MAGIC, 1);
  if (bytes.length !== 8 + count) {
    throw new UsageError(
      `${path}: ${bytes.length} bytes, expected ${8 + count} for ${count} labels` +
        (bytes.length < 8 + count ? " (file truncated)" : ""),
    );
  }
  const labels = bytes.subarray(8);
  const bad = labels.findIndex((l) => l >= classes);
  if (bad >= 0) throw new UsageError(`${path}: label ${labels[bad]} at ${bad} is not < ${classes}`);
  return labels;
}

/**
 * Reads an IDX image file (raw or .gz).
 *
 * @example
 * ```ts
 * const { count, pixels } = await readImages("t10k-images-idx3-ubyte.gz");
 * ```
 */
export async function readImages(path: string): Promise<IdxImages> {
  return parseImages(await readMaybeGzip(path), path);
}
