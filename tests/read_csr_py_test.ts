/**
 * The numpy + scipy reader of model_csr.safetensors (src/export/read_csr.py), run as the README
 * shows it, gives the test accuracy that `deno task export` recorded, for an MLP and for a CNN
 * (its convolutions as CSR of [out, in·kh·kw]). It needs python3 with numpy and scipy (CI installs
 * Debian's); elsewhere it is reported as ignored with that reason in its name.
 */

import { assert, assertEquals } from "./_assert.ts";
import { runCli } from "./_cli.ts";
import { writeIdxDir } from "./_idx_data.ts";
import { readExportMeta } from "../src/export/meta.ts";
import { pythonHas } from "./_python.ts";

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
