/**
 * Who may send a PROXY header (issue: trust boundaries): headers are
 * believed only from trusted proxies, everyone else is judged by its own
 * address, and connections waiting for a header count against limits.
 */

import assert from "node:assert/strict";
import net from "node:net";
import { AddressLimit, parseCidr } from "../../lib/access/mod.ts";
import {
  bytesEqual,
  echoFrom,
  startEchoServer,
  type TestServer,
} from "../_helpers.ts";

const encoder = new TextEncoder();

/** A connection from `localAddress` that has sent `data`, and its end. */
interface Held {
  socket: net.Socket;
  /** Resolves once the server has closed the connection. */
  closed: Promise<void>;
}

/** Opens a connection from `localAddress` and sends `data` on it. */
function holdFrom(
  port: number,
  localAddress: string,
  data: Uint8Array,
): Promise<Held> {
  return new Promise((resolve, reject) => {
    const closed = Promise.withResolvers<void>();
    const socket = net.connect(
      { port, host: "127.0.0.1", localAddress },
      () =>
        socket.write(data, () => resolve({ socket, closed: closed.promise })),
    );
    socket.on("error", reject);
    socket.on("close", () => closed.resolve());
    socket.resume();
  });
}

function header(source: string): Uint8Array {
  return encoder.encode(`PROXY TCP4 ${source} 127.0.0.1 5000 7007\r\n`);
}

/** The `peer` of every `open` line so far. */
function openedPeers(server: TestServer): string[] {
  return server.log.lines.map((line) => JSON.parse(line))
    .filter((entry) => entry.event === "open").map((entry) => entry.peer);
}

Deno.test("a PROXY header from an untrusted peer is refused, not believed, while a trusted proxy's is", async () => {
  await using server = startEchoServer({
    proxyProtocol: { trustedProxies: [parseCidr("127.0.0.2")] },
    access: {
      allow: [parseCidr("10.0.0.0/8"), parseCidr("127.0.0.1")],
      deny: [],
    },
  });
  const hi = encoder.encode("hi");
  const forged = await echoFrom(
    server.port,
    "127.0.0.1",
    Uint8Array.of(...header("10.1.2.3"), ...hi),
  );
  assert.equal(forged.length, 0, "nothing echoed to a forged header");
  await server.log.waitFor(/"reason":"untrusted-proxy"/);
  const proxied = await echoFrom(
    server.port,
    "127.0.0.2",
    Uint8Array.of(...header("10.1.2.3"), ...hi),
  );
  assert.deepEqual(proxied, hi);
  assert.deepEqual(openedPeers(server), ["10.1.2.3:5000"]);
});

Deno.test("with the PROXY protocol on, an untrusted peer without a header is served under its own address", async () => {
  await using server = startEchoServer({
    proxyProtocol: { trustedProxies: [parseCidr("127.0.0.2")] },
  });
  // "P" could start a header; the end of the stream shows it does not. A
  // client that sends nothing at all is an ordinary connection, too.
  const inputs = [
    encoder.encode("hello"),
    encoder.encode("P"),
    Uint8Array.of(),
  ];
  for (const data of inputs) {
    assert.deepEqual(await echoFrom(server.port, "127.0.0.3", data), data);
  }
  assert.equal(server.log.count(/"event":"refused"/), 0);
  const peers = openedPeers(server);
  assert.equal(peers.length, 3);
  assert.ok(peers.every((peer) => peer.startsWith("127.0.0.3:")), `${peers}`);
});

Deno.test("a trusted proxy must send a header, unless the PROXY protocol is optional", async () => {
  const hello = encoder.encode("hello");
  {
    await using required = startEchoServer({ proxyProtocol: {} });
    const echoed = await echoFrom(required.port, "127.0.0.1", hello);
    assert.equal(echoed.length, 0);
    await required.log.waitFor(/"reason":"proxy-protocol".*no PROXY header/);
  }
  await using optional = startEchoServer({ proxyProtocol: { optional: true } });
  assert.deepEqual(await echoFrom(optional.port, "127.0.0.1", hello), hello);
  const big = crypto.getRandomValues(new Uint8Array(60_000));
  const proxied = await echoFrom(
    optional.port,
    "127.0.0.1",
    Uint8Array.of(...header("192.0.2.9"), ...big),
  );
  assert.ok(bytesEqual(proxied, big));
  assert.match(openedPeers(optional)[1] ?? "", /^192\.0\.2\.9:5000$/);
});

Deno.test("connections waiting for a header count against the untrusted sender's own address, so a valid client still gets in", async () => {
  await using server = startEchoServer({
    proxyProtocol: { trustedProxies: [parseCidr("127.0.0.2")] },
    limits: { maxConnections: 10, handshakeTimeout: 60_000 },
    addressLimit: new AddressLimit({ limit: 2 }),
  });
  const attacker = [];
  for (let i = 0; i < 10; i++) {
    attacker.push(
      await holdFrom(server.port, "127.0.0.1", encoder.encode("PROXY ")),
    );
  }
  try {
    // Beyond its 2 connections, the attacker's are refused at once.
    await Promise.all(attacker.slice(2).map((held) => held.closed));
    const hi = encoder.encode("hi");
    assert.deepEqual(await echoFrom(server.port, "127.0.0.3", hi), hi);
  } finally {
    for (const held of attacker) held.socket.destroy();
  }
});

Deno.test("a trusted proxy's connections waiting for their header are capped", async () => {
  await using server = startEchoServer({
    proxyProtocol: { maxPending: 2 },
    limits: { handshakeTimeout: 60_000 },
  });
  const pending = [
    await holdFrom(server.port, "127.0.0.1", encoder.encode("PROXY ")),
    await holdFrom(server.port, "127.0.0.1", encoder.encode("PROXY ")),
  ];
  try {
    const third = await holdFrom(
      server.port,
      "127.0.0.1",
      encoder.encode("PROXY "),
    );
    await third.closed;
    await server.log.waitFor(/"reason":"pending-headers"/);
    // Once a header completes, the slot is free again.
    pending[0]!.socket.end(header("192.0.2.1").subarray("PROXY ".length));
    await pending[0]!.closed;
    const hi = encoder.encode("hi");
    assert.deepEqual(
      await echoFrom(
        server.port,
        "127.0.0.1",
        Uint8Array.of(...header("192.0.2.2"), ...hi),
      ),
      hi,
    );
  } finally {
    for (const held of pending) held.socket.destroy();
  }
});

Deno.test("a header still pending when the drain deadline passes does not hold up shutdown", async () => {
  const server = startEchoServer({
    proxyProtocol: {},
    limits: { handshakeTimeout: 600_000, drainTimeout: 50 },
  });
  const waiting = await holdFrom(
    server.port,
    "127.0.0.1",
    encoder.encode("PROXY TCP4"),
  );
  try {
    // Connections are accepted in order: once a later one is echoed, the
    // waiting one has been accepted too.
    const hi = encoder.encode("hi");
    assert.deepEqual(
      await echoFrom(
        server.port,
        "127.0.0.1",
        Uint8Array.of(...header("192.0.2.2"), ...hi),
      ),
      hi,
    );
    server.stop.abort();
    // Before the fix, this waited for the ten-minute header deadline.
    const summary = await server.done;
    await waiting.closed;
    assert.equal(summary.refused, 1);
    await server.log.waitFor(/"reason":"proxy-protocol".*shutting down/);
  } finally {
    waiting.socket.destroy();
  }
});
