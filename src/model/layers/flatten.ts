/**
 * `flatten`: [C, H, W] → [C·H·W], the same NCHW memory seen as one vector per sample (so a dense
 * layer after it reads PyTorch's `torch.flatten(x, 1)` order). No dispatches: activations and
 * gradients share their buffers across it.
 *
 * @module
 */

import { sizeOf } from "../tensor.ts";
import type { LayerKind } from "./layer.ts";

/** The flatten layer kind. */
export const flattenLayer: LayerKind = {
  kind: "flatten",
  inPlace: true,
  view: true,
  fusesRelu: false,
  fusable: false,
  // [N, C, H, W] → [N, C·H·W] in NCHW order, as torch.flatten(x, 1).
  toOnnx: (_spec, { input, output }) => ({
    nodes: [{
      opType: "Flatten",
      inputs: [input],
      outputs: [output],
      attributes: { axis: { i: 1 } },
    }],
    initializers: [],
  }),
  channelwise: { constant: (_spec, c) => c, span: (input) => sizeOf(input.slice(1)) },
  outputShape: (_spec, input) => [sizeOf(input)],
  params: () => [],
  init: () => [],
  forwardRef: (_spec, _input, x) => x,
  backwardRef: (_spec, _input, _x, _y, dy) => ({ dx: dy, grads: [] }),
  forwardOps: () => Promise.resolve([]),
  backwardOps: () => Promise.resolve([]),
};
