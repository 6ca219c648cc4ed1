/**
 * The host seam (src/util/host.ts): the in-memory host a browser page installs behaves as the
 * file helpers expect (atomic writes, missing files as one-line errors, folders, locks in turn),
 * and a dataset loads through it exactly as from the file system.
 */

import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { host, useHost } from "../src/util/host.ts";
import { memoryHost } from "../src/util/memory_host.ts";
import { denoHost } from "../src/util/deno_host.ts";
import {
  exists,
  isFileSync,
  readFolder,
  readTextOrFail,
  withFileLock,
  writeFileAtomic,
} from "../src/util/files.ts";
import { UsageError } from "../src/util/errors.ts";
import { IDX_FILES, loadDataset, mnistDir } from "../src/data/datasets.ts";

/** Runs `body` with `h` installed, then puts Deno's host back. */
async function withHost(h: ReturnType<typeof memoryHost>, body: () => Promise<void>) {
  useHost(h);
  try {
    await body();
  } finally {
    useHost(denoHost()!);
  }
}

Deno.test("memory host: atomic writes, reads, folders and missing files", async () => {
  await withHost(memoryHost({ "a/b.txt": "one" }), async () => {
    assertEquals(host().name, "memory");
    await writeFileAtomic("a/c/d.txt", "two");
    assertEquals(await readTextOrFail("a/c/d.txt"), "two");
    assertEquals(await readTextOrFail("./a/b.txt"), "one");
    assert(isFileSync("a/b.txt") && !isFileSync("a/c"), "a file is a file, a folder is not");
    assertEquals(
      (await readFolder("a")).map((e) => [e.name, e.isFile, e.isDirectory]),
      [["b.txt", true, false], ["c", false, true]],
    );
    assert(!(await exists("a/none.txt")), "a missing file does not exist");
    const err = await assertRejects(() => readTextOrFail("a/none.txt"), UsageError);
    assertEquals(err.message, "a/none.txt: cannot read (No such file or directory (os error 2))");
    assertEquals((await readFolder("a")).length, 2, "no temp file is left behind");
  });
});

Deno.test("memory host: a lock is held by one body at a time, the waiter told once", async () => {
  await withHost(memoryHost(), async () => {
    const order: string[] = [];
    let waited = 0;
    const first = withFileLock("x.lock", async () => {
      order.push("first in");
      await new Promise((r) => setTimeout(r, 20));
      order.push("first out");
    });
    const second = withFileLock("x.lock", () => {
      order.push("second");
      return Promise.resolve();
    }, () => waited++);
    await Promise.all([first, second]);
    assertEquals(order, ["first in", "first out", "second"]);
    assertEquals(waited, 1);
  });
});

Deno.test("a dataset loads through the memory host as from disk (same pixels, same fingerprint)", async () => {
  const disk = await loadDataset({ dataset: "mnist", numValid: 100, seed: 3, limitTrain: 50 });
  const files = new Map<string, Uint8Array>();
  for (const name of IDX_FILES) {
    files.set(`mnist/${name}`, await Deno.readFile(`${mnistDir()}${name}`));
  }
  await withHost(memoryHost(files), async () => {
    const memory = await loadDataset({
      dataset: "mnist",
      dataDir: "mnist",
      numValid: 100,
      seed: 3,
      limitTrain: 50,
    });
    assertEquals(memory.fingerprint, disk.fingerprint);
    assertEquals(memory.train.pixels, disk.train.pixels);
    assertEquals(memory.valid.labels, disk.valid.labels);
    assertEquals(memory.test.count, disk.test.count);
  });
});
