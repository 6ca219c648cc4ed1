/**
 * `conv2d`: a 2-D convolution over NCHW activations (LeCun et al. 1998), weight `[filters, C, k, k]`
 * (PyTorch's Conv2d layout) stored as `layers.{p}.weight`, bias `[filters]` as `layers.{p}.bias`.
 * Initialised by the `--init` scheme over the fan-in C·k·k (src/model/layers/init.ts; by default
 * He-normal when a ReLU follows, Glorot-uniform otherwise, biases 0). A following ReLU is fused into the forward
 * dispatch. Kernels: im2col + matmul (src/kernels/conv2d.ts).
 *
 * @module
 */

import {
  convOutputSize,
  type ConvShape,
  createConv2d,
  createConv2dBackward,
} from "../../kernels/conv2d.ts";
import { initBiases, initWeights } from "./init.ts";
import { filterUnits } from "./units.ts";
import type { Conv2dSpec, LayerKind, LayerSpec } from "./layer.ts";

function conv(spec: LayerSpec): Conv2dSpec {
  if (spec.kind !== "conv2d") throw new Error(`conv2d: got a ${spec.kind} spec`);
  return spec;
}

/** [C, H, W] of an input shape, or a clear error for anything else. */
export function imageShape(kind: string, input: number[]): [number, number, number] {
  if (input.length !== 3) {
    throw new Error(`${kind}: needs [channels, height, width] inputs, got [${input}]`);
  }
  return input as [number, number, number];
}

function geometry(spec: Conv2dSpec, input: number[], rows: number): ConvShape {
  const [channels, height, width] = imageShape("conv2d", input);
  return {
    rows,
    channels,
    height,
    width,
    outputs: spec.filters,
    kernel: [spec.kernel, spec.kernel],
    stride: spec.stride,
    padding: spec.padding,
  };
}

/**
 * Calls `tap(xIndex, yIndex, wIndex, o)` for every product of the
 * convolution that touches the input (padding taps are skipped): the one loop nest both CPU
 * references use.
 */
function forEachTap(
  spec: Conv2dSpec,
  input: number[],
  rows: number,
  tap: (xi: number, yi: number, wi: number, o: number) => void,
): void {
  const [C, H, W] = imageShape("conv2d", input);
  const { filters: O, kernel: K, stride: S, padding: P } = spec;
  const OH = convOutputSize(H, K, S, P);
  const OW = convOutputSize(W, K, S, P);
  for (let n = 0; n < rows; n++) {
    for (let o = 0; o < O; o++) {
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          const yi = ((n * O + o) * OH + oy) * OW + ox;
          for (let c = 0; c < C; c++) {
            for (let ky = 0; ky < K; ky++) {
              const iy = oy * S + ky - P;
              if (iy < 0 || iy >= H) continue;
              for (let kx = 0; kx < K; kx++) {
                const ix = ox * S + kx - P;
                if (ix < 0 || ix >= W) continue;
                tap(((n * C + c) * H + iy) * W + ix, yi, ((o * C + c) * K + ky) * K + kx, o);
              }
            }
          }
        }
      }
    }
  }
}

/** The conv2d layer kind. */
export const conv2dLayer: LayerKind = {
  kind: "conv2d",
  inPlace: false,
  fusesRelu: true,
  fusable: false,
  fields: {
    filters: { type: "count" },
    kernel: { type: "count" },
    stride: { type: "count", default: 1 },
    padding: { type: "natural", default: 0 },
    bias: { type: "boolean", default: true },
  },
  units: filterUnits,
  // The weight is ONNX's (and PyTorch's) [out, in, kh, kw] already.
  toOnnx(spec, { input, output, prefix, params }) {
    const s = conv(spec);
    const [w, b] = params;
    const initializers = [{ name: `${prefix}.weight`, dims: [...w.shape], data: w.data }];
    if (b) initializers.push({ name: `${prefix}.bias`, dims: [...b.shape], data: b.data });
    const attributes = {
      kernel_shape: { ints: [s.kernel, s.kernel] },
      strides: { ints: [s.stride, s.stride] },
      pads: { ints: [s.padding, s.padding, s.padding, s.padding] },
    };
    const inputs = [input, ...initializers.map((t) => t.name)];
    return { nodes: [{ opType: "Conv", inputs, outputs: [output], attributes }], initializers };
  },
  compressedForwards: ["ptq"],
  sharingGroup: "conv",
  outputShape(spec, input) {
    const s = conv(spec);
    const [, H, W] = imageShape("conv2d", input);
    const oh = convOutputSize(H, s.kernel, s.stride, s.padding);
    const ow = convOutputSize(W, s.kernel, s.stride, s.padding);
    if (oh < 1 || ow < 1) {
      throw new Error(`conv2d: a ${s.kernel}×${s.kernel} kernel does not fit a ${H}×${W} input`);
    }
    return [s.filters, oh, ow];
  },
  params(spec, input) {
    const s = conv(spec);
    const [C] = imageShape("conv2d", input);
    const decls = [{ suffix: "weight", shape: [s.filters, C, s.kernel, s.kernel] }];
    if (s.bias) decls.push({ suffix: "bias", shape: [s.filters] });
    return decls;
  },
  init(spec, input, rng, next, scheme = "he") {
    const s = conv(spec);
    const [C] = imageShape("conv2d", input);
    const fanIn = C * s.kernel * s.kernel;
    const fanOut = s.filters * s.kernel * s.kernel;
    const reluNext = next?.kind === "relu";
    const w = initWeights(rng, s.filters * fanIn, fanIn, fanOut, reluNext, scheme);
    return s.bias ? [w, initBiases(rng, s.filters, fanIn, scheme)] : [w];
  },
  forwardRef(spec, input, x, rows, params) {
    const s = conv(spec);
    const [w, b] = params;
    const out = conv2dLayer.outputShape(spec, input);
    const plane = out[1] * out[2];
    const y = new Float64Array(rows * s.filters * plane);
    if (b) { for (let i = 0; i < y.length; i++) y[i] = b[Math.floor(i / plane) % s.filters]; }
    forEachTap(s, input, rows, (xi, yi, wi) => (y[yi] += x[xi] * w[wi]));
    return y;
  },
  backwardRef(spec, input, x, _y, dy, rows, params) {
    const s = conv(spec);
    const [w, b] = params;
    const gw = new Float64Array(w.length);
    const gb = new Float64Array(s.filters);
    const dx = new Float64Array(x.length);
    forEachTap(s, input, rows, (xi, yi, wi) => {
      gw[wi] += dy[yi] * x[xi];
      dx[xi] += dy[yi] * w[wi];
    });
    const out = conv2dLayer.outputShape(spec, input);
    const plane = out[1] * out[2];
    for (let i = 0; i < dy.length; i++) gb[Math.floor(i / plane) % s.filters] += dy[i];
    return { dx, grads: b ? [gw, gb] : [gw] };
  },
  async forwardOps(gpu, spec, ctx) {
    const s = conv(spec);
    const op = await createConv2d(
      gpu,
      geometry(s, ctx.input, ctx.rows),
      {
        x: ctx.x,
        weight: ctx.params[0],
        bias: ctx.params[1],
        y: ctx.y,
      },
      ctx.relu,
      ctx.quantized,
    );
    // The backward pass reuses the columns instead of building them again.
    if (ctx.saved) Object.assign(ctx.saved, op.saved);
    return [op];
  },
  async backwardOps(gpu, spec, ctx) {
    const s = conv(spec);
    return [
      await createConv2dBackward(gpu, geometry(s, ctx.input, ctx.rows), {
        x: ctx.x,
        dy: ctx.dy,
        weight: ctx.params[0],
        dw: ctx.grads[0],
        db: ctx.grads[1],
        dx: ctx.dx,
        saved: ctx.saved?.col && ctx.saved.product
          ? { col: ctx.saved.col, product: ctx.saved.product }
          : undefined,
      }),
    ];
  },
};
