/**
 * A point's identity has one owner (src/sweep/point_id.ts): its key, export folder and history
 * file all change with every field that changes the model, and agree on the settings they name.
 */

import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { type PointFields, PointId } from "../src/sweep/point_id.ts";

const BASE: PointFields = {
  model: "0123456789abcdef",
  method: "weight",
  strategy: "finetune",
  k: 90,
  finetune_epochs: 2,
  recovery_lr: 0.0001,
  steps: 0,
  prune_params: "default",
  rewind: "none",
};

Deno.test("PointId: defaults keep the short names; settings name folder and history alike", () => {
  const plain = new PointId(BASE);
  assertEquals(plain.folder("E"), "E/weight_k90_finetune");
  assertEquals(plain.historyFile("H"), "H/weight_finetune_none_ft2_lr0.0001_k90.csv");
  const shared = new PointId({
    ...BASE,
    method: "nm2:4",
    bits: "8,5",
    allocation: "sensitivity:a/b.json",
    allocation_sha256: "1f04f7f99312abcd",
    prune_params: "layers.*.weight",
  });
  const suffix = "_q8-5_sensitivity-1f04f7f99312_pplayers._.weight";
  assertEquals(shared.folder("E"), `E/nm2-4_k90_finetune${suffix}`);
  assertEquals(shared.historyFile("H"), `H/nm2:4_finetune_none_ft2_lr0.0001${suffix}_k90.csv`);
});

Deno.test("PointId: every identifying field changes the key; a scan without checksum is refused", () => {
  const variants: Partial<PointFields>[] = [
    { model: "fedcba9876543210" },
    { method: "unit" },
    { strategy: "oneshot" },
    { k: 95 },
    { finetune_epochs: 3 },
    { recovery_lr: 0.001 },
    { steps: 2 },
    { prune_params: "all" },
    { rewind: "init" },
    { allocation: "lamp" },
    { allocation: "sensitivity:x.json", allocation_sha256: "aa" },
    { allocation: "sensitivity:x.json", allocation_sha256: "bb" },
    { bits: "5" },
    { quantize_epochs: 1 },
    { quantize_lr: 0.01 },
  ];
  const keys = new Set(variants.map((v) => new PointId({ ...BASE, ...v }).key()));
  keys.add(new PointId(BASE).key());
  assertEquals(keys.size, variants.length + 1);
  const scan = new PointId({ ...BASE, allocation: "sensitivity:x.json" });
  assertThrows(() => scan.folder("E"), Error, "without its file's checksum");
  assert(new PointId({ ...BASE, allocation: "uniform" }).key() === new PointId(BASE).key());
});
