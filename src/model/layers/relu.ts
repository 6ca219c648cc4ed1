/**
 * `relu`: y = max(0, x) elementwise, in place (the output overwrites the input). After a layer
 * that fuses it (dense), the forward pass costs nothing; alone it is one elementwise dispatch
 * (shaders/relu.wgsl). Backward: dx = dy ⊙ [y > 0] (shaders/relu_backward.wgsl).
 *
 * @module
 */

import { createRelu, createReluBackward } from "../../kernels/elementwise.ts";
import { sizeOf } from "../tensor.ts";
import type { LayerKind } from "./layer.ts";

/** The ReLU layer kind. */
export const reluLayer: LayerKind = {
  kind: "relu",
  inPlace: true,
  fusesRelu: false,
  fusable: true,
  toOnnx: (_spec, { input, output }) => ({
    nodes: [{ opType: "Relu", inputs: [input], outputs: [output] }],
    initializers: [],
  }),
  channelwise: { constant: (_spec, c) => Math.max(0, c) },
  outputShape: (_spec, input) => [...input],
  params: () => [],
  init: () => [],
  forwardRef: (_spec, _input, x) => x.map((v) => Math.max(0, v)),
  backwardRef(_spec, _input, _x, y, dy) {
    return { dx: dy.map((g, i) => (y[i] > 0 ? g : 0)), grads: [] };
  },
  async forwardOps(gpu, _spec, ctx) {
    return [await createRelu(gpu, ctx.rows * sizeOf(ctx.input), { x: ctx.x })];
  },
  async backwardOps(gpu, _spec, ctx) {
    if (!ctx.dx) return [];
    const count = ctx.rows * sizeOf(ctx.input);
    return [await createReluBackward(gpu, count, { dy: ctx.dy, act: ctx.y, dx: ctx.dx })];
  },
};
