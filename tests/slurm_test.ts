/**
 * The Slurm path on a real scheduler: as root on Debian, installs slurm-wlm and munge when
 * missing, starts a single-node cluster on localhost (src/cluster/slurm/local_cluster.sh),
 * submits src/cluster/README.md's three jobs with src/cluster/slurm/submit.sh — training, a 4-task array
 * sweep after it, the merge after that — waits for them, and checks that the merged sweep.csv
 * equals a single process's sweep of the same points (accuracy, loss and non-zeros identical).
 * Elsewhere (not root, or no apt-get) it is reported as ignored, with the reason in its name.
 */

import { assert, assertEquals } from "./_assert.ts";
import { assertSameSweep, runCli, smallMlpDir, smallMlpFlags } from "./_cli.ts";
import { writeIdxDir } from "./_idx_data.ts";
import { readSweep } from "../src/sweep/results.ts";

const CLUSTER = "src/cluster/slurm/local_cluster.sh";

/** Why the test cannot run here, or undefined when it can. */
function whyNot(): string | undefined {
  if (Deno.build.os !== "linux") return "not Linux";
  if (Deno.uid() !== 0) return "not root";
  try {
    Deno.statSync("/usr/bin/apt-get");
  } catch {
    return "no apt-get (not Debian)";
  }
  return undefined;
}

/** Runs a command; returns exit code and output. */
async function sh(
  cmd: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const o = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
  return { code: o.code, out: text };
}

const reason = whyNot();

Deno.test({
  name: `Slurm: train, 4-task array sweep and merge on a local cluster equal one process${
    reason ? ` (ignored: ${reason})` : ""
  }`,
  ignore: reason !== undefined,
  fn: async () => {
    const running = (await sh(["bash", CLUSTER, "status"])).code === 0;
    const tmp = await Deno.makeTempDir({ prefix: "wgprune-slurm-" });
    try {
      const start = await sh(["bash", CLUSTER, "start"]);
      assertEquals(start.code, 0, start.out);
      await writeIdxDir(`${tmp}/data`);
      const points = [
        "--method",
        "weight,unit,random",
        "--k",
        "50,70,90,95",
        "--infer-repeats",
        "1",
      ];
      const study = [...smallMlpFlags(tmp), ...points, "--output-dir", `${tmp}/slurm`];
      const submit = await sh(["bash", "src/cluster/slurm/submit.sh", "4", ...study], {
        DENO: Deno.execPath(),
        LOGS: `${tmp}/logs`,
        NO_COLOR: "1",
        WGPRUNE_KERNEL: "tiled",
      });
      assertEquals(submit.code, 0, submit.out);
      const ids = submit.out.match(/train (\d+) sweep (\d+) merge (\d+)/);
      assert(ids !== null, submit.out);
      const logs = async () => {
        const parts = [];
        for await (const f of Deno.readDir(`${tmp}/logs`)) {
          parts.push(`--- ${f.name}\n${await Deno.readTextFile(`${tmp}/logs/${f.name}`)}`);
        }
        return parts.join("\n");
      };
      // Seconds each job may take (about 20 s in all on 2 cores): a hung cluster fails the test
      // well inside CI's time.
      const jobs: [string, number][] = [[ids[1], 180], [ids[2], 240], [ids[3], 120]];
      for (const [id, limit] of jobs) {
        const waited = await sh(["bash", CLUSTER, "wait", id, String(limit)]);
        assertEquals(waited.code, 0, `job ${id}: ${waited.out}\n${await logs()}`);
      }
      const sweepLogs = [...Deno.readDirSync(`${tmp}/logs`)].filter((f) =>
        f.name.startsWith("sweep-")
      );
      assertEquals(sweepLogs.length, 4, "four array tasks ran");

      // One process, the same points, in another folder.
      const single = await runCli("sweep", [...smallMlpFlags(tmp), ...points]);
      assertEquals(single.code, 0, single.stderr);
      const singleDir = smallMlpDir(tmp, single.stderr);
      const dir = singleDir.replace(`${tmp}/out/`, `${tmp}/slurm/`);
      for (let i = 0; i < 4; i++) {
        const shard = await readSweep(`${dir}/sweep.shard-${i}-of-4.csv`);
        assertEquals(shard.rows.length, 3, `task ${i} computed 3 of the 12 points`);
      }
      assertSameSweep(
        (await readSweep(`${dir}/sweep.csv`)).rows,
        (await readSweep(`${singleDir}/sweep.csv`)).rows,
      );
      assert((await Deno.stat(`${dir}/report.html`)).size > 0, "the merge job wrote the report");
    } finally {
      if (!running) await sh(["bash", CLUSTER, "stop"]);
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
