/**
 * Sparsity schedules for pruning during training (jaxpruner's sparsity schedules): the polynomial
 * decay of Zhu & Gupta 2017 ("To prune, or not to prune"), and a constant schedule.
 *
 *   s_t = s_f + (s_i − s_f) · (1 − (t − t0) / (n·Δt))³   for t0 ≤ t ≤ t0 + n·Δt,
 *
 * with t0 = `begin`, t0 + n·Δt = `end` and masks recomputed every Δt = `frequency` steps.
 *
 * @module
 */

/** A schedule's settings; sparsities are fractions in [0, 1). */
export interface ScheduleConfig {
  /** `polynomial` (Zhu & Gupta) or `constant` (target sparsity from `begin` on). */
  kind: "polynomial" | "constant";
  /** Sparsity at `begin` (s_i). */
  initial: number;
  /** Target sparsity (s_f). */
  target: number;
  /** First pruning step (t0). */
  begin: number;
  /** Step at which the target is reached (t0 + n·Δt). */
  end: number;
  /** Steps between mask updates (Δt). */
  frequency: number;
}

/**
 * Sparsity at step `t`, or `undefined` before pruning starts.
 *
 * @example
 * ```ts
 * const cfg = { kind: "polynomial", initial: 0, target: 0.9, begin: 0, end: 1000, frequency: 100 } as const;
 * sparsityAt(cfg, 500); // 0.9 + (0 − 0.9)·0.5³ = 0.7875
 * ```
 */
export function sparsityAt(cfg: ScheduleConfig, t: number): number | undefined {
  if (t < cfg.begin) return undefined;
  if (cfg.kind === "constant") return cfg.target;
  if (t >= cfg.end) return cfg.target;
  const progress = (t - cfg.begin) / (cfg.end - cfg.begin);
  return cfg.target + (cfg.initial - cfg.target) * Math.pow(1 - progress, 3);
}
