/**
 * The scale-out examples stay runnable: the Kubernetes manifests parse, their study (the grid file
 * in the ConfigMap) is a valid grid, every Indexed Job's `--shards` equals its `completions` and
 * mounts the study and the results volume; the Slurm scripts pass `bash -n`; the Containerfile
 * installs the Deno that CI runs.
 */

import { assert, assertEquals } from "./_assert.ts";
import { parseAllDocuments } from "yaml";
import { runCli } from "./_cli.ts";

const K8S = "src/cluster/k8s";

/** The parts of a manifest the test reads. */
interface Manifest {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec: {
    completionMode?: string;
    completions?: number;
    template: {
      spec: { containers: { args: string[]; volumeMounts: { mountPath: string }[] }[] };
    };
  };
}

/** Every document of every manifest, by kind and name. */
async function manifests(): Promise<Map<string, Manifest>> {
  const out = new Map<string, Manifest>();
  for await (const entry of Deno.readDir(K8S)) {
    if (!entry.name.endsWith(".yaml")) continue;
    for (const doc of parseAllDocuments(await Deno.readTextFile(`${K8S}/${entry.name}`))) {
      assertEquals(doc.errors.length, 0, `${entry.name}: ${doc.errors.join("; ")}`);
      const value = doc.toJS() as Manifest;
      out.set(`${value.kind}/${value.metadata.name}`, value);
    }
  }
  return out;
}

Deno.test("Kubernetes examples: a valid study, Indexed Jobs whose --shards match completions", async () => {
  const docs = await manifests();
  const study = docs.get("ConfigMap/wgprune-study")?.data?.["study.json"];
  assert(typeof study === "string", "the study ConfigMap");
  const tmp = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(tmp, study);
    const plan = await runCli("grid", ["--grid", tmp, "--shards", "8"]);
    assertEquals(plan.code, 0, plan.stderr);
    assert(/^grid: 3 experiments, \d+ sweeps, \d+ points/.test(plan.stdout), plan.stdout);
  } finally {
    await Deno.remove(tmp);
  }
  assert(docs.has("PersistentVolumeClaim/wgprune-results"));
  for (const stage of ["train", "sweep", "merge"]) {
    const job = docs.get(`Job/wgprune-${stage}`);
    assert(job !== undefined, `Job/wgprune-${stage}`);
    const pod = job.spec.template.spec;
    const args = pod.containers[0].args;
    assertEquals(args.slice(0, 3), ["grid", "--stage", stage]);
    assertEquals(args.slice(-2), ["--grid", "/etc/wgprune/study.json"]);
    const mounts = pod.containers[0].volumeMounts.map((m) => m.mountPath);
    assertEquals(mounts.sort(), ["/etc/wgprune", "/opt/wgprune/results"]);
    if (stage === "merge") {
      assertEquals(job.spec.completionMode, undefined, "the merge runs once");
      continue;
    }
    assertEquals(job.spec.completionMode, "Indexed");
    assertEquals(args[args.indexOf("--shards") + 1], String(job.spec.completions), stage);
  }
});

Deno.test("Slurm scripts parse; the Containerfile installs CI's Deno", async () => {
  for await (const entry of Deno.readDir("src/cluster/slurm")) {
    const check = await new Deno.Command("bash", {
      args: ["-n", `src/cluster/slurm/${entry.name}`],
      stderr: "piped",
    }).output();
    assertEquals(check.code, 0, `${entry.name}: ${new TextDecoder().decode(check.stderr)}`);
  }
  const ci = (await Deno.readTextFile(".ci/run")).match(/deno@([\d.]+)/)?.[1];
  const container = (await Deno.readTextFile("src/cluster/Containerfile")).match(
    /deno@([\d.]+)/,
  )?.[1];
  assert(ci !== undefined);
  assertEquals(container, ci);
});
