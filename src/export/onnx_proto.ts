/**
 * ONNX's protobuf messages (onnx.proto of ONNX 1.10, compiled by protobufjs in the `onnx-proto`
 * package), as one typed namespace for the ONNX writer and reader.
 *
 * @module
 */

import * as onnxProto from "onnx-proto";

/** The `onnx` namespace: `ModelProto`, `GraphProto`, `TensorProto`, … (a CommonJS module). */
export const onnx: typeof onnxProto.onnx =
  (onnxProto as unknown as { default: typeof onnxProto }).default.onnx;

/** The operator set the writer targets. */
export const ONNX_OPSET = 13;

/** TensorProto's FLOAT element type. */
export const ONNX_FLOAT = 1;

/** The message types (`OnnxProto.IGraphProto`, …). */
export type { onnx as OnnxProto } from "onnx-proto";
