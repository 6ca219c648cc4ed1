/**
 * Progress reporting as a callback: lower layers (training, the sweep) report through a
 * `ProgressFactory` they are given; the command line decides how it looks (src/cli/progress.ts).
 *
 * @module
 */

/** A running progress display. */
export interface Progress {
  /** Sets the current value and payload fields. */
  update(value: number, payload?: Record<string, string | number>): void;
  /** Ends the display. */
  stop(): void;
}

/** Starts a progress display of `total` units named `label`. */
export type ProgressFactory = (label: string, total: number) => Progress;

/** A display that shows nothing. */
export const SILENT_PROGRESS: ProgressFactory = () => ({ update() {}, stop() {} });
