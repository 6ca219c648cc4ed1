/**
 * numpy data folders (`--data-dir` with x_train.npy, y_train.npy, x_test.npy, y_test.npy): the
 * .npy reader against files numpy wrote (python3-numpy, when present) and against hand-built
 * headers of versions 1–3, one-line errors for bad files, and a sweep on such a folder with its
 * classes taken from the labels.
 */

import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { runCli } from "./_cli.ts";
import { parseNpy } from "../src/data/npy.ts";
import { readSweep } from "../src/sweep/results.ts";
import { UsageError } from "../src/util/errors.ts";
import { createRng } from "../src/util/rng.ts";
import { pythonHas } from "./_python.ts";

/** A .npy file of `version` holding `values` of `descr` and `shape`, as numpy lays it out. */
function npy(descr: string, shape: number[], data: Uint8Array, version = 1): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(", ")}${
    shape.length === 1 ? "," : ""
  }), }`;
  const prefix = version === 1 ? 10 : 12;
  let header = dict;
  while ((prefix + header.length + 1) % 64 !== 0) header += " ";
  header += "\n";
  const out = new Uint8Array(prefix + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), prefix);
  out.set(data, prefix + header.length);
  return out;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

Deno.test(".npy files of versions 1 to 3 and every dtype read back their values", () => {
  const f = Float32Array.from([0, 0.5, 1, 0.25, 0.75, 0.125]);
  for (const version of [1, 2, 3]) {
    const a = parseNpy(npy("<f4", [2, 3], bytesOf(f), version), "x.npy");
    assertEquals([a.dtype, a.shape, [...a.values]], ["<f4", [2, 3], [...f]]);
  }
  const labels = BigInt64Array.from([3n, 0n, 7n]);
  assertEquals([...parseNpy(npy("<i8", [3], bytesOf(labels)), "y.npy").values], [3, 0, 7]);
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(12), "x.npy: not a .npy file (no \\x93NUMPY magic)"],
    [
      npy("<f8", [1], new Uint8Array(8)),
      "x.npy: dtype <f8 is not read; expected one of |u1, |i1, <u2, <i2, <i4, <i8, <f4",
    ],
    [
      npy("|u1", [2, 2], new Uint8Array(3)),
      "x.npy: holds 3 data bytes; shape (2,2) of |u1 needs 4",
    ],
    [
      npy("|u1", [2], new Uint8Array(2), 4),
      "x.npy: .npy format version 4 is not read; expected 1 to 3",
    ],
  ];
  for (const [bytes, message] of cases) {
    assertEquals(assertThrows(() => parseNpy(bytes, "x.npy"), UsageError).message, message);
  }
});

Deno.test("a numpy data folder is swept, its classes from the labels", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "wgprune-npy-" });
  try {
    const rng = createRng(5);
    // Three classes told apart by which third of a 12-value sample is bright.
    const make = (n: number) => {
      const y = Uint8Array.from({ length: n }, (_, i) => i % 3);
      const x = new Float32Array(n * 12);
      y.forEach((c, i) => {
        for (let j = 0; j < 12; j++) x[i * 12 + j] = Math.floor(j / 4) === c ? 0.8 : rng() * 0.2;
      });
      return { x, y };
    };
    const train = make(600);
    const test = make(150);
    const shape = (n: number) => [n, 3, 4];
    await Deno.writeFile(`${tmp}/x_train.npy`, npy("<f4", shape(600), bytesOf(train.x)));
    await Deno.writeFile(`${tmp}/y_train.npy`, npy("|u1", [600], train.y, 2));
    await Deno.writeFile(`${tmp}/x_test.npy`, npy("<f4", shape(150), bytesOf(test.x), 3));
    await Deno.writeFile(`${tmp}/y_test.npy`, npy("|u1", [150], test.y));
    const flags = ["--data-dir", tmp, "--num-valid", "100", "--hidden", "8", "--epochs", "4"];
    const swept = await runCli("sweep", [
      ...flags,
      "--batch-size",
      "20",
      "--learning-rate",
      "0.01",
      "--method",
      "weight",
      "--k",
      "50",
      "--infer-repeats",
      "1",
      "--output-dir",
      `${tmp}/o`,
    ]);
    assertEquals(swept.code, 0, swept.stderr);
    const dir = swept.stderr.match(/wrote (\S+)\/\{sweep/)![1];
    assert(/\/custom-[0-9a-f]{12}_h8_/.test(dir), dir);
    const [row] = (await readSweep(`${dir}/sweep.csv`)).rows;
    // 12 inputs → 8 → 3 logits: the output layer has 8·3 weights (unpruned).
    assertEquals(row.nonzeros_1, 24);
    assert(row.accuracy > 0.9, `the thirds are easy: ${row.accuracy}`);
    if (await pythonHas("numpy")) {
      // Files numpy itself wrote read the same.
      const py = new Deno.Command("python3", {
        args: [
          "-c",
          `import numpy as np; np.save("${tmp}/n.npy", np.arange(6, dtype=np.int32).reshape(2, 3))`,
        ],
      });
      assertEquals((await py.output()).code, 0);
      const a = parseNpy(await Deno.readFile(`${tmp}/n.npy`), "n.npy");
      assertEquals([a.shape, [...a.values]], [[2, 3], [0, 1, 2, 3, 4, 5]]);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
