/**
 * WebGPU device acquisition: one adapter, the limits the kernels need, and a one-line report of
 * what runs (adapter, backend, software fallback or not).
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { host } from "../util/host.ts";

/** A live GPU device plus a description of the adapter it came from. */
export interface GpuContext {
  /** The WebGPU device every kernel runs on. */
  device: GPUDevice;
  /** Human-readable adapter description, e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`. */
  adapter: string;
  /** The backend Deno's wgpu was asked for (`vulkan`, `gl`, ... or `auto`), or `browser`. */
  backend: string;
  /** True when the adapter is a CPU rasteriser (llvmpipe/lavapipe/SwiftShader). */
  software: boolean;
}

/**
 * Limits raised above the WebGPU defaults, to what the adapter allows (only `requiredLimits` are
 * raised): the buffer sizes, which grow with the data and the network. Every kernel stays within
 * the defaults of everything else (at most 256 invocations and 8 KiB of workgroup memory per
 * workgroup, at most 8 storage buffers), so it runs on any WebGPU device; the kernel tests run
 * under exactly these limits on wgpu (Deno) and on Dawn (Chromium).
 */
const WANTED_LIMITS = ["maxStorageBufferBindingSize", "maxBufferSize"] as const;

let shared: Promise<GpuContext> | undefined;

/**
 * Returns the process-wide GPU context, creating it on first use.
 *
 * The Vulkan backend is chosen unless `DENO_WEBGPU_BACKEND` says otherwise: on Mesa's lavapipe it
 * submits work much faster than the GL path.
 *
 * @example
 * ```ts
 * const gpu = await getGpu();
 * console.log(gpu.adapter);
 * ```
 */
export function getGpu(options: { quiet?: boolean } = {}): Promise<GpuContext> {
  shared ??= createGpu(options.quiet ?? false);
  return shared;
}

async function createGpu(quiet: boolean): Promise<GpuContext> {
  const backend = host().webgpuBackend();
  const adapter = navigator.gpu
    ? await navigator.gpu.requestAdapter({ powerPreference: "high-performance" })
    : null;
  if (!adapter) {
    throw new UsageError(
      `no WebGPU adapter found (backend ${backend}); install a GPU driver, or Mesa's software ` +
        "rasteriser (apt-get install mesa-vulkan-drivers) and set DENO_WEBGPU_BACKEND=vulkan|gl",
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredLimits });
  const info = adapter.info;
  const description = info.description ||
    [info.vendor, info.architecture, info.device].filter((s) => s).join(" ");
  const software = /llvmpipe|lavapipe|swiftshader|software/i.test(description) ||
    (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const ctx: GpuContext = { device, adapter: description, backend, software };
  if (!quiet) {
    console.error(
      `gpu: ${description} via ${backend}${software ? " (software fallback, CPU)" : ""}`,
    );
  }
  return ctx;
}
