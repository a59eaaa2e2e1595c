import assert from "node:assert/strict";
import {
  MAPPED_BUFFER_SIZE,
  MIN_BUFFER_SIZE,
  nextBuffer,
  releaseBuffer,
} from "../../lib/server/_buffer_sizing.ts";
import {
  BufferBudget,
  MAX_MAPPED_BUFFERS,
} from "../../lib/server/buffer_budget.ts";

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

Deno.test("two reads in a row under an eighth of the buffer shrink it to fit, never below the minimum", () => {
  const big = new Uint8Array(256 * 1024);
  const onProbation = nextBuffer(big, 1, 256 * 1024);
  assert.equal(onProbation.length, 128 * 1024, "the next read gets half");
  assert.equal(onProbation.buffer, big.buffer, "of the same memory");
  assert.equal(nextBuffer(onProbation, 1, 256 * 1024).length, MIN_BUFFER_SIZE);
  const again = nextBuffer(big, 3000, 256 * 1024);
  assert.equal(nextBuffer(again, 3000, 256 * 1024).length, 8192);
});

Deno.test("after one short read, a full read gets the whole buffer back without reallocating", () => {
  const big = new Uint8Array(256 * 1024);
  const onProbation = nextBuffer(big, 53, 256 * 1024);
  assert.equal(
    nextBuffer(onProbation, 64 * 1024, 256 * 1024),
    onProbation,
    "a read between an eighth and full stays on probation",
  );
  const whole = nextBuffer(onProbation, 128 * 1024, 256 * 1024);
  assert.equal(whole.length, 256 * 1024);
  assert.equal(whole.buffer, big.buffer);
});

Deno.test("a read between an eighth and full keeps the same buffer (no churn)", () => {
  const buffer = new Uint8Array(64 * 1024);
  assert.equal(nextBuffer(buffer, 8 * 1024, 256 * 1024), buffer);
  assert.equal(nextBuffer(buffer, 64 * 1024 - 1, 256 * 1024), buffer);
});

Deno.test("with a budget, a buffer of 16 KiB or more grows and shrinks in place, in pages of its own", () => {
  const budget = new BufferBudget(1024 * 1024);
  const max = 256 * 1024;
  let buffer: Uint8Array = new Uint8Array(MAPPED_BUFFER_SIZE / 2);
  buffer = nextBuffer(buffer, buffer.length, max, budget);
  const pages = buffer.buffer as ArrayBuffer;
  assert.equal(buffer.length, MAPPED_BUFFER_SIZE);
  assert.equal(pages.resizable, true);
  assert.equal(pages.maxByteLength, max);
  assert.equal(budget.mapped, 1);
  for (let size = MAPPED_BUFFER_SIZE; size < max; size *= 2) {
    buffer = nextBuffer(buffer, buffer.length, max, budget);
  }
  assert.equal(buffer.length, max);
  assert.equal(buffer.buffer, pages, "grown in place, not replaced");
  assert.equal(pages.byteLength, max);
  assert.equal(budget.inUse, max - MAPPED_BUFFER_SIZE / 2);
  buffer = nextBuffer(buffer, 20_000, max, budget);
  assert.equal(pages.byteLength, max, "one short read keeps the pages");
  buffer = nextBuffer(buffer, 20_000, max, budget);
  assert.equal(buffer.length, 64 * 1024);
  assert.equal(buffer.buffer, pages, "shrunk in place");
  assert.equal(pages.byteLength, 64 * 1024, "the pages beyond are given up");
  assert.equal(budget.inUse, 64 * 1024 - MAPPED_BUFFER_SIZE / 2);
  assert.equal(budget.mapped, 1);
});

Deno.test("a buffer that shrinks below 16 KiB leaves its pages and comes from the allocator again", () => {
  const budget = new BufferBudget(1024 * 1024);
  let buffer: Uint8Array = new Uint8Array(MIN_BUFFER_SIZE);
  while (buffer.length < 32 * 1024) {
    buffer = nextBuffer(buffer, buffer.length, 256 * 1024, budget);
  }
  const pages = buffer.buffer as ArrayBuffer;
  assert.equal(pages.resizable, true);
  const onProbation = nextBuffer(buffer, 3000, 256 * 1024, budget);
  const small = nextBuffer(onProbation, 3000, 256 * 1024, budget);
  assert.equal(small.length, 8192);
  assert.equal((small.buffer as ArrayBuffer).resizable, false);
  assert.equal(pages.byteLength, 0, "its pages went back at once");
  assert.equal(budget.mapped, 0);
  assert.equal(budget.inUse, 8192 - MIN_BUFFER_SIZE);
});

Deno.test("releaseBuffer returns a buffer's growth to the budget and its pages to the system", () => {
  const budget = new BufferBudget(1024 * 1024);
  let buffer: Uint8Array = new Uint8Array(MIN_BUFFER_SIZE);
  while (buffer.length < 64 * 1024) {
    buffer = nextBuffer(buffer, buffer.length, 256 * 1024, budget);
  }
  const pages = buffer.buffer as ArrayBuffer;
  assert.equal(budget.inUse, 64 * 1024 - MIN_BUFFER_SIZE);
  buffer = nextBuffer(buffer, 10, 256 * 1024, budget);
  assert.equal(buffer.length, 32 * 1024, "on probation: half a view");
  releaseBuffer(buffer, MIN_BUFFER_SIZE, budget);
  assert.equal(budget.inUse, 0);
  assert.equal(budget.mapped, 0);
  assert.equal(pages.byteLength, 0);
});

Deno.test("without a budget, or with all mappings taken, buffers come from the allocator", () => {
  const grown = nextBuffer(new Uint8Array(16 * 1024), 16 * 1024, 1024 * 1024);
  assert.equal(grown.length, 32 * 1024);
  assert.equal((grown.buffer as ArrayBuffer).resizable, false);
  const budget = new BufferBudget(1024 * 1024);
  while (budget.tryReserveMapping()) {
    // Take every mapping.
  }
  assert.equal(budget.mapped, MAX_MAPPED_BUFFERS);
  const plain = nextBuffer(
    new Uint8Array(16 * 1024),
    16 * 1024,
    1024 * 1024,
    budget,
  );
  assert.equal(plain.length, 32 * 1024);
  assert.equal((plain.buffer as ArrayBuffer).resizable, false);
  assert.equal(budget.inUse, 16 * 1024, "the growth is still budgeted");
  releaseBuffer(plain, 16 * 1024, budget);
  assert.equal(budget.mapped, MAX_MAPPED_BUFFERS, "no mapping to give back");
});

Deno.test("a growth the budget has no room for keeps the same buffer", () => {
  const budget = new BufferBudget(8 * 1024);
  const buffer = new Uint8Array(16 * 1024);
  assert.equal(nextBuffer(buffer, buffer.length, 1024 * 1024, budget), buffer);
  assert.equal(budget.inUse, 0);
  assert.equal(budget.mapped, 0);
});
