/**
 * A study as a grid: models × seeds × sweeps, expanded into the experiments to train (stage one)
 * and the sweeps to run on them (stage two), each as the command line its `deno task` would take.
 * One array job covers a whole study: stage one shares out the experiments, stage two every point
 * of every sweep (src/sweep/shard.ts), so a shard may work on several experiments.
 *
 * A grid comes from flags (`--seeds 0,1,2 --models mlp,lenet5` plus any sweep flags) or a JSON
 * file (`--grid FILE`) whose keys are the same flags, plus `sweeps`: a list of flag objects, one
 * sweep each (e.g. one-shot and fine-tuned). Flags on the command line override the file's.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { MAX_SEED } from "../util/rng.ts";

/** How a flag is parsed: `string` flags take a value, `boolean` ones do not. */
export type FlagTypes = Record<string, { type: "string" | "boolean" }>;

/** The grid's own flags. */
export const GRID_FLAGS = {
  grid: { type: "string" },
  seeds: { type: "string" },
  models: { type: "string" },
  stage: { type: "string" },
  shard: { type: "string" },
  shards: { type: "string" },
  "point-seconds": { type: "string" },
  help: { type: "boolean" },
} as const;

/** A grid: its axes, the flags every command shares, and the sweeps. */
export interface GridSpec {
  /** `--seed` values (none: the flags' own seed). */
  seeds: string[];
  /** `--model` values (none: the flags' own model). */
  models: string[];
  /** Flags every experiment shares, as command-line tokens. */
  common: string[];
  /** One token list per sweep (`[[]]`: one sweep with the common flags only). */
  sweeps: string[][];
}

/** One experiment of the grid: the `deno task train` command line that trains it. */
export interface GridExperiment {
  /** The model (`--model`), or undefined for the flags' own. */
  model?: string;
  /** The seed (`--seed`), or undefined for the flags' own. */
  seed?: string;
  /** Command-line tokens of the experiment (train and sweep flags alike). */
  args: string[];
}

/** One sweep of the grid: its experiment and the `deno task sweep` command line. */
export interface GridSweep {
  /** Index of its experiment in `experiments`. */
  experiment: number;
  /** Command-line tokens. */
  args: string[];
}

/** Splits a comma list; empty items are a `UsageError` naming the flag. */
function list(name: string, raw: string): string[] {
  const items = raw.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) {
    throw new UsageError(`--${name} must be a comma list, got "${raw}"`);
  }
  return items;
}

/** The flag name of a token (`--k` or `--k=90` → `k`), or undefined for a value. */
function flagName(token: string): string | undefined {
  return token.startsWith("--") && token.length > 2 ? token.slice(2).split("=")[0] : undefined;
}

/**
 * Splits command-line tokens into flags: each entry is one flag's tokens (`["--k", "90"]`,
 * `["--k=90"]` or `["--force"]`). A flag not in `types` is a `UsageError`.
 */
export function flagGroups(tokens: readonly string[], types: FlagTypes): string[][] {
  const groups: string[][] = [];
  for (let i = 0; i < tokens.length; i++) {
    const name = flagName(tokens[i]);
    if (name === undefined) {
      throw new UsageError(`unexpected argument "${tokens[i]}" (see --help)`);
    }
    const type = types[name]?.type;
    if (type === undefined) throw new UsageError(`unknown flag --${name} (see --help)`);
    if (type === "boolean" || tokens[i].includes("=")) groups.push([tokens[i]]);
    else {
      if (i + 1 >= tokens.length) throw new UsageError(`--${name} needs a value`);
      groups.push([tokens[i], tokens[++i]]);
    }
  }
  return groups;
}

/** The value of one flag's tokens (`["--k", "90"]` or `["--k=90"]`). */
function flagValue(group: string[]): string {
  return group.length === 2 ? group[1] : group[0].slice(group[0].indexOf("=") + 1);
}

/** The `--grid FILE` of a command line (checked against `sweepTypes`), or undefined. */
export function gridFileOf(tokens: readonly string[], sweepTypes: FlagTypes): string | undefined {
  const group = flagGroups(tokens, { ...sweepTypes, ...GRID_FLAGS }).findLast((g) =>
    flagName(g[0]) === "grid"
  );
  return group ? flagValue(group) : undefined;
}

/** The tokens of the flags named in `keep`. */
export function pickFlags(tokens: readonly string[], types: FlagTypes, keep: FlagTypes): string[] {
  return flagGroups(tokens, types).filter((g) => flagName(g[0])! in keep).flat();
}

/** Tokens of a JSON object of flags: `true` → `--flag`, arrays → comma lists. */
function tokensOf(flags: Record<string, unknown>, where: string): string[] {
  return Object.entries(flags).flatMap(([name, value]) => {
    if (value === true) return [`--${name}`];
    if (value === false || value === null) return [];
    if (Array.isArray(value)) return [`--${name}`, value.join(",")];
    if (typeof value === "string" || typeof value === "number") return [`--${name}`, String(value)];
    throw new UsageError(`${where}: "${name}" must be a string, number, boolean or list`);
  });
}

/**
 * Builds a grid from the command line's tokens (grid flags and sweep flags) and, with `--grid`,
 * the text of its file (`fileText`, named `path` in errors). Sweep flags are checked against
 * `sweepTypes`. `experimentFlags` are the flags that choose the experiment to train (its data,
 * network, training and output folder): stage one trains from the grid's top-level flags, so a
 * sweep that sets one of them is a `UsageError` rather than a sweep of an untrained model.
 */
export function parseGrid(
  tokens: readonly string[],
  sweepTypes: FlagTypes,
  file?: { text: string; path: string },
  experimentFlags: ReadonlySet<string> = new Set(),
): { spec: GridSpec; own: Record<string, string | boolean | undefined> } {
  const types = { ...sweepTypes, ...GRID_FLAGS };
  const own: Record<string, string | boolean | undefined> = {};
  const common: string[] = [];
  const fileFlags: string[] = [];
  let sweeps: string[][] = [[]];
  if (file) {
    let json: unknown;
    try {
      json = JSON.parse(file.text);
    } catch (err) {
      throw new UsageError(`${file.path}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new UsageError(`${file.path}: expected a JSON object of flags`);
    }
    const { sweeps: rawSweeps, ...rest } = json as Record<string, unknown>;
    if (rawSweeps !== undefined) {
      if (!Array.isArray(rawSweeps) || rawSweeps.length === 0) {
        throw new UsageError(`${file.path}: "sweeps" must be a non-empty list of flag objects`);
      }
      sweeps = rawSweeps.map((s, i) => {
        if (typeof s !== "object" || s === null || Array.isArray(s)) {
          throw new UsageError(`${file.path}: sweeps[${i}] must be an object of flags`);
        }
        const t = tokensOf(s as Record<string, unknown>, `${file.path}: sweeps[${i}]`);
        for (const g of flagGroups(t, sweepTypes)) { // unknown flags fail here, naming the file
          const name = flagName(g[0])!;
          if (experimentFlags.has(name)) {
            throw new UsageError(
              `${file.path}: sweeps[${i}] sets "${name}", which chooses the experiment that stage ` +
                "one trains; give it at the top level of the grid, for training and every sweep",
            );
          }
        }
        return t;
      });
    }
    fileFlags.push(...tokensOf(rest, file.path));
    for (const g of flagGroups(fileFlags, types)) {
      if (flagName(g[0]) === "grid") {
        throw new UsageError(`${file.path}: a grid file cannot name --grid`);
      }
    }
  }
  for (const g of flagGroups([...fileFlags, ...tokens], types)) {
    const name = flagName(g[0])!;
    if (name in GRID_FLAGS) {
      own[name] = GRID_FLAGS[name as keyof typeof GRID_FLAGS].type === "boolean"
        ? true
        : flagValue(g);
    } else common.push(...g);
  }
  const seeds = typeof own.seeds === "string" ? list("seeds", own.seeds) : [];
  const models = typeof own.models === "string" ? list("models", own.models) : [];
  for (const s of seeds) {
    if (!/^\d+$/.test(s) || Number(s) > MAX_SEED) {
      throw new UsageError(`--seeds must list integers from 0 to ${MAX_SEED}, got "${s}"`);
    }
  }
  for (const [name, items] of [["seeds", seeds.map(Number)], ["models", models]] as const) {
    const twice = items.find((x, i) => items.indexOf(x as never) !== i);
    if (twice !== undefined) throw new UsageError(`--${name} lists ${twice} twice`);
  }
  return { spec: { seeds, models, common, sweeps }, own };
}

/** The experiments (models × seeds) and sweeps (experiments × sweeps) of a grid. */
export function expandGrid(
  spec: GridSpec,
): { experiments: GridExperiment[]; sweeps: GridSweep[] } {
  const models = spec.models.length > 0 ? spec.models : [undefined];
  const seeds = spec.seeds.length > 0 ? spec.seeds : [undefined];
  const experiments: GridExperiment[] = [];
  for (const model of models) {
    for (const seed of seeds) {
      experiments.push({
        model,
        seed,
        args: [
          ...spec.common,
          ...(model === undefined ? [] : ["--model", model]),
          ...(seed === undefined ? [] : ["--seed", seed]),
        ],
      });
    }
  }
  const sweeps = experiments.flatMap((e, i) =>
    spec.sweeps.map((tokens) => ({ experiment: i, args: [...e.args, ...tokens] }))
  );
  return { experiments, sweeps };
}
