/**
 * SynFlow (Tanaka et al. 2020): one round's scores on the GPU against the closed form of an
 * MLP and finite differences of a CNN's CPU reference, and the property the method exists for:
 * at a sparsity where global magnitude pruning at initialisation cuts a layer off entirely, 100
 * rounds of SynFlow keep a path from input to output.
 */

import { prepareFromWeights } from "../src/prune/prepare.ts";
import { assert, assertEquals } from "./_assert.ts";
import { getGpu } from "../src/gpu/device.ts";
import {
  initModel,
  mlpSpec,
  type Model,
  type ModelSpec,
  referenceLogits,
} from "../src/model/network.ts";
import { prunableParams } from "../src/model/masks.ts";
import { getPruneMethod } from "../src/prune/registry.ts";
import { synflowMasks } from "../src/prune/synflow.ts";
import type { GradientScorer } from "../src/prune/method.ts";
import { synflowScores, SynflowSession } from "../src/train/gradient_scores.ts";
import { assertClose } from "./_close.ts";

/** The model with every parameter |θ|, masked. */
function positive(model: Model, masks: Map<string, Float32Array>): Model {
  return {
    spec: model.spec,
    params: new Map([...model.params].map(([n, t]) => [n, {
      shape: t.shape,
      data: t.data.map((v, i) => (masks.get(n)?.[i] === 0 ? 0 : Math.abs(v))),
    }])),
  };
}

/** R = Σ logits of `model` on one all-ones input, CPU reference in f64. */
function synflowR(model: Model): number {
  const features = model.spec.input.reduce((a, b) => a * b, 1);
  return referenceLogits(model, new Float32Array(features).fill(1), 1).reduce((a, b) => a + b, 0);
}

Deno.test("synflow scores: |θ ⊙ ∂R/∂θ| of an MLP's closed form and of a CNN's finite differences", async () => {
  const gpu = await getGpu({ quiet: true });
  // MLP 6-5-4-3 with biases: a_l = |W_l|ᵀ a_{l−1} + |b_l|, b_l = |W_{l+1}| b_{l+1}, ∂R/∂W_l = a_{l−1} b_lᵀ.
  const model = initModel(mlpSpec(6, [5, 4], 3, true), 9);
  model.params.forEach((t) => t.data.forEach((_, i) => (t.data[i] += 0.01 * (i % 3))));
  const prunable = prunableParams(model.spec, "layers.*.weight");
  const masks = new Map([[
    "layers.1.weight",
    Float32Array.from({ length: 20 }, (_, i) => (i % 4 ? 1 : 0)),
  ]]);
  const got = await synflowScores(gpu, model, prunable, masks);
  const abs = positive(model, masks);
  const w = [0, 1, 2].map((l) => abs.params.get(`layers.${l}.weight`)!.data);
  const b = [0, 1, 2].map((l) => abs.params.get(`layers.${l}.bias`)!.data);
  const dims = [6, 5, 4, 3];
  const a: Float64Array[] = [new Float64Array(6).fill(1)];
  for (let l = 0; l < 3; l++) {
    const out = Float64Array.from(b[l]);
    for (let i = 0; i < dims[l]; i++) {
      for (let j = 0; j < dims[l + 1]; j++) out[j] += w[l][i * dims[l + 1] + j] * a[l][i];
    }
    a.push(out);
  }
  const back: Float64Array[] = [];
  back[2] = new Float64Array(3).fill(1);
  for (let l = 1; l >= 0; l--) {
    back[l] = new Float64Array(dims[l + 1]);
    for (let j = 0; j < dims[l + 1]; j++) {
      for (let k = 0; k < dims[l + 2]; k++) {
        back[l][j] += w[l + 1][j * dims[l + 2] + k] * back[l + 1][k];
      }
    }
  }
  for (let l = 0; l < 3; l++) {
    const want = new Float64Array(w[l].length);
    for (let i = 0; i < dims[l]; i++) {
      for (let j = 0; j < dims[l + 1]; j++) {
        want[i * dims[l + 1] + j] = w[l][i * dims[l + 1] + j] * a[l][i] * back[l][j];
      }
    }
    assertClose(`MLP layer ${l}`, got.get(`layers.${l}.weight`)!, want, 1e-6, 1e-5);
  }

  // A CNN: central differences of R in f64 over the f32 steps actually taken (R is piecewise
  // linear in each weight; the step is small enough not to change a pooling window's maximum).
  const cnn: ModelSpec = {
    input: [1, 6, 6],
    layers: [
      { kind: "conv2d", filters: 2, kernel: 3, stride: 1, padding: 1, bias: true },
      { kind: "relu" },
      { kind: "maxpool2d", kernel: 2, stride: 2 },
      { kind: "flatten" },
      { kind: "dense", units: 3, bias: true },
    ],
  };
  const conv = initModel(cnn, 5);
  const names = prunableParams(cnn, "layers.*.weight");
  const scores = await synflowScores(gpu, conv, names, new Map());
  const plus = positive(conv, new Map());
  for (const name of names) {
    const t = plus.params.get(name)!.data;
    for (const i of [0, 3, t.length - 1]) {
      const keep = t[i];
      t[i] = keep + 1e-3;
      const [upAt, up] = [t[i], synflowR(plus)];
      t[i] = keep - 1e-3;
      const [downAt, down] = [t[i], synflowR(plus)];
      t[i] = keep;
      const want = keep * (up - down) / (upAt - downAt);
      assertClose(`${name}[${i}]`, [scores.get(name)![i]], [want], 1e-5, 1e-4);
    }
  }
});

Deno.test("synflow keeps a path where global magnitude at initialisation collapses a layer", async () => {
  const gpu = await getGpu({ quiet: true });
  // He init: the wide first layer's weights are small (std √(2/400)), the others' larger.
  const model = initModel(mlpSpec(400, [40, 40], 10, false), 1);
  const prunable = prunableParams(model.spec, "layers.*.weight");
  const k = 99;
  const kept = (masks: Map<string, Float32Array>) =>
    prunable.map((name) => masks.get(name)!.reduce((s, v) => s + v, 0));
  const magnitude = prepareFromWeights(getPruneMethod("global"), model, prunable, 0).masks(k).masks;
  assertEquals(kept(magnitude)[0], 0, "global magnitude leaves the first layer empty");
  assertEquals(synflowR(positive(model, magnitude)), 0, "so no path remains");
  const scorer: GradientScorer = {
    taylor: () => Promise.reject(new Error("not used")),
    synflow: (m, names, masks) => synflowScores(gpu, m, names, masks),
    init: () => Promise.resolve(model),
  };
  const masks = await synflowMasks(scorer, model, prunable, k);
  const counts = kept(masks);
  assertEquals(
    counts.reduce((a, b) => a + b, 0),
    Math.round(0.01 * (400 * 40 + 40 * 40 + 40 * 10)),
  );
  assert(counts.every((c) => c > 0), `every layer keeps weights: ${counts}`);
  assert(synflowR(positive(model, masks)) > 0, "a path from input to output remains");
  // One network reused by every round (as the sweep's scorer does) gives the same masks.
  const session = await SynflowSession.open(gpu, model, prunable);
  const reused = await synflowMasks(
    { ...scorer, synflow: (_m, _names, m) => session.scores(m), release: () => session.close() },
    model,
    prunable,
    k,
  );
  for (const name of prunable) assertEquals([...reused.get(name)!], [...masks.get(name)!], name);
});
