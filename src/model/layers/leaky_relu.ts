/**
 * `leaky_relu`: y = x for x > 0, else slope · x, elementwise and in place (the output overwrites
 * the input), as torch.nn.LeakyReLU(negative_slope = slope) (Maas et al. 2013, "Rectifier
 * Nonlinearities Improve Neural Network Acoustic Models"). Forward: one elementwise dispatch
 * (shaders/leaky_relu.wgsl); no layer fuses it. Backward: dx = dy where y > 0, else slope · dy
 * (shaders/leaky_relu_backward.wgsl), from the saved output y: for slope ≥ 0, y > 0 exactly where
 * x > 0, so the test on y is the test on x (at x = 0 the gradient is slope · dy, as PyTorch's).
 * The slope must be finite and ≥ 0.
 *
 * @module
 */

import { createLeakyRelu, createLeakyReluBackward } from "../../kernels/elementwise.ts";
import { UsageError } from "../../util/errors.ts";
import { sizeOf } from "../tensor.ts";
import type { LayerKind, LayerSpec, LeakyReluSpec } from "./layer.ts";

/** The spec as a leaky ReLU's, its slope checked. */
function leaky(spec: LayerSpec): LeakyReluSpec {
  if (spec.kind !== "leaky_relu") throw new Error(`leaky_relu: got a ${spec.kind} spec`);
  if (typeof spec.slope !== "number" || !Number.isFinite(spec.slope) || spec.slope < 0) {
    throw new UsageError(`leaky_relu: slope must be a finite number ≥ 0, got ${spec.slope}`);
  }
  return spec;
}

/** The leaky ReLU layer kind. */
export const leakyReluLayer: LayerKind = {
  kind: "leaky_relu",
  inPlace: true,
  fusesRelu: false,
  fusable: false,
  toOnnx: (spec, { input, output }) => ({
    nodes: [{
      opType: "LeakyRelu",
      inputs: [input],
      outputs: [output],
      attributes: { alpha: { f: leaky(spec).slope } },
    }],
    initializers: [],
  }),
  fields: { slope: { type: "number", default: 0.01 } },
  // The f32 product the shader computes for a constant input channel.
  channelwise: {
    constant: (spec, c) => (c > 0 ? c : Math.fround(Math.fround(leaky(spec).slope) * c)),
  },
  outputShape(spec, input) {
    leaky(spec);
    return [...input];
  },
  params: () => [],
  init: () => [],
  forwardRef(spec, _input, x) {
    const { slope } = leaky(spec);
    return x.map((v) => (v > 0 ? v : slope * v));
  },
  backwardRef(spec, _input, _x, y, dy) {
    const { slope } = leaky(spec);
    return { dx: dy.map((g, i) => (y[i] > 0 ? g : slope * g)), grads: [] };
  },
  async forwardOps(gpu, spec, ctx) {
    const { slope } = leaky(spec);
    return [await createLeakyRelu(gpu, ctx.rows * sizeOf(ctx.input), slope, { x: ctx.x })];
  },
  async backwardOps(gpu, spec, ctx) {
    const { slope } = leaky(spec);
    if (!ctx.dx) return [];
    const count = ctx.rows * sizeOf(ctx.input);
    return [
      await createLeakyReluBackward(gpu, count, slope, { dy: ctx.dy, act: ctx.y, dx: ctx.dx }),
    ];
  },
};
