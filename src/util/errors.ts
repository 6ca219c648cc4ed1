/**
 * The two kinds of error a user may see, each printed as one line by `runMain` (src/cli/main.ts):
 * a `UsageError` is the user's input (a bad flag, a malformed file, a checkpoint that does not fit;
 * exit code 2) and an `EnvironmentError` is the machine's (disk full, read-only folder, a path
 * below a file; exit code 1). Every layer may throw them; none prints them.
 *
 * @module
 */

/**
 * Makes a message one printable line: control characters (line breaks, carriage returns,
 * escapes) and Unicode line separators, which a message may quote from a damaged file, become
 * visible escapes such as `\n` and `\u001b`.
 */
export function oneLine(message: string): string {
  const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
  return message.replace(
    // deno-lint-ignore no-control-regex -- matching control characters is the point
    /[\u0000-\u001f\u007f\u2028\u2029]/g,
    (c) => named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** An error caused by the user's input; printed as one line, exit code 2. */
export class UsageError extends Error {
  /**
   * @param message naming what is wrong and what was expected; made one line by `oneLine`
   */
  constructor(message: string) {
    super(oneLine(message));
    this.name = "UsageError";
  }
}

/** An error of the environment (file system, devices); printed as one line, exit code 1. */
export class EnvironmentError extends Error {
  /**
   * @param message naming the path or resource and the operating system's reason; made one line
   */
  constructor(message: string) {
    super(oneLine(message));
    this.name = "EnvironmentError";
  }
}

/**
 * The operating system's reason of a Deno file-system error, without the path Deno appends
 * (`No space left on device (os error 28)`), so callers can name the path themselves.
 */
export function osReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split(": ")[0].split("\n")[0].trim();
}

/**
 * Wraps an error thrown while writing `path` into an `EnvironmentError` naming the path;
 * `UsageError`s and `EnvironmentError`s pass through unchanged.
 */
export function writeFailure(path: string, err: unknown): Error {
  if (err instanceof UsageError || err instanceof EnvironmentError) return err;
  return new EnvironmentError(`cannot write ${path}: ${osReason(err)}`);
}
