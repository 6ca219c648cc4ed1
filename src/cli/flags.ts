/**
 * Command-line helpers every task shares: parsing argv against an option table (Node's
 * `util.parseArgs`, strict: unknown flags are errors), number flags with ranges, comma lists and
 * paths, each failure a one-line `UsageError` that names the flag and what was expected.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../util/errors.ts";

/** Parses raw argv with the given option table; unknown flags become one-line usage errors. */
export function parseFlags<T extends ParseArgsConfig["options"]>(
  args: string[],
  options: T,
): ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: false }>>["values"] {
  return parseCommandLine(args, options, false).values;
}

/**
 * Parses raw argv into flags and, when `positionals` is true, positional arguments (paths);
 * unknown flags become one-line usage errors.
 */
export function parseCommandLine<T extends ParseArgsConfig["options"]>(
  args: string[],
  options: T,
  positionals: boolean,
): ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: true }>> {
  try {
    return parseArgs({
      args: joinNegativeValues(args, options),
      options,
      strict: true,
      allowPositionals: positionals,
    }) as ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: true }>>;
  } catch (err) {
    // Node's messages can span lines and suggest positional arguments, which we do not take.
    const message = (err as Error).message.split(". To specify a positional")[0]
      .split("\n").map((s) => s.trim()).filter((s) => s.length > 0).join(" ")
      .replace(/\.$/, "");
    throw new UsageError(`${message} (see --help)`);
  }
}

/**
 * `--epochs -1` means the value -1 to a user, but parseArgs reads `-1` as a flag and calls the
 * option ambiguous; joins `--name -1` into `--name=-1` for string-valued options so that the
 * range check names the value instead.
 */
function joinNegativeValues(args: string[], options: ParseArgsConfig["options"]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") && !args[i].includes("=") ? args[i].slice(2) : "";
    const next = args[i + 1];
    if (
      name && options?.[name]?.type === "string" && next !== undefined && /^-[\d.]/.test(next)
    ) {
      out.push(`${args[i]}=${next}`);
      i++;
    } else out.push(args[i]);
  }
  return out;
}

/** A plain decimal number as users write it: `3`, `-0.5`, `1e-3`; not `0x32`, `Infinity` or ``. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses a number flag, checking its range. Only plain decimal notation is accepted. */
export function numberFlag(
  name: string,
  raw: string,
  opts: { integer?: boolean; min?: number; max?: number; minExclusive?: boolean } = {},
): number {
  const value = Number(raw);
  const kind = opts.integer ? "an integer" : "a number";
  const bad = !DECIMAL.test(raw) || !Number.isFinite(value) ||
    (opts.integer && !Number.isInteger(value)) ||
    (opts.min !== undefined && (opts.minExclusive ? value <= opts.min : value < opts.min)) ||
    (opts.max !== undefined && value > opts.max);
  if (bad) {
    const range = opts.min !== undefined
      ? ` ${opts.minExclusive ? ">" : ">="} ${opts.min}${
        opts.max !== undefined ? ` and <= ${opts.max}` : ""
      }`
      : "";
    throw new UsageError(`--${name} must be ${kind}${range}, got "${raw}"`);
  }
  return value;
}

/**
 * Checks a path given on the command line (`what` names it in the error: `--out`, `PATH`): an
 * empty or blank path is a `UsageError`, never the current or root folder by accident.
 */
export function checkPath(what: string, raw: string, kind: "folder" | "file"): string {
  if (raw.trim() === "") throw new UsageError(`${what} must name a ${kind}, got "${raw}"`);
  return raw;
}

/** Checks a folder flag: not empty; trailing slashes are dropped (`out/` is `out`). */
export function checkFolder(what: string, dir: string): string {
  const trimmed = checkPath(what, dir, "folder").replace(/\/+$/, "");
  return trimmed === "" ? "/" : trimmed;
}

/** Splits a comma list, rejecting empty items. */
export function parseList(name: string, raw: string): string[] {
  const items = raw.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) {
    throw new UsageError(`--${name} must be a comma list, got "${raw}"`);
  }
  return items;
}

/** Drops repeated items (by `key`), keeping the first of each in order. */
export function unique<T>(items: T[], key: (item: T) => string | number = String): T[] {
  const seen = new Set<string | number>();
  return items.filter((item) => !seen.has(key(item)) && seen.add(key(item)) !== undefined);
}
