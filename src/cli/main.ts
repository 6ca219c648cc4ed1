/**
 * The top level of every task: whatever goes wrong below ends as one line on stderr, never a
 * stack trace. Bad input (`UsageError`) exits with 2; the environment (`EnvironmentError`, and
 * any error the operating system raised: disk full, read-only file system, a path below a file)
 * exits with 1; anything else is a bug, printed as one line marked `internal error` (with the
 * stack only when `WGPRUNE_DEBUG=1`) and exits with 1.
 *
 * @module
 */

import { EnvironmentError, UsageError } from "../util/errors.ts";

/** Exit code of bad input. */
export const EXIT_USAGE = 2;
/** Exit code of environment failures and bugs. */
export const EXIT_ENVIRONMENT = 1;

/** True for the errors Deno and Node raise from the operating system. */
function isOsError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (Object.values(Deno.errors).some((kind) => err instanceof kind)) return true;
  return /\(os error \d+\)/.test(err.message) ||
    typeof (err as { code?: unknown }).code === "string";
}

/** The first non-empty line of a message, trimmed. */
function firstLine(text: string): string {
  return text.split("\n").map((s) => s.trim()).find((s) => s.length > 0) ?? "unknown error";
}

/** Prints `err` as one line for `command` and returns the exit code it deserves. */
export function reportError(command: string, err: unknown): number {
  if (err instanceof UsageError) {
    console.error(`${command}: error: ${firstLine(err.message)}`);
    return EXIT_USAGE;
  }
  if (err instanceof EnvironmentError || isOsError(err)) {
    console.error(`${command}: error: ${firstLine((err as Error).message)}`);
    return EXIT_ENVIRONMENT;
  }
  const message = err instanceof Error ? err.message : String(err);
  console.error(
    `${command}: internal error: ${firstLine(message)} (set WGPRUNE_DEBUG=1 for the stack trace)`,
  );
  if (Deno.env.get("WGPRUNE_DEBUG") === "1" && err instanceof Error) console.error(err.stack);
  return EXIT_ENVIRONMENT;
}

/**
 * Runs a command's main function; every error, also one rejected in the background, becomes one
 * line on stderr and the exit code of its kind (2 bad input, 1 environment or bug).
 *
 * @example
 * ```ts
 * await runMain("train", async () => {});
 * ```
 */
export async function runMain(command: string, main: () => Promise<void>): Promise<void> {
  const fail = (err: unknown): never => Deno.exit(reportError(command, err));
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    fail(event.reason);
  });
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    fail(event.error);
  });
  try {
    await main();
  } catch (err) {
    fail(err);
  }
}
