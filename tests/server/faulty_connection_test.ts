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

Deno.test("every connection gives its budget back, whether it ends at EOF, by idle timeout, or with a delayed chunk pending", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const budget = new BufferBudget(1024 * KiB);
  const serveOne = async (
    faults: () => Record<string, unknown>,
    client: (conn: Deno.Conn) => Promise<void>,
    idleTimeout = 0,
  ) => {
    using conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: listener.addr.port,
    });
    using accepted = await listener.accept();
    const started = performance.now();
    const [result] = await Promise.all([
      faultyConnection(accepted, {
        faults,
        dice: new FaultDice(1),
        budget,
        idleTimeout,
      }),
      client(conn),
    ]);
    return { result, ms: performance.now() - started };
  };
  for (let i = 0; i < 5; i++) {
    const { result } = await serveOne(() => ({ delay: 5 }), async (conn) => {
      await conn.write(new Uint8Array(1000));
      await conn.closeWrite();
      while (await conn.read(new Uint8Array(2000)) !== null) { /* echo */ }
    });
    assert.equal(result.reason, "eof");
  }
  assert.equal(budget.inUse, 0, "nothing kept after EOF");
  // Idle timeout while a chunk waits out a long delay: the connection
  // ends at the idle timeout, not at the end of the delay, and no timer
  // throws on a connection already closed.
  const { result, ms } = await serveOne(
    () => ({ delay: 2_000, resetAfter: { ms: 300 } }),
    async (conn) => {
      await conn.write(new Uint8Array(10));
      await conn.read(new Uint8Array(10)).catch(() => null);
    },
    100,
  );
  assert.equal(result.reason, "idle-timeout");
  assert.ok(ms < 1_000, `ended after ${ms.toFixed(0)} ms`);
  assert.equal(budget.inUse, 0, "nothing kept after the idle timeout");
});
