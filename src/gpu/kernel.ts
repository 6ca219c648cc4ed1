/**
 * Kernel plumbing shared by every shader: a kernel's bindings, uniform parameters and compile-time
 * constants are declared once in TypeScript; from that one declaration we generate the WGSL
 * binding lines (prepended to the hand-written shader body in `shaders/`) and bind groups, so the
 * two cannot drift (the pattern of praeclarum/webgpu-torch).
 *
 * @module
 */

import type { GpuContext } from "./device.ts";
import { readTextSync } from "../util/files.ts";

/**
 * How a shader sees one buffer binding: a storage buffer read-only or read-write, or a uniform
 * buffer (at most 64 KiB, `array<vec4f, N>`; the one path to memory that Mesa's llvmpipe turns
 * into vector gathers, see shaders/README.md).
 */
export type Access = "read" | "read_write" | "uniform";

/** One buffer binding: its WGSL name, element type and access. */
export interface BindingSpec {
  /** Variable name used in the WGSL body. */
  name: string;
  /** WGSL store type, e.g. `array<f32>` or `array<atomic<u32>>`. */
  type: string;
  /** Read-only or read-write. */
  access: Access;
}

/** A uniform parameter: a 32-bit scalar in the generated `Params` struct. */
export type ParamType = "u32" | "f32" | "i32";

/** A kernel family: one WGSL file with its declared interface. */
export interface KernelSpec {
  /** File name under `shaders/`, e.g. `matmul.wgsl` (an absolute path is used as is). */
  file: string;
  /**
   * Shared WGSL fragments under `shaders/` appended after the body (functions several kernels
   * use, e.g. `matmul_epilogue.wgsl`); WGSL has no includes of its own.
   */
  includes?: string[];
  /** Storage bindings, in binding order (binding 0 is always `params`). */
  bindings: BindingSpec[];
  /** Uniform parameters, packed in order into `params`. */
  params: [name: string, type: ParamType][];
  /**
   * Invocations per workgroup (1-D), emitted as `const WORKGROUP_SIZE: u32` for the shader's
   * `@workgroup_size(WORKGROUP_SIZE)` and used by the wrapper to size the grid: declared once.
   * (matmul instead sets its width per variant through its `WG` constant.)
   */
  workgroupSize?: number;
}

/** Compile-time constants baked into one pipeline variant (`const NAME = value;`). */
export type Constants = Record<string, number | boolean>;

/** A dispatch ready to encode: pipeline, bind group and grid, built once and replayed. */
export interface Op {
  /** Label for error messages and profiling. */
  label: string;
  /** Records the op's dispatches into an open compute pass. */
  encode(pass: GPUComputePassEncoder): void;
  /** Number of dispatches `encode` records (1 for a single kernel). */
  dispatches: number;
  /** Frees the op's own uniform buffer. */
  destroy(): void;
}

const SHADER_DIR = new URL("../../shaders/", import.meta.url);
const sourceCache = new Map<string, string>();
const pipelineCache = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/** Maximum workgroups per grid dimension guaranteed by WebGPU. */
export const MAX_GRID = 65535;

/** Shader compile or validation failure, reported with the WGSL file and line. */
export class ShaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ShaderError";
  }
}

/**
 * Supplies the text of shader files by name under `shaders/` (`matmul.wgsl`), for a runtime that
 * cannot read them itself: a browser page gets them from the server that served it. Files given
 * here are never read from disk.
 */
export function provideShaderSources(sources: Record<string, string>): void {
  for (const [file, text] of Object.entries(sources)) sourceCache.set(file, text);
}

/** A shader file's text: supplied (`provideShaderSources`), else read once from `shaders/`. */
function readShader(file: string): string {
  let src = sourceCache.get(file);
  if (src === undefined) {
    src = readTextSync(file.startsWith("/") ? file : new URL(file, SHADER_DIR));
    sourceCache.set(file, src);
  }
  return src;
}

/** Builds the generated WGSL header (constants, params struct, bindings) for a spec. */
export function wgslHeader(spec: KernelSpec, constants: Constants): string {
  const lines: string[] = [];
  if (spec.workgroupSize !== undefined) {
    lines.push(`const WORKGROUP_SIZE: u32 = ${spec.workgroupSize}u;`);
  }
  for (const [name, value] of Object.entries(constants)) {
    if (typeof value === "boolean") lines.push(`const ${name} = ${value};`);
    else if (Number.isInteger(value)) lines.push(`const ${name} = ${value}u;`);
    else lines.push(`const ${name} = ${value};`);
  }
  lines.push("struct Params {");
  for (const [name, type] of spec.params) lines.push(`  ${name}: ${type},`);
  if (spec.params.length === 0) lines.push("  unused: u32,");
  lines.push("}");
  lines.push("@group(0) @binding(0) var<uniform> params: Params;");
  spec.bindings.forEach((b, i) => {
    const space = b.access === "uniform" ? "uniform" : `storage, ${b.access}`;
    lines.push(`@group(0) @binding(${i + 1}) var<${space}> ${b.name}: ${b.type};`);
  });
  return lines.join("\n") + "\n";
}

/**
 * Compiles (or fetches from cache) the pipeline for a kernel variant. Compile and validation
 * errors are rethrown as `ShaderError` naming `shaders/<file>:<line>`.
 */
export async function getPipeline(
  gpu: GpuContext,
  spec: KernelSpec,
  constants: Constants,
): Promise<GPUComputePipeline> {
  const key = spec.file + JSON.stringify(constants);
  let cache = pipelineCache.get(gpu.device);
  if (!cache) pipelineCache.set(gpu.device, cache = new Map());
  const hit = cache.get(key);
  if (hit) return hit;

  const header = wgslHeader(spec, constants);
  // Generated header, the kernel's body, then its fragments: each part keeps its own line numbers.
  const parts: [file: string, text: string][] = [
    [spec.file, readShader(spec.file)],
    ...(spec.includes ?? []).map((f): [string, string] => [f, readShader(f)]),
  ];
  const code = header + parts.map(([, text]) => text.endsWith("\n") ? text : `${text}\n`).join("");
  const locate = locator(header, parts);
  const { device } = gpu;
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ label: spec.file, code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === "error");
  const scoped = await device.popErrorScope();
  if (errors.length > 0 || scoped) {
    const text = errors.length > 0
      ? errors.map((m) => `${locate(m.lineNum)}: ${firstLine(m.message)}`).join("; ")
      : relabel(scoped!.message, locate, spec.file);
    throw new ShaderError(text);
  }
  device.pushErrorScope("validation");
  const pipeline = device.createComputePipeline({
    label: spec.file,
    layout: device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout(gpu, spec)] }),
    compute: { module, entryPoint: "main" },
  });
  const err = await device.popErrorScope();
  if (err) {
    throw new ShaderError(
      `pipeline: ${relabel(err.message, locate, spec.file)}`,
    );
  }
  cache.set(key, pipeline);
  return pipeline;
}

const layoutCache = new WeakMap<GPUDevice, Map<string, GPUBindGroupLayout>>();

/** The explicit bind-group layout of a spec: uniform params, then each storage binding. */
function bindGroupLayout(gpu: GpuContext, spec: KernelSpec): GPUBindGroupLayout {
  let cache = layoutCache.get(gpu.device);
  if (!cache) layoutCache.set(gpu.device, cache = new Map());
  const hit = cache.get(spec.file);
  if (hit) return hit;
  const entries: GPUBindGroupLayoutEntry[] = [
    { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: "uniform" } },
  ];
  spec.bindings.forEach((b, i) => {
    entries.push({
      binding: i + 1,
      visibility: GPUShaderStage.COMPUTE,
      buffer: {
        type: b.access === "uniform"
          ? "uniform"
          : b.access === "read"
          ? "read-only-storage"
          : "storage",
      },
    });
  });
  const layout = gpu.device.createBindGroupLayout({ label: spec.file, entries });
  cache.set(spec.file, layout);
  return layout;
}

/** How error messages name a shader: `shaders/<file>`, or the absolute path given. */
function shaderPath(file: string): string {
  return file.startsWith("/") ? file : `shaders/${file}`;
}

function firstLine(message: string): string {
  return message.split("\n").map((s) => s.trim()).filter((s) => s.length > 0)[0] ?? message;
}

/**
 * Maps a line of the assembled shader back to `shaders/<file>:<line>` (or the generated header).
 */
function locator(header: string, parts: [file: string, text: string][]): (line: number) => string {
  const lineCount = (text: string) => text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  const headerLines = lineCount(header);
  return (line) => {
    if (line <= headerLines) return `${shaderPath(parts[0][0])} (generated header line ${line})`;
    let first = headerLines;
    for (const [file, text] of parts) {
      const lines = lineCount(text);
      if (line <= first + lines) return `${shaderPath(file)}:${line - first}`;
      first += lines;
    }
    return shaderPath(parts[0][0]);
  };
}

/**
 * One line for a wgpu validation message: its first line, prefixed with the shader location it
 * names (`wgsl:<line>:<col>`, mapped back to its file) or with the file alone.
 */
function relabel(message: string, locate: (line: number) => string, file: string): string {
  const at = message.match(/wgsl:(\d+):(\d+)/);
  const where = at ? `${locate(Number(at[1]))}:${at[2]}` : shaderPath(file);
  return `${where}: ${firstLine(message)}`;
}

/**
 * One op from several run in order, e.g. im2col → matrix product → transpose; `scratch` buffers
 * the ops share are owned by it and freed with it.
 */
export function composeOps(label: string, ops: Op[], scratch: GPUBuffer[] = []): Op {
  return {
    label,
    dispatches: ops.reduce((sum, op) => sum + op.dispatches, 0),
    encode(pass) {
      for (const op of ops) op.encode(pass);
    },
    destroy() {
      for (const op of ops) op.destroy();
      for (const buffer of scratch) buffer.destroy();
    },
  };
}

/** Splits a 1-D workgroup count into a grid that respects the per-dimension limit. */
export function grid1d(workgroups: number): [number, number, number] {
  if (workgroups <= MAX_GRID) return [Math.max(1, workgroups), 1, 1];
  const y = Math.ceil(workgroups / MAX_GRID);
  return [Math.ceil(workgroups / y), y, 1];
}

/**
 * Creates an op: a pipeline bound to concrete buffers and parameters with a fixed grid.
 * The bind group and uniform buffer are built once; encoding is then allocation-free.
 */
export async function createOp(
  gpu: GpuContext,
  spec: KernelSpec,
  constants: Constants,
  buffers: Record<string, GPUBuffer | GPUBufferBinding>,
  params: Record<string, number>,
  grid: [number, number, number],
): Promise<Op> {
  if (grid.some((g) => !Number.isInteger(g) || g < 0 || g > MAX_GRID)) {
    // WebGPU drops such a dispatch with an asynchronous validation error and leaves the output
    // unwritten: refuse it here, loudly.
    throw new Error(`${spec.file}: grid [${grid}] exceeds ${MAX_GRID} workgroups along an axis`);
  }
  const pipeline = await getPipeline(gpu, spec, constants);
  const { device } = gpu;
  const paramBytes = Math.max(16, Math.ceil((spec.params.length * 4) / 16) * 16);
  const uniform = device.createBuffer({
    label: `${spec.file}.params`,
    size: paramBytes,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const scratch = new ArrayBuffer(paramBytes);
  const u32 = new Uint32Array(scratch);
  const f32 = new Float32Array(scratch);
  const i32 = new Int32Array(scratch);
  const current: Record<string, number> = { ...params };
  const write = () => {
    spec.params.forEach(([name, type], i) => {
      const v = current[name];
      if (v === undefined) throw new Error(`${spec.file}: missing parameter ${name}`);
      if (type === "f32") f32[i] = v;
      else if (type === "i32") i32[i] = v;
      else u32[i] = v;
    });
    device.queue.writeBuffer(uniform, 0, scratch);
  };
  write();
  const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: uniform } }];
  spec.bindings.forEach((b, i) => {
    const buffer = buffers[b.name];
    if (!buffer) throw new Error(`${spec.file}: no buffer bound for ${b.name}`);
    entries.push({ binding: i + 1, resource: "buffer" in buffer ? buffer : { buffer } });
  });
  const bindGroup = device.createBindGroup({
    label: spec.file,
    layout: bindGroupLayout(gpu, spec),
    entries,
  });
  return {
    label: spec.file,
    dispatches: 1,
    encode(pass) {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    },
    destroy() {
      uniform.destroy();
    },
  };
}

/**
 * Encodes `ops` (`repeat` times over, in order) into one compute pass and submits it: the one
 * place work is encoded and submitted, so many steps share one ~10 ms submit.
 */
export function submitOps(gpu: GpuContext, ops: Iterable<Op>, repeat = 1): void {
  const list = [...ops];
  const encoder = gpu.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (let r = 0; r < repeat; r++) for (const op of list) op.encode(pass);
  pass.end();
  gpu.device.queue.submit([encoder.finish()]);
}
