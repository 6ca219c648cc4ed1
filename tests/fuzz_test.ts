import { assert, assertEquals } from "./_assert.ts";
import { FUZZ_TARGETS, runFuzz, runFuzzCase } from "./_fuzz.ts";

/** Cases per target: enough to reach every mutation kind, small enough for the suite. */
const CASES = 300;
/** Fixed, so a failure here reproduces with `deno run -A tests/fuzz.ts --seed 1 --target …`. */
const SEED = 1;

for (const target of FUZZ_TARGETS) {
  Deno.test(`fuzz ${target.name}: mutated files parse or fail in one line`, async () => {
    const report = await runFuzz(target, CASES, SEED);
    assertEquals(report.cases, CASES, "cases run");
    assert(
      report.failures.length === 0,
      `${report.failures.length} of ${CASES} cases failed; the first ones:\n` +
        report.failures.slice(0, 5).join("\n"),
    );
    assert(report.ok > 0, `no mutated input parsed (${report.rejected} rejected): weak mutations?`);
    assert(report.rejected > 0, `no mutated input was rejected (${report.ok} parsed)`);
  });
}

/**
 * Cases (seed 1) that failed in a 10,000-case run of tests/fuzz.ts, with the mutation each one
 * was, replayed on every run so that they stay fixed. A case whose mutation differs was moved by
 * a change to the mutators: find it again with tests/fuzz.ts and update its line.
 */
const REGRESSIONS: [target: string, index: number, mutation: string][] = [
  // An epoch field "\n7": the message quotes the raw field, line break and all.
  ["history-csv", 596, String.raw`line 4 field 1 -> "\"\n7\""`],
  // csv-parse's "Invalid Closing Quote: got "\n"" (CRLF header, then a bare \n after a quote).
  ["history-csv", 6024, String.raw`line endings: CRLF header + line 2 field 6 -> "\"a\nb\""`],
  // Tensor names holding a line break or a carriage return, in messages about their entries.
  [
    "safetensors",
    1982,
    String.raw`header: rename "layers.0.weight" -> "layers.0.weight\nsecond line" + ` +
    "header: dtype -> 32",
  ],
  [
    "safetensors",
    2109,
    String.raw`header: rename "layers.0.weight" -> "layers.0.weight\r" + ` +
    `header: "data_offsets":[0,140] -> "data_offsets":[-4,140]`,
  ],
  [
    "safetensors-require-checksum",
    2081,
    `header: "data_offsets":[160,220] -> "data_offsets":[-4,220] + ` +
    String.raw`header: rename "layers.1.weight" -> "layers.0.weight\nsecond line"`,
  ],
  // JSON.parse's message quotes the text, a raw "\r" included (only "\n" is cut off).
  ["metrics-json", 7201, "truncate to 0 of 419 bytes + append 27 random bytes"],
  // Numeric fields holding a raw line break, and a header column named "method\n".
  ["sweep-csv", 686, String.raw`line 3 field 36 -> "\"0\n\"" + swap lines 5 and 4`],
  ["sweep-csv", 1977, String.raw`line 3 field 24 -> "\"uniform\n\""`],
  ["sweep-csv", 972, String.raw`line 1 field 2 -> "\"method\n\""`],
];

Deno.test("fuzz regressions: cases that once failed now parse or fail in one line", async () => {
  const failures: string[] = [];
  for (const [name, index, mutation] of REGRESSIONS) {
    const target = FUZZ_TARGETS.find((t) => t.name === name);
    assert(target !== undefined, `no fuzz target ${name}`);
    const result = await runFuzzCase(target, SEED, index);
    if (result.mutation !== mutation) {
      failures.push(`${name} case ${index} is now [${result.mutation}], not [${mutation}]`);
    } else if (result.failure !== undefined) failures.push(result.failure);
  }
  assert(
    failures.length === 0,
    `${failures.length} of ${REGRESSIONS.length} cases failed:\n${failures.join("\n")}`,
  );
});
