/**
 * numpy's `.npy` files (format versions 1–3, C order): the arrays of a data folder a numpy user
 * has (`x_train.npy`, `y_train.npy`, `x_test.npy`, `y_test.npy`). The header is
 * `\x93NUMPY`, a major and minor version byte, the header length (u16 little-endian in version 1,
 * u32 in 2 and 3) and a Python dict literal with `descr`, `fortran_order` and `shape`; the data
 * follows, row-major.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";

/** The element types read: unsigned and signed integers, and f32. */
const DTYPES = {
  "|u1": { bytes: 1, read: (v: DataView, i: number) => v.getUint8(i) },
  "|i1": { bytes: 1, read: (v: DataView, i: number) => v.getInt8(i) },
  "<u2": { bytes: 2, read: (v: DataView, i: number) => v.getUint16(i, true) },
  "<i2": { bytes: 2, read: (v: DataView, i: number) => v.getInt16(i, true) },
  "<i4": { bytes: 4, read: (v: DataView, i: number) => v.getInt32(i, true) },
  "<i8": { bytes: 8, read: (v: DataView, i: number) => Number(v.getBigInt64(i, true)) },
  "<f4": { bytes: 4, read: (v: DataView, i: number) => v.getFloat32(i, true) },
} as const;

/** A numpy dtype string the reader takes. */
export type NpyDtype = keyof typeof DTYPES;

/** An array read from a `.npy` file. */
export interface NpyArray {
  /** Its dtype, e.g. `|u1` or `<f4`. */
  dtype: NpyDtype;
  /** Its shape. */
  shape: number[];
  /** Its values, row-major, as numbers. */
  values: Float64Array;
}

/** The header dict's fields: `descr`, `fortran_order` and `shape`. */
function parseHeader(text: string, path: string) {
  const bad = (why: string) => new UsageError(`${path}: not a .npy file numpy writes (${why})`);
  const descr = text.match(/'descr'\s*:\s*'([^']*)'/)?.[1];
  const fortran = text.match(/'fortran_order'\s*:\s*(True|False)/)?.[1];
  const shapeText = text.match(/'shape'\s*:\s*\(([^)]*)\)/)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw bad("its header lacks descr, fortran_order or shape");
  }
  if (fortran === "True") throw bad("Fortran order; save it with np.ascontiguousarray");
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw bad(`shape (${shapeText})`);
  if (!(descr in DTYPES)) {
    throw new UsageError(
      `${path}: dtype ${descr} is not read; expected one of ${Object.keys(DTYPES).join(", ")}`,
    );
  }
  return { dtype: descr as NpyDtype, shape };
}

/** Parses a `.npy` file's bytes; `path` names it in errors. */
export function parseNpy(bytes: Uint8Array, path: string): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) {
    throw new UsageError(`${path}: not a .npy file (no \\x93NUMPY magic)`);
  }
  const major = bytes[6];
  if (major < 1 || major > 3) {
    throw new UsageError(`${path}: .npy format version ${major} is not read; expected 1 to 3`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const wide = major >= 2;
  const headerStart = wide ? 12 : 10;
  if (bytes.length < headerStart) throw new UsageError(`${path}: ends inside its header`);
  const headerLength = wide ? view.getUint32(8, true) : view.getUint16(8, true);
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) throw new UsageError(`${path}: ends inside its header`);
  const decoder = new TextDecoder(major === 3 ? "utf-8" : "latin1");
  const { dtype, shape } = parseHeader(
    decoder.decode(bytes.subarray(headerStart, dataStart)),
    path,
  );
  const count = shape.reduce((a, b) => a * b, 1);
  const { bytes: width, read } = DTYPES[dtype];
  if (bytes.length - dataStart !== count * width) {
    throw new UsageError(
      `${path}: holds ${bytes.length - dataStart} data bytes; shape (${shape}) of ${dtype} needs ${
        count * width
      }`,
    );
  }
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = read(view, dataStart + i * width);
  return { dtype, shape, values };
}
