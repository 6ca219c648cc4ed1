/**
 * JSON layer lists (`--model spec.json`): every layer kind with its declared fields and defaults,
 * one-line errors naming the first bad layer, and a sweep of such a network end to end.
 */

import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { assertOneLineError, runCli } from "./_cli.ts";
import { writeIdxDir } from "./_idx_data.ts";
import { parseModelSpec } from "../src/model/spec_file.ts";
import { LAYER_KINDS } from "../src/model/layers/registry.ts";
import { MODEL_NAMES, modelSpec } from "../src/model/zoo.ts";
import { readSweep } from "../src/sweep/results.ts";
import { UsageError } from "../src/util/errors.ts";

const LIST = {
  input: [1, 8, 8],
  layers: [
    { kind: "conv2d", filters: 4, kernel: 3, padding: 1 },
    { kind: "leaky_relu" },
    { kind: "maxpool2d", kernel: 2 },
    { kind: "flatten" },
    { kind: "dense", units: 12 },
    { kind: "relu" },
    { kind: "dense", units: 10, bias: false },
  ],
};

Deno.test("a JSON layer list takes every layer kind, absent fields at their defaults", () => {
  const spec = parseModelSpec(JSON.stringify(LIST), "spec.json");
  assertEquals(spec.layers, [
    { kind: "conv2d", filters: 4, kernel: 3, padding: 1, stride: 1, bias: true },
    { kind: "leaky_relu", slope: 0.01 },
    { kind: "maxpool2d", kernel: 2, stride: 2 },
    { kind: "flatten" },
    { kind: "dense", units: 12, bias: true },
    { kind: "relu" },
    { kind: "dense", units: 10, bias: false },
  ]);
  // Every registered kind appears, so a new kind is tested here once it is in the list.
  assertEquals(new Set(spec.layers.map((l) => l.kind)), new Set(LAYER_KINDS.keys()));
});

Deno.test("every built-in network is a layer list of the same form", () => {
  for (const name of MODEL_NAMES) {
    const spec = modelSpec(name, { features: 784, classes: 10, hidden: [30, 20], bias: true });
    assertEquals(parseModelSpec(JSON.stringify(spec), `${name}.json`), spec, name);
  }
});

Deno.test("a bad JSON layer list gets one line naming the first bad layer", () => {
  const bad = (layers: unknown[], input: unknown = [1, 8, 8]) => JSON.stringify({ input, layers });
  const cases: [string, string][] = [
    ["{", "spec.json: not valid JSON"],
    [bad([], [0]), 'spec.json: "input" must be the shape of one sample, e.g. [784] or [1, 28, 28]'],
    [bad([]), 'spec.json: "layers" must be a non-empty list of layers'],
    [
      bad([{ kind: "relu" }, { kind: "gelu" }]),
      'spec.json: layer 1: unknown kind "gelu"; kinds: ' + [...LAYER_KINDS.keys()].join(", "),
    ],
    [
      bad([{ kind: "conv2d", kernel: 3 }]),
      'spec.json: layer 0 (conv2d) needs "filters"',
    ],
    [
      bad([{ kind: "dense", units: 2.5 }]),
      "spec.json: layer 0 (dense) units must be an integer >= 1, got 2.5",
    ],
    [
      bad([{ kind: "relu", slope: 1 }]),
      'spec.json: layer 0 (relu): unknown field "slope"; its fields: none',
    ],
    [
      bad([{ kind: "flatten" }, { kind: "conv2d", filters: 2, kernel: 3 }]),
      "spec.json: layer 1: conv2d: needs [channels, height, width] inputs, got [64]",
    ],
    [
      bad([{ kind: "conv2d", filters: 2, kernel: 9 }]),
      "spec.json: layer 0: conv2d: a 9×9 kernel does not fit a 8×8 input",
    ],
  ];
  for (const [text, message] of cases) {
    const err = assertThrows(() => parseModelSpec(text, "spec.json"), UsageError);
    assertEquals(err.message, message);
  }
});

Deno.test("deno task sweep trains and prunes a JSON layer list", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "wgprune-spec-" });
  try {
    await writeIdxDir(`${tmp}/a`);
    await Deno.writeTextFile(`${tmp}/net.json`, JSON.stringify(LIST));
    const common = ["--model", `${tmp}/net.json`, "--data-dir", `${tmp}/a`, "--num-valid", "200"];
    const args = [...common, "--epochs", "1", "--batch-size", "32", "--output-dir", `${tmp}/o`];
    const swept = await runCli("sweep", [
      ...args,
      "--method",
      "unit",
      "--k",
      "50",
      "--infer-repeats",
      "1",
    ]);
    assertEquals(swept.code, 0, swept.stderr);
    const dir = swept.stderr.match(/wrote (\S+)\/\{sweep/)![1];
    assert(/_spec-net-[0-9a-f]{12}_e1_/.test(dir), dir);
    const [row] = (await readSweep(`${dir}/sweep.csv`)).rows;
    // Half the filters go; of the 6 dead dense units, 3 with a positive bias stay: the output
    // layer has no bias to fold their constant ReLU output into.
    assertEquals([row.method, row.k, row.compact_hidden], ["unit", 50, "2-9"]);
    await Deno.writeTextFile(`${tmp}/wide.json`, JSON.stringify({ ...LIST, input: [1, 9, 9] }));
    assertOneLineError(
      await runCli("train", [
        "--model",
        `${tmp}/wide.json`,
        ...common.slice(2),
        "--output-dir",
        `${tmp}/o`,
      ]),
      2,
      `train: error: ${tmp}/wide.json reads [1,9,9] (81 values) and gives 10 classes; the data has 64 values per sample and 10 classes`,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
