/**
 * The flags of `deno task sweep` and `deno task export`: their option table, help texts and the
 * parser that turns a command line into a checked `SweepRequest` (src/experiment/sweep_service.ts)
 * before any GPU work.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { numberFlag, parseFlags, parseList, unique } from "./flags.ts";
import { toTrainConfig, TRAIN_FLAGS, TRAIN_HELP } from "./train_options.ts";
import { parseKernel } from "./kernel_option.ts";
import { getPruneMethod, METHOD_FAMILIES, methodNames, PRUNE_METHODS } from "../prune/registry.ts";
import type { PruneMethod } from "../prune/method.ts";
import { getStrategy } from "../recover/registry.ts";
import { type Allocation, ALLOCATIONS, parseAllocation } from "../prune/allocation.ts";
import { takesAllocation } from "../prune/prepare.ts";
import { parseRecovery, RECOVERY_FLAGS, recoveryHelp } from "../recover/options.ts";
import type { RecoveryOptions } from "../recover/strategy.ts";
import { shardFromEnvironment } from "../cluster/shard_env.ts";
import { parseInferMode } from "../train/infer_paths.ts";
import { parseQuantizeBits } from "../quant/weight_sharing.ts";
import { parsePtq } from "../quant/ptq_model.ts";
import type { QuantizeOptions } from "../recover/weight_sharing.ts";
import type { SweepRequest } from "../experiment/sweep_service.ts";

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

/** Help of `deno task sweep`. */
export const SWEEP_USAGE = `Usage: deno task sweep [flags]

Trains (or reuses) the experiment's model, prunes it at each sparsity k with each method, and
writes <output-dir>/<experiment-id>/{sweep.csv,sweep.md,sweep_*.png,pareto.png,hist_*.png,report.html}.
Finished points are kept; rerunning resumes at the first missing point.

Pruning:
  --method LIST               comma list of ${methodNames().join(", ")} (default weight,unit)
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
Sharding (see src/cluster/README.md):
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

/** Help of `deno task export`. */
export const EXPORT_USAGE = `Usage: deno task export --method M --k K [sweep flags]

Prunes the experiment's model with one method at one k (recovering accuracy with any strategy
flag of the sweep) and writes <output-dir>/<experiment-id>/export/<method>_k<K>_<strategy>/:
model.safetensors (dense, exact zeros), model_compact.safetensors (dead units removed),
model_csr.safetensors (pruned weights as CSR of [out, in]), masks.safetensors and meta.json.
\`deno task eval PATH\` evaluates any of the three model files.

${SWEEP_USAGE.slice(SWEEP_USAGE.indexOf("Pruning:"))}`;

/** The sweep's flags as parsed. */
type SweepFlags = ReturnType<typeof parseFlags<typeof SWEEP_FLAGS>>;

/**
 * `--method` and each family's parameter flag (`--nm N:M`): the methods, a family as its member
 * (`nm2:4`, one method per pattern).
 */
function parseMethods(flags: SweepFlags): PruneMethod[] {
  const named = unique(parseList("method", flags.method));
  for (const m of named) {
    if (!PRUNE_METHODS.has(m) && !METHOD_FAMILIES.has(m)) {
      throw new UsageError(`unknown --method "${m}"; valid methods: ${methodNames().join(", ")}`);
    }
  }
  const parameterOf = (name: string) =>
    (flags[name as keyof SweepFlags] as string | undefined) ??
      METHOD_FAMILIES.get(name)?.defaultParameter ?? name;
  for (const family of METHOD_FAMILIES.values()) {
    const given = flags[family.name as keyof SweepFlags] !== undefined;
    if (given && !named.includes(family.name)) {
      throw new UsageError(
        `--${family.name} ${family.parameterForm} needs --method ${family.name}`,
      );
    }
  }
  const methods = named.map((m) =>
    METHOD_FAMILIES.get(m)?.member(parameterOf(m)) ?? getPruneMethod(m)
  );
  if (methods.every((m) => m.fixedLevel !== undefined) && flags.k !== undefined) {
    const what = named.map((m, i) => `${parameterOf(m)} prunes ${methods[i].fixedLevel}%`);
    throw new UsageError(
      `--k does not apply to --method ${named.join(",")}: ${what.join(", ")} of each weight`,
    );
  }
  return methods;
}

/** `--k` or `--std-sensitivity`: the levels, or the sensitivities that become them. */
function parseLevels(flags: SweepFlags, methods: string[], onlyFixed: number[] | undefined) {
  const raw = flags["std-sensitivity"];
  const sensitivities = raw === undefined ? undefined : unique(
    parseList("std-sensitivity", raw).map((s) => numberFlag("std-sensitivity", s, { min: 0 })),
  );
  if (sensitivities && flags.k !== undefined) {
    throw new UsageError("--k and --std-sensitivity both set the pruning levels; give one of them");
  }
  if (sensitivities && (methods.length !== 1 || methods[0] !== "std")) {
    throw new UsageError(`--std-sensitivity needs --method std, got --method ${methods.join(",")}`);
  }
  const ks = onlyFixed ?? unique(
    parseList("k", flags.k ?? DEFAULT_KS.join(",")).map((s) => numberFlag("k", s, { min: 0 })),
  );
  const badK = ks.find((k) => k >= 100);
  if (badK !== undefined) throw new UsageError(`--k values must be in [0, 100), got ${badK}`);
  return { ks, sensitivities };
}

/** What the methods and the strategy ask of each other, and of the allocation. */
function checkMethods(methods: PruneMethod[], recovery: RecoveryOptions, allocation: Allocation) {
  const strategy = getStrategy(recovery.strategy);
  for (const m of methods) {
    const refused = strategy.refuses?.(m);
    if (refused) throw new UsageError(refused);
    if (m.strategies && !m.strategies.names.includes(strategy.name)) {
      throw new UsageError(
        `--method ${m.name} ${m.strategies.because}; it needs --strategy ${
          m.strategies.names.join(" or ")
        }, not ${strategy.name}`,
      );
    }
    if (allocation !== "uniform" && !takesAllocation(m)) {
      throw new UsageError(
        `--allocation ${allocation} needs methods that score single weights; ` +
          `${m.name} allocates by its own rule`,
      );
    }
  }
}

/** `--rewind epoch:E`'s E, checked against `--epochs`. */
function rewindEpochOf(recovery: RecoveryOptions, epochs: number): number | undefined {
  if (!recovery.rewind.startsWith("epoch:")) return undefined;
  const epoch = Number(recovery.rewind.slice(6));
  if (epoch < 1 || epoch > epochs) {
    throw new UsageError(`--rewind ${recovery.rewind}: epoch must be in 1..${epochs} (--epochs)`);
  }
  return epoch;
}

/** `--quantize-*` and `--ptq`: at most one way of quantising the weights. */
function parseCompression(flags: SweepFlags) {
  const quantize = parseQuantize(flags);
  const ptq = flags.ptq === undefined ? undefined : parsePtq(flags.ptq);
  if (ptq && quantize) {
    throw new UsageError("--ptq and --quantize-bits both quantise the weights; give one of them");
  }
  return { quantize, ptq };
}

/** The shard of a sweep (an export computes one point and is never sharded). */
function shardOf(
  flags: SweepFlags,
  command: "sweep" | "export",
  env: ((name: string) => string | undefined) | undefined,
) {
  if (command === "export") {
    if (flags.shard !== undefined || flags.shards !== undefined) {
      throw new UsageError("export computes one point; --shard and --shards apply to the sweep");
    }
    return undefined; // an export inside an array job is whole
  }
  return shardFromEnvironment(flags.shard, flags.shards, env);
}

/**
 * Parses and checks a sweep (or export) command line; prints the help and returns undefined for
 * `--help`. `env` reads the scheduler's variables (tests inject it).
 */
export function parseSweepArgs(
  args: string[],
  command: "sweep" | "export",
  env?: (name: string) => string | undefined,
): SweepRequest | undefined {
  const flags = parseFlags(args, SWEEP_FLAGS);
  if (flags.help) {
    console.log(command === "sweep" ? SWEEP_USAGE : EXPORT_USAGE);
    return undefined;
  }
  const config = toTrainConfig(flags);
  const pruneMethods = parseMethods(flags);
  const methods = pruneMethods.map((m) => m.name);
  // Methods with one fixed level alone (N:M) sweep that level only.
  const fixed = pruneMethods.every((m) => m.fixedLevel !== undefined)
    ? unique(pruneMethods.map((m) => m.fixedLevel!))
    : undefined;
  const { ks, sensitivities } = parseLevels(flags, methods, fixed);
  // The defaults (two methods, twelve levels) never pass: export names both.
  if (command === "export" && (methods.length !== 1 || (sensitivities ?? ks).length !== 1)) {
    throw new UsageError(
      "export needs exactly one --method M and one --k K (or one --std-sensitivity S)",
    );
  }
  const recovery = parseRecovery(flags, numberFlag, config.learningRate);
  const rewindEpoch = rewindEpochOf(recovery, config.epochs);
  const allocation = parseAllocation(flags.allocation);
  checkMethods(pruneMethods, recovery, allocation);
  const scoreBatches = numberFlag("score-batches", flags["score-batches"], {
    integer: true,
    min: 1,
  });
  if (flags.baseline !== undefined && flags.baseline !== "small-dense") {
    throw new UsageError(`--baseline must be small-dense, got "${flags.baseline}"`);
  }
  const { quantize, ptq } = parseCompression(flags);
  const infer = parseInferMode(flags.infer);
  const inferRepeats = numberFlag("infer-repeats", flags["infer-repeats"], {
    integer: true,
    min: 1,
  });
  const kernel = parseKernel(flags.kernel);
  const shard = shardOf(flags, command, env);
  if (shard && sensitivities) {
    throw new UsageError(
      "--std-sensitivity levels depend on the trained model, so shards cannot agree on them; give --k",
    );
  }
  const { batchSize, learningRate, epochs, seed, init } = config;
  return {
    config,
    plan: {
      methods,
      ks,
      recovery,
      training: { batchSize, learningRate, epochs, seed, init },
      pruneParams: config.pruneParams,
      allocation,
      quantize,
      ptq,
      baseline: flags.baseline === "small-dense" && command === "sweep",
    },
    sensitivities,
    rewindEpoch,
    scoreBatches,
    infer,
    inferRepeats,
    kernel,
    force: flags.force,
    verbose: flags.verbose,
    save: flags.save || command === "export",
    report: command === "sweep",
    shard,
  };
}
