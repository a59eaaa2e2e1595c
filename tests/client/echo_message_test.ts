import assert from "node:assert/strict";
import {
  connectWithTimeout,
  EchoMismatchError,
  TimeoutError,
} from "../../lib/net/mod.ts";
import { echoMessage } from "../../lib/client/mod.ts";
import {
  loopback,
  readToEnd,
  startCorruptingServer,
  startEchoServer,
  startFakeServer,
  startSilentServer,
} from "../_helpers.ts";

const encoder = new TextEncoder();

Deno.test("echoMessage returns the echo from a correct server", async () => {
  await using server = startEchoServer();
  using conn = await connectWithTimeout(loopback(server.port), {
    timeout: 1_000,
  });
  const echo = await echoMessage(conn, encoder.encode("hello world\n"));
  assert.equal(new TextDecoder().decode(echo), "hello world\n");
});

Deno.test("echoMessage detects a flipped byte and says where", async () => {
  await using server = startCorruptingServer(3);
  using conn = await connectWithTimeout(loopback(server.port), {
    timeout: 1_000,
  });
  await assert.rejects(echoMessage(conn, encoder.encode("abcdef")), (error) => {
    assert.ok(error instanceof EchoMismatchError);
    assert.equal(
      error.message,
      "Echo differs from what was sent at byte 3: sent 0x64, got 0x65",
    );
    assert.equal(new TextDecoder().decode(error.received), "abceef");
    return true;
  });
});

Deno.test("echoMessage reports a connection that ends early", async () => {
  await using server = startFakeServer(async (conn) => {
    await conn.read(new Uint8Array(2)); // take the first bytes, echo 2, hang up
    await conn.write(encoder.encode("ab"));
  });
  using conn = await connectWithTimeout(loopback(server.port), {
    timeout: 1_000,
  });
  await assert.rejects(
    echoMessage(conn, encoder.encode("abcdef")),
    (error) =>
      error instanceof EchoMismatchError &&
      error.message === "Connection ended early: 2 of 6 bytes echoed",
  );
});

Deno.test("echoMessage times out on a server that never answers", async () => {
  await using server = startSilentServer();
  using conn = await connectWithTimeout(loopback(server.port), {
    timeout: 1_000,
  });
  await assert.rejects(
    echoMessage(conn, encoder.encode("anyone?"), { timeout: 100 }),
    (error) =>
      error instanceof TimeoutError &&
      error.message === "No echo for 100 ms: received 0 of 7 bytes",
  );
});

Deno.test("echoMessage with halfClose returns the echo once the server closes", async () => {
  await using server = startEchoServer();
  using conn = await connectWithTimeout(loopback(server.port), {
    timeout: 1_000,
  });
  const echo = await echoMessage(conn, encoder.encode("hello world\n"), {
    halfClose: true,
  });
  assert.equal(new TextDecoder().decode(echo), "hello world\n");
});

Deno.test("echoMessage with halfClose fails on an echo longer than the message, as echoStream does", async () => {
  await using server = startFakeServer(async (conn) => {
    const sent = await readToEnd(conn); // the client half-closes
    await conn.write(Uint8Array.of(...sent, 0x21)); // one byte too many
    await conn.closeWrite();
  });
  using conn = await connectWithTimeout(loopback(server.port), {
    timeout: 1_000,
  });
  await assert.rejects(
    echoMessage(conn, encoder.encode("abcdef"), { halfClose: true }),
    (error) => {
      assert.ok(error instanceof EchoMismatchError);
      assert.equal(
        error.message,
        "Echo has more bytes than were sent: extra data at byte 6",
      );
      assert.equal(new TextDecoder().decode(error.received), "abcdef");
      return true;
    },
  );
});

Deno.test("echoMessage with halfClose stops reading one byte past the message from a server that never stops", async () => {
  await using server = startFakeServer(async (conn) => {
    const flood = new Uint8Array(65_536).fill(0x61);
    while (true) await conn.write(flood); // until the client closes
  });
  using conn = await connectWithTimeout(loopback(server.port), {
    timeout: 1_000,
  });
  await assert.rejects(
    echoMessage(conn, encoder.encode("aaaa"), { halfClose: true }),
    (error) =>
      error instanceof EchoMismatchError &&
      error.message ===
        "Echo has more bytes than were sent: extra data at byte 4" &&
      error.received.length === 4,
  );
});

Deno.test("echoMessage with halfClose times out on a server that echoes but never closes", async () => {
  const testDone = Promise.withResolvers<void>();
  await using server = startFakeServer(async (conn) => {
    const sent = await readToEnd(conn);
    await conn.write(sent);
    await testDone.promise; // the connection stays open until then
  });
  using conn = await connectWithTimeout(loopback(server.port), {
    timeout: 1_000,
  });
  using _ = { [Symbol.dispose]: () => testDone.resolve() };
  await assert.rejects(
    echoMessage(conn, encoder.encode("abc"), { halfClose: true, timeout: 100 }),
    (error) =>
      error instanceof TimeoutError &&
      error.message ===
        "No end of echo for 100 ms: all 3 bytes came back but the server did not close",
  );
});

Deno.test("connectWithTimeout passes connection refused through", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close(); // now nothing listens there
  await assert.rejects(
    connectWithTimeout(loopback(port), { timeout: 1_000 }),
    Deno.errors.ConnectionRefused,
  );
});
