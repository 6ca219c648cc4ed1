/**
 * Storage-buffer helpers: create, upload, read back. Every buffer made here must be
 * `destroy()`ed by its owner: Deno does not reliably garbage-collect GPU memory.
 *
 * @module
 */

import type { GpuContext } from "./device.ts";

/** Usage flags of every storage buffer: bound in shaders, written from and copied to the CPU. */
export const STORAGE_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;

/**
 * Creates a storage buffer of `bytes` bytes (rounded up to 16), zero-filled, with `usage`
 * (`STORAGE_USAGE` unless a kernel also reads it otherwise, e.g. through uniform windows).
 *
 * @example
 * ```ts
 * const buf = createStorage(gpu, 4 * 1024, "activations");
 * buf.destroy();
 * ```
 */
export function createStorage(
  gpu: GpuContext,
  bytes: number,
  label: string,
  usage: GPUBufferUsageFlags = STORAGE_USAGE,
): GPUBuffer {
  return gpu.device.createBuffer({
    label,
    // Multiples of 16 bytes so any buffer may be bound as array<vec4f>.
    size: Math.max(16, Math.ceil(bytes / 16) * 16),
    usage,
  });
}

/** Creates a storage buffer holding a copy of `data`. */
export function uploadStorage(
  gpu: GpuContext,
  data: Float32Array | Uint32Array | Int32Array | Uint8Array,
  label: string,
): GPUBuffer {
  const buffer = createStorage(gpu, data.byteLength, label);
  writeStorage(gpu, buffer, data);
  return buffer;
}

/** Writes `data` to the start of `buffer` (queued; ordered before the next submit). */
export function writeStorage(
  gpu: GpuContext,
  buffer: GPUBuffer,
  data: Float32Array | Uint32Array | Int32Array | Uint8Array,
  byteOffset = 0,
): void {
  // Nothing to write (an empty layer's CSR): Deno's writeBuffer panics on zero bytes.
  if (data.byteLength === 0) return;
  // writeBuffer wants a multiple of 4 bytes.
  if (data.byteLength % 4 !== 0) {
    const padded = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
    padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    gpu.device.queue.writeBuffer(buffer, byteOffset, padded);
    return;
  }
  gpu.device.queue.writeBuffer(
    buffer,
    byteOffset,
    data.buffer as ArrayBuffer,
    data.byteOffset,
    data.byteLength,
  );
}

/**
 * Reads `bytes` bytes of `buffer` (from `byteOffset`) back to the CPU. Each call waits for the
 * queue (~10 ms in Deno), so call it rarely: once per epoch, not once per step.
 */
export async function readStorage(
  gpu: GpuContext,
  buffer: GPUBuffer,
  bytes = buffer.size,
  byteOffset = 0,
): Promise<ArrayBuffer> {
  const size = Math.ceil(bytes / 4) * 4;
  const staging = gpu.device.createBuffer({
    size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = gpu.device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, byteOffset, staging, 0, size);
  gpu.device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const copy = staging.getMappedRange().slice(0, bytes);
  staging.unmap();
  staging.destroy();
  return copy;
}

/** Reads a buffer back as `count` f32 values. */
export async function readF32(
  gpu: GpuContext,
  buffer: GPUBuffer,
  count: number,
  offset = 0,
): Promise<Float32Array> {
  return new Float32Array(await readStorage(gpu, buffer, count * 4, offset * 4));
}

/** Reads a buffer back as `count` u32 values. */
export async function readU32(
  gpu: GpuContext,
  buffer: GPUBuffer,
  count: number,
  offset = 0,
): Promise<Uint32Array> {
  return new Uint32Array(await readStorage(gpu, buffer, count * 4, offset * 4));
}

const placeholders = new WeakMap<GPUDevice, GPUBuffer>();

/**
 * A small shared zero buffer to fill a binding that a kernel variant declares but does not read
 * (e.g. `bias` when the layer has none). Owned by the module; never destroy it.
 */
export function placeholderBuffer(gpu: GpuContext): GPUBuffer {
  let buffer = placeholders.get(gpu.device);
  if (!buffer) {
    buffer = createStorage(gpu, 16, "placeholder");
    placeholders.set(gpu.device, buffer);
  }
  return buffer;
}
