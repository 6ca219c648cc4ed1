import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { UsageError } from "../src/util/errors.ts";
import { parseImages, parseLabels, readImages } from "../src/data/idx.ts";
import { decodeSafetensors, encodeSafetensors } from "../src/model/safetensors.ts";
import { checkParams, initModel, mlpSpec } from "../src/model/network.ts";
import { gzipSync } from "node:zlib";

function idxImages(count: number, rows: number, cols: number): Uint8Array {
  const out = new Uint8Array(16 + count * rows * cols);
  const view = new DataView(out.buffer);
  view.setUint32(0, 2051);
  view.setUint32(4, count);
  view.setUint32(8, rows);
  view.setUint32(12, cols);
  for (let i = 16; i < out.length; i++) out[i] = i % 251;
  return out;
}

Deno.test("safetensors round trip is bit-exact and carries metadata", () => {
  const spec = mlpSpec(7, [5], 3, true);
  const p = initModel(spec, 1).params;
  p.get("layers.0.weight")!.data[3] = -0;
  p.get("layers.1.weight")!.data[2] = 1e-38;
  const bytes = encodeSafetensors(p, { dataset: "mnist", test_accuracy: "0.98" });
  const header = JSON.parse(
    new TextDecoder().decode(
      bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))),
    ),
  );
  assertEquals(header["layers.0.weight"].shape, [7, 5]);
  assertEquals(header["layers.0.weight"].dtype, "F32");
  const file = decodeSafetensors(bytes, "x.safetensors");
  assertEquals(file.metadata.dataset, "mnist");
  const q = checkParams(spec, file.tensors, "x.safetensors");
  assertEquals([...q.keys()], [...p.keys()]);
  for (const [name, t] of p) {
    const a = new Uint8Array(t.data.buffer);
    const b = new Uint8Array(q.get(name)!.data.buffer);
    assertEquals([...a], [...b], `${name} bytes`);
  }
});

Deno.test("checkpoint shapes that do not match the model are rejected with both shapes", () => {
  const p = initModel(mlpSpec(7, [5], 3, false), 1).params;
  const file = decodeSafetensors(encodeSafetensors(p, {}), "c.safetensors");
  try {
    checkParams(mlpSpec(7, [6], 3, false), file.tensors, "c.safetensors");
    throw new Error("no error");
  } catch (err) {
    assert(err instanceof UsageError, String(err));
    assertEquals(
      err.message,
      "c.safetensors: layers.0.weight has shape [7,5], expected [7,6] from the model flags",
    );
  }
});

Deno.test("IDX reader parses images and labels, raw and gzip", async () => {
  const raw = idxImages(3, 2, 2);
  const images = parseImages(raw, "a");
  assertEquals([images.count, images.rows, images.cols], [3, 2, 2]);
  assertEquals(images.pixels[0], 16);
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/img.gz`, gzipSync(raw));
  const fromGz = await readImages(`${dir}/img.gz`);
  assertEquals([...fromGz.pixels], [...images.pixels]);
  const labels = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 3, 9]);
  assertEquals([...parseLabels(labels, "l")], [3, 9]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("IDX reader rejects bad magic, truncation and bad labels with one-line errors", async () => {
  const raw = idxImages(3, 2, 2);
  const expect = (fn: () => unknown, text: string) => {
    try {
      fn();
      throw new Error("no error");
    } catch (err) {
      assert(err instanceof UsageError, String(err));
      assert(err.message.includes(text), `"${err.message}" lacks "${text}"`);
      assert(!err.message.includes("\n"), "one line");
    }
  };
  expect(
    () => parseImages(raw.subarray(0, raw.length - 1), "t.idx"),
    "t.idx: 27 bytes, expected 28 for 3 images of 2x2 (file truncated)",
  );
  const bad = raw.slice();
  bad[3] = 1;
  expect(() => parseImages(bad, "m.idx"), "m.idx: bad IDX magic 2049, expected 2051");
  expect(() => parseImages(raw.subarray(0, 10), "h.idx"), "h.idx: truncated IDX header");
  expect(
    () => parseLabels(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 1, 12]), "l.idx"),
    "l.idx: label 12 at 0 is not < 10",
  );
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/broken.gz`, gzipSync(raw).subarray(0, 20));
  await assertRejects(() => readImages(`${dir}/broken.gz`), UsageError, "broken.gz");
  await Deno.remove(dir, { recursive: true });
});
