/**
 * The GPU check stays ready to run: its scripts parse, it tests the same kernel files that the
 * browser suite bundles, and its flags fail in one line. (The check itself is run on a GPU machine
 * and dry-run on the CPU fallback, see src/cluster/gpu/README.md; it is too slow for the suite.)
 */

import { assertEquals } from "./_assert.ts";
import { assertOneLineError, runCli } from "./_cli.ts";
import { KERNEL_TEST_FILES } from "../src/cli/gpu_check.ts";

Deno.test("gpu check: pack.sh and run.sh parse", async () => {
  for (const script of ["src/cluster/gpu/pack.sh", "src/cluster/gpu/run.sh"]) {
    const out = await new Deno.Command("bash", { args: ["-n", script], stderr: "piped" }).output();
    assertEquals(out.code, 0, `${script}: ${new TextDecoder().decode(out.stderr)}`);
  }
});

Deno.test("gpu check: its kernel test files are those the browser suite bundles", async () => {
  const suite = await Deno.readTextFile("tests/browser/suite.ts");
  const bundled = [...suite.matchAll(/^import "\.\.\/(\w+_test\.ts)";$/gm)].map((m) =>
    `tests/${m[1]}`
  );
  assertEquals(bundled, [...KERNEL_TEST_FILES]);
});

Deno.test("gpu check: bad flags are one-line errors, exit 2", async () => {
  assertOneLineError(
    await runCli("gpu_check", ["--peak-gflops", "0"]),
    2,
    'gpu-check: error: --peak-gflops must be a number > 0, got "0"',
  );
  assertOneLineError(
    await runCli("gpu_check", ["--node-modules-dir", "x"]),
    2,
    'gpu-check: error: --node-modules-dir must be auto, manual or none, got "x"',
  );
  assertOneLineError(
    await runCli("bench", ["--vs-torch", "--torch-device", "tpu"]),
    2,
    'bench: error: --torch-device must be cpu or cuda, got "tpu"',
  );
});
