/**
 * Results a user can trust: every case runs the command line on small synthetic IDX folders
 * and checks what lands on disk and what is printed — no silent reuse of another folder's model,
 * no rows lost to a concurrent sweep, no duplicate rows, corruption detected, resume that does
 * not depend on how the output folder is spelled, and file-system failures as one line.
 */

import { assert, assertEquals } from "./_assert.ts";
import { assertOneLineError, messageLines, runCli, spawnCli } from "./_cli.ts";
import { writeIdxDir } from "./_idx_data.ts";
import { decodeSafetensors, encodeSafetensors } from "../src/model/safetensors.ts";

/** A tiny, quick model: 8×8 inputs, one hidden layer of 16, one epoch. */
const SMALL = [
  "--hidden",
  "16",
  "--epochs",
  "1",
  "--batch-size",
  "32",
  "--num-valid",
  "200",
  "--learning-rate",
  "0.01",
];
const QUICK_SWEEP = ["--infer-repeats", "1"];

/** Experiment folders (derived ids of --data-dir runs) in `out`. */
async function experimentDirs(out: string): Promise<string[]> {
  const dirs: string[] = [];
  for await (const e of Deno.readDir(out)) {
    if (e.isDirectory && e.name.startsWith("custom-")) dirs.push(`${out}/${e.name}`);
  }
  return dirs.sort();
}

async function onlyExperiment(out: string): Promise<string> {
  const dirs = await experimentDirs(out);
  assertEquals(dirs.length, 1, `experiments in ${out}`);
  return dirs[0];
}

async function csvLines(path: string): Promise<string[]> {
  return (await Deno.readTextFile(path)).trimEnd().split("\n");
}

async function withTemp(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "wgprune-trust-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("two data folders get two experiments; a named experiment refuses other data", async () => {
  await withTemp(async (tmp) => {
    await writeIdxDir(`${tmp}/a`);
    await writeIdxDir(`${tmp}/b`, { labelShift: 1 }); // same pixels, labels shifted
    const out = `${tmp}/out`;
    const a = await runCli("train", [...SMALL, "--data-dir", `${tmp}/a`, "--output-dir", out]);
    assertEquals(a.code, 0, a.stderr);
    const b = await runCli("sweep", [
      ...SMALL,
      ...QUICK_SWEEP,
      "--data-dir",
      `${tmp}/b`,
      "--output-dir",
      out,
      "--k",
      "0",
    ]);
    assertEquals(b.code, 0, b.stderr);
    assert(!b.stderr.includes("reusing"), `folder b reused folder a's model: ${b.stderr}`);
    const dirs = await experimentDirs(out);
    assertEquals(dirs.length, 2, "one experiment per data folder");
    assert(dirs.every((d) => /\/custom-[0-9a-f]{12}_h16_/.test(d)), dirs.join());

    const named = ["--experiment-id", "mine", "--output-dir", out];
    assertEquals((await runCli("train", [...SMALL, "--data-dir", `${tmp}/a`, ...named])).code, 0);
    const other = await runCli("sweep", [...SMALL, "--data-dir", `${tmp}/b`, ...named]);
    assertOneLineError(
      other,
      2,
      /^sweep: error: .*\/mine\/checkpoint\.safetensors was trained on other data \(sha256 [0-9a-f]{12}…; the data loaded now is [0-9a-f]{12}…\); pass --force-train to retrain, or delete it, or use another --experiment-id$/,
    );
  });
});

Deno.test("two sweeps of one experiment at once keep both methods' rows", async () => {
  await withTemp(async (tmp) => {
    await writeIdxDir(`${tmp}/a`);
    const common = [...SMALL, ...QUICK_SWEEP, "--data-dir", `${tmp}/a`, "--output-dir", tmp];
    const first = spawnCli("sweep", [...common, "--method", "weight", "--k", "0,50,90"]);
    const second = spawnCli("sweep", [...common, "--method", "unit", "--k", "0,50,90"]);
    const [r1, r2] = await Promise.all([first.output(), second.output()]);
    const err = (r: Deno.CommandOutput) => new TextDecoder().decode(r.stderr);
    assertEquals(r1.code, 0, err(r1));
    assertEquals(r2.code, 0, err(r2));
    // Only one of them trained; the other waited for it and reused the checkpoint.
    const trained = [err(r1), err(r2)].filter((e) => e.includes("train: test accuracy"));
    assertEquals(trained.length, 1, `${err(r1)}\n---\n${err(r2)}`);
    const dir = await onlyExperiment(tmp);
    const rows = (await csvLines(`${dir}/sweep.csv`)).slice(1).map((l) => l.split(","));
    const points = rows.map((r) => `${r[1]}@${r[3]}`).sort();
    assertEquals(points, ["unit@0", "unit@50", "unit@90", "weight@0", "weight@50", "weight@90"]);
  });
});

Deno.test("two trainings of one experiment at once: one trains, the other waits and reuses", async () => {
  await withTemp(async (tmp) => {
    await writeIdxDir(`${tmp}/a`);
    const args = [...SMALL, "--epochs", "3", "--data-dir", `${tmp}/a`, "--output-dir", tmp];
    const results = await Promise.all(
      [spawnCli("train", args), spawnCli("train", args)].map((c) => c.output()),
    );
    const errs = results.map((r) => new TextDecoder().decode(r.stderr));
    assertEquals(results.map((r) => r.code), [0, 0], errs.join("\n---\n"));
    assertEquals(errs.filter((e) => e.includes("reusing")).length, 1, errs.join("\n---\n"));
    const dir = await onlyExperiment(tmp);
    assertEquals((await csvLines(`${dir}/history.csv`)).length, 4, "header + 3 epochs, once");
  });
});

Deno.test("repeated --k and --method values give one row each, also with --force", async () => {
  await withTemp(async (tmp) => {
    await writeIdxDir(`${tmp}/a`);
    const args = [
      ...SMALL,
      ...QUICK_SWEEP,
      "--data-dir",
      `${tmp}/a`,
      "--output-dir",
      tmp,
      "--k",
      "25,25,25.0",
      "--method",
      "weight,weight",
    ];
    assertEquals((await runCli("sweep", args)).code, 0);
    const again = await runCli("sweep", [...args, "--force"]);
    assertEquals(again.code, 0, again.stderr);
    const dir = await onlyExperiment(tmp);
    const lines = await csvLines(`${dir}/sweep.csv`);
    assertEquals(lines.length, 2, lines.join("\n"));
  });
});

Deno.test("a checkpoint with NaN weights or a bad checksum is refused, exit 2", async () => {
  await withTemp(async (tmp) => {
    await writeIdxDir(`${tmp}/a`);
    const args = [...SMALL, "--data-dir", `${tmp}/a`, "--output-dir", tmp];
    assertEquals((await runCli("train", args)).code, 0);
    const path = `${await onlyExperiment(tmp)}/checkpoint.safetensors`;
    const good = await Deno.readFile(path);
    const file = decodeSafetensors(good, path);
    file.tensors.get("layers.1.weight")!.data[3] = NaN;
    const { data_sha256: _, ...metadata } = file.metadata;
    await Deno.writeFile(path, encodeSafetensors(file.tensors, metadata)); // valid checksum
    assertOneLineError(
      await runCli("sweep", [...args, "--k", "0"]),
      2,
      /^sweep: error: .*checkpoint\.safetensors: layers\.1\.weight holds NaN at index 3; a usable checkpoint has finite weights \(retrain with --force-train\); pass --force-train to retrain, or delete it$/,
    );
    const flipped = good.slice();
    flipped[flipped.length - 5] ^= 0x10;
    await Deno.writeFile(path, flipped);
    assertOneLineError(
      await runCli("train", args),
      2,
      /^train: error: .*checkpoint\.safetensors: checksum mismatch \(data_sha256\): the file is corrupt; pass --force-train to retrain, or delete it$/,
    );
  });
});

Deno.test("a sweep.csv cut inside its last row: that row is recomputed, earlier rows kept", async () => {
  await withTemp(async (tmp) => {
    await writeIdxDir(`${tmp}/a`);
    const args = [
      ...SMALL,
      ...QUICK_SWEEP,
      "--data-dir",
      `${tmp}/a`,
      "--output-dir",
      tmp,
      "--method",
      "weight",
      "--k",
      "0,50,90",
    ];
    assertEquals((await runCli("sweep", args)).code, 0);
    const csv = `${await onlyExperiment(tmp)}/sweep.csv`;
    const before = await csvLines(csv);
    const text = await Deno.readTextFile(csv);
    await Deno.writeTextFile(csv, text.slice(0, text.length - 4)); // inside the last field
    const rerun = await runCli("sweep", args);
    assertEquals(rerun.code, 0, rerun.stderr);
    assert(rerun.stderr.includes("ended inside a row"), rerun.stderr);
    const after = await csvLines(csv);
    assertEquals(after.length, 4);
    assertEquals(after.slice(0, 3), before.slice(0, 3), "earlier rows kept byte for byte");
    assert(after[3].startsWith(before[3].split(",").slice(0, 8).join(",")), after[3]);

    // A malformed row in the middle is an error naming the line; --force sets the file aside.
    const lines = await csvLines(csv);
    lines[2] = lines[2].replace(/,0\.\d+,/, ",zero,");
    await Deno.writeTextFile(csv, lines.join("\n") + "\n");
    assertOneLineError(
      await runCli("sweep", args),
      2,
      /^sweep: error: .*sweep\.csv: line 3, column \w+: "zero" is not a number; fix or delete it, or pass --force to set it aside and start over$/,
    );
    const forced = await runCli("sweep", [...args, "--force"]);
    assertEquals(forced.code, 0, forced.stderr);
    assert(forced.stderr.includes("set the unreadable"), forced.stderr);
    assertEquals((await csvLines(csv)).length, 4);
  });
});

Deno.test("resume does not depend on how --output-dir is spelled; cut records are one-line errors", async () => {
  await withTemp(async (tmp) => {
    await writeIdxDir(`${tmp}/a`);
    const base = [...SMALL, "--epochs", "2", "--data-dir", `${tmp}/a`];
    assertEquals((await runCli("train", [...base, "--output-dir", `${tmp}/out`])).code, 0);
    const dir = await onlyExperiment(`${tmp}/out`);
    // Make the finished run look interrupted after epoch 1: the weights after epoch 1 as
    // last.safetensors and one epoch of history, no checkpoint or metrics.
    const snap = decodeSafetensors(await Deno.readFile(`${dir}/epoch_1.safetensors`), "epoch_1");
    const { data_sha256: _, ...meta } = snap.metadata;
    const interrupted = encodeSafetensors(snap.tensors, {
      ...meta,
      finished: "false",
      epoch: "1",
      kind: "last",
    });
    const history = (await csvLines(`${dir}/history.csv`)).slice(0, 2).join("\n") + "\n";
    const interrupt = async () => {
      await Deno.writeFile(`${dir}/last.safetensors`, interrupted);
      await Deno.writeTextFile(`${dir}/history.csv`, history);
      for (const f of ["checkpoint.safetensors", "metrics.json"]) {
        await Deno.remove(`${dir}/${f}`).catch(() => {});
      }
    };
    await interrupt();
    const resumed = await runCli("train", [...base, "--output-dir", `${tmp}/out/`]);
    assertEquals(resumed.code, 0, resumed.stderr);
    assert(resumed.stderr.includes("resuming after epoch 1/2"), resumed.stderr);
    assertEquals((await csvLines(`${dir}/history.csv`)).length, 3);

    // history.csv cut mid-line while resuming: one line naming the file and what to do.
    await interrupt();
    await Deno.writeTextFile(`${dir}/history.csv`, history.slice(0, -6));
    assertOneLineError(
      await runCli("train", [...base, "--output-dir", `${tmp}/out`]),
      2,
      /^train: error: .*history\.csv: cut off inside its last line; pass --force-train to start over, or delete it$/,
    );
    await Deno.remove(`${dir}/last.safetensors`);
    assertEquals((await runCli("train", [...base, "--output-dir", `${tmp}/out`])).code, 0);

    // metrics.json cut: one line; deleting it rebuilds it from the checkpoint.
    const metrics = await Deno.readTextFile(`${dir}/metrics.json`);
    await Deno.writeTextFile(`${dir}/metrics.json`, metrics.slice(0, 40));
    assertOneLineError(
      await runCli("train", [...base, "--output-dir", `${tmp}/out`]),
      2,
      /^train: error: .*metrics\.json: not valid JSON \(.*\); delete it to rebuild it from the checkpoint, or pass --force-train to retrain$/,
    );
    await Deno.remove(`${dir}/metrics.json`);
    const rebuilt = await runCli("train", [...base, "--output-dir", `${tmp}/out`]);
    assertEquals(rebuilt.code, 0, rebuilt.stderr);
    assert(rebuilt.stderr.includes("rebuilt"), rebuilt.stderr);
    assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/metrics.json`)), JSON.parse(metrics));
  });
});

Deno.test("--no-keep-best is its own experiment", async () => {
  await withTemp(async (tmp) => {
    await writeIdxDir(`${tmp}/a`);
    const args = [...SMALL, "--data-dir", `${tmp}/a`, "--output-dir", tmp];
    assertEquals((await runCli("train", args)).code, 0);
    const last = await runCli("train", [...args, "--no-keep-best"]);
    assertEquals(last.code, 0, last.stderr);
    assert(!last.stderr.includes("reusing"), last.stderr);
    const dirs = await experimentDirs(tmp);
    assertEquals(dirs.length, 2);
    assert(dirs.some((d) => d.endsWith("_last")), dirs.join());
  });
});

/** True when this process may mount a tmpfs (root, and mount(8) allowed here). */
function canMountTmpfs(): boolean {
  if (Deno.uid() !== 0) return false;
  const dir = Deno.makeTempDirSync();
  try {
    const mount = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir],
    })
      .outputSync();
    if (!mount.success) return false;
    new Deno.Command("umount", { args: [dir] }).outputSync();
    return true;
  } catch {
    return false;
  } finally {
    Deno.removeSync(dir);
  }
}

const MOUNT_OK = canMountTmpfs();

Deno.test({
  name: MOUNT_OK
    ? "a full or read-only file system: one line, exit 1, earlier files intact, no temp files"
    : "a full or read-only file system (skipped: mounting a tmpfs needs root and mount(8))",
  ignore: !MOUNT_OK,
  fn: async () => {
    await withTemp(async (tmp) => {
      await writeIdxDir(`${tmp}/a`);
      const mnt = `${tmp}/mnt`;
      await Deno.mkdir(mnt);
      const sh = (args: string[]) =>
        new Deno.Command(args[0], { args: args.slice(1) }).outputSync();
      assert(sh(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt]).success);
      try {
        const args = [...SMALL, "--data-dir", `${tmp}/a`, "--output-dir", mnt];
        assertEquals((await runCli("train", args)).code, 0);
        const dir = await onlyExperiment(mnt);
        const checkpoint = await Deno.readFile(`${dir}/checkpoint.safetensors`);
        // Fill the file system to the last byte.
        const filler = await Deno.open(`${mnt}/filler`, { write: true, create: true });
        try {
          const block = new Uint8Array(4096);
          for (;;) await filler.write(block);
        } catch {
          // ENOSPC: full
        } finally {
          filler.close();
        }
        const full = await runCli("sweep", [...args, ...QUICK_SWEEP, "--k", "0", "--force-train"]);
        assertOneLineError(
          full,
          1,
          /^sweep: error: cannot write .*: No space left on device \(os error 28\)$/,
        );
        const names: string[] = [];
        for await (const e of Deno.readDir(dir)) names.push(e.name);
        assert(!names.some((n) => n.includes(".tmp-")), `temp files left: ${names}`);
        assertEquals(await Deno.readFile(`${dir}/checkpoint.safetensors`), checkpoint);

        await Deno.remove(`${mnt}/filler`);
        assert(sh(["mount", "-o", "remount,ro", mnt]).success);
        assertOneLineError(
          await runCli("train", [...args, "--force-train"]),
          1,
          /^train: error: cannot write .*: Read-only file system \(os error 30\)$/,
        );
        assertEquals(await Deno.readFile(`${dir}/checkpoint.safetensors`), checkpoint);
      } finally {
        sh(["umount", mnt]);
      }
    });
  },
});

Deno.test("a batch larger than the training split is refused before training", async () => {
  await withTemp(async (tmp) => {
    await writeIdxDir(`${tmp}/a`);
    const result = await runCli("train", [
      ...SMALL,
      "--data-dir",
      `${tmp}/a`,
      "--output-dir",
      tmp,
      "--limit-train",
      "10",
    ]);
    assertOneLineError(
      result,
      2,
      "train: error: --batch-size 32 is larger than the training split (10 samples after --num-valid and --limit-train); expected at most 10",
    );
    assertEquals(await experimentDirs(tmp), [], "nothing written");
  });
});

Deno.test("image and label counts that differ name both files and both counts", async () => {
  await withTemp(async (tmp) => {
    await writeIdxDir(`${tmp}/a`, { train: 1200 });
    await writeIdxDir(`${tmp}/b`, { train: 1000 });
    await Deno.copyFile(`${tmp}/b/train-labels-idx1-ubyte`, `${tmp}/a/train-labels-idx1-ubyte`);
    assertOneLineError(
      await runCli("train", [...SMALL, "--data-dir", `${tmp}/a`, "--output-dir", tmp]),
      2,
      `train: error: image and label counts differ: ${tmp}/a/train-images-idx3-ubyte has 1200 images, ${tmp}/a/train-labels-idx1-ubyte has 1000 labels`,
    );
  });
});

Deno.test("bench: a bad --out is reported before any benchmarking, exit 1", async () => {
  await withTemp(async (tmp) => {
    await Deno.writeTextFile(`${tmp}/file`, "x");
    const result = await runCli("bench", ["--out", `${tmp}/file/bench.json`]);
    assertOneLineError(
      result,
      1,
      /^bench: error: cannot create folder .*\/file: .*\(os error \d+\)$/,
    );
    assertEquals(result.stdout, "", "no benchmark ran");
    assertEquals(messageLines(result.stderr).length, 1);
  });
});

Deno.test("--prune-params chooses what is pruned and is part of each row's key", async () => {
  await withTemp(async (tmp) => {
    await writeIdxDir(`${tmp}/a`);
    const args = [...SMALL, ...QUICK_SWEEP, "--data-dir", `${tmp}/a`, "--output-dir", tmp];
    const all = await runCli("sweep", [...args, "--k", "50", "--prune-params", "all"]);
    assertEquals(all.code, 0, all.stderr);
    const plain = await runCli("sweep", [...args, "--k", "50"]);
    assertEquals(plain.code, 0, plain.stderr);
    assert(!plain.stderr.includes("already in"), "a default sweep is not the 'all' sweep");
    const dir = await onlyExperiment(tmp);
    const [header, ...rows] = (await csvLines(`${dir}/sweep.csv`)).map((l) => l.split(","));
    const col = (name: string) => header.indexOf(name);
    const byScope = Object.fromEntries(rows.map((r) => [r[col("prune_params")], r]));
    // hidden 16 over 8×8 inputs, 10 logits: the output layer is pruned only with "all".
    assertEquals(Number(byScope.all[col("nonzeros_1")]), 16 * 10 / 2);
    assertEquals(Number(byScope.default[col("nonzeros_1")]), 16 * 10);
    assertOneLineError(
      await runCli("sweep", [...args, "--prune-params", "layers.9.*"]),
      2,
      /^sweep: error: --prune-params "layers\.9\.\*" matches no parameter; the model has layers\.0\.weight, layers\.1\.weight$/,
    );
  });
});
