import assert from "node:assert/strict";
import {
  MIN_BUFFER_SIZE,
  nextBuffer,
} from "../../lib/server/_buffer_sizing.ts";

Deno.test("a full read doubles the buffer up to the maximum", () => {
  const small = new Uint8Array(MIN_BUFFER_SIZE);
  assert.equal(
    nextBuffer(small, MIN_BUFFER_SIZE, 1024).length,
    2 * MIN_BUFFER_SIZE,
  );
  const top = new Uint8Array(1024);
  assert.equal(
    nextBuffer(top, 1024, 1024),
    top,
    "at the maximum the same buffer is kept",
  );
});

Deno.test("a read under an eighth of the buffer shrinks it to fit, never below the minimum", () => {
  const big = new Uint8Array(256 * 1024);
  assert.equal(nextBuffer(big, 1, 256 * 1024).length, MIN_BUFFER_SIZE);
  assert.equal(nextBuffer(big, 3000, 256 * 1024).length, 8192);
});

Deno.test("a read between an eighth and full keeps the same buffer (no churn)", () => {
  const buffer = new Uint8Array(64 * 1024);
  assert.equal(nextBuffer(buffer, 8 * 1024, 256 * 1024), buffer);
  assert.equal(nextBuffer(buffer, 64 * 1024 - 1, 256 * 1024), buffer);
});
