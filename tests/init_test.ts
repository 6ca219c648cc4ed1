import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { initModel, mlpSpec, type ModelSpec } from "../src/model/network.ts";
import { parseInitScheme } from "../src/model/layers/init.ts";
import { deriveExperimentId, modelIdentity } from "../src/experiment/config.ts";
import { parseFlags } from "../src/cli/flags.ts";
import { toTrainConfig, TRAIN_FLAGS } from "../src/cli/train_options.ts";
import { UsageError } from "../src/util/errors.ts";
import { assertOneLineError, runCli } from "./_cli.ts";

const CNN: ModelSpec = {
  input: [2, 6, 6],
  layers: [
    { kind: "conv2d", filters: 4, kernel: 3, stride: 1, padding: 1, bias: true },
    { kind: "relu" },
    { kind: "flatten" },
    { kind: "dense", units: 5, bias: true },
  ],
};

Deno.test("--init: He-normal by default, Glorot-uniform and PyTorch's uniform within their bounds", () => {
  const spec = mlpSpec(400, [300], 10, true);
  const he = initModel(spec, 1);
  assertEquals([...initModel(spec, 1, "he").params.get("layers.0.weight")!.data], [
    ...he.params.get("layers.0.weight")!.data,
  ]);
  const within = (a: Float32Array, limit: number) => a.every((v) => Math.abs(v) <= limit);
  const glorot = initModel(spec, 1, "glorot");
  assert(within(glorot.params.get("layers.0.weight")!.data, Math.sqrt(6 / 700)), "glorot bound");
  assert(glorot.params.get("layers.0.bias")!.data.every((v) => v === 0), "glorot biases 0");
  const torch = initModel(spec, 1, "torch");
  assert(within(torch.params.get("layers.0.weight")!.data, 1 / 20), "torch bound 1/√400");
  const b = torch.params.get("layers.0.bias")!.data;
  assert(within(b, 1 / 20) && b.some((v) => v !== 0), "torch biases U(±1/√fan_in)");
  // He-normal's spread: std √(2/400) ≈ 0.0707, some weights beyond PyTorch's 0.05 bound.
  assert(!within(he.params.get("layers.0.weight")!.data, 1 / 20), "he is wider than torch");
  // Convolutions: fan-in C·k·k = 18.
  const conv = initModel(CNN, 2, "torch").params.get("layers.0.weight")!.data;
  assert(within(conv, 1 / Math.sqrt(18)) && conv.some((v) => Math.abs(v) > 0.2), "conv fan-in");
  assertThrows(
    () => parseInitScheme("xavier"),
    UsageError,
    "--init must be one of he, glorot, torch",
  );
});

Deno.test("--init: torch for the MLP and he for the paper networks by default; ids name all but he", () => {
  const config = (args: string[]) => {
    const c = toTrainConfig(parseFlags(args, TRAIN_FLAGS));
    c.experimentId = deriveExperimentId(c);
    return c;
  };
  // He-normal, every experiment's scheme before --init existed, keeps their ids and identities.
  const he = config(["--init", "he"]);
  assertEquals(he.experimentId, "mnist_h1000-1000-500-200_e10_lr0.001_l1_0_l2_0_b128_nobias_s0");
  assert(!modelIdentity(he).includes("init"), modelIdentity(he));
  const mlp = config([]);
  assertEquals(mlp.init, "torch");
  assertEquals(mlp.experimentId, `${he.experimentId}_init-torch`);
  assert(modelIdentity(mlp).includes('"init":"torch"'), modelIdentity(mlp));
  assertEquals(config(["--init", "torch"]).experimentId, mlp.experimentId);
  const lenet = config(["--model", "lenet5-caffe"]);
  assertEquals(lenet.init, "he");
  assertEquals(lenet.experimentId, "mnist_lenet5-caffe_e10_lr0.001_l1_0_l2_0_b128_s0");
});

Deno.test("train --init bogus: one line, exit 2", async () => {
  assertOneLineError(
    await runCli("train", ["--init", "bogus"]),
    2,
    'train: error: --init must be one of he, glorot, torch, got "bogus"',
  );
});
