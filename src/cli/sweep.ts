/**
 * `deno task sweep`: trains if needed, then prunes the model at every sparsity level with every
 * method (optionally recovering accuracy with a strategy of src/recover/), and writes sweep.csv,
 * sweep.md, PNG plots and report.html into the experiment folder.
 *
 * @module
 */

import { runMain } from "./main.ts";
import { UsageError } from "../util/errors.ts";
import { exists, readTextOrFail } from "../util/files.ts";
import { numberFlag, parseFlags, toTrainConfig, TRAIN_FLAGS, TRAIN_HELP } from "./train_options.ts";
import { logToStderr, terminalProgress } from "./progress.ts";
import { getGpu } from "../gpu/device.ts";
import { parseKernel, setupKernels } from "./kernel_option.ts";
import { prunableParams } from "../model/masks.ts";
import { getPruneMethod, PRUNE_METHODS } from "../prune/registry.ts";
import { ALLOCATIONS, parseAllocation } from "../prune/allocation.ts";
import { takesAllocation } from "../prune/prepare.ts";
import { nmMethodName, nmSparsity, parseNm } from "../prune/nm.ts";
import { parseSensitivityFile } from "../prune/sensitivity.ts";
import { META_FILE, readExportMeta } from "../export/meta.ts";
import { MOVEMENT_STRATEGIES } from "../prune/movement.ts";
import { runSmallDenseBaseline, SMALL_DENSE } from "../sweep/baseline.ts";
import { readModelRows } from "../sweep/results.ts";
import { gpuScorer } from "../train/gradient_scores.ts";
import { kForSensitivity } from "../prune/std.ts";
import { parseRecovery, RECOVERY_FLAGS, recoveryHelp } from "../recover/options.ts";
import { ensureTrained, loadData } from "../experiment/run.ts";
import { experimentPaths } from "../experiment/paths.ts";
import { readSnapshot } from "../experiment/checkpoints.ts";
import {
  plannedPoints,
  planPointId,
  runSweep,
  selectPoints,
  type SweepPlan,
} from "../sweep/run_sweep.ts";
import { keysOfShard, type Shard, shardFileName } from "../sweep/shard.ts";
import { shardFromEnvironment } from "../cluster/shard_env.ts";
import { parseInferMode, readCrossovers, readNmSpeeds } from "../train/infer_paths.ts";
import { parseQuantizeBits } from "../quant/weight_sharing.ts";
import { parsePtq } from "../quant/ptq_model.ts";
import type { QuantizeOptions } from "../recover/weight_sharing.ts";
import { reportSummary, writeSweepReport } from "../report/sweep_report.ts";

/** Default sparsity levels (percent). */
const DEFAULT_KS = [0, 25, 50, 60, 70, 80, 90, 95, 97, 99, 99.5, 99.9];

/** Epochs of centroid fine-tuning unless --quantize-epochs says otherwise. */
const DEFAULT_QUANTIZE_EPOCHS = 1;
/** Centroid learning rate unless --quantize-lr says otherwise. */
const DEFAULT_QUANTIZE_LR = 1e-4;

/** The flags of the sweep and export commands. */
export const SWEEP_FLAGS = {
  ...TRAIN_FLAGS,
  ...RECOVERY_FLAGS,
  method: { type: "string", default: "weight,unit" },
  k: { type: "string" },
  "std-sensitivity": { type: "string" },
  force: { type: "boolean", default: false },
  verbose: { type: "boolean", default: false },
  "infer-repeats": { type: "string", default: "3" },
  save: { type: "boolean", default: false },
  infer: { type: "string", default: "auto" },
  "quantize-bits": { type: "string" },
  "quantize-epochs": { type: "string" },
  "quantize-lr": { type: "string" },
  ptq: { type: "string" },
  allocation: { type: "string", default: "uniform" },
  "score-batches": { type: "string", default: "16" },
  nm: { type: "string" },
  baseline: { type: "string" },
  shard: { type: "string" },
  shards: { type: "string" },
} as const;

const USAGE = `Usage: deno task sweep [flags]

Trains (or reuses) the experiment's model, prunes it at each sparsity k with each method, and
writes <output-dir>/<experiment-id>/{sweep.csv,sweep.md,sweep_*.png,pareto.png,hist_*.png,report.html}.
Finished points are kept; rerunning resumes at the first missing point.

Pruning:
  --method LIST               comma list of ${
  [...PRUNE_METHODS.keys(), "nm"].join(", ")
} (default weight,unit)
  --k LIST                    sparsity levels in percent, each in [0, 100) (default ${
  DEFAULT_KS.join(",")
})
  --nm N:M                    with --method nm: keep the N largest |w| of every M consecutive
                              inputs of each output unit (default 2:4); sparsity 1 − N/M, no --k
  --std-sensitivity LIST      with --method std, instead of --k: sensitivities s, each pruning
                              |w| < s·std(W) of every prunable parameter (prune_by_std(s))
  --allocation NAME           how a scored method's sparsity is spread over the layers: ${
  ALLOCATIONS.join(", ")
}
                              or sensitivity:PATH (uniform: k% of each; global: one threshold;
                              erk: Erdős–Rényi-Kernel densities; lamp: layer-adaptive magnitude
                              scores; sensitivity: per-layer k from deno task sensitivity's file)
  --score-batches N           training batches the gradient scores (taylor, snip) sum over
                              (default 16)
  --baseline small-dense      also train, for each k, a dense network with hidden widths (1 − k)
                              of the trained one's from scratch (rows small-dense/scratch)
  --force                     recompute points already in sweep.csv
  --verbose                   print a per-parameter report for every point
  --infer-repeats N           forward passes timed per point, median reported (default 3)
  --infer auto|dense|sparse|nm  inference path of the measured passes: auto picks per layer the
                              kernel measured fastest by deno task bench --sparse (CSR below the
                              crossover density) and --nm (the N:M kernel for N:M weights);
                              nm runs every N:M weight on the N:M kernel
  --save                      export every point's pruned model to <experiment>/export/ (dense,
                              compact and CSR safetensors, masks, meta.json)
Sharding (see the README's "Scaling out"):
  --shard I/N                 compute only shard I (from 0) of N: a deterministic share of the
                              points, balanced by expected cost, written to
                              <experiment>/sweep.shard-I-of-N.csv; deno task merge folds the
                              shards into sweep.csv and writes the report
  --shards N                  the number of shards when the index comes from the scheduler:
                              JOB_COMPLETION_INDEX (Kubernetes Indexed Job) needs it; a Slurm
                              array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT) is read alone
${recoveryHelp()}

Weight sharing and Huffman coding (Deep Compression's stages two and three):
  --quantize-bits B|C,F       after recovery, cluster each weight tensor's surviving weights into
                              2^B shared values (C bits for convolutions, F for dense layers, as
                              the paper's 8,5) and fine-tune the shared values
  --quantize-epochs N         epochs of that fine-tuning (default ${DEFAULT_QUANTIZE_EPOCHS}; 0 clusters only)
  --quantize-lr X             its learning rate (default ${DEFAULT_QUANTIZE_LR})
  --ptq int8|f16              instead, post-training quantisation after recovery: symmetric
                              per-output-channel int8 or float16 weights, evaluated by kernels
                              that read them packed (accuracy_f32 keeps the f32 accuracy)
  Every point reports its size as dense f32, CSR, fixed-width and Huffman-coded (sweep.csv
  bytes_* columns); --save and export also write model.dcz and, with sharing, model_q.safetensors.

${TRAIN_HELP}`;

/** Splits a comma list, rejecting empty items. */
function parseList(name: string, raw: string): string[] {
  const items = raw.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) {
    throw new UsageError(`--${name} must be a comma list, got "${raw}"`);
  }
  return items;
}

/** `--quantize-bits`, `--quantize-epochs`, `--quantize-lr`; undefined without weight sharing. */
function parseQuantize(
  flags: Record<string, string | boolean | undefined>,
): QuantizeOptions | undefined {
  const raw = flags["quantize-bits"];
  if (raw === undefined) {
    const stray = ["quantize-epochs", "quantize-lr"].find((f) => flags[f] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --quantize-bits`);
    return undefined;
  }
  return {
    bits: parseQuantizeBits(String(raw)),
    epochs: numberFlag(
      "quantize-epochs",
      String(flags["quantize-epochs"] ?? DEFAULT_QUANTIZE_EPOCHS),
      { integer: true, min: 0 },
    ),
    lr: numberFlag("quantize-lr", String(flags["quantize-lr"] ?? DEFAULT_QUANTIZE_LR), {
      min: 0,
    }),
  };
}

/** Drops repeated items (by `key`), keeping the first of each in order. */
function unique<T>(items: T[], key: (item: T) => string | number = String): T[] {
  const seen = new Set<string | number>();
  return items.filter((item) => !seen.has(key(item)) && seen.add(key(item)) !== undefined);
}

const EXPORT_USAGE = `Usage: deno task export --method M --k K [sweep flags]

Prunes the experiment's model with one method at one k (recovering accuracy with any strategy
flag of the sweep) and writes <output-dir>/<experiment-id>/export/<method>_k<K>_<strategy>/:
model.safetensors (dense, exact zeros), model_compact.safetensors (dead units removed),
model_csr.safetensors (pruned weights as CSR of [out, in]), masks.safetensors and meta.json.
\`deno task eval PATH\` evaluates any of the three model files.

${USAGE.slice(USAGE.indexOf("Pruning:"))}`;

/** The sweep's flags as parsed. */
type SweepFlags = ReturnType<typeof parseFlags<typeof SWEEP_FLAGS>>;

/** A sweep command line, parsed and checked before any GPU work. */
export interface SweepRequest {
  /** The flags. */
  flags: SweepFlags;
  /** The experiment's training configuration. */
  config: ReturnType<typeof toTrainConfig>;
  /** What the sweep computes (methods, levels, recovery, quantisation). */
  plan: SweepPlan;
  /** `--std-sensitivity` values, which become levels once the model is trained. */
  sensitivities?: number[];
  /** `--rewind epoch:E`'s E. */
  rewindEpoch?: number;
  /** `--score-batches`. */
  scoreBatches: number;
  /** `--infer`. */
  infer: ReturnType<typeof parseInferMode>;
  /** `--infer-repeats`. */
  inferRepeats: number;
  /** `--kernel`. */
  kernel: ReturnType<typeof parseKernel>;
  /** This process's shard, from `--shard`, `--shards` and the scheduler's variables. */
  shard?: { shard: Shard; from: string };
}

/** A shard's points chosen from outside (a grid assigns points of many sweeps at once). */
export interface ShardSelection {
  /** The shard whose file the rows go to. */
  shard: Shard;
  /** The points of this sweep the shard computes. */
  select: (method: string, k: number) => boolean;
}

/**
 * The sweep command, and `export` (one method, one k, the model written out): both parse the same
 * flags and run the same sweep.
 */
export async function sweepCommand(args: string[], mode: "sweep" | "export"): Promise<void> {
  const request = parseSweepArgs(args, mode);
  if (request) await runSweepRequest(request, mode);
}

/**
 * Parses and checks a sweep (or export) command line; prints the help and returns undefined for
 * `--help`. `env` reads the scheduler's variables (tests inject it).
 */
export function parseSweepArgs(
  args: string[],
  mode: "sweep" | "export",
  env?: (name: string) => string | undefined,
): SweepRequest | undefined {
  const flags = parseFlags(args, SWEEP_FLAGS);
  if (flags.help) {
    console.log(mode === "sweep" ? USAGE : EXPORT_USAGE);
    return undefined;
  }
  const config = toTrainConfig(flags);
  const named = unique(parseList("method", flags.method));
  for (const m of named) {
    if (!PRUNE_METHODS.has(m) && m !== "nm") {
      throw new UsageError(
        `unknown --method "${m}"; valid methods: ${[...PRUNE_METHODS.keys(), "nm"].join(", ")}`,
      );
    }
  }
  // N:M is one method per pattern, named nmN:M in sweep.csv; its sparsity is fixed by N:M.
  if (flags.nm !== undefined && !named.includes("nm")) {
    throw new UsageError("--nm N:M needs --method nm");
  }
  const nm = parseNm(flags.nm ?? "2:4");
  const methods = named.map((m) => (m === "nm" ? nmMethodName(nm) : m));
  if (named.length === 1 && named[0] === "nm" && flags.k !== undefined) {
    throw new UsageError(
      `--k does not apply to --method nm: ${nm.n}:${nm.m} prunes ${nmSparsity(nm)}% of each weight`,
    );
  }
  const rawSensitivity = flags["std-sensitivity"];
  const sensitivities = rawSensitivity === undefined ? undefined : unique(
    parseList("std-sensitivity", rawSensitivity).map((s) =>
      numberFlag("std-sensitivity", s, { min: 0 })
    ),
  );
  if (sensitivities && flags.k !== undefined) {
    throw new UsageError("--k and --std-sensitivity both set the pruning levels; give one of them");
  }
  if (sensitivities && (methods.length !== 1 || methods[0] !== "std")) {
    throw new UsageError(`--std-sensitivity needs --method std, got --method ${methods.join(",")}`);
  }
  const onlyNm = named.length === 1 && named[0] === "nm";
  const ks = onlyNm ? [nmSparsity(nm)] : unique(
    parseList("k", flags.k ?? DEFAULT_KS.join(",")).map((s) => numberFlag("k", s, { min: 0 })),
  );
  const badK = ks.find((k) => k >= 100);
  if (badK !== undefined) throw new UsageError(`--k values must be in [0, 100), got ${badK}`);
  // The defaults (two methods, twelve levels) never pass: export names both.
  const levels = sensitivities?.length ?? ks.length;
  if (mode === "export" && (methods.length !== 1 || levels !== 1)) {
    throw new UsageError(
      "export needs exactly one --method M and one --k K (or one --std-sensitivity S)",
    );
  }
  const recovery = parseRecovery(flags, numberFlag, config.learningRate);
  const gradientMethod = methods.find((m) => {
    const method = getPruneMethod(m);
    return method.needsGradients || method.needsTrainingScores;
  });
  if (recovery.strategy === "surgery" && gradientMethod) {
    throw new UsageError(
      `--schedule surgery revises masks from the weights; ${gradientMethod} scores need gradients`,
    );
  }
  if (methods.includes("movement") && !MOVEMENT_STRATEGIES.includes(recovery.strategy)) {
    throw new UsageError(
      `--method movement scores while fine-tuning; it needs --strategy finetune or --schedule gradual, not ${recovery.strategy}`,
    );
  }
  const rewindEpoch = recovery.rewind.startsWith("epoch:")
    ? Number(recovery.rewind.slice(6))
    : undefined;
  if (rewindEpoch !== undefined && (rewindEpoch < 1 || rewindEpoch > config.epochs)) {
    throw new UsageError(
      `--rewind ${recovery.rewind}: epoch must be in 1..${config.epochs} (--epochs)`,
    );
  }
  const allocation = parseAllocation(flags.allocation);
  for (const m of methods) {
    if (allocation !== "uniform" && !takesAllocation(getPruneMethod(m))) {
      throw new UsageError(
        `--allocation ${allocation} needs methods that score single weights; ` +
          `${m} allocates by its own rule`,
      );
    }
  }
  const scoreBatches = numberFlag("score-batches", flags["score-batches"], {
    integer: true,
    min: 1,
  });
  if (flags.baseline !== undefined && flags.baseline !== "small-dense") {
    throw new UsageError(`--baseline must be small-dense, got "${flags.baseline}"`);
  }
  const quantize = parseQuantize(flags);
  const ptq = flags.ptq === undefined ? undefined : parsePtq(flags.ptq);
  if (ptq && quantize) {
    throw new UsageError("--ptq and --quantize-bits both quantise the weights; give one of them");
  }
  const infer = parseInferMode(flags.infer);
  const inferRepeats = numberFlag("infer-repeats", flags["infer-repeats"], {
    integer: true,
    min: 1,
  });

  const kernel = parseKernel(flags.kernel);
  if (mode === "export" && (flags.shard !== undefined || flags.shards !== undefined)) {
    throw new UsageError("export computes one point; --shard and --shards apply to the sweep");
  }
  // The scheduler's variables select a shard of a sweep; an export inside an array job is whole.
  const shard = mode === "export"
    ? undefined
    : shardFromEnvironment(flags.shard, flags.shards, env);
  if (shard && sensitivities) {
    throw new UsageError(
      "--std-sensitivity levels depend on the trained model, so shards cannot agree on them; give --k",
    );
  }
  const training = {
    batchSize: config.batchSize,
    learningRate: config.learningRate,
    epochs: config.epochs,
    seed: config.seed,
    init: config.init,
  };
  return {
    flags,
    config,
    plan: {
      methods,
      ks,
      recovery,
      training,
      pruneParams: config.pruneParams,
      allocation,
      quantize,
      ptq,
      baseline: flags.baseline === "small-dense" && mode === "sweep",
    },
    sensitivities,
    rewindEpoch,
    scoreBatches,
    infer,
    inferRepeats,
    kernel,
    shard,
  };
}

/**
 * Runs a parsed sweep: trains or reuses the model, computes the points (this shard's share when
 * sharded, or `selection`'s), and writes sweep.csv and the report (a shard writes its own file
 * and leaves the report to `deno task merge`).
 */
export async function runSweepRequest(
  request: SweepRequest,
  mode: "sweep" | "export",
  selection?: ShardSelection,
): Promise<void> {
  const { flags, config, plan, sensitivities, rewindEpoch, scoreBatches, infer, inferRepeats } =
    request;
  const { methods, ks, recovery, quantize, ptq, training } = plan;
  const allocation = plan.allocation ?? "uniform";
  const kernel = request.kernel;
  const shard = selection?.shard ?? request.shard?.shard;
  let select = selection?.select;
  if (!select && request.shard) {
    const points = plannedPoints(plan);
    const mine = keysOfShard(points, request.shard.shard);
    select = selectPoints(points, (p) => mine.has(p.key));
    logToStderr(
      `sweep: shard ${request.shard.shard.index}/${request.shard.shard.count} (${request.shard.from}): ${mine.size} of ${points.length} points`,
    );
  }
  const gpu = await getGpu();
  const loaded = await loadData(gpu, config);
  try {
    await setupKernels(gpu, kernel, config, loaded.spec);
    const prunable = prunableParams(loaded.spec, config.pruneParams);
    const paths = experimentPaths(config);
    if (
      rewindEpoch !== undefined && !(await exists(paths.snapshot(rewindEpoch))) &&
      (await exists(paths.checkpoint)) && !config.forceTrain
    ) {
      throw new UsageError(
        `--rewind ${recovery.rewind} needs ${
          paths.snapshot(rewindEpoch)
        }, which training did not save (snapshots are kept for epochs 1 and 2)`,
      );
    }
    const out = { progress: terminalProgress, log: logToStderr };
    const trained = await ensureTrained(gpu, config, loaded, out);
    // prune_by_std(s) prunes a share of the weights fixed by the trained model: that share is k.
    const sensitivityKs = (sensitivities ?? []).map((s) => {
      const k = kForSensitivity(trained.model, prunable, s);
      if (k >= 100) {
        throw new UsageError(
          `--std-sensitivity ${s} prunes every prunable weight; give a smaller sensitivity`,
        );
      }
      logToStderr(`std: s = ${s} prunes ${k.toFixed(2)}% of the prunable weights (k = ${k})`);
      return k;
    });
    const sweepKs = sensitivities ? unique(sensitivityKs) : ks;
    const needsGradients = methods.some((m) => getPruneMethod(m).needsGradients);
    const scorer = needsGradients
      ? gpuScorer(gpu, loaded, {
        batchSize: config.batchSize,
        batches: scoreBatches,
        seed: config.seed,
        init: async () => {
          if (!(await exists(paths.init))) {
            throw new UsageError(
              `snip scores the initial weights, ${paths.init}, which is missing; retrain with --force-train`,
            );
          }
          return readSnapshot(config, paths.init, loaded.spec);
        },
      })
      : undefined;
    const csvPath = shard ? `${paths.dir}/${shardFileName(shard)}` : paths.sweep;
    const sensitivity = allocation.startsWith("sensitivity:")
      ? parseSensitivityFile(await readTextOrFail(allocation.slice(12)), allocation.slice(12))
      : undefined;
    const rows = await runSweep(gpu, {
      trained: trained.model,
      model: trained.checksum.slice(0, 16),
      snapshot: async (which) => {
        const path = which === "init" ? paths.init : paths.snapshot(which);
        if (!(await exists(path))) {
          throw new UsageError(
            `--rewind needs ${path}, which is missing; retrain with --force-train`,
          );
        }
        return readSnapshot(config, path, loaded.spec);
      },
      data: loaded,
      methods,
      ks: sweepKs,
      prunable,
      pruneParams: config.pruneParams,
      recovery,
      training,
      csvPath,
      shard: select ? { select, mergedCsvPath: paths.sweep } : undefined,
      historyDir: `${paths.dir}/finetune`,
      force: flags.force,
      verbose: flags.verbose,
      inferRepeats,
      progress: terminalProgress,
      log: logToStderr,
      exportDir: flags.save || mode === "export" ? `${paths.dir}/export` : undefined,
      infer,
      crossovers: readCrossovers(gpu.adapter),
      nmSpeeds: readNmSpeeds(gpu.adapter),
      quantize,
      ptq,
      allocation,
      scorer,
      sensitivity,
      source: {
        experiment: config.experimentId,
        dataset: config.dataDir ? "custom" : config.dataset,
      },
    });
    if (plan.baseline) {
      await runSmallDenseBaseline(gpu, {
        trained: trained.model,
        model: trained.checksum.slice(0, 16),
        data: loaded,
        ks: sweepKs,
        pruneParams: config.pruneParams,
        training,
        csvPath,
        shard: select
          ? { select: (k) => select(SMALL_DENSE, k), mergedCsvPath: paths.sweep }
          : undefined,
        force: flags.force,
        inferRepeats,
        progress: terminalProgress,
        log: logToStderr,
      });
      rows.splice(0, rows.length, ...await readModelRows(csvPath, trained.checksum.slice(0, 16)));
    }
    if (shard) {
      console.error(
        `sweep: shard ${shard.index}/${shard.count} holds ${rows.length} point${
          rows.length === 1 ? "" : "s"
        } in ${csvPath}; ` +
          `when every shard has finished, run deno task merge ${paths.dir}`,
      );
      return;
    }
    if (mode === "export") {
      const folder = planPointId({ ...plan, sensitivity }, methods[0], sweepKs[0])
        .folder(`${paths.dir}/export`);
      const meta = await readExportMeta(`${folder}/${META_FILE}`);
      console.log(
        `export: ${folder}/ (test accuracy ${(meta.accuracy * 100).toFixed(2)}%, sparsity ${
          (meta.sparsity * 100).toFixed(2)
        }%; CSR ${meta.files["model_csr.safetensors"].bytes} bytes, model.dcz ${
          meta.files["model.dcz"].bytes
        } bytes vs dense ${meta.files["model.safetensors"].bytes})`,
      );
      return;
    }
    const markdown = await writeSweepReport(
      paths.dir,
      rows,
      trained.model,
      prunable,
      methods,
      sweepKs,
      config.seed,
      reportSummary({
        experiment: config.experimentId,
        dataset: loaded.data.name,
        denseAccuracy: trained.metrics.test_accuracy,
        adapter: `${gpu.adapter} via ${gpu.backend}`,
        points: rows.length,
      }),
    );
    console.log(markdown);
    console.error(`sweep: wrote ${paths.dir}/{sweep.csv,sweep.md,report.html,*.png}`);
  } finally {
    loaded.destroy();
  }
}

if (import.meta.main) {
  await runMain("sweep", () => sweepCommand(Deno.args, "sweep"));
}
