import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { getGpu } from "../src/gpu/device.ts";
import { getPipeline, ShaderError } from "../src/gpu/kernel.ts";

Deno.test("a WGSL compile error names the shader file and line", async () => {
  const gpu = await getGpu({ quiet: true });
  const file = new URL("./fixtures/broken.wgsl", import.meta.url).pathname;
  const err = await assertRejects(
    () =>
      getPipeline(gpu, {
        file,
        params: [],
        bindings: [{ name: "out", type: "array<f32>", access: "read_write" }],
      }, {}),
    ShaderError,
  );
  assert(err.message.startsWith(`${file}:4: `), err.message);
  assert(err.message.includes("u32"), err.message);
});

Deno.test("an error in an included fragment names the fragment's file and line", async () => {
  const gpu = await getGpu({ quiet: true });
  const file = new URL("./fixtures/uses_fragment.wgsl", import.meta.url).pathname;
  const fragment = new URL("./fixtures/broken_fragment.wgsl", import.meta.url).pathname;
  const err = await assertRejects(
    () =>
      getPipeline(gpu, {
        file,
        includes: [fragment],
        params: [],
        bindings: [{ name: "out", type: "array<f32>", access: "read_write" }],
      }, {}),
    ShaderError,
  );
  assert(err.message.startsWith(`${fragment}:3: `), err.message);
});

Deno.test("the adapter is a real WebGPU adapter and names itself", async () => {
  const gpu = await getGpu({ quiet: true });
  assert(gpu.adapter.length > 0, "adapter description");
  assert(
    gpu.device.limits.maxStorageBufferBindingSize >= 128 * 1024 * 1024,
    "raised storage binding limit",
  );
});

Deno.test("the device keeps WebGPU's default limits but for buffer sizes, and no optional features", async () => {
  const gpu = await getGpu({ quiet: true });
  const limits = gpu.device.limits;
  // WebGPU's defaults: every kernel fits them, so it runs on any device.
  assertEquals(limits.maxComputeInvocationsPerWorkgroup, 256);
  assertEquals(limits.maxComputeWorkgroupSizeX, 256);
  assertEquals(limits.maxComputeWorkgroupStorageSize, 16384);
  assertEquals(limits.maxStorageBuffersPerShaderStage, 8);
  // Dawn lists "core-features-and-limits" for every core device; nothing else is asked for.
  const optional = [...gpu.device.features].map(String).filter((f) =>
    f !== "core-features-and-limits"
  );
  assertEquals(optional, []);
});
