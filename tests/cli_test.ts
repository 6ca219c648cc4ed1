import { assert, assertEquals } from "./_assert.ts";
import { assertOneLineError, runCli as run } from "./_cli.ts";
import { reportError } from "../src/cli/main.ts";
import { EnvironmentError, UsageError } from "../src/util/errors.ts";
import { PRUNE_METHODS } from "../src/prune/registry.ts";
import { STRATEGIES } from "../src/recover/registry.ts";

const METHODS = [...PRUNE_METHODS.keys()].join(", ");

const CASES: [string, string[], string][] = [
  ["train", ["--bogus"], "train: error: Unknown option '--bogus' (see --help)"],
  ["train", ["--epochs=-1"], 'train: error: --epochs must be an integer >= 1, got "-1"'],
  ["train", ["--epochs", "-1"], 'train: error: --epochs must be an integer >= 1, got "-1"'],
  [
    "train",
    ["--hidden", "10,abc"],
    'train: error: --hidden must be a comma list of positive integers like 1000,1000,500,200, got "10,abc"',
  ],
  [
    "train",
    ["--dataset", "cifar"],
    'train: error: --dataset must be one of mnist, fashion, got "cifar"',
  ],
  [
    "train",
    ["--learning-rate", "0"],
    'train: error: --learning-rate must be a number > 0, got "0"',
  ],
  [
    "train",
    ["--data-dir", "/nonexistent"],
    "train: error: /nonexistent: missing train-images-idx3-ubyte (or train-images-idx3-ubyte.gz); --data-dir must hold the four standard IDX files, or x_train.npy, y_train.npy, x_test.npy and y_test.npy",
  ],
  [
    "sweep",
    ["--method", "weight,magic"],
    `sweep: error: unknown --method "magic"; valid methods: ${METHODS}, nm`,
  ],
  ["sweep", ["--k", "50,100"], "sweep: error: --k values must be in [0, 100), got 100"],
  [
    "sweep",
    ["--rewind", "sometimes"],
    'sweep: error: --rewind must be init, random or epoch:E (E a positive integer), got "sometimes"',
  ],
  [
    "sweep",
    ["--rewind", "epoch:99"],
    "sweep: error: --rewind epoch:99: epoch must be in 1..10 (--epochs)",
  ],
  [
    "sweep",
    ["--rewind-lr", "--rewind", "init"],
    "sweep: error: lr-rewind and rewind cannot be combined; choose one --strategy",
  ],
  ["sweep", ["--k", "0x32"], 'sweep: error: --k must be a number >= 0, got "0x32"'],
  [
    "sweep",
    ["--strategy", "magic"],
    `sweep: error: unknown --strategy "magic"; valid strategies: ${
      [...STRATEGIES.keys()].join(", ")
    }`,
  ],
  ["sweep", ["--steps", "2"], "sweep: error: --steps does not apply to --strategy oneshot"],
  [
    "sweep",
    ["--strategy", "rewind"],
    "sweep: error: --strategy rewind needs --rewind init|epoch:E|random",
  ],
  ["sweep", ["--k", "50,,90"], 'sweep: error: --k must be a comma list, got "50,,90"'],
  [
    "train",
    ["--hidden", "0x10"],
    'train: error: --hidden must be a comma list of positive integers like 1000,1000,500,200, got "0x10"',
  ],
  ["train", ["--sparsity-schedule", "x"], "train: error: --sparsity-schedule needs --prune METHOD"],
  ["train", ["--frequency", "10"], "train: error: --frequency needs --prune METHOD"],
  ["train", ["--output-dir", ""], 'train: error: --output-dir must name a folder, got ""'],
  ["train", ["--data-dir", ""], 'train: error: --data-dir must name a folder, got ""'],
  [
    "train",
    ["--seed", "4294967296"],
    'train: error: --seed must be an integer >= 0 and <= 4294967295, got "4294967296"',
  ],
  ["report", ["a", "b", "--out", ""], 'report: error: --out must name a folder, got ""'],
  ["report", [""], 'report: error: an experiment folder must be named, got ""'],
  ["merge", [" "], 'merge: error: an experiment folder must be named, got " "'],
  ["eval", [""], 'eval: error: PATH must name a file, got ""'],
  ["eval", ["x.dcz", "--data-dir", ""], 'eval: error: --data-dir must name a folder, got ""'],
  ["grid", ["--grid", ""], 'grid: error: --grid must name a file, got ""'],
  [
    "grid",
    ["--seeds", "0,4294967296"],
    'grid: error: --seeds must list integers from 0 to 4294967295, got "4294967296"',
  ],
  ["tune", ["--output-dir", ""], 'tune: error: --output-dir must name a folder, got ""'],
  ["bench", ["--out", ""], 'bench: error: --out must name a file, got ""'],
  [
    "train",
    ["--experiment-id", ".."],
    `train: error: --experiment-id must be one folder name of letters, digits, '.', '_' and '-' (not . or ..), got ".."`,
  ],
  [
    "sweep",
    ["--experiment-id", "a/../../b"],
    `sweep: error: --experiment-id must be one folder name of letters, digits, '.', '_' and '-' (not . or ..), got "a/../../b"`,
  ],
  [
    "bench",
    ["--batches", "128,-5"],
    'bench: error: --batches must be an integer >= 1 and <= 100000, got "-5"',
  ],
  [
    "bench",
    ["--epoch-samples", "12"],
    'bench: error: --epoch-samples must be an integer >= 128 and <= 1000000, got "12"',
  ],
];

for (const [script, args, message] of CASES) {
  Deno.test(`${script} ${args.join(" ")}: one-line error, exit 2`, async () => {
    const result = await run(script, args);
    assertOneLineError(result, 2, message);
    assertEquals(result.stderr.split("\n").filter((l) => !l.startsWith("gpu: ")), [message]);
  });
}

Deno.test("an unknown DENO_WEBGPU_BACKEND is named as such, exit 2", async () => {
  const result = await run("train", ["--epochs", "1"], { DENO_WEBGPU_BACKEND: "vulkn" });
  assertOneLineError(
    result,
    2,
    'train: error: DENO_WEBGPU_BACKEND="vulkn" names an unknown wgpu backend "vulkn"; expected vulkan, gl, metal or dx12 (or a comma list of them)',
  );
});

Deno.test("the top level prints every error as one line with the exit code of its kind", () => {
  const printed: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => printed.push(args.join(" "));
  try {
    assertEquals(reportError("x", new UsageError("bad flag")), 2);
    assertEquals(reportError("x", new EnvironmentError("cannot write a: full")), 1);
    assertEquals(reportError("x", new Deno.errors.PermissionDenied("Permission denied")), 1);
    assertEquals(reportError("x", new TypeError("oops\n  at somewhere")), 1);
  } finally {
    console.error = original;
  }
  assertEquals(printed, [
    "x: error: bad flag",
    "x: error: cannot write a: full",
    "x: error: Permission denied",
    "x: internal error: oops (set WGPRUNE_DEBUG=1 for the stack trace)",
  ]);
});

Deno.test("--help exits 0 and lists the flags", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "src/cli/sweep.ts", "--help"],
    stdout: "piped",
  }).output();
  assertEquals(out.code, 0);
  const text = new TextDecoder().decode(out.stdout);
  for (
    const flag of ["--method", "--k", "--finetune-epochs", "--rewind", "--hidden", "--force-train"]
  ) {
    assert(text.includes(flag), `help lacks ${flag}`);
  }
});

const GRADUAL_CASES: [string[], string][] = [
  [
    ["--prune", "weight", "--target-sparsity", "1"],
    "train: error: --target-sparsity must be a fraction in [0, 1), got 1",
  ],
  [
    ["--prune", "weight", "--target-sparsity", "0.9", "--begin-step", "50", "--end-step", "10"],
    "train: error: --begin-step (50) must come before --end-step (10)",
  ],
  [["--target-sparsity", "0.5"], "train: error: --target-sparsity needs --prune METHOD"],
  [
    ["--prune", "magic", "--target-sparsity", "0.5"],
    `train: error: unknown --prune method "magic"; valid methods: ${METHODS}`,
  ],
];

for (const [args, message] of GRADUAL_CASES) {
  Deno.test(`train ${args.join(" ")}: one-line error, exit 2`, async () => {
    assertOneLineError(await run("train", args), 2, message);
  });
}

Deno.test("train stops with a one-line error naming the epoch when the loss becomes NaN", async () => {
  const dir = await Deno.makeTempDir();
  const { code, stderr } = await run("train", [
    "--hidden",
    "16",
    "--epochs",
    "2",
    "--limit-train",
    "1024",
    "--learning-rate",
    "1e30",
    "--output-dir",
    dir,
  ]);
  await Deno.remove(dir, { recursive: true });
  assertEquals(code, 2, stderr);
  const lines = stderr.split("\n").filter((l) => !l.startsWith("gpu: ") && !l.includes("/8 ("));
  assertEquals(lines.length, 1, stderr);
  assert(
    /^train: error: loss became (NaN|Infinity|-Infinity) in epoch 1 /.test(lines[0]),
    lines[0],
  );
});
