/**
 * Progress display: a cli-progress bar (step, loss, samples/s, ETA) on a TTY, plain lines at a
 * few checkpoints otherwise (CI logs).
 *
 * @module
 */

import process from "node:process";
import cliProgress from "cli-progress";

/** A running progress display. */
export interface Progress {
  /** Sets the current value and payload fields. */
  update(value: number, payload?: Record<string, string | number>): void;
  /** Ends the display. */
  stop(): void;
}

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
export function createProgress(label: string, total: number, quiet: boolean): Progress {
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
