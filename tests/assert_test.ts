/**
 * The suite's own assertions: `assertEquals` compares structure, so Maps, Sets and typed arrays
 * are compared by content and NaN is not null (comparing JSON text made all of those pass).
 */

import { assert, assertEquals, assertThrows } from "./_assert.ts";

Deno.test("assertEquals tells apart what JSON text cannot", () => {
  const differ: [unknown, unknown][] = [
    [new Map([["a", 1]]), new Map()],
    [new Set([1, 2]), new Set([1, 3])],
    [NaN, null],
    [Float32Array.of(1, 2), Float32Array.of(1, 3)],
    [Float32Array.of(1, 2), [1, 2]],
    [{ a: undefined }, {}],
  ];
  for (const [a, b] of differ) assertThrows(() => assertEquals(a, b), Error, "expected");
  assertEquals(new Map([["a", [1, NaN]]]), new Map([["a", [1, NaN]]]));
  assertEquals(new Set(["x", "y"]), new Set(["y", "x"]));
  const err = assertThrows(() => assertEquals(new Map([["k", 1]]), new Map()), Error);
  assert(err.message.includes('{"Map":[["k",1]]}'), err.message);
});
