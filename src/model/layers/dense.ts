/**
 * `dense`: y[rows, units] = x[rows, in] · W[in, units] (+ b[units]), with W stored `[in, out]`
 * row-major (column j holds the incoming weights of unit j) as `layers.{p}.weight` and b as
 * `layers.{p}.bias`. Initialised by the `--init` scheme (src/model/layers/init.ts; by default
 * He-normal when a ReLU follows, Glorot-uniform otherwise, biases 0). A following ReLU is fused
 * into the forward matmul's epilogue.
 *
 * @module
 */

import { createMatmul } from "../../kernels/matmul.ts";
import { createQuantizedMatmul } from "../../kernels/matmul_quantized.ts";
import { createNmMatmul } from "../../kernels/matmul_nm.ts";
import { createBiasGrad } from "../../kernels/batch.ts";
import { createSparseMatmulT } from "../../kernels/sparse_matmul.ts";
import { initBiases, initWeights } from "./init.ts";
import { sizeOf } from "../tensor.ts";
import { columnUnits } from "./units.ts";
import type { DenseSpec, LayerKind, LayerSpec } from "./layer.ts";

function dense(spec: LayerSpec): DenseSpec {
  if (spec.kind !== "dense") throw new Error(`dense: got a ${spec.kind} spec`);
  return spec;
}

/** The dense layer kind. */
export const denseLayer: LayerKind = {
  kind: "dense",
  inPlace: false,
  fusesRelu: true,
  fusable: false,
  fields: { units: { type: "count" }, bias: { type: "boolean", default: true } },
  units: columnUnits,
  // y = x · W (+ b): Gemm reads W [in, out] as its B as it is (transB = 0).
  toOnnx(spec, { input, output, prefix, params }) {
    const [w, b] = params;
    const weight = { name: `${prefix}.weight`, dims: [...w.shape], data: w.data };
    if (!dense(spec).bias) {
      return {
        nodes: [{ opType: "MatMul", inputs: [input, weight.name], outputs: [output] }],
        initializers: [weight],
      };
    }
    const bias = { name: `${prefix}.bias`, dims: [...b.shape], data: b.data };
    return {
      nodes: [{ opType: "Gemm", inputs: [input, weight.name, bias.name], outputs: [output] }],
      initializers: [weight, bias],
    };
  },
  compressedForwards: ["csr", "nm", "ptq"],
  sharingGroup: "dense",
  outputShape: (spec) => [dense(spec).units],
  params(spec, input) {
    const s = dense(spec);
    const decls = [{ suffix: "weight", shape: [sizeOf(input), s.units] }];
    if (s.bias) decls.push({ suffix: "bias", shape: [s.units] });
    return decls;
  },
  init(spec, input, rng, next, scheme = "he") {
    const s = dense(spec);
    const fanIn = sizeOf(input);
    const w = initWeights(rng, fanIn * s.units, fanIn, s.units, next?.kind === "relu", scheme);
    return s.bias ? [w, initBiases(rng, s.units, fanIn, scheme)] : [w];
  },
  forwardRef(spec, input, x, rows, params) {
    const s = dense(spec);
    const [n, m] = [sizeOf(input), s.units];
    const [w, b] = params;
    const y = new Float64Array(rows * m);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < m; j++) {
        let sum = b ? b[j] : 0;
        for (let i = 0; i < n; i++) sum += x[r * n + i] * w[i * m + j];
        y[r * m + j] = sum;
      }
    }
    return y;
  },
  backwardRef(spec, input, x, _y, dy, rows, params) {
    const s = dense(spec);
    const [n, m] = [sizeOf(input), s.units];
    const w = params[0];
    const gw = new Float64Array(n * m);
    const gb = new Float64Array(m);
    const dx = new Float64Array(rows * n);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < m; j++) {
        const g = dy[r * m + j];
        gb[j] += g;
        for (let i = 0; i < n; i++) {
          gw[i * m + j] += x[r * n + i] * g;
          dx[r * n + i] += g * w[i * m + j];
        }
      }
    }
    return { dx, grads: s.bias ? [gw, gb] : [gw] };
  },
  async forwardOps(gpu, spec, ctx) {
    const s = dense(spec);
    if (ctx.quantized) {
      // y[rows, units] = x[rows, in] · dequant(Q)[units, in]ᵀ (+ b), Q packed by output unit.
      const { format, q, scale } = ctx.quantized;
      return [
        await createQuantizedMatmul(gpu, {
          m: ctx.rows,
          n: s.units,
          k: sizeOf(ctx.input),
          format,
          relu: ctx.relu,
        }, { a: ctx.x, q, scale, bias: ctx.params[1], c: ctx.y }),
      ];
    }
    if (ctx.nm) {
      // y[rows, units] = x[rows, in] · W (+ b), W read as N values and offsets per group of M.
      const { pattern, values, offsets } = ctx.nm;
      return [
        await createNmMatmul(gpu, {
          rows: ctx.rows,
          inputs: sizeOf(ctx.input),
          outputs: s.units,
          pattern,
          relu: ctx.relu,
        }, { x: ctx.x, values, offsets, y: ctx.y, bias: ctx.params[1] }),
      ];
    }
    return [
      await createMatmul(gpu, { m: ctx.rows, n: s.units, k: sizeOf(ctx.input), relu: ctx.relu }, {
        a: ctx.x,
        b: ctx.params[0],
        c: ctx.y,
        bias: ctx.params[1],
      }),
    ];
  },
  async sparseForwardOps(gpu, spec, ctx) {
    const s = dense(spec);
    return [
      await createSparseMatmulT(gpu, {
        rows: ctx.rows,
        inputs: sizeOf(ctx.input),
        outputs: s.units,
        nnz: ctx.csr.nnz,
        relu: ctx.relu,
        outTransposed: ctx.outTransposed,
      }, {
        xt: ctx.xt,
        indptr: ctx.csr.indptr,
        indices: ctx.csr.indices,
        values: ctx.csr.values,
        y: ctx.y,
        bias: ctx.params[1],
      }),
    ];
  },
  async backwardOps(gpu, spec, ctx) {
    const s = dense(spec);
    const inputs = sizeOf(ctx.input);
    const ops = [
      // dW[in, units] = xᵀ · dy, with x stored [rows, in].
      await createMatmul(gpu, { m: inputs, n: s.units, k: ctx.rows, transA: true }, {
        a: ctx.x,
        b: ctx.dy,
        c: ctx.grads[0],
      }),
    ];
    if (s.bias) {
      ops.push(await createBiasGrad(gpu, ctx.rows, s.units, { dz: ctx.dy, db: ctx.grads[1] }));
    }
    if (ctx.dx) {
      // dx[rows, in] = dy · Wᵀ, with W stored [in, units].
      ops.push(
        await createMatmul(gpu, { m: ctx.rows, n: inputs, k: s.units, transB: true }, {
          a: ctx.dy,
          b: ctx.params[0],
          c: ctx.dx,
        }),
      );
    }
    return ops;
  },
};
