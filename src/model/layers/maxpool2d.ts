/**
 * `maxpool2d`: max over square windows of each channel (no padding), NCHW; the backward pass
 * routes each gradient to its window's first maximum in row-major order, as PyTorch does.
 * Kernels: shaders/maxpool2d.wgsl, shaders/maxpool2d_backward.wgsl.
 *
 * @module
 */

import { convOutputSize } from "../../kernels/conv2d.ts";
import { createMaxPool2d, createMaxPool2dBackward, type PoolShape } from "../../kernels/pool.ts";
import { imageShape } from "./conv2d.ts";
import type { LayerKind, LayerSpec, MaxPool2dSpec } from "./layer.ts";

function pool(spec: LayerSpec): MaxPool2dSpec {
  if (spec.kind !== "maxpool2d") throw new Error(`maxpool2d: got a ${spec.kind} spec`);
  return spec;
}

function geometry(spec: MaxPool2dSpec, input: number[], rows: number): PoolShape {
  const [C, height, width] = imageShape("maxpool2d", input);
  return { planes: rows * C, height, width, kernel: spec.kernel, stride: spec.stride };
}

/** Flat input index of the first maximum of each output element (the CPU reference's routing). */
function argmaxes(spec: MaxPool2dSpec, input: number[], x: Float64Array, rows: number): number[] {
  const [C, H, W] = imageShape("maxpool2d", input);
  const OH = convOutputSize(H, spec.kernel, spec.stride, 0);
  const OW = convOutputSize(W, spec.kernel, spec.stride, 0);
  const at: number[] = [];
  for (let p = 0; p < rows * C; p++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let best = (p * H + oy * spec.stride) * W + ox * spec.stride;
        for (let ky = 0; ky < spec.kernel; ky++) {
          for (let kx = 0; kx < spec.kernel; kx++) {
            const i = (p * H + oy * spec.stride + ky) * W + ox * spec.stride + kx;
            if (x[i] > x[best]) best = i;
          }
        }
        at.push(best);
      }
    }
  }
  return at;
}

/** The max-pooling layer kind. */
export const maxPool2dLayer: LayerKind = {
  kind: "maxpool2d",
  inPlace: false,
  fusesRelu: false,
  fusable: false,
  toOnnx(spec, { input, output }) {
    const s = pool(spec);
    const attributes = {
      kernel_shape: { ints: [s.kernel, s.kernel] },
      strides: { ints: [s.stride, s.stride] },
    };
    return {
      nodes: [{ opType: "MaxPool", inputs: [input], outputs: [output], attributes }],
      initializers: [],
    };
  },
  // PyTorch's stride defaults to the window size.
  fields: { kernel: { type: "count" }, stride: { type: "count", defaultFrom: "kernel" } },
  // The maximum of a constant plane is that constant.
  channelwise: { constant: (_spec, c) => c },
  outputShape(spec, input) {
    const s = pool(spec);
    const [C, H, W] = imageShape("maxpool2d", input);
    const oh = convOutputSize(H, s.kernel, s.stride, 0);
    const ow = convOutputSize(W, s.kernel, s.stride, 0);
    if (oh < 1 || ow < 1) {
      throw new Error(`maxpool2d: a ${s.kernel}×${s.kernel} window does not fit ${H}×${W}`);
    }
    return [C, oh, ow];
  },
  params: () => [],
  init: () => [],
  forwardRef(spec, input, x, rows) {
    return Float64Array.from(argmaxes(pool(spec), input, x, rows), (i) => x[i]);
  },
  backwardRef(spec, input, x, _y, dy, rows) {
    const dx = new Float64Array(x.length);
    argmaxes(pool(spec), input, x, rows).forEach((i, o) => (dx[i] += dy[o]));
    return { dx, grads: [] };
  },
  async forwardOps(gpu, spec, ctx) {
    return [
      await createMaxPool2d(gpu, geometry(pool(spec), ctx.input, ctx.rows), { x: ctx.x, y: ctx.y }),
    ];
  },
  async backwardOps(gpu, spec, ctx) {
    if (!ctx.dx) return [];
    return [
      await createMaxPool2dBackward(gpu, geometry(pool(spec), ctx.input, ctx.rows), {
        x: ctx.x,
        dy: ctx.dy,
        dx: ctx.dx,
      }),
    ];
  },
};
