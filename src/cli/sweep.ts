/**
 * `deno task sweep`: trains if needed, then prunes the network at every sparsity level with
 * every method (optionally recovering accuracy by training with the mask), and writes sweep.csv,
 * sweep.md, PNG plots and report.html into the experiment folder.
 *
 * @module
 */

import { runMain } from "./main.ts";
import { UsageError } from "../util/errors.ts";
import { numberFlag, parseFlags, toTrainConfig, TRAIN_FLAGS, TRAIN_HELP } from "./train_options.ts";
import { getGpu } from "../gpu/device.ts";
import {
  ensureTrained,
  experimentPaths,
  loadData,
  modelSizes,
  readSnapshot,
} from "../train/experiment.ts";
import { exists } from "../util/files.ts";
import { PRUNE_METHODS } from "../prune/registry.ts";
import { type RecoveryOptions, runSweep } from "../sweep/run_sweep.ts";
import { writeSweepReport } from "../report/sweep_report.ts";

/** Default sparsity levels (percent). */
export const DEFAULT_KS = [0, 25, 50, 60, 70, 80, 90, 95, 97, 99, 99.5, 99.9];

const SWEEP_FLAGS = {
  ...TRAIN_FLAGS,
  method: { type: "string", default: "weight,unit" },
  k: { type: "string", default: DEFAULT_KS.join(",") },
  force: { type: "boolean", default: false },
  verbose: { type: "boolean", default: false },
  "infer-repeats": { type: "string", default: "3" },
  "finetune-epochs": { type: "string", default: "0" },
  "finetune-lr": { type: "string" },
  "finetune-freeze": { type: "string", default: "none" },
  schedule: { type: "string", default: "oneshot" },
  steps: { type: "string", default: "3" },
  rewind: { type: "string", default: "none" },
  "rewind-lr": { type: "boolean", default: false },
} as const;

const USAGE = `Usage: deno task sweep [flags]

Trains (or reuses) the experiment's network, prunes it at each sparsity k with each method, and
writes <output-dir>/<experiment-id>/{sweep.csv,sweep.md,sweep_*.png,pareto.png,hist_*.png,report.html}.
Finished points are kept; rerunning resumes at the first missing point.

Pruning:
  --method LIST             comma list of ${
  [...PRUNE_METHODS.keys()].join(", ")
} (default weight,unit)
  --k LIST                  sparsity levels in percent, each in [0, 100) (default ${
  DEFAULT_KS.join(",")
})
  --force                   recompute points already in sweep.csv
  --verbose                 print a per-layer report for every point
  --infer-repeats N         forward passes timed per point, median reported (default 3)
Recovering accuracy:
  --finetune-epochs N       masked fine-tuning epochs after pruning (default 0: one-shot)
  --finetune-lr X           fine-tuning learning rate (default: the training rate)
  --finetune-freeze pruned|none  pruned: retrain only layers that were not pruned (default none)
  --schedule oneshot|iterative|gradual  iterative: reach k through --steps prune→fine-tune
                            rounds (Han et al. 2015); gradual: raise sparsity to k during
                            --finetune-epochs (Zhu & Gupta 2017 polynomial schedule)
  --steps S                 rounds of the iterative schedule (default 3)
  --rewind init|epoch:E|random   lottery ticket: reset survivors to the initial (or epoch-E)
                            weights, or re-initialise at random (control), then retrain
  --rewind-lr               learning-rate rewinding: keep weights, retrain at the training rate

${TRAIN_HELP}`;

/** Splits a comma list, rejecting empty items. */
function parseList(name: string, raw: string): string[] {
  const items = raw.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) {
    throw new UsageError(`--${name} must be a comma list, got "${raw}"`);
  }
  return items;
}

/** Drops repeated items (by `key`), keeping the first of each in order. */
function unique<T>(items: T[], key: (item: T) => string | number = String): T[] {
  const seen = new Set<string | number>();
  return items.filter((item) => !seen.has(key(item)) && seen.add(key(item)) !== undefined);
}

if (import.meta.main) {
  await runMain("sweep", async () => {
    const flags = parseFlags(Deno.args, SWEEP_FLAGS);
    if (flags.help) {
      console.log(USAGE);
      return;
    }
    const config = toTrainConfig(flags);
    const methods = unique(parseList("method", flags.method));
    for (const m of methods) {
      if (!PRUNE_METHODS.has(m)) {
        throw new UsageError(
          `unknown --method "${m}"; valid methods: ${[...PRUNE_METHODS.keys()].join(", ")}`,
        );
      }
    }
    const ks = unique(parseList("k", flags.k).map((s) => numberFlag("k", s, { min: 0 })));
    const badK = ks.find((k) => k >= 100);
    if (badK !== undefined) throw new UsageError(`--k values must be in [0, 100), got ${badK}`);
    const freeze = flags["finetune-freeze"];
    if (freeze !== "pruned" && freeze !== "none") {
      throw new UsageError(`--finetune-freeze must be pruned or none, got "${freeze}"`);
    }
    const schedule = flags.schedule;
    if (schedule !== "oneshot" && schedule !== "iterative" && schedule !== "gradual") {
      throw new UsageError(`--schedule must be oneshot, iterative or gradual, got "${schedule}"`);
    }
    const rewind = flags.rewind;
    if (!/^(none|init|random|epoch:\d+)$/.test(rewind)) {
      throw new UsageError(
        `--rewind must be init, random or epoch:E (E a positive integer), got "${rewind}"`,
      );
    }
    const recovery: RecoveryOptions = {
      schedule,
      steps: numberFlag("steps", flags.steps, { integer: true, min: 1 }),
      finetuneEpochs: numberFlag("finetune-epochs", flags["finetune-epochs"], {
        integer: true,
        min: 0,
      }),
      finetuneLr: flags["finetune-lr"] === undefined
        ? config.learningRate
        : numberFlag("finetune-lr", flags["finetune-lr"], { min: 0, minExclusive: true }),
      freeze,
      rewind,
      rewindLr: flags["rewind-lr"],
    };
    if (recovery.rewindLr && rewind !== "none") {
      throw new UsageError(
        "--rewind-lr keeps the trained weights; it cannot be combined with --rewind",
      );
    }
    if (schedule !== "oneshot" && (rewind !== "none" || flags["rewind-lr"])) {
      throw new UsageError(
        `--schedule ${schedule} cannot be combined with --rewind or --rewind-lr`,
      );
    }
    const rewindEpoch = rewind.startsWith("epoch:") ? Number(rewind.slice(6)) : undefined;
    if (rewindEpoch !== undefined && (rewindEpoch < 1 || rewindEpoch > config.epochs)) {
      throw new UsageError(`--rewind ${rewind}: epoch must be in 1..${config.epochs} (--epochs)`);
    }
    const inferRepeats = numberFlag("infer-repeats", flags["infer-repeats"], {
      integer: true,
      min: 1,
    });

    const gpu = await getGpu();
    const loaded = await loadData(gpu, config);
    try {
      const paths = experimentPaths(config);
      if (
        rewindEpoch !== undefined && !(await exists(paths.snapshot(rewindEpoch))) &&
        (await exists(paths.checkpoint)) && !config.forceTrain
      ) {
        throw new UsageError(
          `--rewind ${rewind} needs ${
            paths.snapshot(rewindEpoch)
          }, which training did not save (snapshots are kept for epochs 1 and 2)`,
        );
      }
      const trained = await ensureTrained(gpu, config, loaded);
      const { params, metrics } = trained;
      const sizes = modelSizes(config, loaded.data.train.features);
      const rows = await runSweep(gpu, {
        trained: params,
        model: trained.checksum.slice(0, 16),
        snapshot: async (which) => {
          const path = which === "init" ? paths.init : paths.snapshot(which);
          if (!(await exists(path))) {
            throw new UsageError(
              `--rewind needs ${path}, which is missing; retrain with --force-train`,
            );
          }
          return readSnapshot(config, path, sizes);
        },
        data: loaded,
        methods,
        ks,
        recovery,
        training: {
          batchSize: config.batchSize,
          learningRate: config.learningRate,
          epochs: config.epochs,
          seed: config.seed,
        },
        csvPath: paths.sweep,
        historyDir: `${paths.dir}/finetune`,
        force: flags.force,
        verbose: flags.verbose,
        inferRepeats,
      });
      const markdown = await writeSweepReport(paths.dir, rows, params, methods, ks, config.seed, {
        experiment: config.experimentId,
        dataset: loaded.data.name,
        "dense test accuracy": `${(metrics.test_accuracy * 100).toFixed(2)}%`,
        adapter: `${gpu.adapter} via ${gpu.backend}`,
        points: String(rows.length),
      });
      console.log(markdown);
      console.error(`sweep: wrote ${paths.dir}/{sweep.csv,sweep.md,report.html,*.png}`);
    } finally {
      loaded.destroy();
    }
  });
}
