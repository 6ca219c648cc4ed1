/**
 * Runs wgprune's commands as a user would: a spawned `deno run` of `src/cli/<script>.ts`, with
 * stdout and stderr captured, and checks that errors are one line without a stack trace.
 *
 * @module
 */

import { assert, assertEquals } from "./_assert.ts";
import { MEASURED_COLUMNS, type SweepRow } from "../src/sweep/results.ts";
import { pointKey } from "../src/sweep/point_id.ts";

/** What a spawned command printed and how it ended. */
export interface CliResult {
  /** Exit code. */
  code: number;
  /** Trimmed stdout. */
  stdout: string;
  /** Trimmed stderr. */
  stderr: string;
}

/**
 * Matmul variant of spawned commands unless a test says otherwise: `tiled`, so command tests do
 * not spend their time tuning (the tuner and every variant have tests of their own).
 */
const TEST_KERNEL = { WGPRUNE_KERNEL: "tiled" };

/** Runs `src/cli/<script>.ts` with `args` (and extra environment variables). */
export async function runCli(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--unstable-webgpu", "--allow-all", `src/cli/${script}.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...TEST_KERNEL, ...env },
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b).trim();
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** Starts `src/cli/<script>.ts` without waiting; `output()` of the child gives the result. */
export function spawnCli(script: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--unstable-webgpu", "--allow-all", `src/cli/${script}.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...TEST_KERNEL },
  }).spawn();
}

/** Lines of stderr that are not the adapter line or progress. */
export function messageLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) =>
    l.trim() !== "" && !l.startsWith("gpu: ") && !/^(train|sweep)\b.*: \d+\/\d+ \(/.test(l) &&
    !l.startsWith("train epoch")
  );
}

/** Asserts the command failed with `code` and printed exactly one line matching `expected`. */
export function assertOneLineError(
  result: CliResult,
  code: number,
  expected: string | RegExp,
): void {
  assertEquals(result.code, code, `exit code (stderr: ${result.stderr})`);
  assert(!result.stderr.includes("    at "), `stack trace printed: ${result.stderr}`);
  const lines = messageLines(result.stderr).filter((l) => / error: /.test(l));
  assertEquals(lines.length, 1, `one error line (stderr: ${result.stderr})`);
  const ok = typeof expected === "string" ? lines[0] === expected : expected.test(lines[0]);
  assert(ok, `error line ${JSON.stringify(lines[0])} does not match ${expected}`);
}

/**
 * Training flags of the small MLP (64-48-24-10) the CLI tests run on the synthetic 8×8 IDX
 * folder `${tmp}/data` (tests/_idx_data.ts), results under `${tmp}/out`.
 */
export function smallMlpFlags(
  tmp: string,
  options: { epochs?: number; learningRate?: number } = {},
): string[] {
  const flags = [
    // He-normal, as the thresholds of the command tests were set with (the default until the
    // initialisation study; init_test covers the default).
    "--init",
    "he",
    "--hidden",
    "48,24",
    "--epochs",
    String(options.epochs ?? 3),
    "--batch-size",
    "32",
    "--num-valid",
    "200",
    "--data-dir",
    `${tmp}/data`,
    "--output-dir",
    `${tmp}/out`,
  ];
  if (options.learningRate !== undefined) {
    flags.push("--learning-rate", String(options.learningRate));
  }
  return flags;
}

/** The experiment folder of the small MLP, from the id a command printed on stderr. */
export function smallMlpDir(tmp: string, stderr: string): string {
  const id = stderr.match(/custom-[0-9a-f]{12}_h48-24_[\w.-]+/)?.[0];
  if (!id) throw new Error(`no experiment id in: ${stderr}`);
  return `${tmp}/out/${id}`;
}

/** Asserts two sweeps hold the same points with the same measured columns. */
export function assertSameSweep(merged: SweepRow[], single: SweepRow[]): void {
  const byKey = new Map(single.map((r) => [pointKey(r), r]));
  assertEquals(merged.length, single.length, "points");
  for (const row of merged) {
    const twin = byKey.get(pointKey(row));
    assert(twin !== undefined, `merged point ${pointKey(row)} missing from the single run`);
    for (const c of MEASURED_COLUMNS) {
      assertEquals(row[c], twin[c], `${row.method} k=${row.k} ${c}`);
    }
  }
}
