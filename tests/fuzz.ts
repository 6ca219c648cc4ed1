/**
 * Standalone fuzzing of wgprune's file parsers (see tests/_fuzz.ts), for longer runs than the
 * test suite's:
 *
 * ```sh
 * deno run -A tests/fuzz.ts [--cases 10000] [--seed N] [--target NAME]
 * ```
 *
 * Prints one line per target, then its failures (at most 20 each); exits 1 if any case failed,
 * 2 on a bad flag, else 0.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { FUZZ_TARGETS, runFuzz } from "./_fuzz.ts";

/** Most failures printed per target. */
const SHOWN_FAILURES = 20;

/** Parsed command line of the fuzz task. */
export interface FuzzOptions {
  /** Cases per target. */
  cases: number;
  /** Seed of the run. */
  seed: number;
  /** Only this target, or every target when undefined. */
  target?: string;
}

/** Parses the flags; throws an Error with a one-line message on a bad one. */
export function parseFuzzArgs(args: string[]): FuzzOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      cases: { type: "string", default: "10000" },
      seed: { type: "string", default: "1" },
      target: { type: "string" },
    },
  });
  const cases = Number(values.cases);
  if (!/^\d+$/.test(values.cases) || !Number.isSafeInteger(cases) || cases < 1) {
    throw new Error(`--cases must be a positive integer, got "${values.cases}"`);
  }
  const seed = Number(values.seed);
  if (!/^\d+$/.test(values.seed) || seed > 0xffffffff) {
    throw new Error(`--seed must be an integer from 0 to ${0xffffffff}, got "${values.seed}"`);
  }
  const names = FUZZ_TARGETS.map((t) => t.name);
  if (values.target !== undefined && !names.includes(values.target)) {
    throw new Error(`--target must be one of ${names.join(", ")}, got "${values.target}"`);
  }
  return { cases, seed, target: values.target };
}

/** Runs the selected targets, prints their reports and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let options: FuzzOptions;
  try {
    options = parseFuzzArgs(args);
  } catch (err) {
    console.error(`fuzz: ${(err as Error).message.split("\n")[0]}`);
    return 2;
  }
  let failed = false;
  for (const target of FUZZ_TARGETS) {
    if (options.target !== undefined && target.name !== options.target) continue;
    const r = await runFuzz(target, options.cases, options.seed);
    console.log(
      `${target.name}: ${r.cases} cases, ${r.ok} parsed, ${r.rejected} rejected, ` +
        `${r.failures.length} failures, max ${r.maxMs.toFixed(1)} ms`,
    );
    for (const f of r.failures.slice(0, SHOWN_FAILURES)) console.log(`  ${f}`);
    if (r.failures.length > SHOWN_FAILURES) {
      console.log(`  … and ${r.failures.length - SHOWN_FAILURES} more`);
    }
    failed ||= r.failures.length > 0;
  }
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
