/**
 * The numpy-only reader of model.dcz (src/export/read_dcz.py) decodes every kind of tensor to
 * exactly the weights wgprune's decoder gives, and refuses a file whose CRC-32 does not match.
 * It needs python3 with numpy (CI installs Debian's); where the machine has none, the test is
 * reported as ignored.
 */

import { assertEquals } from "./_assert.ts";
import { decodeDeepCompressed, encodeDeepCompressed } from "../src/quant/dc_file.ts";
import { decodeShared, shareWeights } from "../src/quant/weight_sharing.ts";
import { dequantizedModel, quantizeModelWeights } from "../src/quant/ptq_model.ts";
import { mlpSpec, type Model, type ModelSpec } from "../src/model/network.ts";
import { prunedAtRandom } from "./_pruned.ts";
import { pythonHas } from "./_python.ts";

const CNN: ModelSpec = {
  input: [1, 8, 8],
  layers: [
    { kind: "conv2d", filters: 4, kernel: 3, stride: 1, padding: 1, bias: true },
    { kind: "relu" },
    { kind: "flatten" },
    { kind: "dense", units: 6, bias: true },
  ],
};

Deno.test({
  name: "read_dcz.py (python3 + numpy) decodes shared, int8, f16 and f32 tensors exactly",
  ignore: !pythonHas("numpy"),
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "wgprune-dcz-py-" });
    try {
      for (const spec of [mlpSpec(300, [120, 40], 10, true), CNN]) {
        const { model, masks } = prunedAtRandom(spec, 2, 0.07);
        const shared = shareWeights(model, masks, { conv: 4, dense: 5 });
        const int8 = quantizeModelWeights(model, "int8");
        const f16 = quantizeModelWeights(model, "f16");
        const cases: [string, Model, Parameters<typeof encodeDeepCompressed>[1]][] = [
          ["f32", model, {}],
          ["shared", decodeShared(model, shared), { shared }],
          ["int8", dequantizedModel(model, int8), { ptq: int8 }],
          ["f16", dequantizedModel(model, f16), { ptq: f16 }],
        ];
        for (const [label, source, values] of cases) {
          for (const coding of ["fixed", "huffman"] as const) {
            const path = `${tmp}/${label}-${coding}.dcz`;
            const bytes = encodeDeepCompressed(source, values, coding);
            await Deno.writeFile(path, bytes);
            const ours = decodeDeepCompressed(bytes, path).model;
            const out = new Deno.Command("python3", {
              args: [
                "-c",
                "import sys, json; sys.path.insert(0, 'src/export'); from read_dcz import read_dcz; " +
                "_, t = read_dcz(sys.argv[1]); " +
                "print(json.dumps({k: [float(x) for x in v.ravel()] for k, v in t.items()}))",
                path,
              ],
            }).outputSync();
            assertEquals(out.success, true, new TextDecoder().decode(out.stderr));
            const theirs = JSON.parse(new TextDecoder().decode(out.stdout));
            for (const [name, t] of ours.params) {
              assertEquals(theirs[name], [...t.data], `${label} ${coding} ${name}`);
            }
            // One changed byte in the payload: refused by the CRC-32, not decoded.
            const damaged = bytes.slice();
            damaged[damaged.length - 9] ^= 0x7f;
            await Deno.writeFile(path, damaged);
            const refused = new Deno.Command("python3", {
              args: ["src/export/read_dcz.py", path],
            }).outputSync();
            assertEquals(refused.success, false, `${label} ${coding}: damaged file accepted`);
            const message = new TextDecoder().decode(refused.stderr);
            assertEquals(message.includes("CRC-32 does not match"), true, message);
          }
        }
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
