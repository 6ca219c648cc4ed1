/**
 * `deno task sensitivity`: prunes one layer at a time over k (the others dense) and writes each
 * layer's accuracy curve — `sensitivity_<method>.{csv,json,png}` in the experiment folder — for
 * `deno task sweep --allocation sensitivity:PATH` (src/prune/sensitivity.ts).
 *
 * @module
 */

import { stringify } from "csv-stringify/sync";
import { runMain } from "./main.ts";
import { UsageError } from "../util/errors.ts";
import { exists, writeFileAtomic, writeJsonAtomic } from "../util/files.ts";
import { numberFlag, parseFlags } from "./flags.ts";
import { toTrainConfig, TRAIN_FLAGS, TRAIN_HELP } from "./train_options.ts";
import { logToStderr, terminalProgress } from "./progress.ts";
import { getGpu } from "../gpu/device.ts";
import { parseKernel } from "./kernel_option.ts";
import { setupKernels } from "../experiment/kernels.ts";
import { prunableParams } from "../model/masks.ts";
import { getPruneMethod, PRUNE_METHODS } from "../prune/registry.ts";
import { ensureTrained, loadData } from "../experiment/run.ts";
import { experimentPaths } from "../experiment/paths.ts";
import { readSnapshot } from "../experiment/checkpoints.ts";
import { gpuScorer } from "../train/gradient_scores.ts";
import { scanSensitivity } from "../sweep/sensitivity_scan.ts";
import { renderPanels } from "../report/charts.ts";

/** Levels scanned unless --k says otherwise. */
const DEFAULT_KS = [0, 25, 50, 70, 80, 90, 95, 97, 99];

const USAGE = `Usage: deno task sensitivity [flags]

Trains (or reuses) the experiment's model, then prunes each prunable layer alone at every k
(the other layers dense) and writes <output-dir>/<experiment-id>/sensitivity_<method>.{csv,json,png}.
\`deno task sweep --allocation sensitivity:PATH\` with the .json gives each layer the largest k
within one shared accuracy drop, at each target sparsity.

  --method M          a method that scores single weights: weight, random, taylor, snip
                      (default weight)
  --k LIST            sparsity levels in percent (default ${DEFAULT_KS.join(",")})
  --score-batches N   batches of the gradient scores (taylor, snip; default 16)

${TRAIN_HELP}`;

if (import.meta.main) {
  await runMain("sensitivity", async () => {
    const flags = parseFlags(Deno.args, {
      ...TRAIN_FLAGS,
      method: { type: "string", default: "weight" },
      k: { type: "string", default: DEFAULT_KS.join(",") },
      "score-batches": { type: "string", default: "16" },
    });
    if (flags.help) {
      console.log(USAGE);
      return;
    }
    const config = toTrainConfig(flags);
    if (!PRUNE_METHODS.has(flags.method)) {
      throw new UsageError(
        `unknown --method "${flags.method}"; valid methods: ${
          [...PRUNE_METHODS.keys()].join(", ")
        }`,
      );
    }
    const method = getPruneMethod(flags.method);
    if (!method.scores) {
      throw new UsageError(
        `--method ${method.name} does not score single weights; use weight, random, taylor or snip`,
      );
    }
    const ks = flags.k.split(",").map((s) => numberFlag("k", s.trim(), { min: 0 }));
    const badK = ks.find((k) => k >= 100);
    if (badK !== undefined) throw new UsageError(`--k values must be in [0, 100), got ${badK}`);
    const batches = numberFlag("score-batches", flags["score-batches"], { integer: true, min: 1 });
    const gpu = await getGpu();
    const loaded = await loadData(gpu, config);
    try {
      await setupKernels(gpu, parseKernel(flags.kernel), config, loaded.spec);
      const prunable = prunableParams(loaded.spec, config.pruneParams);
      const out = { progress: terminalProgress, log: logToStderr };
      const trained = await ensureTrained(gpu, config, loaded, out);
      const paths = experimentPaths(config);
      const scorer = gpuScorer(gpu, loaded, {
        batchSize: config.batchSize,
        batches,
        seed: config.seed,
        init: async () => {
          if (!(await exists(paths.init))) {
            throw new UsageError(`${paths.init} is missing; retrain with --force-train`);
          }
          return readSnapshot(config, paths.init, loaded.spec);
        },
      });
      const { file, rows } = await scanSensitivity(
        gpu,
        trained.model,
        prunable,
        method,
        ks,
        loaded.test,
        { seed: config.seed, scorer, progress: terminalProgress },
      );
      const base = `${paths.dir}/sensitivity_${method.name}`;
      await writeJsonAtomic(`${base}.json`, file);
      await writeFileAtomic(
        `${base}.csv`,
        stringify(rows, { header: true, columns: ["layer", "k", "accuracy", "loss"] }),
      );
      await writeFileAtomic(
        `${base}.png`,
        await renderPanels(
          [{
            title: `Sensitivity: one layer pruned (${method.name}), the others dense`,
            xLabel: "sparsity of the layer (%)",
            yLabel: "test accuracy (%)",
            series: file.layers.map((l) => ({
              label: l.name,
              points: l.points.map((p) => [p.k, p.accuracy * 100] as [number, number]),
            })),
          }],
          900,
          560,
        ),
      );
      const header = `| k % | ${file.layers.map((l) => l.name).join(" | ")} |`;
      const lines = [header, `|${header.split("|").slice(1, -1).map(() => "---:").join("|")}|`];
      for (const k of [...new Set([0, ...ks])].sort((a, b) => a - b)) {
        const cells = file.layers.map((l) => {
          const p = l.points.find((q) => q.k === k);
          return p ? (p.accuracy * 100).toFixed(2) : "";
        });
        lines.push(`| ${k} | ${cells.join(" | ")} |`);
      }
      console.log(lines.join("\n"));
      console.error(`sensitivity: wrote ${base}.{json,csv,png}`);
    } finally {
      loaded.destroy();
    }
  });
}
