import assert from "node:assert/strict";
import {
  assertNotServed,
  bytesEqual,
  connect,
  randomBytes,
  readToEnd,
  roundTrip,
  startEchoServer,
} from "../_helpers.ts";

async function ping(conn: Deno.Conn, text = "ping"): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  await conn.write(bytes);
  const echo = new Uint8Array(bytes.length);
  let got = 0;
  while (got < echo.length) {
    const n = await conn.read(echo.subarray(got));
    if (n === null) throw new Error("connection closed during ping");
    got += n;
  }
  return new TextDecoder().decode(echo);
}

for (const size of [0, 1, 64 * 1024, 64 * 1024 * 1024]) {
  Deno.test(`echo server echoes ${size} random bytes unchanged, then half-closes`, async () => {
    await using server = startEchoServer();
    const data = randomBytes(size);
    using conn = await connect(server.port);
    const echo = await roundTrip(conn, data);
    assert.equal(echo.length, size);
    assert.ok(bytesEqual(echo, data), "echo equals what was sent");
    const close = JSON.parse(await server.log.waitFor(/"event":"close"/));
    assert.equal(close.reason, "eof");
    assert.equal(close.bytes_echoed, size);
  });
}

Deno.test("echo server keeps echoing after the peer half-closes until all is written", async () => {
  await using server = startEchoServer();
  using conn = await connect(server.port);
  // Everything is sent and FIN'd before a single byte is read back.
  const data = randomBytes(8 * 1024 * 1024);
  const writing = (async () => {
    let written = 0;
    while (written < data.length) {
      written += await conn.write(data.subarray(written));
    }
    await conn.closeWrite();
  })();
  const echo = await readToEnd(conn);
  await writing;
  assert.ok(bytesEqual(echo, data));
});

Deno.test("echo server serves 1,000 concurrent clients, each getting its own data back", async () => {
  await using server = startEchoServer();
  const clients = 1_000;
  const conns = await Promise.all(
    Array.from({ length: clients }, () => connect(server.port)),
  );
  try {
    // All connections are open before any data moves: truly concurrent.
    const payloads = conns.map((_, i) => randomBytes(1_024 + i));
    const echoes = await Promise.all(
      conns.map((conn, i) => roundTrip(conn, payloads[i] as Uint8Array)),
    );
    echoes.forEach((echo, i) =>
      assert.ok(bytesEqual(echo, payloads[i] as Uint8Array), `client ${i}`)
    );
  } finally {
    for (const conn of conns) conn.close();
  }
  server.stop.abort();
  const summary = await server.done;
  assert.equal(summary.connections, clients);
  assert.equal(
    summary.bytesEchoed,
    clients * 1_024 + (clients * (clients - 1)) / 2,
  );
});

Deno.test("a peer that resets mid-stream ends only its own connection", async () => {
  await using server = startEchoServer();
  using steady = await connect(server.port);
  const steadyData = randomBytes(16 * 1024 * 1024);
  const steadyEcho = roundTrip(steady, steadyData);

  // Closing with unread echo in the receive buffer makes the kernel send RST.
  const rude = await connect(server.port);
  await rude.write(randomBytes(1024 * 1024));
  await server.log.waitFor(/"event":"open","conn":2/);
  rude.close();
  const rudeClose = JSON.parse(
    await server.log.waitFor(/"event":"close","conn":2/),
  );
  assert.ok(
    ["reset", "broken-pipe"].includes(rudeClose.reason),
    rudeClose.reason,
  );

  assert.ok(
    bytesEqual(await steadyEcho, steadyData),
    "the other connection is unharmed",
  );
  using after = await connect(server.port);
  assert.equal(await ping(after), "ping", "and the server still accepts");
});

Deno.test("idle timeout closes a silent connection with reason idle-timeout", async () => {
  await using server = startEchoServer({ limits: { idleTimeout: 100 } });
  using conn = await connect(server.port);
  assert.equal(await ping(conn), "ping");
  // The server closes it: the read ends with EOF, no sleep needed.
  assert.equal(await conn.read(new Uint8Array(1)), null);
  const close = JSON.parse(await server.log.waitFor(/"event":"close"/));
  assert.equal(close.reason, "idle-timeout");
  assert.ok(close.duration_ms >= 100, `closed after ${close.duration_ms} ms`);
});

Deno.test("idle timeout spares a connection that keeps talking", async () => {
  await using server = startEchoServer({ limits: { idleTimeout: 400 } });
  using conn = await connect(server.port);
  const started = performance.now();
  // Talk every 40 ms for well over the timeout.
  while (performance.now() - started < 1_000) {
    assert.equal(await ping(conn), "ping");
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  assert.equal(server.log.count(/"event":"close"/), 0);
});

Deno.test("max connections refuses the extra connection and keeps serving the others", async () => {
  await using server = startEchoServer({ limits: { maxConnections: 2 } });
  const first = await connect(server.port);
  const second = await connect(server.port);
  assert.equal(await ping(first, "one"), "one");
  assert.equal(await ping(second, "two"), "two");

  using third = await connect(server.port);
  // Refused connections are closed at once: EOF (or reset) on read.
  const refusedRead = await third.read(new Uint8Array(1)).catch(() => null);
  assert.equal(refusedRead, null);
  const refused = JSON.parse(await server.log.waitFor(/"event":"refused"/));
  assert.equal(refused.reason, "max-connections");
  assert.equal(await ping(first, "still"), "still");

  // Once one closes, a new connection is accepted again.
  second.close();
  await server.log.waitFor(/"event":"close"/);
  using fourth = await connect(server.port);
  assert.equal(await ping(fourth, "four"), "four");
  first.close();
  fourth.close();
  server.stop.abort();
  assert.equal((await server.done).refused, 1);
});

Deno.test("shutdown stops accepting but lets an active transfer finish", async () => {
  await using server = startEchoServer({ limits: { drainTimeout: 10_000 } });
  using conn = await connect(server.port);
  const data = randomBytes(4 * 1024 * 1024);
  assert.equal(await ping(conn, "x"), "x");
  server.stop.abort();
  await assertNotServed(server.port);
  const echo = await roundTrip(conn, data);
  assert.ok(bytesEqual(echo, data));
  const summary = await server.done;
  assert.equal(summary.bytesEchoed, 1 + data.length);
});

Deno.test("shutdown closes connections still open at the drain deadline", async () => {
  await using server = startEchoServer({ limits: { drainTimeout: 50 } });
  using conn = await connect(server.port);
  assert.equal(await ping(conn), "ping");
  server.stop.abort();
  assert.equal(await conn.read(new Uint8Array(1)), null);
  const close = JSON.parse(await server.log.waitFor(/"event":"close"/));
  assert.equal(close.reason, "shutdown");
  assert.equal((await server.done).connections, 1);
});
