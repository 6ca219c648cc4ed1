/**
 * Timing of GPU work as the benchmarks and the kernel tuner need it: many dispatches per submit,
 * so the ~10 ms a submit-and-wait costs on Deno's WebGPU is amortised, and medians of trials.
 *
 * @module
 */

import type { GpuContext } from "./device.ts";
import { type Op, submitOps } from "./kernel.ts";
import { median } from "../util/stats.ts";

/**
 * Median milliseconds of one run of `op`. Two warm-up submits (1 and 5 runs) estimate the cost
 * of a run without the submit's own cost; each of the 3 timed submits (2 when one run takes over
 * a second) then repeats the op enough for about `targetMs` (at most 2000 runs), so the submit
 * adds at most a few percent.
 */
export async function medianOpMs(gpu: GpuContext, op: Op, targetMs = 200): Promise<number> {
  const timeSubmit = (reps: number) => submitMs(gpu, op, reps);
  const one = await timeSubmit(1);
  const perRun = one > 1000 ? one : Math.max(((await timeSubmit(5)) - one) / 4, one / 1000, 1e-3);
  const reps = Math.max(1, Math.min(2000, Math.round(targetMs / perRun)));
  const times: number[] = [];
  for (let trial = 0; trial < (one > 1000 ? 2 : 3); trial++) {
    times.push((await timeSubmit(reps)) / reps);
  }
  return median(times);
}

/** Milliseconds of one submit of `reps` runs of `op`, waited for (the submit's cost included). */
async function submitMs(gpu: GpuContext, op: Op, reps: number): Promise<number> {
  const t0 = performance.now();
  submitOps(gpu, [op], reps);
  await gpu.device.queue.onSubmittedWorkDone();
  return performance.now() - t0;
}

/**
 * Milliseconds of one run of `op` in a submit of its own: an upper bound that includes the
 * submit's cost, for comparing candidates cheaply.
 */
export function singleRunMs(gpu: GpuContext, op: Op): Promise<number> {
  return submitMs(gpu, op, 1);
}
