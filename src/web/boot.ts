/// <reference lib="dom" />
/**
 * Starting the app: registers the service worker (offline use), fetches the shader files and
 * MNIST's four IDX files into an in-memory host, opens the page's WebGPU device and splits the
 * data as the command line does (seed 0, 10,000 validation images).
 *
 * @module
 */

import {
  type Dataset,
  getGpu,
  type GpuContext,
  IDX_FILES,
  loadData,
  memoryHost,
  provideShaderSources,
  useHost,
} from "../mod.ts";

/** Where the app keeps MNIST in its in-memory host. */
export const MNIST_DIR = "mnist";

/** A file of the app's folder, fetched; a failure names it. */
async function fetchBytes(name: string): Promise<Uint8Array> {
  const response = await fetch(name);
  if (!response.ok) throw new Error(`cannot load ${name}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Loads everything the app needs; `say` reports progress. */
export async function boot(
  say: (line: string) => void,
): Promise<{ gpu: GpuContext; data: Dataset }> {
  if ("serviceWorker" in navigator) {
    await navigator.serviceWorker.register("sw.js").catch(() => undefined);
  }
  if (!("gpu" in navigator)) {
    throw new Error("this browser has no WebGPU; open the page in Chrome or Edge 113 or later");
  }
  say("Loading shaders and MNIST…");
  const shaders = JSON.parse(new TextDecoder().decode(await fetchBytes("shaders.json")));
  provideShaderSources(shaders);
  const files = new Map<string, Uint8Array>();
  // The build ships each IDX file gzipped.
  await Promise.all(IDX_FILES.map(async (base) => {
    const name = `${MNIST_DIR}/${base}.gz`;
    files.set(name, await fetchBytes(name));
  }));
  useHost(memoryHost(files));
  const gpu = await getGpu({ quiet: true });
  const data = await loadData({ dataDir: MNIST_DIR, seed: 0 });
  return { gpu, data };
}
