import assert from "node:assert/strict";
import { bytesEqual, firstDifference } from "../../lib/net/mod.ts";

Deno.test("firstDifference finds the exact byte at every position and alignment", () => {
  const backing = new Uint8Array(64 + 3);
  crypto.getRandomValues(backing);
  for (const shift of [0, 1, 2, 3]) {
    for (const length of [0, 1, 3, 4, 5, 31, 64]) {
      const a = backing.subarray(shift, shift + length);
      const b = a.slice();
      assert.equal(firstDifference(a, b), -1, `equal, length ${length}`);
      for (let at = 0; at < length; at++) {
        const changed = b.slice();
        changed[at]! ^= 0x80;
        assert.equal(firstDifference(a, changed), at, `shift ${shift}`);
        assert.equal(bytesEqual(a, changed), false);
      }
    }
  }
});

Deno.test("firstDifference reports a prefix at the shorter length", () => {
  const long = new Uint8Array([1, 2, 3, 4, 5, 6]);
  assert.equal(firstDifference(long, long.subarray(0, 5)), 5);
  assert.equal(firstDifference(long.subarray(0, 2), long), 2);
  assert.equal(bytesEqual(long, long.subarray(0, 5)), false);
  assert.equal(bytesEqual(long.subarray(1), long.slice(1)), true);
});
