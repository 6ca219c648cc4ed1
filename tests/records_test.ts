import { assert, assertEquals } from "./_assert.ts";
import { UsageError } from "../src/util/errors.ts";
import {
  formatSweepCsv,
  NO_COMPRESSION_FIGURES,
  parseSweepCsv,
  type SweepRow,
} from "../src/sweep/results.ts";
import { formatHistoryCsv, parseHistoryCsv } from "../src/train/history.ts";
import { parseMetricsJson } from "../src/experiment/metrics.ts";

function row(k: number, accuracy: number): SweepRow {
  return {
    model: "0123456789abcdef",
    method: "weight",
    strategy: "oneshot",
    k,
    sparsity: k / 100,
    sparsity_total: k / 100,
    accuracy,
    loss: 0.5,
    nonzeros: 100,
    infer_ms: 1.5,
    compact_hidden: "16",
    infer_compact_ms: 1.5,
    infer_sparse_ms: 1.5,
    speedup: 1,
    infer_path: "dd",
    gzip_bytes: 1000,
    compression: 1,
    finetune_epochs: 0,
    recovery_lr: 0,
    steps: 0,
    prune_params: "default",
    rewind: "none",
    detail: "",
    ...NO_COMPRESSION_FIGURES,
    nonzeros_0: 50,
  };
}

function throwsUsage(fn: () => unknown, includes: string): void {
  try {
    fn();
  } catch (err) {
    assert(err instanceof UsageError, `expected UsageError, got ${err}`);
    assert(err.message.includes(includes), err.message);
    assert(!err.message.includes("\n"), "one line");
    return;
  }
  throw new Error("expected a UsageError");
}

const CSV = formatSweepCsv([row(0, 0.9), row(50, 0.8), row(90, 0.5)]);

Deno.test("sweep.csv round trip keeps every value", () => {
  const { rows, cutTail } = parseSweepCsv(CSV, "s.csv");
  assertEquals(cutTail, false);
  assertEquals(rows, [row(0, 0.9), row(50, 0.8), row(90, 0.5)]);
});

Deno.test("sweep.csv: a last row cut off (no line break) is dropped, earlier rows kept", () => {
  for (
    const damaged of [
      CSV.slice(0, -3), // cut inside the last field
      CSV.replace(/\n[^\n]*\n$/, "\nweight,oneshot,90"), // cut after a few fields
    ]
  ) {
    const { rows, cutTail } = parseSweepCsv(damaged, "s.csv");
    assertEquals(cutTail, true);
    assertEquals(rows.map((r) => r.k), [0, 50]);
  }
  assertEquals(parseSweepCsv("model,meth", "s.csv"), { rows: [], cutTail: true });
});

Deno.test("sweep.csv: a complete but malformed last row is a one-line error, not dropped", () => {
  throwsUsage(
    () => parseSweepCsv(CSV.replace(/\n[^\n]*\n$/, "\nweight,oneshot,90\n"), "s.csv"),
    "s.csv: line 4 has 3 fields",
  );
  const lines = CSV.split("\n");
  lines[3] = lines[3].replace(",0.5,", ",x,");
  throwsUsage(
    () => parseSweepCsv(lines.join("\n"), "s.csv"),
    's.csv: line 4, column accuracy: "x" is not a number',
  );
});

Deno.test("sweep.csv: damage before the last row or in the header is a one-line error", () => {
  const lines = CSV.split("\n");
  lines[1] = lines[1].replace(",0.9,", ",high,");
  throwsUsage(
    () => parseSweepCsv(lines.join("\n"), "s.csv"),
    's.csv: line 2, column accuracy: "high"',
  );
  throwsUsage(
    () => parseSweepCsv(CSV.replace("accuracy", "acc"), "s.csv"),
    's.csv: header lacks the column "accuracy"',
  );
});

Deno.test("sweep.csv: a repeated point keeps one row when its copies agree, else is refused", () => {
  const agreeing = formatSweepCsv([row(50, 0.8), row(0, 0.9), row(50, 0.8)]);
  assertEquals(parseSweepCsv(agreeing, "s.csv").rows.map((r) => [r.k, r.accuracy]), [[0, 0.9], [
    50,
    0.8,
  ]]);
  throwsUsage(
    () => parseSweepCsv(formatSweepCsv([row(50, 0.1), row(0, 0.9), row(50, 0.8)]), "s.csv"),
    "s.csv: lines 2 and 4 hold point weight k=50 oneshot with accuracy 0.1 and 0.8",
  );
});

const HISTORY = formatHistoryCsv([1, 2].map((epoch) => ({
  epoch,
  train_loss: 0.5,
  train_accuracy: 0.8,
  valid_loss: 0.4,
  valid_accuracy: 0.85,
  seconds: 1.5,
})));

Deno.test("history.csv parses whole and refuses cut or reordered files in one line", () => {
  assertEquals(parseHistoryCsv(HISTORY, "h.csv", "do X").map((r) => r.epoch), [1, 2]);
  throwsUsage(() => parseHistoryCsv(HISTORY.slice(0, -2), "h.csv", "do X"), "cut off");
  throwsUsage(
    () => parseHistoryCsv(HISTORY.replace("\n2,", "\n3,"), "h.csv", "do X"),
    `line 3 is epoch "3", expected 2; do X`,
  );
});

Deno.test("metrics.json is checked field by field", () => {
  const good = {
    test_accuracy: 0.9,
    test_loss: 0.3,
    epochs: 2,
    best_epoch: 2,
    seconds_per_epoch: 1,
    train_samples: 100,
    adapter: "cpu",
    config: {},
    checkpoint_sha256: "ab",
  };
  assertEquals(parseMetricsJson(JSON.stringify(good), "m.json", "do X"), good);
  throwsUsage(() => parseMetricsJson('{"test_acc', "m.json", "do X"), "m.json: not valid JSON");
  throwsUsage(
    () => parseMetricsJson(JSON.stringify({ ...good, test_accuracy: 3 }), "m.json", "do X"),
    '"test_accuracy" is missing or out of range; do X',
  );
});
