/**
 * The sweep's figures do not drift when the code is restructured: a small fixed MNIST run
 * (hidden 64-32, one epoch, seed 3) swept with every method and every recovery strategy must
 * reproduce the accuracy, loss and non-zero counts of `fixtures/refactor_sweep.csv` bit for bit.
 * A restructuring of the code must leave them as they are; `WGPRUNE_UPDATE_FIXTURE=1 deno task test`
 * rewrites the fixture, only for an intended change of results.
 */

import { assertEquals } from "./_assert.ts";
import { runCli } from "./_cli.ts";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";

const FIXTURE = new URL("./fixtures/refactor_sweep.csv", import.meta.url);
// He-normal: the fixture's initialisation (the MLP's default before the initialisation study).
const BASE = [
  "--hidden",
  "64,32",
  "--epochs",
  "1",
  "--seed",
  "3",
  "--init",
  "he",
  "--infer-repeats",
  "1",
];
const RUNS = [
  ["--method", "weight,unit,global,std,random", "--k", "0,50,90"],
  ["--method", "weight", "--k", "90", "--finetune-epochs", "1"],
  ["--method", "weight", "--k", "90", "--finetune-epochs", "1", "--finetune-freeze", "pruned"],
  ["--method", "weight", "--k", "90", "--finetune-epochs", "1", "--schedule", "iterative"],
  ["--method", "unit", "--k", "50", "--finetune-epochs", "1", "--schedule", "gradual"],
  ["--method", "weight", "--k", "90", "--finetune-epochs", "1", "--rewind", "init"],
  ["--method", "weight", "--k", "90", "--rewind-lr"],
];
const COLUMNS = ["method", "strategy", "k", "rewind", "accuracy", "loss", "nonzeros"];

Deno.test("refactor proof: sweep figures of a fixed small run are bit-identical", async () => {
  const out = await Deno.makeTempDir({ prefix: "wgprune-proof-" });
  try {
    for (const args of RUNS) {
      const result = await runCli("sweep", [...BASE, ...args, "--output-dir", out]);
      assertEquals(result.code, 0, result.stderr);
    }
    let csv = "";
    for await (const e of Deno.readDir(out)) csv = `${out}/${e.name}/sweep.csv`;
    const rows = parse(await Deno.readTextFile(csv), { columns: true }) as Record<string, string>[];
    const actual = stringify(rows, { header: true, columns: COLUMNS });
    if (Deno.env.get("WGPRUNE_UPDATE_FIXTURE") === "1") await Deno.writeTextFile(FIXTURE, actual);
    assertEquals(actual.split("\n"), (await Deno.readTextFile(FIXTURE)).split("\n"));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
