import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { UsageError } from "../src/util/errors.ts";
import { parseImages, parseLabels, readImages } from "../src/data/idx.ts";
import { decodeSafetensors, encodeSafetensors } from "../src/model/safetensors.ts";
import { initMlp, paramsToTensors, tensorsToParams } from "../src/model/mlp.ts";
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
  const p = initMlp([7, 5, 3], true, 1);
  p.weights[0][3] = -0;
  p.weights[1][2] = 1e-38;
  const bytes = encodeSafetensors(paramsToTensors(p), { dataset: "mnist", test_accuracy: "0.98" });
  const header = JSON.parse(
    new TextDecoder().decode(
      bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))),
    ),
  );
  assertEquals(header["layers.0.weight"].shape, [7, 5]);
  assertEquals(header["layers.0.weight"].dtype, "F32");
  const file = decodeSafetensors(bytes, "x.safetensors");
  assertEquals(file.metadata.dataset, "mnist");
  const q = tensorsToParams(file.tensors, [7, 5, 3], true, "x.safetensors");
  for (let l = 0; l < 2; l++) {
    const a = new Uint8Array(p.weights[l].buffer);
    const b = new Uint8Array(q.weights[l].buffer);
    assertEquals([...a], [...b], `layer ${l} bytes`);
    assertEquals([...p.biases![l]], [...q.biases![l]]);
  }
});

Deno.test("checkpoint shapes that do not match --hidden are rejected with both shapes", () => {
  const p = initMlp([7, 5, 3], false, 1);
  const file = decodeSafetensors(encodeSafetensors(paramsToTensors(p), {}), "c.safetensors");
  try {
    tensorsToParams(file.tensors, [7, 6, 3], false, "c.safetensors");
    throw new Error("no error");
  } catch (err) {
    assert(err instanceof UsageError, String(err));
    assertEquals(
      err.message,
      "c.safetensors: layers.0.weight has shape [7,5], expected [7,6] from --hidden",
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
