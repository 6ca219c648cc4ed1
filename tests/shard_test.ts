/**
 * Sharding on its own: `I/N` parsing, the scheduler variables (Slurm arrays, Kubernetes Indexed
 * Jobs), the cost-balanced assignment (deterministic, order-free, every point exactly once), the
 * grid's expansion, and merging shard files (idempotent, conflicts refused with nothing written).
 */

import { assert, assertEquals, assertThrows } from "./_assert.ts";
import {
  assignShards,
  keysOfShard,
  parseShard,
  pointCost,
  shardFileName,
  type ShardItem,
} from "../src/sweep/shard.ts";
import { shardFromEnvironment } from "../src/cluster/shard_env.ts";
import { expandGrid, flagGroups, parseGrid, pickFlags } from "../src/cluster/grid.ts";
import { mergeShards } from "../src/sweep/merge.ts";
import { readSweep, type SweepRow, writeSweep } from "../src/sweep/results.ts";
import { UsageError } from "../src/util/errors.ts";
import { getStrategy } from "../src/recover/registry.ts";
import { createRng } from "../src/util/rng.ts";

Deno.test("--shard I/N: 0 <= I < N, one-line errors otherwise", () => {
  assertEquals(parseShard("2/4"), { index: 2, count: 4 });
  assertEquals(shardFileName({ index: 2, count: 4 }), "sweep.shard-2-of-4.csv");
  for (const bad of ["4/4", "1/0", "-1/4", "a/b", "1", "1/2/3", ""]) {
    assertThrows(() => parseShard(bad), UsageError, "--shard must be I/N with 0 <= I < N");
  }
});

Deno.test("the shard comes from --shard, a Slurm array, or a Kubernetes completion index", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  const none = env({});
  assertEquals(shardFromEnvironment(undefined, undefined, none), undefined);
  assertEquals(shardFromEnvironment("1/3", undefined, none)?.shard, { index: 1, count: 3 });
  // --shard wins over the environment.
  const slurm = env({ SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_COUNT: "4" });
  assertEquals(shardFromEnvironment("0/2", undefined, slurm)?.shard, { index: 0, count: 2 });
  assertEquals(shardFromEnvironment(undefined, undefined, slurm), {
    shard: { index: 3, count: 4 },
    from: "SLURM_ARRAY_TASK_ID",
  });
  // --array=1-4 numbers its tasks from 1; --array=0-6:2 in steps of 2.
  const fromOne = env({
    SLURM_ARRAY_TASK_ID: "1",
    SLURM_ARRAY_TASK_MIN: "1",
    SLURM_ARRAY_TASK_COUNT: "4",
  });
  assertEquals(shardFromEnvironment(undefined, undefined, fromOne)?.shard, { index: 0, count: 4 });
  const stepped = env({
    SLURM_ARRAY_TASK_ID: "6",
    SLURM_ARRAY_TASK_MIN: "0",
    SLURM_ARRAY_TASK_STEP: "2",
    SLURM_ARRAY_TASK_COUNT: "4",
  });
  assertEquals(shardFromEnvironment(undefined, undefined, stepped)?.shard, { index: 3, count: 4 });
  assertEquals(shardFromEnvironment(undefined, "4", slurm)?.shard, { index: 3, count: 4 });
  assertThrows(
    () => shardFromEnvironment(undefined, "8", slurm),
    UsageError,
    "--shards 8 disagrees with the Slurm array's 4 tasks",
  );
  const k8s = env({ JOB_COMPLETION_INDEX: "2" });
  assertEquals(shardFromEnvironment(undefined, "3", k8s), {
    shard: { index: 2, count: 3 },
    from: "JOB_COMPLETION_INDEX",
  });
  assertThrows(
    () => shardFromEnvironment(undefined, undefined, k8s),
    UsageError,
    "give --shards N",
  );
  assertThrows(() => shardFromEnvironment(undefined, "2", k8s), UsageError, "0 <= I < N");
  assertThrows(() => shardFromEnvironment(undefined, "2", none), UsageError, "give --shard I/N");
  assertThrows(() => shardFromEnvironment("0/2", "2", none), UsageError, "drop --shards");
  assertThrows(
    () => shardFromEnvironment(undefined, undefined, env({ JOB_COMPLETION_INDEX: "x" })),
    UsageError,
    "JOB_COMPLETION_INDEX must be a non-negative integer",
  );
});

/** A study's worth of points: one-shot and fine-tuned, as a sweep plans them. */
function studyItems(): ShardItem[] {
  const items: ShardItem[] = [];
  for (const method of ["weight", "unit", "random"]) {
    for (const k of [50, 70, 90, 95, 99]) {
      for (const epochs of [0, 2]) {
        items.push({
          key: `${method}|${k}|${epochs}`,
          cost: pointCost({ method, finetuneEpochs: epochs, steps: 0, quantizeEpochs: 0 }),
        });
      }
    }
  }
  return items;
}

Deno.test("point costs: fine-tuning and retraining cost more than one-shot, by their epochs", () => {
  const base = { method: "weight", finetuneEpochs: 0, steps: 0, quantizeEpochs: 0 };
  assertEquals(pointCost(base), 1);
  assertEquals(pointCost({ ...base, finetuneEpochs: 2 }), 17); // finetune 2
  assertEquals(pointCost({ ...base, finetuneEpochs: 1, steps: 3 }), 25); // iterative 3 × 1
  // A rewinding strategy's row holds its retraining's epochs (here the experiment's 10).
  const rewind = getStrategy("rewind").rowSettings(
    { strategy: "rewind", finetuneEpochs: 0, finetuneLr: 0, steps: 0, rewind: "init" },
    { batchSize: 128, learningRate: 0.001, epochs: 10, seed: 0 },
  );
  assertEquals(pointCost({ ...base, finetuneEpochs: rewind.finetuneEpochs }), 81);
  assertEquals(pointCost({ ...base, quantizeEpochs: 1 }), 9);
  assertEquals(pointCost({ ...base, method: "synflow" }), 21);
  assertEquals(pointCost({ ...base, method: "movement", finetuneEpochs: 1 }), 17);
  assertEquals(pointCost({ ...base, method: "nm2:4" }), 1);
});

Deno.test("assignment: every point once, the same from any order, loads balanced by cost", () => {
  const items = studyItems();
  const assigned = assignShards(items, 4);
  const byKey = new Map(items.map((item, i) => [item.key, assigned[i]]));
  // Any order of the same points gives each point the same shard.
  const rng = createRng(7);
  for (let trial = 0; trial < 5; trial++) {
    const shuffled = [...items].sort(() => rng() - 0.5);
    const again = assignShards(shuffled, 4);
    shuffled.forEach((item, i) => assertEquals(again[i], byKey.get(item.key), item.key));
  }
  // The shards' keys partition the points.
  const union: string[] = [];
  for (let s = 0; s < 4; s++) union.push(...keysOfShard(items, { index: s, count: 4 }));
  assertEquals(union.sort(), items.map((i) => i.key).sort());
  // Longest-processing-time: the heaviest shard is within one point's cost of the lightest.
  const loads = [0, 0, 0, 0];
  items.forEach((item, i) => loads[assigned[i]] += item.cost);
  const maxCost = Math.max(...items.map((i) => i.cost));
  assert(Math.max(...loads) - Math.min(...loads) <= maxCost, `loads ${loads}`);
  // Fine-tuned points are spread over all shards, not bunched in one.
  const fineTuned = new Set(items.filter((i) => i.cost > 1).map((i) => byKey.get(i.key)));
  assertEquals(fineTuned.size, 4);
  // More shards than points: the extra shards get nothing, and that is fine.
  assertEquals(assignShards(items.slice(0, 2), 5).sort(), [0, 1]);
  assertThrows(() => assignShards([items[0], items[0]], 2), Error, "duplicate key");
});

Deno.test("grid: models × seeds × sweeps, the grid file's flags overridden by the command line", () => {
  const types = {
    method: { type: "string" },
    k: { type: "string" },
    epochs: { type: "string" },
    model: { type: "string" },
    seed: { type: "string" },
    "finetune-epochs": { type: "string" },
    force: { type: "boolean" },
  } as const;
  const file = {
    path: "study.json",
    text: JSON.stringify({
      seeds: [0, 1, 2],
      models: "mlp,lenet5",
      k: [90, 95],
      epochs: 3,
      force: true,
      sweeps: [{ method: "weight,unit" }, { method: "weight", "finetune-epochs": 2 }],
    }),
  };
  const { spec, own } = parseGrid(
    ["--grid", "study.json", "--epochs=5", "--stage", "sweep"],
    types,
    file,
  );
  assertEquals(own.stage, "sweep");
  assertEquals(spec.seeds, ["0", "1", "2"]);
  assertEquals(spec.models, ["mlp", "lenet5"]);
  const { experiments, sweeps } = expandGrid(spec);
  assertEquals(experiments.length, 6);
  assertEquals(sweeps.length, 12);
  assertEquals(sweeps[1].args, [
    "--k",
    "90,95",
    "--epochs",
    "3",
    "--force",
    "--epochs=5",
    "--model",
    "mlp",
    "--seed",
    "0",
    "--method",
    "weight",
    "--finetune-epochs",
    "2",
  ]);
  assertEquals(pickFlags(sweeps[1].args, types, { epochs: types.epochs, seed: types.seed }), [
    "--epochs",
    "3",
    "--epochs=5",
    "--seed",
    "0",
  ]);
  assertThrows(() => flagGroups(["--nope"], types), UsageError, "unknown flag --nope");
  assertThrows(() => flagGroups(["--k"], types), UsageError, "--k needs a value");
  assertThrows(
    () => parseGrid([], types, { path: "g.json", text: '{"sweeps": []}' }),
    UsageError,
    'g.json: "sweeps" must be a non-empty list',
  );
  assertThrows(
    () => parseGrid(["--seeds", "0,x"], types),
    UsageError,
    "--seeds must list integers",
  );
  assertThrows(() => parseGrid(["--seeds", "0,1,00"], types), UsageError, "--seeds lists 0 twice");
  assertThrows(
    () => parseGrid(["--models", "mlp,mlp"], types),
    UsageError,
    "--models lists mlp twice",
  );
});

/** A complete sweep row of `model` at (method, k) with the given accuracy. */
function row(model: string, method: string, k: number, accuracy: number): SweepRow {
  return {
    model,
    method,
    strategy: "oneshot",
    k,
    sparsity: k / 100,
    sparsity_total: k / 100,
    accuracy,
    loss: 1 - accuracy,
    nonzeros: 100 - k,
    infer_ms: 1,
    compact_hidden: "4",
    infer_compact_ms: 1,
    infer_sparse_ms: Math.random(), // timings may differ between copies
    speedup: 1,
    infer_path: "dd",
    gzip_bytes: 10,
    compression: 1,
    finetune_epochs: 0,
    recovery_lr: 0,
    steps: 0,
    prune_params: "default",
    rewind: "none",
    detail: "",
    allocation: "uniform",
    allocation_sha256: "",
    bits: "32",
    quantize_epochs: 0,
    quantize_lr: 0,
    accuracy_f32: accuracy,
    bytes_dense: 1,
    bytes_csr: 1,
    bytes_q: 1,
    bytes_huffman: 1,
    gzip_csr: 1,
    gzip_q: 1,
    gzip_huffman: 1,
    compression_dc: 1,
  };
}

Deno.test("merge: shard files fold into sweep.csv once; conflicts and other models refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wgprune-merge-" });
  try {
    await writeSweep(`${dir}/sweep.csv`, [row("m", "weight", 0, 0.9)]);
    await writeSweep(`${dir}/sweep.shard-0-of-2.csv`, [row("m", "weight", 50, 0.8)]);
    await writeSweep(`${dir}/sweep.shard-1-of-2.csv`, [
      row("m", "weight", 90, 0.5),
      row("m", "weight", 0, 0.9), // also in sweep.csv, measured the same
    ]);
    await Deno.writeTextFile(`${dir}/sweep.shard-x-of-2.csv`, "not a shard file name\n");
    const first = await mergeShards(dir, "m");
    assertEquals(first.shardFiles, ["sweep.shard-0-of-2.csv", "sweep.shard-1-of-2.csv"]);
    assertEquals(first.added, 2);
    assertEquals(first.rows.map((r) => r.k), [0, 50, 90]);
    const written = await Deno.readTextFile(`${dir}/sweep.csv`);
    // Merging again changes nothing.
    const second = await mergeShards(dir, "m");
    assertEquals(second.added, 0);
    assertEquals(await Deno.readTextFile(`${dir}/sweep.csv`), written);

    // A point measured differently in two files: refused, sweep.csv untouched.
    await writeSweep(`${dir}/sweep.shard-0-of-3.csv`, [row("m", "weight", 90, 0.51)]);
    await writeSweep(`${dir}/sweep.shard-1-of-3.csv`, [row("m", "unit", 90, 0.3)]);
    const err = await mergeShards(dir, "m").catch((e) => e);
    assert(err instanceof UsageError);
    assertEquals(
      err.message,
      `${dir}: point weight k=90 oneshot has accuracy 0.5 in sweep.csv but 0.51 in sweep.shard-0-of-3.csv; delete the row you do not trust and merge again`,
    );
    assertEquals(await Deno.readTextFile(`${dir}/sweep.csv`), written);
    await Deno.remove(`${dir}/sweep.shard-0-of-3.csv`);

    // Rows of another trained model (the experiment was retrained) are refused.
    await writeSweep(`${dir}/sweep.shard-2-of-3.csv`, [row("other", "weight", 95, 0.2)]);
    const stale = await mergeShards(dir, "m").catch((e) => e);
    assert(stale instanceof UsageError);
    assert(stale.message.includes("holds rows of the trained model other"), stale.message);
    await Deno.remove(`${dir}/sweep.shard-2-of-3.csv`);
    const third = await mergeShards(dir, "m");
    assertEquals(third.added, 1);
    assertEquals((await readSweep(`${dir}/sweep.csv`)).rows.length, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The UsageError a merge of `dir` ends in (fails the test when it succeeds). */
async function mergeError(dir: string): Promise<string> {
  const err = await mergeShards(dir, "m").catch((e) => e);
  assert(err instanceof UsageError, `expected a UsageError, got ${err}`);
  return err.message;
}

Deno.test("merge: a shard's damaged or conflicting rows are refused, a cut row is named, links followed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wgprune-merge-damage-" });
  const shard0 = `${dir}/sweep.shard-0-of-2.csv`;
  const shard1 = `${dir}/sweep.shard-1-of-2.csv`;
  try {
    await writeSweep(shard0, [row("m", "weight", 0, 0.9), row("m", "weight", 30, 0.8)]);
    await writeSweep(shard1, [row("m", "weight", 50, 0.7), row("m", "weight", 90, 0.4)]);
    const whole = await Deno.readTextFile(shard0);

    // A complete last row with text in a number field: refused, like any other malformed row.
    const lines = whole.split("\n");
    lines[2] = lines[2].replace(/^((?:[^,]*,){6})[^,]*/, "$1abc");
    await Deno.writeTextFile(shard0, lines.join("\n"));
    assertEquals(
      await mergeError(dir),
      `${shard0}: line 3, column accuracy: "abc" is not a number; fix or delete it, or pass --force to set it aside and start over`,
    );
    assertEquals(
      await readSweep(`${dir}/sweep.csv`),
      { rows: [], cutTail: false },
      "nothing written",
    );

    // One file holding one point twice, measured differently: refused, nothing written.
    await writeSweep(shard0, [
      row("m", "weight", 0, 0.9),
      row("m", "weight", 30, 0.8),
      row("m", "weight", 30, 0.75),
    ]);
    assertEquals(
      await mergeError(dir),
      `${shard0}: lines 3 and 4 hold point weight k=30 oneshot with accuracy 0.8 and 0.75; delete the row you do not trust`,
    );
    assertEquals(
      await readSweep(`${dir}/sweep.csv`),
      { rows: [], cutTail: false },
      "nothing written",
    );

    // A last row cut off without its line break (a copy interrupted): dropped, and named.
    await Deno.writeTextFile(shard0, whole.slice(0, -5));
    const cut = await mergeShards(dir, "m");
    assertEquals(cut.cutFiles, ["sweep.shard-0-of-2.csv"]);
    assertEquals(cut.rows.map((r) => r.k), [0, 50, 90]);
    await Deno.remove(`${dir}/sweep.csv`);

    // A shard file that is a link to the file kept elsewhere is followed.
    await Deno.mkdir(`${dir}/kept`);
    await Deno.writeTextFile(`${dir}/kept/shard0.csv`, whole);
    await Deno.remove(shard0);
    await Deno.symlink(`${dir}/kept/shard0.csv`, shard0);
    const linked = await mergeShards(dir, "m");
    assertEquals(linked.shardFiles, ["sweep.shard-0-of-2.csv", "sweep.shard-1-of-2.csv"]);
    assertEquals(linked.rows.map((r) => r.k), [0, 30, 50, 90]);

    // A broken link, or a folder, of a shard file's name: refused, never skipped.
    await Deno.remove(`${dir}/kept/shard0.csv`);
    assertEquals(
      await mergeError(dir),
      `${shard0}: named as a shard file but not a file (a folder or a broken link); make it the shard's file or remove it`,
    );
    await Deno.remove(shard0);
    await Deno.mkdir(shard0);
    assert((await mergeError(dir)).startsWith(`${shard0}: named as a shard file`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("grid: a sweep that sets a flag choosing the experiment is refused, naming it", () => {
  const types = {
    k: { type: "string" },
    "output-dir": { type: "string" },
    "prune-params": { type: "string" },
  } as const;
  const experimentFlags = new Set(["output-dir"]);
  const file = (sweep: Record<string, string>) => ({
    path: "g.json",
    text: JSON.stringify({ seeds: [0], sweeps: [{ k: "50" }, sweep] }),
  });
  assertThrows(
    () => parseGrid([], types, file({ "output-dir": "G/sweepdir" }), experimentFlags),
    UsageError,
    'g.json: sweeps[1] sets "output-dir", which chooses the experiment that stage one trains; give it at the top level of the grid, for training and every sweep',
  );
  // What a sweep prunes is its own.
  const { spec } = parseGrid([], types, file({ "prune-params": "all" }), experimentFlags);
  assertEquals(spec.sweeps, [["--k", "50"], ["--prune-params", "all"]]);
});
