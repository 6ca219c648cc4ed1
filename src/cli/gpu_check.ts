/**
 * `deno task gpu-check`: the figures a GPU machine is borrowed for, in one run and one JSON file:
 * the kernel test suite on its adapter, `deno task bench --vs-torch` beside PyTorch (on CUDA when
 * torch sees it, eager), one training epoch of each, and the default sweep's training and sweep
 * times. Each step is a child process with a time limit; a step that fails is recorded as such and
 * the rest still run. src/cluster/gpu/README.md says how to carry it to a machine without network.
 *
 * @module
 */

import { runMain } from "./main.ts";
import { checkPath, numberFlag, parseFlags } from "./flags.ts";
import { UsageError } from "../util/errors.ts";
import { writeJsonAtomic } from "../util/files.ts";

const USAGE = `Usage: deno task gpu-check [--out results/gpu_check.json] [--quick] [--peak-gflops X]
                           [--node-modules-dir manual]

Runs, each as its own process: the kernel tests (every WGSL kernel against its reference on
this adapter); deno task bench --vs-torch (the matmul variants, the 10000×784·784×1000 product,
one training epoch) beside PyTorch, on CUDA when torch sees a GPU; deno task train and
deno task sweep with the default flags (into a temporary folder). Writes every figure, with the
goals met or missed, to --out.
  --quick             a small network and epoch (for a dry run on the CPU fallback)
  --peak-gflops X     the GPU's f32 peak, when the adapter is not in the table of known GPUs
  --node-modules-dir  passed to every child deno (manual: the packed node_modules, offline)`;

/** The kernel test files, run on the adapter (tests/browser/suite.ts bundles the same ones). */
export const KERNEL_TEST_FILES = [
  "tests/kernels_test.ts",
  "tests/matmul_test.ts",
  "tests/conv_test.ts",
  "tests/backward_test.ts",
  "tests/sparse_test.ts",
  "tests/matmul_nm_test.ts",
  "tests/matmul_quantized_test.ts",
  "tests/scores_test.ts",
  "tests/weight_sharing_test.ts",
  "tests/gpu_errors_test.ts",
  "tests/ptq_network_test.ts",
  "tests/synflow_test.ts",
  "tests/inference_test.ts",
  "tests/predict_test.ts",
] as const;

/**
 * f32 peak (non-tensor-core) GFLOP/s of GPUs by adapter name, from NVIDIA's data sheets: H200 and
 * H100 SXM 67 TFLOPS, H100 PCIe 51, A100 19.5.
 */
const F32_PEAK: [RegExp, number][] = [
  [/H200/i, 67_000],
  [/H100.*PCIe/i, 51_000],
  [/H100/i, 67_000],
  [/A100/i, 19_500],
];

/**
 * Seconds each step may take: together under the 10 minutes one command gets on a borrowed GPU
 * machine. A step past its limit is recorded with exit 124.
 */
const LIMIT_S = { kernels: 200, bench: 150, train: 150, sweep: 90 };

/** How much longer each step may take with `--quick`, a dry run on a CPU fallback. */
const QUICK_LIMIT_FACTOR = 6;

/** How one child process ended. */
interface Step {
  /** Exit code (124 when it ran past its limit and was stopped). */
  code: number;
  /** Wall seconds. */
  seconds: number;
  /** Its stdout and stderr, together. */
  output: string;
}

/** Runs `deno <args>` with a time limit. */
async function step(args: string[], limitS: number): Promise<Step> {
  if (quickRun) limitS *= QUICK_LIMIT_FACTOR;
  const t0 = performance.now();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
      signal: AbortSignal.timeout(limitS * 1000),
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    const seconds = (performance.now() - t0) / 1000;
    return {
      code: out.signal !== null && seconds >= limitS ? 124 : out.code,
      seconds,
      output: text,
    };
  } catch (err) {
    return { code: 124, seconds: (performance.now() - t0) / 1000, output: String(err) };
  }
}

/** The last lines of a step's output, for the JSON when it failed. */
function tail(output: string): string {
  return output.trim().split("\n").slice(-6).join("\n");
}

/** True when python3's torch sees a CUDA device. */
async function torchHasCuda(): Promise<boolean> {
  try {
    const out = await new Deno.Command("python3", {
      args: ["-c", "import torch; print(torch.cuda.is_available())"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(out.stdout).trim() === "True";
  } catch {
    return false;
  }
}

/** A goal's verdict: met, missed, or not measured (a figure missing). */
function verdict(value: number | null | undefined, ok: (v: number) => boolean): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "not measured";
  return ok(value) ? "met" : "missed";
}

/** What `deno task bench` writes (the fields the check reads). */
interface BenchFile {
  adapter: string;
  backend: string;
  software: boolean;
  matmul: { m: number; n: number; k: number; gflops: number; chosen: string }[];
  epoch?: { seconds: number };
  torch?: { device: string; torch: string; matmul_gflops: number; epoch_s: number | null };
}

/** True for a `--quick` run (see `QUICK_LIMIT_FACTOR`). */
let quickRun = false;

/** Options of the check. */
interface CheckOptions {
  /** `--quick`: smaller runs. */
  quick: boolean;
  /** `--peak-gflops`: the adapter's f32 peak, when the table does not know it. */
  peakGflops?: number;
  /** Flags every deno command gets (e.g. `--node-modules-dir`). */
  denoFlags: string[];
  /** Scratch folder. */
  tmp: string;
}

/** The kernel test files, run on this machine's GPU. */
async function kernelTests(options: CheckOptions) {
  const kernels = await step(
    // Type checking is the CPU machines' job (and needs @types/node, which is not packed).
    [
      "test",
      ...options.denoFlags,
      "--no-check",
      "--unstable-webgpu",
      "--allow-all",
      ...KERNEL_TEST_FILES,
    ],
    LIMIT_S.kernels,
  );
  const counts = kernels.output.match(/(\d+) passed \| (\d+) failed/);
  console.error(`gpu-check: kernel tests ${counts?.[0] ?? `exit ${kernels.code}`}`);
  return {
    passed: counts ? Number(counts[1]) : null,
    failed: counts ? Number(counts[2]) : null,
    exit: kernels.code,
    seconds: kernels.seconds,
    ...(kernels.code === 0 ? {} : { tail: tail(kernels.output) }),
  };
}

/** `deno task bench --vs-torch` on the GPU (PyTorch on CUDA when it has it). */
async function benchStep(options: CheckOptions, run: string[], cuda: boolean) {
  const benchOut = `${options.tmp}/bench.json`;
  const quickBench = options.quick ? ["--batches", "128", "--epoch-samples", "5000"] : [];
  const bench = await step(
    [
      ...run,
      "src/cli/bench.ts",
      "--vs-torch",
      "--torch-device",
      cuda ? "cuda" : "cpu",
      "--out",
      benchOut,
      ...quickBench,
    ],
    LIMIT_S.bench,
  );
  const file: BenchFile | undefined = bench.code === 0
    ? JSON.parse(await Deno.readTextFile(benchOut))
    : undefined;
  console.error(`gpu-check: bench exit ${bench.code} in ${bench.seconds.toFixed(1)} s`);
  return { file, summary: { exit: bench.code, seconds: bench.seconds, tail: tail(bench.output) } };
}

/** The default study: `deno task train`, then `deno task sweep`, timed. */
async function defaultStudy(options: CheckOptions, run: string[]) {
  const study = options.quick
    ? ["--hidden", "300,100", "--epochs", "1", "--limit-train", "5000"]
    : [];
  const where = ["--output-dir", `${options.tmp}/results`];
  const train = await step([...run, "src/cli/train.ts", ...study, ...where], LIMIT_S.train);
  const sweep = await step(
    [...run, "src/cli/sweep.ts", ...study, ...where, "--infer-repeats", "1"],
    LIMIT_S.sweep,
  );
  console.error(
    `gpu-check: train exit ${train.code} in ${
      train.seconds.toFixed(1)
    } s, sweep exit ${sweep.code} in ${sweep.seconds.toFixed(1)} s`,
  );
  return {
    flags: study.join(" ") || "(defaults)",
    train_exit: train.code,
    train_s: train.seconds,
    sweep_exit: sweep.code,
    sweep_s: sweep.seconds,
    ...(sweep.code === 0 ? {} : { sweep_tail: tail(sweep.output) }),
  };
}

/** Runs the check; returns its figures. */
async function gpuCheck(options: CheckOptions): Promise<Record<string, unknown>> {
  quickRun = options.quick;
  const run = ["run", ...options.denoFlags, "--unstable-webgpu", "--allow-all"];
  const kernels = await kernelTests(options);
  const cuda = await torchHasCuda();
  const { file: bench, summary } = await benchStep(options, run, cuda);
  const study = await defaultStudy(options, run);
  const product = bench?.matmul.find((r) => r.m === 10000 && r.n === 1000 && r.k === 784);
  const peak = options.peakGflops ??
    F32_PEAK.find(([name]) => bench && name.test(bench.adapter))?.[1];
  const fraction = product && peak ? product.gflops / peak : null;
  const epochS = bench?.epoch?.seconds ?? null;
  const torchEpochS = bench?.torch?.epoch_s ?? null;
  const ratio = epochS !== null && torchEpochS !== null ? epochS / torchEpochS : null;
  return {
    date: new Date().toISOString(),
    quick: options.quick,
    adapter: bench?.adapter ?? null,
    backend: bench?.backend ?? null,
    software: bench?.software ?? null,
    kernel_tests: kernels,
    matmul_10000x784x1000: {
      gflops: product?.gflops ?? null,
      variant: product?.chosen ?? null,
      f32_peak_gflops: peak ?? null,
      fraction_of_peak: fraction,
      torch_gflops: bench?.torch?.matmul_gflops ?? null,
    },
    epoch: {
      wgprune_s: epochS,
      torch_s: torchEpochS,
      torch_device: bench?.torch?.device ?? null,
      torch_version: bench?.torch?.torch ?? null,
      ratio,
    },
    bench: summary,
    default_study: study,
    goals: {
      "matmul ≥ 25% of f32 peak": verdict(fraction, (f) => f >= 0.25),
      "epoch no slower than PyTorch-CUDA eager": cuda
        ? verdict(ratio, (r) => r <= 1)
        : "not measured (no torch with CUDA)",
      "default sweep under 5 s": options.quick
        ? "not measured (--quick)"
        : verdict(study.sweep_exit === 0 ? study.sweep_s : null, (s) => s < 5),
    },
  };
}

if (import.meta.main) {
  await runMain("gpu-check", async () => {
    const flags = parseFlags(Deno.args, {
      out: { type: "string", default: "results/gpu_check.json" },
      quick: { type: "boolean", default: false },
      "peak-gflops": { type: "string" },
      "node-modules-dir": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    });
    if (flags.help) {
      console.log(USAGE);
      return;
    }
    const out = checkPath("--out", flags.out, "file");
    const peakGflops = flags["peak-gflops"] === undefined
      ? undefined
      : numberFlag("peak-gflops", flags["peak-gflops"], { min: 0, minExclusive: true });
    const mode = flags["node-modules-dir"];
    if (mode !== undefined && !["auto", "manual", "none"].includes(mode)) {
      throw new UsageError(`--node-modules-dir must be auto, manual or none, got "${mode}"`);
    }
    const tmp = await Deno.makeTempDir({ prefix: "wgprune-gpu-check-" });
    try {
      const figures = await gpuCheck({
        quick: flags.quick,
        peakGflops,
        denoFlags: mode ? [`--node-modules-dir=${mode}`] : [],
        tmp,
      });
      await writeJsonAtomic(out, figures);
      console.log(JSON.stringify(figures, null, 2));
      console.error(`gpu-check: wrote ${out}`);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}
