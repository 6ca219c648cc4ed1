/**
 * The kernel tests as one browser bundle: every test file that checks WGSL kernels against their
 * TypeScript references (and the networks built from them), registered through the Deno shim.
 * The page calls `wgpruneSuite.names()` and then `wgpruneSuite.run(name)` for each test, after
 * `wgpruneSuite.start(shaders)` has supplied the shader files. See tests/browser/dawn.ts.
 *
 * @module
 */

import { registered } from "./deno_shim.ts";
import { provideShaderSources } from "../../src/gpu/kernel.ts";
import { getGpu } from "../../src/gpu/device.ts";
import { useHost } from "../../src/util/host.ts";
import { memoryHost } from "../../src/util/memory_host.ts";
import "../kernels_test.ts";
import "../matmul_test.ts";
import "../conv_test.ts";
import "../backward_test.ts";
import "../sparse_test.ts";
import "../matmul_nm_test.ts";
import "../matmul_quantized_test.ts";
import "../scores_test.ts";
import "../weight_sharing_test.ts";
import "../gpu_errors_test.ts";
import "../ptq_network_test.ts";
import "../synflow_test.ts";
import "../inference_test.ts";
import "../predict_test.ts";

/** How one test ended in the page. */
export interface PageResult {
  /** Passed, failed or ignored (declared so by the test itself). */
  outcome: "ok" | "failed" | "ignored";
  /** Milliseconds. */
  ms: number;
  /** The error's message and stack, when it failed. */
  error?: string;
}

const suite = {
  /** Supplies the shader files and reports the adapter the tests will run on. */
  async start(shaders: Record<string, string>): Promise<{ adapter: string; features: string[] }> {
    provideShaderSources(shaders);
    useHost(memoryHost()); // the page's files: none (fixtures come through the Deno shim)
    const gpu = await getGpu({ quiet: true });
    return { adapter: gpu.adapter, features: [...gpu.device.features] };
  },
  /** Names of the registered tests, in order. */
  names(): string[] {
    return registered.map((t) => t.name);
  },
  /** Runs one test by name. */
  async run(name: string): Promise<PageResult> {
    const test = registered.find((t) => t.name === name);
    if (!test) return { outcome: "failed", ms: 0, error: `no test named ${name}` };
    if (test.ignore) return { outcome: "ignored", ms: 0 };
    const t0 = performance.now();
    try {
      await test.fn();
      return { outcome: "ok", ms: performance.now() - t0 };
    } catch (err) {
      const error = err instanceof Error ? `${err.message}\n${err.stack ?? ""}` : String(err);
      return { outcome: "failed", ms: performance.now() - t0, error };
    }
  },
};

/** The page's global that holds the suite. */
export interface SuiteGlobal {
  /** The suite's calls. */
  wgpruneSuite: typeof suite;
}

(globalThis as unknown as SuiteGlobal).wgpruneSuite = suite;
