/**
 * Every recovery strategy and every pruning method of the registry through `runSweep` on a tiny
 * model: rows keyed and written once,
 * training curves kept, pruned weights exactly zero, a rerun computing nothing, `--force`
 * recomputing in place.
 */

import { assert, assertEquals } from "./_assert.ts";
import { getGpu } from "../src/gpu/device.ts";
import { initModel, mlpSpec, type Model, type ModelSpec } from "../src/model/network.ts";
import type { GpuContext } from "../src/gpu/device.ts";
import type { GpuSplit } from "../src/train/splits.ts";
import { prunableParams } from "../src/model/masks.ts";
import { destroySplit, uploadSplit } from "../src/train/splits.ts";
import { trainModel } from "../src/train/trainer.ts";
import { STRATEGIES } from "../src/recover/registry.ts";
import { getPruneMethod, METHOD_FAMILIES, methodNames } from "../src/prune/registry.ts";
import { gpuScorer } from "../src/train/gradient_scores.ts";
import type { RecoveryOptions } from "../src/recover/strategy.ts";
import { runSweep } from "../src/sweep/run_sweep.ts";
import type { SweepJob } from "../src/sweep/job.ts";
import { readSweep } from "../src/sweep/results.ts";
import { createRng } from "../src/util/rng.ts";

/** A split whose class is the brightest of 10 pixel blocks: learnable in one epoch. */
function split(count: number, seed: number) {
  const rng = createRng(seed);
  const labels = new Uint8Array(count).map(() => Math.floor(rng() * 10));
  const pixels = new Uint8Array(count * 20);
  labels.forEach((l, i) => {
    for (let p = 0; p < 20; p++) {
      pixels[i * 20 + p] = Math.floor(p / 2) === l ? 255 : Math.floor(rng() * 60);
    }
  });
  return { count, features: 20, pixels, labels };
}

/** One epoch of Adam (lr 0.01, batch 32) from `init`: the model each test sweeps. */
async function trainOnce(gpu: GpuContext, init: Model, train: GpuSplit): Promise<Model> {
  return (await trainModel(gpu, {
    model: init,
    train,
    epochs: 1,
    batchSize: 32,
    adam: { lr: 0.01 },
    seed: 0,
    keepBest: false,
  })).model;
}

/** A sweep of `trained` in `dir`, recovering with `options` over the defaults below. */
function sweepJob(
  base: Pick<SweepJob, "trained" | "model" | "data" | "methods" | "ks" | "prunable"> & {
    init: Model;
    dir: string;
  },
  options: Partial<RecoveryOptions>,
): SweepJob {
  const { init, dir, ...job } = base;
  return {
    ...job,
    snapshot: () => Promise.resolve(init),
    pruneParams: "default",
    recovery: {
      strategy: "oneshot",
      finetuneEpochs: 1,
      finetuneLr: 0.005,
      steps: 2,
      rewind: "init",
      ...options,
    },
    training: { batchSize: 32, learningRate: 0.01, epochs: 1, seed: 0 },
    csvPath: `${dir}/sweep.csv`,
    historyDir: `${dir}/finetune`,
    force: false,
    verbose: false,
    inferRepeats: 1,
  };
}

/** The tiny MLP of these tests trained one epoch, its data on the GPU and a scratch folder. */
interface TinyMlp {
  gpu: GpuContext;
  data: { train: GpuSplit; valid: GpuSplit; test: GpuSplit };
  dir: string;
  init: Model;
  trained: Model;
  prunable: readonly string[];
}

/** Runs `body` on a freshly trained tiny MLP (20-12-10), freeing its data and folder after. */
async function withTinyMlp(prefix: string, body: (t: TinyMlp) => Promise<void>): Promise<void> {
  const gpu = await getGpu({ quiet: true });
  const train = uploadSplit(gpu, split(512, 1), `${prefix}-train`);
  const test = uploadSplit(gpu, split(200, 2), `${prefix}-test`);
  const dir = await Deno.makeTempDir({ prefix: `wgprune-${prefix}-` });
  try {
    const spec = mlpSpec(20, [12], 10, true);
    const init = initModel(spec, 0);
    const trained = await trainOnce(gpu, init, train);
    const data = { train, valid: test, test };
    await body({ gpu, data, dir, init, trained, prunable: prunableParams(spec) });
  } finally {
    destroySplit(train);
    destroySplit(test);
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("every strategy runs through runSweep; rerun resumes, --force recomputes", async () => {
  await withTinyMlp("sweep", async ({ gpu, data, dir, init, trained, prunable }) => {
    const base = { trained, model: "0123456789abcdef", data, methods: ["weight"], ks: [0, 50] };
    const job = (options: Partial<RecoveryOptions>) =>
      sweepJob({ ...base, prunable, init, dir }, options);
    let oneshotAt50 = 0;
    for (const name of STRATEGIES.keys()) {
      const rows = await runSweep(gpu, job({ strategy: name }));
      const mine = rows.filter((r) => r.strategy === name);
      assertEquals(mine.map((r) => r.k), [0, 50], name);
      const at50 = mine[1];
      // Exactly round(50% · n) of each pruned weight are zero after any recovery.
      assertEquals(at50.nonzeros_0, 20 * 12 / 2, `${name} layer 0`);
      assertEquals(at50.nonzeros_1, 12 * 10, `${name} output layer untouched`);
      // Every strategy that retrains wins accuracy back over pruning once (0.415 here).
      if (name === "oneshot") oneshotAt50 = at50.accuracy;
      else {
        assert(
          at50.accuracy > oneshotAt50,
          `${name}: accuracy ${at50.accuracy}, one-shot ${oneshotAt50}`,
        );
      }
    }
    const all = (await readSweep(`${dir}/sweep.csv`)).rows;
    assertEquals(all.length, 2 * STRATEGIES.size, "one row per strategy and k");
    const curves = [...Deno.readDirSync(`${dir}/finetune`)].map((e) => e.name);
    assert(
      curves.some((n) => n.startsWith("weight_iterative_none_ft1_lr0.005_steps2_k50")),
      `${curves}`,
    );
    assert(curves.some((n) => n.startsWith("weight_rewind_init_ft1_lr0.01_k50")), `${curves}`);

    const before = await Deno.readTextFile(`${dir}/sweep.csv`);
    await runSweep(gpu, job({ strategy: "finetune" }));
    assertEquals(await Deno.readTextFile(`${dir}/sweep.csv`), before, "a rerun computes nothing");
    const forced = await runSweep(gpu, { ...job({ strategy: "oneshot" }), force: true });
    assertEquals(forced.length, 2 * STRATEGIES.size, "--force replaces rows in place");
  });
});

Deno.test("every strategy prunes and recovers a CNN's filters through runSweep", async () => {
  const gpu = await getGpu({ quiet: true });
  // 6×6 one-channel images: split()'s 20 pixels and 16 of noise.
  const image = (count: number, seed: number) => {
    const s = split(count, seed);
    const pixels = new Uint8Array(count * 36);
    for (let i = 0; i < count; i++) pixels.set(s.pixels.subarray(i * 20, i * 20 + 20), i * 36);
    return { ...s, features: 36, pixels };
  };
  const train = uploadSplit(gpu, image(512, 3), "cnn-sweep-train");
  const test = uploadSplit(gpu, image(200, 4), "cnn-sweep-test");
  const data = { train, valid: test, test };
  const dir = await Deno.makeTempDir({ prefix: "wgprune-cnn-sweep-" });
  try {
    const spec: ModelSpec = {
      input: [1, 6, 6],
      layers: [
        { kind: "conv2d", filters: 6, kernel: 3, stride: 1, padding: 1, bias: true },
        { kind: "relu" },
        { kind: "maxpool2d", kernel: 2, stride: 2 },
        { kind: "conv2d", filters: 4, kernel: 3, stride: 1, padding: 0, bias: true },
        { kind: "relu" },
        { kind: "flatten" },
        { kind: "dense", units: 10, bias: true },
      ],
    };
    const init = initModel(spec, 0);
    const trained = await trainOnce(gpu, init, train);
    for (const name of STRATEGIES.keys()) {
      const base = { trained, model: "fedcba9876543210", data, methods: ["unit"], ks: [50] };
      const rows = await runSweep(
        gpu,
        sweepJob({ ...base, prunable: prunableParams(spec), init, dir }, { strategy: name }),
      );
      const row = rows.find((r) => r.strategy === name)!;
      // Half of each conv's filters stay zero through recovery: 3 of 6 and 2 of 4 remain.
      assertEquals(row.nonzeros_0, 3 * 9, `${name} conv 0`);
      assertEquals(row.nonzeros_1, 2 * 6 * 9, `${name} conv 1 (pruned filters of its own)`);
      assertEquals(row.compact_hidden, "3-2", `${name}: filters removed physically`);
    }
  } finally {
    destroySplit(train);
    destroySplit(test);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every method and family of the registry prunes through runSweep", async () => {
  await withTinyMlp("methods", async ({ gpu, data, dir, init, trained, prunable }) => {
    const scorer = gpuScorer(gpu, data, {
      batchSize: 32,
      batches: 2,
      seed: 0,
      init: () => Promise.resolve(init),
    });
    for (const entry of methodNames()) {
      // A family runs its default member (nm: 2:4, whose level is fixed at 50%).
      const family = METHOD_FAMILIES.get(entry);
      const method = family ? family.member(family.defaultParameter) : getPruneMethod(entry);
      const name = method.name;
      // Movement's scores accumulate while fine-tuning: the strategies it declares train.
      const strategy = method.strategies?.names[0] ?? "oneshot";
      const base = { trained, model: "0123456789abcdef", data, methods: [name], ks: [50] };
      const rows = await runSweep(gpu, {
        ...sweepJob({ ...base, prunable, init, dir }, { strategy }),
        scorer,
      });
      const row = rows.find((r) => r.method === name);
      assert(row !== undefined, `${name}: no row`);
      // Unit and std prune whole units or by a threshold: near k, not exactly.
      assert(Math.abs(row.sparsity - 0.5) <= 0.1, `${name}: sparsity ${row.sparsity}`);
      assertEquals(row.nonzeros_1, 12 * 10, `${name}: the output layer is not pruned`);
      assert(row.accuracy > 0.2, `${name}: accuracy ${row.accuracy} (chance is 0.1)`);
    }
    scorer.release?.();
  });
});
