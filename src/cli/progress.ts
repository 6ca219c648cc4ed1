/**
 * Progress display: a cli-progress bar (step, loss, samples/s, ETA) on a TTY, plain lines at a
 * few checkpoints otherwise (CI logs).
 *
 * @module
 */

import process from "node:process";
import cliProgress from "cli-progress";

import type { Progress, ProgressFactory } from "../util/progress.ts";

/**
 * Creates a progress display for `total` units.
 *
 * @example
 * ```ts
 * const p = createProgress("epoch 1/10", 390, false);
 * p.update(10, { loss: "0.3", rate: 5000 });
 * p.stop();
 * ```
 */
export function createProgress(label: string, total: number, quiet = false): Progress {
  if (quiet) return { update() {}, stop() {} };
  if (Deno.stderr.isTerminal()) {
    const bar = new cliProgress.SingleBar({
      format:
        `${label} |{bar}| {value}/{total} | loss {loss} | {rate} samples/s | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    }, cliProgress.Presets.shades_classic);
    bar.start(total, 0, { loss: "-", rate: 0 });
    return { update: (v, p) => bar.update(v, p), stop: () => bar.stop() };
  }
  // Not a TTY: report at 25% steps.
  let next = 0.25;
  return {
    update(value, payload) {
      if (value / total >= next && value < total) {
        const fields = Object.entries(payload ?? {}).map(([k, v]) => `${k} ${v}`).join(", ");
        console.error(`${label}: ${value}/${total}${fields ? ` (${fields})` : ""}`);
        while (value / total >= next) next += 0.25;
      }
    },
    stop() {},
  };
}

/** Progress on stderr (a bar on a terminal, lines otherwise), for the commands. */
export const terminalProgress: ProgressFactory = (label, total) => createProgress(label, total);

/** Epoch summaries and notes on stderr, for the commands. */
export const logToStderr = (line: string): void => console.error(line);
