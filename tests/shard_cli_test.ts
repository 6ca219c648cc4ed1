/**
 * Sharded sweeps as a user runs them, on the small MLP and the synthetic 8×8 IDX folder: the
 * Kubernetes path (N concurrent processes with `JOB_COMPLETION_INDEX` and `--shards N`) merged
 * by `deno task merge` equals one process's sweep on what is measured; `deno task grid` runs a
 * two-seed study stage by stage and `deno task report` summarises the seeds; misuse gets one
 * line and exit code 2.
 */

import { assert, assertEquals } from "./_assert.ts";
import { assertOneLineError, assertSameSweep, runCli, smallMlpDir, smallMlpFlags } from "./_cli.ts";
import { writeIdxDir } from "./_idx_data.ts";
import { readSweep } from "../src/sweep/results.ts";
import { pointKey } from "../src/sweep/point_id.ts";

/** Spawns the sweep as shard `index` of an Indexed Job with `count` completions. */
function indexedShard(args: string[], index: number, count: number): Promise<Deno.CommandOutput> {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-webgpu",
      "--allow-all",
      "src/cli/sweep.ts",
      ...args,
      "--shards",
      String(count),
    ],
    env: { NO_COLOR: "1", WGPRUNE_KERNEL: "tiled", JOB_COMPLETION_INDEX: String(index) },
    stdout: "piped",
    stderr: "piped",
  }).output();
}

Deno.test("Kubernetes path: 3 concurrent shards by JOB_COMPLETION_INDEX, merged, equal one process", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "wgprune-shard-cli-" });
  try {
    await writeIdxDir(`${tmp}/data`);
    const points = [
      "--method",
      "weight,unit,random",
      "--k",
      "50,80,95",
      "--infer-repeats",
      "1",
    ];
    const single = await runCli("sweep", [...smallMlpFlags(tmp), ...points]);
    assertEquals(single.code, 0, single.stderr);
    const singleDir = smallMlpDir(tmp, single.stderr);

    // The same study in another folder: three shards start at once, none trained yet (the
    // training lock lets one train and the others reuse its checkpoint).
    const sharded = [...smallMlpFlags(tmp), ...points, "--output-dir", `${tmp}/sharded`];
    const outputs = await Promise.all([0, 1, 2].map((i) => indexedShard(sharded, i, 3)));
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    outputs.forEach((o, i) => assertEquals(o.code, 0, `shard ${i}: ${text(o.stderr)}`));
    const dir = text(outputs[0].stderr).match(/ in (\S+)\/sweep\.shard-0-of-3\.csv/)?.[1];
    assert(dir !== undefined && dir.startsWith(`${tmp}/sharded/`), text(outputs[0].stderr));
    const shardRows = [];
    for (let i = 0; i < 3; i++) {
      const { rows } = await readSweep(`${dir}/sweep.shard-${i}-of-3.csv`);
      assertEquals(rows.length, 3, `shard ${i} computes a third of 9 equal points`);
      shardRows.push(...rows);
    }
    assertEquals(new Set(shardRows.map(pointKey)).size, 9, "no point computed twice");
    assert(text(outputs[1].stderr).includes("(JOB_COMPLETION_INDEX): 3 of 9 points"));

    const merge = await runCli("merge", [dir]);
    assertEquals(merge.code, 0, merge.stderr);
    assert(merge.stdout.includes("9 points (9 new from 3 shard files)"), merge.stdout);
    for (const f of ["sweep.md", "report.html", "sweep_accuracy.png", "hist_weight.png"]) {
      assert((await Deno.stat(`${dir}/${f}`)).size > 0, f);
    }
    assertSameSweep(
      (await readSweep(`${dir}/sweep.csv`)).rows,
      (await readSweep(`${singleDir}/sweep.csv`)).rows,
    );

    // A shard run again finds its points done (in its file and in sweep.csv) and computes none.
    const again = await indexedShard(sharded, 2, 3);
    assertEquals(again.code, 0);
    assert(text(again.stderr).includes("all 3 points already in"), text(again.stderr));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("grid: a two-seed study trained, swept and merged by stages, then the seeds summarised", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "wgprune-grid-cli-" });
  try {
    await writeIdxDir(`${tmp}/data`);
    const study = [
      ...smallMlpFlags(tmp, { epochs: 2 }),
      "--seeds",
      "0,1",
      "--method",
      "weight,unit",
      "--k",
      "50,90",
      "--infer-repeats",
      "1",
    ];
    const plan = await runCli("grid", [...study, "--shards", "2"]);
    assertEquals(plan.code, 0, plan.stderr);
    assert(plan.stdout.includes("grid: 2 experiments, 2 sweeps, 8 points"), plan.stdout);
    assert(plan.stdout.includes("load per shard of 2: 4, 4"), plan.stdout);
    for (const stage of ["train", "sweep"]) {
      for (const shard of ["0/2", "1/2"]) {
        const run = await runCli("grid", [...study, "--stage", stage, "--shard", shard]);
        assertEquals(run.code, 0, `${stage} ${shard}: ${run.stderr}`);
      }
    }
    const merge = await runCli("grid", [...study, "--stage", "merge"]);
    assertEquals(merge.code, 0, merge.stderr);
    const dirs = [...merge.stdout.matchAll(/merge: (\S+): 4 points/g)].map((m) => m[1]);
    assertEquals(dirs.length, 2, merge.stdout);
    const summary = merge.stdout.match(/report: 2 seeds summarised in (\S+)/)?.[1];
    assert(summary !== undefined && summary.includes("_seeds0-1"), merge.stdout);
    const csv = await Deno.readTextFile(`${summary}/seeds.csv`);
    assertEquals(
      csv.split("\n")[0],
      "series,method,strategy,k,seeds,n,accuracy_mean,accuracy_std,loss_mean,loss_std,sparsity_mean,nonzeros_mean",
    );
    assertEquals(csv.trim().split("\n").length, 5, "4 points and the header");
    assert((await Deno.stat(`${summary}/seeds_accuracy.png`)).size > 0);

    // deno task report on the same folders gives the same summary.
    const report = await runCli("report", [...dirs, "--out", `${tmp}/summary`]);
    assertEquals(report.code, 0, report.stderr);
    assertEquals(await Deno.readTextFile(`${tmp}/summary/seeds.csv`), csv);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("sharding misuse: one line, exit code 2", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "wgprune-shard-errors-" });
  try {
    await writeIdxDir(`${tmp}/data`);
    const flags = smallMlpFlags(tmp);
    assertOneLineError(
      await runCli("sweep", [...flags, "--shard", "4/4"]),
      2,
      'sweep: error: --shard must be I/N with 0 <= I < N, e.g. 0/4; got "4/4"',
    );
    assertOneLineError(
      await runCli("sweep", [...flags, "--shards", "2"]),
      2,
      "sweep: error: --shards N needs SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX to say which shard this is; give --shard I/N",
    );
    assertOneLineError(
      await runCli("sweep", [...flags], { JOB_COMPLETION_INDEX: "1" }),
      2,
      "sweep: error: JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job); give --shards N, the Job's completions",
    );
    assertOneLineError(
      await runCli("sweep", [
        ...flags,
        "--method",
        "std",
        "--std-sensitivity",
        "1",
        "--shard",
        "0/2",
      ]),
      2,
      "sweep: error: --std-sensitivity levels depend on the trained model, so shards cannot agree on them; give --k",
    );
    assertOneLineError(
      await runCli("export", [...flags, "--method", "weight", "--k", "50", "--shard", "0/2"]),
      2,
      "export: error: export computes one point; --shard and --shards apply to the sweep",
    );
    assertOneLineError(
      await runCli("merge", [tmp]),
      2,
      `merge: error: ${tmp}: no checkpoint.safetensors; expected a trained wgprune experiment folder`,
    );
    assertOneLineError(
      await runCli("merge", []),
      2,
      "merge: error: merge needs at least one experiment folder (see --help)",
    );
    assertOneLineError(
      await runCli("grid", [...flags, "--stage", "deploy"]),
      2,
      'grid: error: --stage must be plan, train, sweep, merge; got "deploy"',
    );
    assertOneLineError(
      await runCli("grid", [...flags, "--stage", "merge", "--shard", "0/2"]),
      2,
      "grid: error: the merge stage runs once, not per shard; drop --shard",
    );
    assertOneLineError(
      await runCli("grid", ["--grid", `${tmp}/missing.json`]),
      2,
      /^grid: error: .*missing\.json: cannot read/,
    );
    assertOneLineError(
      await runCli("grid", [...flags, "--stage", "merge"], {
        SLURM_ARRAY_TASK_ID: "1",
        SLURM_ARRAY_TASK_COUNT: "2",
      }),
      2,
      "grid: error: the merge stage runs once, not per shard; run it outside the array (SLURM_ARRAY_TASK_ID is set)",
    );
    // A sweep of the grid that would train elsewhere than its training stage: refused.
    const study = `${tmp}/study.json`;
    await Deno.writeTextFile(
      study,
      JSON.stringify({
        seeds: [0],
        hidden: "16,8",
        epochs: 1,
        "limit-train": 2000,
        sweeps: [{
          method: "weight",
          k: 50,
          "infer-repeats": 1,
          "output-dir": `${tmp}/G/sweepdir`,
        }],
      }),
    );
    assertOneLineError(
      await runCli("grid", ["--stage", "train", "--grid", study]),
      2,
      `grid: error: ${study}: sweeps[0] sets "output-dir", which chooses the experiment that stage one trains; give it at the top level of the grid, for training and every sweep`,
    );
    // Two experiments of different widths are not seeds of one study.
    const a = await runCli("sweep", [
      ...flags,
      "--method",
      "weight",
      "--k",
      "50",
      "--infer-repeats",
      "1",
    ]);
    assertEquals(a.code, 0, a.stderr);
    const b = await runCli("sweep", [
      ...flags,
      "--hidden",
      "40,20",
      "--method",
      "weight",
      "--k",
      "50",
      "--infer-repeats",
      "1",
    ]);
    assertEquals(b.code, 0, b.stderr);
    const dirA = smallMlpDir(tmp, a.stderr);
    const idB = b.stderr.match(/custom-[0-9a-f]{12}_h40-20_[^/\s]+/)?.[0];
    assert(idB !== undefined, b.stderr);
    const report = await runCli("report", [dirA, `${tmp}/out/${idB}`]);
    assertOneLineError(
      report,
      2,
      /^report: error: .* differs from .* in hidden, not only in the seed; give folders of one configuration$/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
