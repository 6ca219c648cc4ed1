/**
 * The scoring criteria and allocations through the sweep, as a user runs them: Taylor and SNIP
 * scores from real gradients with LAMP and ERK allocations, SNIP's recipe (`--rewind init`), and
 * the flag errors. A small MLP on the synthetic 8×8 IDX folder.
 */

import { assert, assertEquals } from "./_assert.ts";
import { assertOneLineError, runCli, smallMlpDir, smallMlpFlags } from "./_cli.ts";
import { writeIdxDir } from "./_idx_data.ts";
import { readSweep } from "../src/sweep/results.ts";

Deno.test("taylor and snip with lamp and erk allocations, snip trained from init", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "wgprune-criteria-cli-" });
  try {
    await writeIdxDir(`${tmp}/data`);
    const common = [...smallMlpFlags(tmp, { learningRate: 0.005 }), "--infer-repeats", "1"];
    for (const allocation of ["lamp", "erk"]) {
      const sweep = await runCli("sweep", [
        ...common,
        "--method",
        "taylor,snip,weight",
        "--k",
        "80,95",
        "--allocation",
        allocation,
        "--score-batches",
        "4",
      ]);
      assertEquals(sweep.code, 0, sweep.stderr);
    }
    const snip = await runCli("sweep", [
      ...common,
      "--method",
      "snip,synflow",
      "--k",
      "80",
      "--rewind",
      "init",
      "--finetune-epochs",
      "2",
    ]);
    assertEquals(snip.code, 0, snip.stderr);
    const dir = smallMlpDir(tmp, snip.stderr);
    const rows = (await readSweep(`${dir}/sweep.csv`)).rows;
    // 3 methods × 2 k × 2 allocations, and the rewound snip and synflow points.
    assertEquals(rows.length, 14);
    for (const r of rows.filter((r) => r.strategy === "oneshot")) {
      assert(["lamp", "erk"].includes(r.allocation), r.allocation);
      // Exactly k% of the prunable weights, whatever the allocation (ERK to rounding per layer).
      assert(Math.abs(r.sparsity - r.k / 100) < 0.002, `${r.method} ${r.allocation} ${r.sparsity}`);
      // At 80% the tiny network keeps most of its accuracy, and more than at 95%.
      const at95 = rows.find((q) =>
        q.strategy === "oneshot" && q.method === r.method && q.allocation === r.allocation &&
        q.k === 95
      )!;
      if (r.k === 80) {
        assert(r.accuracy > 0.5, JSON.stringify(r));
        assert(r.accuracy > at95.accuracy, `${r.method} ${r.allocation}: 80% below 95%`);
      }
    }
    for (const method of ["snip", "synflow"]) {
      const rewound = rows.find((r) => r.strategy === "rewind" && r.method === method)!;
      assertEquals([rewound.allocation, rewound.rewind], ["uniform", "init"]);
      assert(Math.abs(rewound.sparsity - 0.8) < 0.001, `${method} sparsity ${rewound.sparsity}`);
      assert(rewound.accuracy > 0.5, `${method} trained from init: ${rewound.accuracy}`);
    }

    // Movement: scored while fine-tuning, then pruned and fine-tuned; and along the gradual schedule.
    for (
      const strategy of [["--finetune-epochs", "1"], [
        "--schedule",
        "gradual",
        "--finetune-epochs",
        "2",
      ]]
    ) {
      const movement = await runCli("sweep", [
        ...common,
        "--method",
        "movement",
        "--k",
        "80",
        ...strategy,
      ]);
      assertEquals(movement.code, 0, movement.stderr);
    }
    const moved = (await readSweep(`${dir}/sweep.csv`)).rows.filter((r) => r.method === "movement");
    assertEquals(moved.map((r) => r.strategy).sort(), ["finetune", "gradual"]);
    for (const r of moved) {
      assert(Math.abs(r.sparsity - 0.8) < 0.001 && r.accuracy > 0.5, JSON.stringify(r));
    }

    for (
      const [flags, message] of [
        [
          ["--method", "movement", "--k", "80"],
          "sweep: error: --method movement scores while fine-tuning; it needs --strategy finetune or gradual, not oneshot",
        ],
        [
          ["--method", "unit", "--allocation", "erk"],
          "sweep: error: --allocation erk needs methods that score single weights; unit allocates by its own rule",
        ],
        [
          ["--allocation", "er"],
          'sweep: error: --allocation must be one of uniform, global, erk, lamp or sensitivity:PATH, got "er"',
        ],
        [
          ["--method", "synflow", "--allocation", "lamp"],
          "sweep: error: --allocation lamp needs methods that score single weights; synflow allocates by its own rule",
        ],
        [
          ["--method", "taylor", "--score-batches", "0"],
          'sweep: error: --score-batches must be an integer >= 1, got "0"',
        ],
      ] as const
    ) {
      assertOneLineError(await runCli("sweep", [...common, ...flags]), 2, message);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("--baseline small-dense trains the narrower dense networks beside unit pruning", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "wgprune-baseline-cli-" });
  try {
    await writeIdxDir(`${tmp}/data`);
    const args = [
      ...smallMlpFlags(tmp, { epochs: 2 }),
      "--infer-repeats",
      "1",
      "--method",
      "unit",
      "--k",
      "0,50,75",
      "--baseline",
      "small-dense",
    ];
    const sweep = await runCli("sweep", args);
    assertEquals(sweep.code, 0, sweep.stderr);
    const dir = smallMlpDir(tmp, sweep.stderr);
    const rows = (await readSweep(`${dir}/sweep.csv`)).rows;
    const small = rows.filter((r) => r.method === "small-dense");
    // 64·48 + 48·24 prunable weights; at k = 50 the network is 64-24-12-10.
    assertEquals(small.map((r) => [r.k, r.strategy, r.compact_hidden]), [
      [50, "scratch", "24-12"],
      [75, "scratch", "12-6"],
    ]);
    assertEquals(small[0].sparsity, 1 - (64 * 24 + 24 * 12) / (64 * 48 + 48 * 24));
    assert(small.every((r) => r.accuracy > 0.3), JSON.stringify(small));
    assert(sweep.stdout.includes("small-dense scratch"), sweep.stdout);
    // A rerun finds every row and trains nothing.
    const again = await runCli("sweep", args);
    assertEquals(again.code, 0, again.stderr);
    assert(!again.stderr.includes("small-dense k="), again.stderr);
    assertOneLineError(
      await runCli("sweep", [...args.slice(0, -1), "large"]),
      2,
      'sweep: error: --baseline must be small-dense, got "large"',
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
