import assert from "node:assert/strict";
import {
  BufferBudget,
  MAX_MAPPED_BUFFERS,
  serveEcho,
} from "../../lib/server/mod.ts";
import {
  bytesEqual,
  connect,
  memoryLogger,
  randomBytes,
  readToEnd,
} from "../_helpers.ts";

Deno.test("a buffer budget reserves only what fits, tracks its peak, and is shared through its counters", () => {
  const budget = new BufferBudget(1_000);
  assert.equal(budget.tryReserve(600), true);
  assert.equal(budget.tryReserve(600), false);
  assert.equal(budget.inUse, 600);
  const other = new BufferBudget(1_000, budget.shared);
  assert.equal(other.tryReserve(400), true);
  assert.equal(budget.inUse, 1_000);
  budget.release(1_000);
  assert.equal(other.inUse, 0);
  assert.equal(other.peak, 1_000);
});

Deno.test("a buffer budget counts buffers with pages of their own up to MAX_MAPPED_BUFFERS, over all threads", () => {
  const budget = new BufferBudget(1_000);
  const other = new BufferBudget(1_000, budget.shared);
  for (let i = 0; i < MAX_MAPPED_BUFFERS - 1; i++) {
    assert.equal(budget.tryReserveMapping(), true);
  }
  assert.equal(other.tryReserveMapping(), true);
  assert.equal(other.tryReserveMapping(), false);
  assert.equal(budget.tryReserveMapping(), false);
  assert.equal(budget.mapped, MAX_MAPPED_BUFFERS);
  other.releaseMapping();
  assert.equal(budget.mapped, MAX_MAPPED_BUFFERS - 1);
  assert.equal(budget.tryReserveMapping(), true);
  assert.equal(budget.inUse, 0, "mappings are not bytes");
});

Deno.test("buffer accounting never exceeds the budget while 40 clients send 2 MiB each and do not read, and every byte still comes back", async () => {
  const budget = new BufferBudget(1024 * 1024);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const stop = new AbortController();
  const { logger } = memoryLogger();
  const done = serveEcho(listener, { signal: stop.signal, logger, budget });
  const clients = 40;
  const payloads = Array.from(
    { length: clients },
    () => randomBytes(2 * 1024 * 1024),
  );
  const conns = await Promise.all(
    Array.from({ length: clients }, () => connect(listener.addr.port)),
  );
  try {
    // Every client writes all of its data before it reads a byte: the
    // server's buffers grow until the budget stops them, then the echo
    // stalls against the unread clients until they start reading.
    let peakSeen = 0;
    const watch = setInterval(() => {
      peakSeen = Math.max(peakSeen, budget.inUse);
    }, 1);
    const writes = conns.map(async (conn, i) => {
      const data = payloads[i] as Uint8Array;
      let written = 0;
      while (written < data.length) {
        written += await conn.write(data.subarray(written));
      }
      await conn.closeWrite();
    });
    const echoes = await Promise.all(conns.map((conn) => readToEnd(conn)));
    await Promise.all(writes);
    clearInterval(watch);
    echoes.forEach((echo, i) =>
      assert.ok(bytesEqual(echo, payloads[i] as Uint8Array), `client ${i}`)
    );
    assert.ok(budget.peak <= budget.limit, `peak ${budget.peak}`);
    assert.ok(peakSeen <= budget.limit);
    assert.ok(budget.peak > 0, "buffers did grow within the budget");
  } finally {
    for (const conn of conns) conn.close();
  }
  stop.abort();
  await done;
  assert.equal(budget.inUse, 0, "every connection gave its growth back");
  assert.equal(budget.mapped, 0, "and the pages of its buffer");
});
