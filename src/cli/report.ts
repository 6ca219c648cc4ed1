/**
 * `deno task report EXPERIMENT_DIR…`: one summary of several seeds of a study. The folders must
 * hold the same configuration but for the seed; their sweep points are grouped and written as
 * mean ± std (seeds.csv, seeds.md, seeds_accuracy.png and seeds_loss.png with bands). Needs no
 * GPU.
 *
 * @module
 */

import { runMain } from "./main.ts";
import { checkFolder, parseCommandLine } from "./flags.ts";
import { UsageError } from "../util/errors.ts";
import { ensureWritableDir, folderOf } from "../util/files.ts";
import { readSweep } from "../sweep/results.ts";
import { aggregateSeeds, writeSeedsReport } from "../report/seeds.ts";
import { type ExperimentFolder, readExperimentFolder } from "../experiment/folder.ts";
import { folderPaths } from "../experiment/paths.ts";

const USAGE = `Usage: deno task report EXPERIMENT_DIR [EXPERIMENT_DIR ...] [--out DIR]

Summarises experiments that differ only in --seed: every sweep point as mean ± sample standard
deviation over the seeds, written to DIR/{seeds.csv,seeds.md,seeds_accuracy.png,seeds_loss.png}
(the plots shade mean ± std). DIR defaults to the first folder's name with its seed replaced,
e.g. results/mnist_..._seeds0-1-2. Merge sharded sweeps first (deno task merge).

  --out DIR   where to write the summary`;

/** The first configuration key two experiments disagree on, besides the seed. */
function differingKey(a: ExperimentFolder, b: ExperimentFolder): string | undefined {
  const keys = new Set([...Object.keys(a.config), ...Object.keys(b.config)]);
  keys.delete("seed");
  return [...keys].find((k) => JSON.stringify(a.config[k]) !== JSON.stringify(b.config[k]));
}

/** The default output folder: the first experiment's id with `_s<seed>` → `_seeds<a>-<b>-…`. */
export function seedsFolder(first: ExperimentFolder, seeds: number[]): string {
  const tag = `seeds${[...seeds].sort((a, b) => a - b).join("-")}`;
  const pattern = new RegExp(`_s${first.seed}(?=_|$)`);
  const id = pattern.test(first.id) ? first.id.replace(pattern, `_${tag}`) : `${first.id}_${tag}`;
  return `${folderOf(first.dir)}/${id}`;
}

/** Aggregates the folders' sweeps over their seeds; returns seeds.md and where it went. */
export async function reportSeeds(
  dirs: string[],
  out?: string,
): Promise<{ markdown: string; dir: string }> {
  const folders: ExperimentFolder[] = [];
  for (const dir of dirs) folders.push(await readExperimentFolder(dir));
  for (const f of folders.slice(1)) {
    const key = differingKey(folders[0], f);
    if (key !== undefined) {
      throw new UsageError(
        `${f.dir} differs from ${
          folders[0].dir
        } in ${key}, not only in the seed; give folders of one configuration`,
      );
    }
  }
  const seeds = folders.map((f) => f.seed);
  const repeated = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (repeated !== undefined) {
    throw new UsageError(`two folders have seed ${repeated}; give each seed once`);
  }
  const runs = [];
  for (const f of folders) {
    const rows = (await readSweep(folderPaths(f.dir).sweep)).rows.filter((r) =>
      r.model === f.modelId
    );
    if (rows.length === 0) {
      throw new UsageError(
        `${f.dir}: sweep.csv has no rows of its trained model; run (or merge) its sweep first`,
      );
    }
    runs.push({ seed: f.seed, rows });
  }
  const dir = out ?? seedsFolder(folders[0], seeds);
  await ensureWritableDir(dir);
  const markdown = await writeSeedsReport(
    dir,
    aggregateSeeds(runs),
    folders.length,
    `${folders[0].id.replace(/_s\d+(?=_|$)/, "")}: seeds ${seeds.join(", ")}`,
    folders.map((f) => f.testAccuracy),
  );
  return { markdown, dir };
}

if (import.meta.main) {
  await runMain("report", async () => {
    const { values, positionals } = parseCommandLine(Deno.args, {
      help: { type: "boolean", short: "h", default: false },
      out: { type: "string" },
    }, true);
    if (values.help) {
      console.log(USAGE);
      return;
    }
    if (positionals.length === 0) {
      throw new UsageError("report needs at least one experiment folder (see --help)");
    }
    const out = values.out === undefined ? undefined : checkFolder("--out", values.out);
    const { markdown, dir } = await reportSeeds(positionals, out);
    console.log(markdown);
    console.error(`report: wrote ${dir}/{seeds.csv,seeds.md,seeds_accuracy.png,seeds_loss.png}`);
  });
}
