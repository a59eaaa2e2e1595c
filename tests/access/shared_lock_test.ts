import assert from "node:assert/strict";
import { SharedLock } from "../../lib/access/_shared_lock.ts";

Deno.test("a shared lock excludes a second holder, gives up on an abandoned one, then stops waiting until it is free", () => {
  const cells = new Int32Array(new SharedArrayBuffer(8));
  const lock = new SharedLock(cells, 0, 20);
  const other = new SharedLock(cells, 0, 20); // another thread's view
  assert.ok(lock.acquire());
  const started = performance.now();
  assert.ok(!other.acquire(), "held: gives up after its deadline");
  assert.ok(performance.now() - started >= 20);
  assert.ok(!other.acquire(), "stalled: gives up at once");
  lock.release();
  assert.ok(other.acquire(), "free again");
  other.release();
  assert.ok(lock.acquire());
  lock.release();
});
