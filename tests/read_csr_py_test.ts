/**
 * The numpy + scipy reader of model_csr.safetensors (src/export/read_csr.py), run as
 * src/export/README.md shows it, gives the test accuracy that `deno task export` recorded, for an MLP and for a CNN
 * (its convolutions as CSR of [out, in·kh·kw]), and the predictions of the CPU reference network
 * for a model with a leaky ReLU. It needs python3 with numpy and scipy (CI installs Debian's);
 * elsewhere it is reported as ignored with that reason in its name.
 */

import { assert, assertEquals } from "./_assert.ts";
import { runCli } from "./_cli.ts";
import { writeIdxDir } from "./_idx_data.ts";
import { readExportMeta } from "../src/export/meta.ts";
import { pythonHas } from "./_python.ts";
import { writeExport } from "../src/export/formats.ts";
import { parseImages, parseLabels } from "../src/data/idx.ts";
import { applyMasks } from "../src/model/masks.ts";
import { initModel, type ModelSpec, referenceLogits } from "../src/model/network.ts";
import { createRng } from "../src/util/rng.ts";

const READY = pythonHas("numpy", "scipy");

Deno.test({
  name: READY
    ? "read_csr.py (numpy + scipy) reproduces export's accuracy for an MLP and a CNN"
    : "read_csr.py: ignored, python3 with numpy and scipy is not installed",
  ignore: !READY,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "wgprune-read-csr-" });
    try {
      await writeIdxDir(`${tmp}/data`);
      const data = ["--data-dir", `${tmp}/data`, "--output-dir", `${tmp}/out`];
      const quick = ["--epochs", "2", "--batch-size", "32", "--num-valid", "200"];
      const networks = [
        ["--hidden", "32,16", "--method", "weight", "--k", "80"],
        ["--model", "cnn-small", "--learning-rate", "0.005", "--method", "weight", "--k", "60"],
      ];
      for (const network of networks) {
        const exported = await runCli("export", [...network, ...quick, ...data]);
        assertEquals(exported.code, 0, exported.stderr);
        const folder = exported.stdout.match(/^export: (\S+)\/ /)![1];
        const meta = await readExportMeta(`${folder}/meta.json`);
        const out = await new Deno.Command("python3", {
          args: [
            "src/export/read_csr.py",
            `${folder}/model_csr.safetensors`,
            `${tmp}/data/t10k-images-idx3-ubyte`,
            `${tmp}/data/t10k-labels-idx1-ubyte`,
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stdout = new TextDecoder().decode(out.stdout).trim();
        assert(out.success, new TextDecoder().decode(out.stderr));
        assertEquals(stdout, `test accuracy ${(meta.accuracy * 100).toFixed(2)}%`, network[1]);
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

/** Test accuracy in percent, as read_csr.py prints it, of logits [rows, classes]. */
function accuracyText(logits: Float64Array, labels: Uint8Array, classes: number): string {
  let correct = 0;
  labels.forEach((label, r) => {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    if (row.indexOf(Math.max(...row)) === label) correct++;
  });
  return `test accuracy ${(100 * correct / labels.length).toFixed(2)}%`;
}

Deno.test({
  name: READY
    ? "read_csr.py applies a leaky_relu layer as the CPU reference network does"
    : "read_csr.py leaky_relu: ignored, python3 with numpy and scipy is not installed",
  ignore: !READY,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "wgprune-read-csr-leaky-" });
    try {
      await writeIdxDir(`${tmp}/data`, { test: 500 });
      const images = `${tmp}/data/t10k-images-idx3-ubyte`;
      const labelsPath = `${tmp}/data/t10k-labels-idx1-ubyte`;
      const { count, rows, cols, pixels } = parseImages(await Deno.readFile(images), images);
      const labels = parseLabels(await Deno.readFile(labelsPath), labelsPath);
      const x = Float32Array.from(pixels, (p) => p / 255);
      const spec = (slope: number): ModelSpec => ({
        input: [rows * cols],
        layers: [
          { kind: "dense", units: 12, bias: true },
          { kind: "leaky_relu", slope },
          { kind: "dense", units: 10, bias: true },
        ],
      });
      // Half of the first weight pruned, so that it is stored as CSR.
      const rng = createRng(8);
      const mask = Float32Array.from({ length: rows * cols * 12 }, () => (rng() < 0.5 ? 0 : 1));
      const masks = new Map([["layers.0.weight", mask]]);
      const model = applyMasks(initModel(spec(0.5), 2, "torch"), masks);
      const want = accuracyText(referenceLogits(model, x, count), labels, 10);
      // The check can tell a leaky ReLU from a ReLU: the same weights give other predictions.
      const asRelu = accuracyText(
        referenceLogits({ ...model, spec: spec(0) }, x, count),
        labels,
        10,
      );
      assert(asRelu !== want, `slope 0 and 0.5 both give ${want}`);
      await writeExport(`${tmp}/out`, model, masks, {
        method: "weight",
        k: 50,
        strategy: "none",
        allocation: "uniform",
        allocation_sha256: "",
        accuracy: 0,
        loss: 0,
        sparsity: 0.5,
        experiment: "leaky",
        dataset: "custom",
      });
      const out = await new Deno.Command("python3", {
        args: ["src/export/read_csr.py", `${tmp}/out/model_csr.safetensors`, images, labelsPath],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert(out.success, new TextDecoder().decode(out.stderr));
      assertEquals(new TextDecoder().decode(out.stdout).trim(), want);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
