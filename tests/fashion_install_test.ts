/**
 * `--dataset fashion` on a machine without Debian's dataset-fashion-mnist: as root with apt-get
 * the package is installed on the way (the command printed) and training runs; elsewhere the
 * error is one line naming the command. On a machine that already has the package, training on
 * it simply runs.
 */

import { assert, assertEquals } from "./_assert.ts";
import { assertOneLineError, runCli } from "./_cli.ts";
import { FASHION_DIR } from "../src/data/datasets.ts";

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

const installed = exists(FASHION_DIR);
const canApt = exists("/usr/bin/apt-get") && Deno.uid() === 0;

Deno.test(
  installed
    ? "--dataset fashion trains on the installed dataset-fashion-mnist"
    : canApt
    ? "--dataset fashion installs dataset-fashion-mnist with apt-get, then trains"
    : "--dataset fashion without dataset-fashion-mnist names the install command, exit 2",
  async () => {
    const tmp = await Deno.makeTempDir({ prefix: "wgprune-fashion-" });
    try {
      const args = [
        "--dataset",
        "fashion",
        "--hidden",
        "16",
        "--epochs",
        "1",
        "--limit-train",
        "600",
        "--num-valid",
        "100",
        "--output-dir",
        tmp,
      ];
      const result = await runCli("train", args);
      if (!installed && !canApt) {
        assertOneLineError(
          result,
          2,
          "train: error: --dataset fashion needs Debian's dataset-fashion-mnist: install it with `sudo apt-get install dataset-fashion-mnist`, or pass --data-dir DIR",
        );
        return;
      }
      assertEquals(result.code, 0, result.stderr);
      if (!installed) {
        assert(
          result.stderr.includes("setup: apt-get install -y -qq dataset-fashion-mnist"),
          result.stderr,
        );
      }
      assert(exists(FASHION_DIR), `${FASHION_DIR} missing after training`);
      assert(/test accuracy \d+\.\d+%/.test(result.stdout + result.stderr), result.stdout);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
);
