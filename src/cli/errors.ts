/**
 * User-facing errors: a bad flag, a missing file, a shape that does not fit. They are printed as
 * one line and end the process with exit code 2, never with a stack trace.
 *
 * @module
 */

/** An error caused by the user's input; `runMain` prints its message alone and exits with 2. */
export class UsageError extends Error {
  /**
   * @param message one line naming what is wrong and what was expected
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Runs a command's main function: a `UsageError` becomes `error: <message>` on stderr and exit
 * code 2; any other error keeps its stack trace and exits with 1.
 *
 * @example
 * ```ts
 * await runMain("train", async () => {});
 * ```
 */
export async function runMain(command: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${command}: error: ${err.message}`);
      Deno.exit(2);
    }
    throw err;
  }
}
