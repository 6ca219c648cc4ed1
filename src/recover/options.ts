/**
 * The sweep's recovery flags, validated in one place: which strategy runs (`--strategy`, or the
 * shorthands `--finetune-epochs N`, `--finetune-freeze pruned`, `--schedule
 * iterative|gradual|surgery`,
 * `--rewind T`, `--rewind-lr`) and the flags it reads. A flag the chosen strategy does not read
 * is refused rather than silently ignored.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { getStrategy, STRATEGIES } from "./registry.ts";
import type { RecoveryOptions } from "./strategy.ts";

/** parseArgs option table of the recovery flags. */
export const RECOVERY_FLAGS = {
  strategy: { type: "string" },
  "finetune-epochs": { type: "string" },
  "finetune-lr": { type: "string" },
  "finetune-freeze": { type: "string" },
  schedule: { type: "string" },
  steps: { type: "string" },
  rewind: { type: "string" },
  "rewind-lr": { type: "boolean", default: false },
} as const;

/** Help text of the recovery flags, listing the strategies from the registry. */
export function recoveryHelp(): string {
  const width = Math.max(...[...STRATEGIES.keys()].map((n) => n.length));
  const lines = [...STRATEGIES.values()].map((s) =>
    `                              ${s.name.padEnd(width)}  ${s.description}`
  );
  return `Recovering accuracy:
  --strategy NAME             how each point recovers (default oneshot, or implied below):
${lines.join("\n")}
  --finetune-epochs N         training epochs after pruning (implies finetune when N > 0)
  --finetune-lr X             fine-tuning learning rate (default: the training rate)
  --finetune-freeze pruned    shorthand for --strategy finetune-freeze
  --schedule iterative|gradual|surgery  shorthand for --strategy iterative, gradual or surgery
  --steps S                   rounds of the iterative schedule (default 3)
  --rewind init|epoch:E|random  shorthand for --strategy rewind, and its target
  --rewind-lr                 shorthand for --strategy lr-rewind`;
}

/** The strategy the shorthand flags imply when `--strategy` is absent. */
function impliedStrategy(v: Record<string, string | boolean | undefined>): string {
  const implied: string[] = [];
  if (v["rewind-lr"]) implied.push("lr-rewind");
  if (v.rewind !== undefined) implied.push("rewind");
  if (v.schedule !== undefined && v.schedule !== "oneshot") implied.push(String(v.schedule));
  if (v["finetune-freeze"] !== undefined && v["finetune-freeze"] !== "none") {
    implied.push("finetune-freeze");
  }
  if (implied.length > 1) {
    throw new UsageError(
      `${implied.join(" and ")} cannot be combined; choose one --strategy`,
    );
  }
  if (implied.length === 1) return implied[0];
  return Number(v["finetune-epochs"] ?? 0) > 0 ? "finetune" : "oneshot";
}

/**
 * Validates the recovery flags. `number` parses a numeric flag with its range (the command line's
 * parser); `trainingLr` is the default fine-tuning rate.
 */
export function parseRecovery(
  v: Record<string, string | boolean | undefined>,
  number: (
    name: string,
    raw: string,
    opts: { integer?: boolean; min?: number; minExclusive?: boolean },
  ) => number,
  trainingLr: number,
): RecoveryOptions {
  const schedule = v.schedule;
  if (
    schedule !== undefined &&
    !["oneshot", "iterative", "gradual", "surgery"].includes(String(schedule))
  ) {
    throw new UsageError(
      `--schedule must be oneshot, iterative, gradual or surgery, got "${schedule}"`,
    );
  }
  const freeze = v["finetune-freeze"];
  if (freeze !== undefined && freeze !== "pruned" && freeze !== "none") {
    throw new UsageError(`--finetune-freeze must be pruned or none, got "${freeze}"`);
  }
  const rewind = v.rewind === undefined ? "none" : String(v.rewind);
  if (v.rewind !== undefined && !/^(init|random|epoch:\d+)$/.test(rewind)) {
    throw new UsageError(
      `--rewind must be init, random or epoch:E (E a positive integer), got "${rewind}"`,
    );
  }
  const name = v.strategy === undefined ? impliedStrategy(v) : String(v.strategy);
  const strategy = getStrategy(name);
  if (
    v.strategy !== undefined && impliedStrategy(v) !== "oneshot" && impliedStrategy(v) !== name &&
    !(impliedStrategy(v) === "finetune" && strategy.flags.includes("finetune-epochs"))
  ) {
    throw new UsageError(
      `--strategy ${name} contradicts the flags that imply ${impliedStrategy(v)}`,
    );
  }
  const reads = new Set<string>(strategy.flags);
  for (const flag of ["finetune-epochs", "finetune-lr", "steps", "rewind"]) {
    if (v[flag] !== undefined && !reads.has(flag)) {
      throw new UsageError(`--${flag} does not apply to --strategy ${name}`);
    }
  }
  if (name === "rewind" && v.rewind === undefined) {
    throw new UsageError("--strategy rewind needs --rewind init|epoch:E|random");
  }
  return {
    strategy: name,
    finetuneEpochs: number("finetune-epochs", String(v["finetune-epochs"] ?? "0"), {
      integer: true,
      min: 0,
    }),
    finetuneLr: v["finetune-lr"] === undefined
      ? trainingLr
      : number("finetune-lr", String(v["finetune-lr"]), { min: 0, minExclusive: true }),
    steps: number("steps", String(v.steps ?? "3"), { integer: true, min: 1 }),
    rewind,
  };
}
