import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { BitReader, BitWriter } from "../src/quant/bitstream.ts";
import {
  canonicalCodes,
  codeLengths,
  huffmanDecode,
  huffmanEncode,
  MAX_CODE_LENGTH,
  symbolCounts,
} from "../src/quant/huffman.ts";
import { absoluteIndex, relativeIndex } from "../src/quant/relative_index.ts";
import {
  decodeDeepCompressed,
  describeDeepCompressed,
  encodeDeepCompressed,
} from "../src/quant/dc_file.ts";
import { decodeShared, shareWeights } from "../src/quant/weight_sharing.ts";
import { dequantizedModel, quantizeModelWeights } from "../src/quant/ptq_model.ts";
import { mlpSpec, type ModelSpec } from "../src/model/network.ts";
import { UsageError } from "../src/util/errors.ts";
import { prunedAtRandom } from "./_pruned.ts";
import { createRng } from "../src/util/rng.ts";

Deno.test("bit streams: values and codes round-trip, least significant bit first", () => {
  const w = new BitWriter();
  w.write(5, 3); // 101
  w.writeCode(0b110, 3); // 1, 1, 0
  w.write(0xabcdef, 24);
  const bytes = w.finish();
  assertEquals(bytes.length, 4);
  assertEquals(bytes[0] & 0x3f, 0b011101); // 1,0,1 then 1,1,0 from bit 0 up
  const r = new BitReader(bytes);
  assertEquals(r.read(3), 5);
  assertEquals([r.bit(), r.bit(), r.bit()], [1, 1, 0]);
  assertEquals(r.read(24), 0xabcdef);
});

Deno.test("huffman: optimal lengths on a textbook case, canonical codes, exact round trips", () => {
  // Counts 45, 13, 12, 16, 9, 5 (CLRS 16.3): lengths 1, 3, 3, 3, 4, 4; cost 224.
  const lengths = codeLengths([45, 13, 12, 16, 9, 5]);
  assertEquals([...lengths], [1, 3, 3, 3, 4, 4]);
  // Canonical (RFC 1951): 0, 100, 101, 110, 1110, 1111.
  assertEquals([...canonicalCodes(lengths)], [0b0, 0b100, 0b101, 0b110, 0b1110, 0b1111]);
  assertEquals([...codeLengths([0, 7, 0])], [0, 1, 0]); // a lone symbol still takes one bit
  const rng = createRng(9);
  for (const alphabet of [1, 2, 5, 32, 256]) {
    // Skewed symbols, as cluster indices are.
    const symbols = Uint32Array.from({ length: 5000 }, () => Math.floor(alphabet * rng() ** 3));
    const lens = codeLengths(symbolCounts(symbols, alphabet));
    const w = new BitWriter();
    huffmanEncode(symbols, lens, w);
    const decoded = huffmanDecode(lens, symbols.length, new BitReader(w.finish()));
    assertEquals([...decoded], [...symbols], `alphabet ${alphabet}`);
    // Never longer than fixed width (up to the last byte's padding).
    assert(w.bitLength <= symbols.length * Math.max(1, Math.ceil(Math.log2(alphabet))));
  }
  // Fibonacci counts build the deepest tree: lengths are capped and still decode.
  const fib = [1, 1];
  while (fib.length < 40) fib.push(fib[fib.length - 1] + fib[fib.length - 2]);
  const capped = codeLengths(fib);
  assert(Math.max(...capped) <= MAX_CODE_LENGTH);
  const symbols = Uint32Array.from(fib.keys());
  const w = new BitWriter();
  huffmanEncode(symbols, capped, w);
  assertEquals([...huffmanDecode(capped, 40, new BitReader(w.finish()))], [...symbols]);
});

Deno.test("relative index: the paper's filler rule, round trips at every width", () => {
  assertEquals([...relativeIndex(Uint32Array.of(1, 2, 12), 3)], [1, 0, 7, 2]);
  assertEquals([...relativeIndex(Uint32Array.of(7), 3)], [7, 0]); // a gap of exactly 7
  assertEquals([...absoluteIndex(Uint32Array.of(1, 0, 7, 2), 3)], [1, 2, 12]);
  const rng = createRng(3);
  const positions = Uint32Array.from(
    [...Array(20000).keys()].filter(() => rng() < 0.02),
  );
  for (const bits of [1, 2, 3, 5, 8, 12]) {
    assertEquals([...absoluteIndex(relativeIndex(positions, bits), bits)], [...positions]);
  }
});

Deno.test("Deep Compression file: bit-exact round trips, fixed and Huffman, MLP and CNN", () => {
  const cnn: ModelSpec = {
    input: [1, 8, 8],
    layers: [
      { kind: "conv2d", filters: 3, kernel: 3, stride: 1, padding: 1, bias: true },
      { kind: "relu" },
      { kind: "flatten" },
      { kind: "dense", units: 5, bias: true },
    ],
  };
  for (const spec of [mlpSpec(30, [17, 9], 4, true), mlpSpec(784, [300], 10, false), cnn]) {
    const { model, masks } = prunedAtRandom(spec, 4, 0.1);
    const shared = shareWeights(model, masks, { conv: 4, dense: 3 });
    const quantized = decodeShared(model, shared);
    for (const coding of ["fixed", "huffman"] as const) {
      for (
        const [label, source, sharing] of [
          ["f32", model, undefined],
          ["shared", quantized, shared],
        ] as const
      ) {
        const bytes = encodeDeepCompressed(source, { shared: sharing }, coding);
        const back = decodeDeepCompressed(bytes, "x.dcz");
        assertEquals(back.coding, coding);
        for (const [name, t] of source.params) {
          assertEquals([...back.model.params.get(name)!.data], [...t.data], `${label} ${name}`);
        }
        if (sharing) {
          for (const [name, s] of sharing) {
            assertEquals([...back.shared.get(name)!.clusters], [...s.clusters], name);
            assertEquals([...back.shared.get(name)!.codebook], [...s.codebook], name);
          }
        }
      }
    }
  }
});

Deno.test("Deep Compression file: sizes fall stage by stage; damage is a one-line error", () => {
  const { model, masks } = prunedAtRandom(mlpSpec(784, [300, 100], 10, true), 5, 0.08);
  const shared = shareWeights(model, masks, { conv: 8, dense: 5 });
  const q = decodeShared(model, shared);
  const dense = [...model.params.values()].reduce((s, t) => s + t.data.byteLength, 0);
  const sparse = encodeDeepCompressed(model, {}, "fixed").length;
  const fixed = encodeDeepCompressed(q, { shared }, "fixed").length;
  const huffman = encodeDeepCompressed(q, { shared }, "huffman").length;
  assert(sparse < dense / 5, `sparse ${sparse} vs dense ${dense}`);
  assert(fixed < sparse / 2, `fixed ${fixed} vs sparse ${sparse}`);
  assert(huffman < fixed, `huffman ${huffman} vs fixed ${fixed}`);
  const bytes = encodeDeepCompressed(q, { shared }, "huffman");
  assertThrows(
    () => decodeDeepCompressed(bytes.slice(0, 100), "m.dcz"),
    UsageError,
    "m.dcz: not a valid",
  );
  assertThrows(() => decodeDeepCompressed(new Uint8Array(20), "m.dcz"), UsageError, "WGDC");
  const cut = bytes.slice(0, bytes.length - 1000);
  assertThrows(() => decodeDeepCompressed(cut, "m.dcz"), UsageError, "m.dcz");
});

Deno.test("Deep Compression file: one changed byte anywhere is refused by its CRC-32", () => {
  const { model } = prunedAtRandom(mlpSpec(40, [12], 5, true), 8, 0.3);
  const bytes = encodeDeepCompressed(model, {}, "huffman");
  // The top byte of the last stored f32 non-zero of the last weight: the probe that once decoded.
  const { sections } = describeDeepCompressed(bytes);
  const payloadEnd = bytes.length - 4;
  const lastValue = payloadEnd - sections.slice(-1)[0].bytes - 1; // before the output bias
  for (const at of [4, 9, 20, lastValue, payloadEnd - 1, payloadEnd + 2]) {
    const damaged = bytes.slice();
    damaged[at] ^= 0x7f;
    assertThrows(
      () => decodeDeepCompressed(damaged, "m.dcz"),
      UsageError,
      at === 4
        ? "m.dcz: not a valid Deep Compression file (version 125, expected 2)"
        : "m.dcz: not a valid Deep Compression file (its CRC-32 does not match: the file is damaged)",
    );
  }
  const v1 = bytes.slice();
  v1[4] = 1;
  assertThrows(
    () => decodeDeepCompressed(v1, "m.dcz"),
    UsageError,
    "version 1 carries no checksum",
  );
  assertEquals(decodeDeepCompressed(bytes, "m.dcz").model.params.size, model.params.size);
});

Deno.test("Deep Compression file: int8 and f16 values round-trip to the dequantised weights", () => {
  const { model } = prunedAtRandom(mlpSpec(50, [20], 7, true), 6, 0.2);
  for (const format of ["int8", "f16"] as const) {
    const weights = quantizeModelWeights(model, format);
    const reference = dequantizedModel(model, weights);
    for (const coding of ["fixed", "huffman"] as const) {
      const back = decodeDeepCompressed(
        encodeDeepCompressed(reference, { ptq: weights }, coding),
        "x.dcz",
      );
      assertEquals([...back.ptq!.values()].every((w) => w.format === format), true);
      for (const [name, w] of weights) {
        // The same values (a pruned −0 comes back as +0, which no product can tell apart).
        assertEquals(
          [...back.ptq!.get(name)!.dequantized],
          [...w.dequantized],
          `${format} ${name}`,
        );
      }
      for (const [name, t] of reference.params) {
        assertEquals([...back.model.params.get(name)!.data], [...t.data], `${format} ${name}`);
      }
    }
  }
});
