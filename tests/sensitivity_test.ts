import { assert, assertEquals, assertThrows } from "./_assert.ts";
import {
  largestSafeK,
  parseSensitivityFile,
  type SensitivityFile,
  sensitivityKs,
} from "../src/prune/sensitivity.ts";
import { UsageError } from "../src/util/errors.ts";
import { assertOneLineError, runCli, smallMlpFlags } from "./_cli.ts";
import { writeIdxDir } from "./_idx_data.ts";
import { readSweep } from "../src/sweep/results.ts";
import { readExportMeta } from "../src/export/meta.ts";
import { assertClose } from "./_close.ts";

const FILE: SensitivityFile = {
  method: "weight",
  dense_accuracy: 0.9,
  layers: [
    // Robust: stays at 0.9 until 80, then 0.8 at 90.
    {
      name: "a",
      size: 300,
      points: [{ k: 0, accuracy: 0.9 }, { k: 80, accuracy: 0.9 }, { k: 90, accuracy: 0.8 }],
    },
    // Sensitive: 0.7 already at 50.
    {
      name: "b",
      size: 100,
      points: [{ k: 0, accuracy: 0.9 }, { k: 50, accuracy: 0.7 }, { k: 90, accuracy: 0.1 }],
    },
  ],
};

Deno.test("sensitivity: the largest safe k per layer, and one shared drop for a target", () => {
  // Floor 0.85: a interpolates halfway from 80 to 90; b from 0 to 50 a quarter of the way.
  assertClose("a", [largestSafeK(FILE.layers[0], 0.85)], [85], 1e-9, 0);
  assertClose("b", [largestSafeK(FILE.layers[1], 0.85)], [12.5], 1e-9, 0);
  assertEquals(largestSafeK(FILE.layers[0], 0), 90);
  // Target 66.875% overall = (300·85 + 100·12.5) / 400: exactly the 0.05 drop above.
  const ks = sensitivityKs(FILE, (300 * 85 + 100 * 12.5) / 400);
  assertClose("ks", [ks.get("a")!, ks.get("b")!], [85, 12.5], 1e-6, 0);
  // The robust layer takes more of any target than the sensitive one.
  const k60 = sensitivityKs(FILE, 60);
  assert(k60.get("a")! > 60 && k60.get("b")! < 60, JSON.stringify([...k60]));
  assertThrows(
    () => sensitivityKs(FILE, 95),
    UsageError,
    "the scan reaches 90.00% overall at most",
  );
  assertThrows(
    () => parseSensitivityFile("{}", "s.json"),
    UsageError,
    "s.json: not a sensitivity file",
  );
  assertThrows(
    () =>
      parseSensitivityFile(
        JSON.stringify({
          ...FILE,
          layers: [{ ...FILE.layers[0], points: [{ k: 5, accuracy: 1 }] }],
        }),
        "s.json",
      ),
    UsageError,
    "points must rise in k from 0",
  );
});

Deno.test("deno task sensitivity scans each layer alone; the sweep allocates from its file", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "wgprune-sensitivity-cli-" });
  try {
    await writeIdxDir(`${tmp}/data`);
    const common = [...smallMlpFlags(tmp, { learningRate: 0.005 })];
    const scan = await runCli("sensitivity", [...common, "--k", "50,90,99"]);
    assertEquals(scan.code, 0, scan.stderr);
    const path = scan.stderr.match(/sensitivity: wrote (\S+)\.\{json,csv,png\}/)![1] + ".json";
    const file = parseSensitivityFile(await Deno.readTextFile(path), path);
    assertEquals(file.layers.map((l) => [l.name, l.points.map((p) => p.k)]), [
      ["layers.0.weight", [0, 50, 90, 99]],
      ["layers.1.weight", [0, 50, 90, 99]],
    ]);
    assert(scan.stdout.includes("| k % | layers.0.weight | layers.1.weight |"), scan.stdout);
    const sweep = await runCli("sweep", [
      ...common,
      "--method",
      "weight",
      "--k",
      "80",
      "--allocation",
      `sensitivity:${path}`,
      "--infer-repeats",
      "1",
    ]);
    assertEquals(sweep.code, 0, sweep.stderr);
    const [row] = (await readSweep(path.replace(/sensitivity_weight\.json$/, "sweep.csv"))).rows;
    assertEquals(row.allocation, `sensitivity:${path}`);
    // Per-layer counts round, so the total lands within a weight or two of 80%.
    assert(Math.abs(row.sparsity - 0.8) < 0.002, `${row.sparsity}`);
    const text = await Deno.readTextFile(path);
    const sha = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    const hex = [...new Uint8Array(sha)].map((b) => b.toString(16).padStart(2, "0")).join("");
    assertEquals(row.allocation_sha256, hex.slice(0, 16));

    // The same layer names and shape of file, but the sizes of a wider network: refused.
    const wider = JSON.parse(text);
    wider.layers[0].size = 784000;
    wider.layers[1].size = 1000000;
    await Deno.writeTextFile(`${tmp}/wider.json`, JSON.stringify(wider));
    const exportArgs = [...common, "--method", "weight", "--k", "50", "--infer-repeats", "1"];
    assertOneLineError(
      await runCli("sweep", [...exportArgs, "--allocation", `sensitivity:${tmp}/wider.json`]),
      2,
      `sweep: error: ${tmp}/wider.json was scanned on another network: its layers.0.weight has 784000 weights, this model's ${
        file.layers[0].size
      }; run deno task sensitivity on this experiment`,
    );

    // Two files whose paths sanitise alike, one rescanned: two export folders, each meta.json
    // naming its allocation and the file's sha256.
    await Deno.mkdir(`${tmp}/sc`);
    const rescanned = JSON.parse(text);
    rescanned.layers[0].points[1].accuracy -= 0.01;
    await Deno.writeTextFile(`${tmp}/sc/a.json`, text);
    await Deno.writeTextFile(`${tmp}/sc_a.json`, JSON.stringify(rescanned));
    const folders: string[] = [];
    for (const file of [`${tmp}/sc/a.json`, `${tmp}/sc_a.json`]) {
      const exported = await runCli("export", [
        ...exportArgs,
        "--allocation",
        `sensitivity:${file}`,
      ]);
      assertEquals(exported.code, 0, exported.stderr);
      const folder = exported.stdout.match(/^export: (\S+)\/ /)![1];
      const meta = await readExportMeta(`${folder}/meta.json`);
      assertEquals(meta.allocation, `sensitivity:${file}`);
      const bytes = await Deno.readFile(file);
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
      assertEquals(
        meta.allocation_sha256,
        [...digest].map((b) => b.toString(16).padStart(2, "0")).join(""),
      );
      assert(folder.endsWith(`_sensitivity-${meta.allocation_sha256.slice(0, 12)}`), folder);
      folders.push(folder);
    }
    assert(folders[0] !== folders[1], `both exports went to ${folders[0]}`);
    assertOneLineError(
      await runCli("sensitivity", [...common, "--method", "unit"]),
      2,
      "sensitivity: error: --method unit does not score single weights; use weight, random, taylor or snip",
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
