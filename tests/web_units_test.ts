/**
 * The pieces of the browser app and the public API that need no page: a drawn digit becomes an
 * MNIST-style image (20×20 box, aspect kept, centre of mass in the middle); `train`'s defaults
 * are `deno task train`'s; a training checkpoint opens as a dense model; `prune` reaches the
 * levels asked for.
 */

import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { SIDE, toMnist } from "../src/web/digit.ts";
import { openModel, prune, TRAIN_DEFAULTS } from "../src/mod.ts";
import { TRAIN_FLAGS } from "../src/cli/train_options.ts";
import { encodeSafetensors } from "../src/model/safetensors.ts";
import { initModel, mlpSpec } from "../src/model/network.ts";
import { CHECKPOINT_FORMAT } from "../src/export/formats.ts";
import { UsageError } from "../src/util/errors.ts";

/** Ink of a filled rectangle on a `w`×`h` canvas. */
function rectangle(w: number, h: number, x0: number, y0: number, rw: number, rh: number) {
  const ink = new Uint8Array(w * h);
  for (let y = y0; y < y0 + rh; y++) for (let x = x0; x < x0 + rw; x++) ink[y * w + x] = 255;
  return ink;
}

/** Bounding box and centre of mass of a 28×28 image. */
function shapeOf(image: Uint8Array) {
  let mass = 0, cx = 0, cy = 0, width = 0, height = 0;
  const xs: number[] = [], ys: number[] = [];
  image.forEach((v, i) => {
    if (v === 0) return;
    const x = i % SIDE, y = Math.floor(i / SIDE);
    xs.push(x);
    ys.push(y);
    mass += v;
    cx += v * x;
    cy += v * y;
  });
  width = Math.max(...xs) - Math.min(...xs) + 1;
  height = Math.max(...ys) - Math.min(...ys) + 1;
  return { width, height, cx: cx / mass, cy: cy / mass };
}

Deno.test("toMnist: nothing drawn is a blank image", () => {
  assertEquals(toMnist(new Uint8Array(280 * 280), 280, 280), new Uint8Array(784));
});

Deno.test("toMnist: the ink fits a 20-pixel box, keeps its aspect and is centred by mass", () => {
  for (
    const [x0, y0, rw, rh] of [[10, 10, 40, 200], [150, 30, 120, 60], [0, 0, 280, 280], [
      5,
      200,
      7,
      7,
    ]]
  ) {
    const s = shapeOf(toMnist(rectangle(280, 280, x0, y0, rw, rh), 280, 280));
    const long = Math.max(rw, rh);
    assertEquals(Math.max(s.width, s.height), 20, `rectangle ${rw}×${rh}`);
    assertEquals(
      Math.min(s.width, s.height),
      Math.max(1, Math.round((Math.min(rw, rh) * 20) / long)),
    );
    assert(
      Math.abs(s.cx - 13.5) <= 0.5 && Math.abs(s.cy - 13.5) <= 0.5,
      `centre (${s.cx}, ${s.cy})`,
    );
  }
});

Deno.test("train's defaults are deno task train's", () => {
  const flags = TRAIN_FLAGS as Record<string, { default?: unknown }>;
  assertEquals(TRAIN_DEFAULTS.model, flags.model.default);
  assertEquals(TRAIN_DEFAULTS.hidden.join(","), flags.hidden.default);
  assertEquals(TRAIN_DEFAULTS.bias, flags.bias.default);
  assertEquals(String(TRAIN_DEFAULTS.epochs), flags.epochs.default);
  assertEquals(String(TRAIN_DEFAULTS.batchSize), flags["batch-size"].default);
  assertEquals(String(TRAIN_DEFAULTS.learningRate), flags["learning-rate"].default);
  assertEquals(String(TRAIN_DEFAULTS.seed), flags.seed.default);
  assertEquals(TRAIN_DEFAULTS.keepBest, flags["keep-best"].default);
});

Deno.test("openModel: a training checkpoint opens as a dense model; other bytes are one-line errors", () => {
  const model = initModel(mlpSpec(12, [6], 10, false), 1);
  const bytes = encodeSafetensors(model.params, {
    format: CHECKPOINT_FORMAT,
    layers: JSON.stringify(model.spec),
  });
  const opened = openModel(bytes, "checkpoint.safetensors");
  assertEquals(opened.format, "checkpoint");
  assertEquals(opened.sparsity, 0);
  assertEquals(
    opened.model.params.get("layers.0.weight")!.data,
    model.params.get("layers.0.weight")!.data,
  );
  const err = assertThrows(() => openModel(new Uint8Array([1, 2, 3]), "x.onnx"), UsageError);
  assert(!err.message.includes("\n") && err.message.startsWith("x.onnx"), err.message);
});

Deno.test("prune: weight and unit reach each level over the prunable weights", () => {
  const model = initModel(mlpSpec(20, [16, 8], 10, false), 4);
  for (const method of ["weight", "unit"]) {
    for (const p of prune(model, method, [0, 50, 75])) {
      assertEquals(Math.round(p.sparsity * 100), p.k, `${method} k=${p.k}`);
    }
  }
});
