import assert from "node:assert/strict";
import { startAdminServer } from "../../lib/admin/mod.ts";
import { closeQuietly, delay } from "../../lib/net/mod.ts";
import {
  type Ending,
  get,
  readUntilClosed,
  request,
  statusLine,
} from "./_http_client.ts";

const encoder = new TextEncoder();
const IDLE = 1_000;
const TRICKLING = 100;
const BATCHES = 10;
/** A trickling client sends at most this many bytes (a byte a second). */
const MAX_TRICKLE_BYTES = 20;

/**
 * Sends a request one byte a second until the server closes the
 * connection (or `MAX_TRICKLE_BYTES` have gone, which the request is
 * longer than); resolves with how it ended and how much was sent.
 */
async function trickle(
  conn: Deno.Conn,
): Promise<{ end: Ending; sent: number }> {
  const request = encoder.encode(
    "GET /healthz HTTP/1.1\r\nHost: trickle\r\nUser-Agent: slow\r\n\r\n",
  );
  const ending = readUntilClosed(conn);
  const closed = new AbortController();
  ending.then(() => closed.abort());
  let sent = 0;
  while (!closed.signal.aborted && sent < MAX_TRICKLE_BYTES) {
    try {
      await conn.write(request.subarray(sent, sent + 1));
    } catch {
      break; // the server has closed it
    }
    sent++;
    await delay(1_000, closed.signal);
  }
  return { end: await ending, sent };
}

Deno.test("probes get 200 while 1,000 idle and 100 trickling admin clients connect, and every one of those is closed unanswered", async () => {
  await using admin = startAdminServer({
    hostname: "127.0.0.1",
    port: 0,
    ready: () => true,
    metrics: () => "",
    metricsContentType: "text/plain",
  });
  const { port } = admin.addr;
  const connect = () => Deno.connect({ hostname: "127.0.0.1", port });
  const open: Deno.Conn[] = [];
  const idleEnds: Promise<Ending>[] = [];
  const trickles: Promise<{ end: Ending; sent: number }>[] = [];
  const probes: string[] = [];
  try {
    // Batches of silent and trickling clients, a probe after each.
    for (let batch = 0; batch < BATCHES; batch++) {
      const idle = await Promise.all(
        Array.from({ length: IDLE / BATCHES }, connect),
      );
      const slow = await Promise.all(
        Array.from({ length: TRICKLING / BATCHES }, connect),
      );
      open.push(...idle, ...slow);
      idleEnds.push(...idle.map((conn) => readUntilClosed(conn)));
      trickles.push(...slow.map(trickle));
      probes.push(statusLine(await request(port, get("/healthz"))));
    }
    // More probes while the last ones are still connected.
    for (let i = 0; i < 10; i++) {
      probes.push(statusLine(await request(port, get("/healthz"))));
    }
    for (const end of await Promise.all(idleEnds)) {
      assert.equal(end.text, "");
    }
    for (const { end, sent } of await Promise.all(trickles)) {
      assert.equal(end.text, "");
      assert.ok(sent < MAX_TRICKLE_BYTES, `${sent} bytes sent`);
    }
    probes.push(statusLine(await request(port, get("/healthz"))));
  } finally {
    for (const conn of open) closeQuietly(conn);
  }
  assert.deepEqual(probes, probes.map(() => "HTTP/1.1 200 OK"));
  assert.ok(admin.evicted > 0);
});
