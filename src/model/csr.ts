/**
 * Compressed sparse rows of a dense layer's weight in PyTorch's Linear layout: W is stored
 * `[in, out]` (row-major) in wgprune; its CSR is of Wᵀ, `[out, in]` — one row per output unit,
 * `indptr` [out + 1] (I32), `indices` [nnz] (I32, input index, ascending within a row) and
 * `values` [nnz] (F32). scipy reads it as `csr_matrix((values, indices, indptr), shape=(out, in))`.
 * A convolution's weight `[out, in, kh, kw]` is already one row per output (filter): its CSR is of
 * that matrix seen as `[out, in·kh·kw]`.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import { uploadStorage } from "../gpu/buffers.ts";
import type { GpuCsr } from "./layers/layer.ts";

/** A CSR matrix of shape [rows, cols]. */
export interface Csr {
  /** Rows (output units). */
  rows: number;
  /** Columns (inputs). */
  cols: number;
  /** Row start offsets [rows + 1]. */
  indptr: Int32Array;
  /** Column of each non-zero [nnz]. */
  indices: Int32Array;
  /** Value of each non-zero [nnz]. */
  values: Float32Array;
}

/** CSR of Wᵀ for W [inputs, outputs] row-major: the non-zeros of each output unit's column. */
export function csrOfColumns(w: Float32Array, inputs: number, outputs: number): Csr {
  const counts = new Int32Array(outputs);
  for (let i = 0; i < inputs; i++) {
    for (let o = 0; o < outputs; o++) if (w[i * outputs + o] !== 0) counts[o]++;
  }
  const indptr = new Int32Array(outputs + 1);
  for (let o = 0; o < outputs; o++) indptr[o + 1] = indptr[o] + counts[o];
  const nnz = indptr[outputs];
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  const next = indptr.slice(0, outputs);
  for (let i = 0; i < inputs; i++) {
    for (let o = 0; o < outputs; o++) {
      const v = w[i * outputs + o];
      if (v === 0) continue;
      indices[next[o]] = i;
      values[next[o]++] = v;
    }
  }
  return { rows: outputs, cols: inputs, indptr, indices, values };
}

/** The dense W [inputs, outputs] row-major of a CSR of Wᵀ. */
export function columnsOfCsr(csr: Csr): Float32Array {
  const w = new Float32Array(csr.cols * csr.rows);
  for (let o = 0; o < csr.rows; o++) {
    for (let j = csr.indptr[o]; j < csr.indptr[o + 1]; j++) {
      w[csr.indices[j] * csr.rows + o] = csr.values[j];
    }
  }
  return w;
}

/** CSR of a row-major matrix m [rows, cols] (a conv weight [out, in·kh·kw]). */
export function csrOfRows(m: Float32Array, rows: number, cols: number): Csr {
  const indptr = new Int32Array(rows + 1);
  for (let r = 0; r < rows; r++) {
    let count = 0;
    for (let c = 0; c < cols; c++) if (m[r * cols + c] !== 0) count++;
    indptr[r + 1] = indptr[r] + count;
  }
  const indices = new Int32Array(indptr[rows]);
  const values = new Float32Array(indptr[rows]);
  let at = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = m[r * cols + c];
      if (v === 0) continue;
      indices[at] = c;
      values[at++] = v;
    }
  }
  return { rows, cols, indptr, indices, values };
}

/** The dense row-major matrix [rows, cols] of a CSR. */
export function rowsOfCsr(csr: Csr): Float32Array {
  const m = new Float32Array(csr.rows * csr.cols);
  for (let r = 0; r < csr.rows; r++) {
    for (let j = csr.indptr[r]; j < csr.indptr[r + 1]; j++) {
      m[r * csr.cols + csr.indices[j]] = csr.values[j];
    }
  }
  return m;
}

/** Uploads a CSR for the sparse kernels: indptr and indices as u32, values as f32. */
export function uploadCsr(gpu: GpuContext, csr: Csr, label: string): GpuCsr {
  return {
    indptr: uploadStorage(gpu, Uint32Array.from(csr.indptr), `${label}.indptr`),
    indices: uploadStorage(gpu, Uint32Array.from(csr.indices), `${label}.indices`),
    values: uploadStorage(gpu, csr.values, `${label}.values`),
    nnz: csr.values.length,
  };
}
