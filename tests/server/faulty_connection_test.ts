import assert from "node:assert/strict";
import { FaultDice } from "../../lib/faults/mod.ts";
import { delay } from "../../lib/net/mod.ts";
import { BufferBudget } from "../../lib/server/mod.ts";
import { faultyConnection } from "../../lib/server/faulty_connection.ts";

const KiB = 1024;

Deno.test("a delayed echo holds at most --max-buffer per connection, drawn from the budget, and stops reading", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  using client = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  using conn = await listener.accept();
  const budget = new BufferBudget(1024 * KiB);
  const stop = new AbortController();
  const serving = faultyConnection(conn, {
    faults: () => ({ delay: 10_000 }),
    dice: new FaultDice(1),
    maxBufferSize: 64 * KiB,
    budget,
    signal: stop.signal,
  });
  // 16 MiB cannot all fit the kernel's buffers: the write stays pending
  // once the server stops reading.
  let written = false;
  const writing = (async () => {
    const data = new Uint8Array(16 * 1024 * KiB);
    for (let at = 0; at < data.length;) {
      at += await client.write(data.subarray(at));
    }
    written = true;
  })().catch(() => {});
  const deadline = performance.now() + 5_000;
  while (budget.inUse < 64 * KiB - 256 && performance.now() < deadline) {
    await delay(10); // the budget has no event to wait for
  }
  assert.equal(budget.inUse, 64 * KiB - 256, "its share, reserved");
  await delay(200);
  assert.ok(budget.peak <= 64 * KiB, `peak ${budget.peak}`);
  assert.equal(written, false, "the sender meets backpressure");
  stop.abort();
  assert.equal((await serving).reason, "shutdown");
  assert.equal(budget.inUse, 0, "everything given back");
  await writing; // fails: the server closed with the client's bytes unread
});
