/**
 * `--banner` on the server: one line first on every stream connection
 * (plain, TLS, from behind a PROXY-protocol proxy) and, when asked, ahead
 * of every UDP answer; then the echo, byte-exact.
 */

import assert from "node:assert/strict";
import net from "node:net";
import { parseBannerTemplate, readBanner } from "../../lib/banner/mod.ts";
import { parseCidr } from "../../lib/access/mod.ts";
import { FaultBoard } from "../../lib/faults/mod.ts";
import { connectWithTimeout, listenTls } from "../../lib/net/mod.ts";
import {
  serveEcho,
  type ServerBanner,
  serveUdpEcho,
} from "../../lib/server/mod.ts";
import { generateSelfSigned } from "../../lib/tls/mod.ts";
import {
  connect,
  loopback,
  memoryLogger,
  randomBytes,
  readToEnd,
  startEchoServer,
} from "../_helpers.ts";

const HOST = { hostname: "echo-host", pod: "echo-0", version: "9.9.9" };

function banner(template: string): ServerBanner {
  return { template: parseBannerTemplate(template), host: HOST };
}

/** Reads the banner, then echoes `data` and returns what came back. */
async function bannerThenEcho(
  conn: Deno.Conn,
  data: Uint8Array,
): Promise<{ line: string; echo: Uint8Array }> {
  const line = await readBanner(conn, { timeout: 5_000 });
  await conn.write(data);
  await conn.closeWrite();
  return { line, echo: await readToEnd(conn) };
}

Deno.test("a TCP connection gets the banner line first, with the server's and the peer's addresses, then its bytes back exactly", async () => {
  await using server = startEchoServer({
    banner: banner(
      "{pod} {hostname} {server} {peer} {proxy_client} v{version}",
    ),
  });
  using conn = await connect(server.port);
  const data = randomBytes(100_000);
  const { line, echo } = await bannerThenEcho(conn, data);
  const local = conn.localAddr as Deno.NetAddr;
  assert.equal(
    line,
    `echo-0 echo-host 127.0.0.1:${server.port} 127.0.0.1:${local.port} - v9.9.9`,
  );
  assert.deepEqual(echo, data);
});

Deno.test("behind a trusted proxy, {proxy_client} is the client the PROXY header names and {peer} the proxy", async () => {
  await using server = startEchoServer({
    banner: banner("{peer} {proxy_client}"),
    proxyProtocol: { trustedProxies: [parseCidr("127.0.0.1")] },
  });
  const received = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ port: server.port, host: "127.0.0.1" }, () => {
      socket.end("PROXY TCP4 203.0.113.9 127.0.0.1 5555 7007\r\nhi");
    });
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString()));
    socket.on("error", reject);
  });
  assert.match(received, /^127\.0\.0\.1:\d+ 203\.0\.113\.9:5555\nhi$/);
});

Deno.test("over TLS the banner comes after the handshake and shows the client's SNI and the ALPN chosen", async () => {
  const { cert, key } = await generateSelfSigned(["localhost", "127.0.0.1"]);
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert,
    key,
    alpnProtocols: ["echo"],
  });
  const stop = new AbortController();
  const done = serveEcho(listener, {
    signal: stop.signal,
    logger: memoryLogger().logger,
    banner: banner("sni={sni} alpn={alpn}"),
  });
  const { port } = listener.addr as Deno.NetAddr;
  {
    using conn = await connectWithTimeout(loopback(port), {
      tls: {
        caCerts: [cert],
        serverName: "localhost",
        alpnProtocols: ["echo"],
      },
    });
    const { line, echo } = await bannerThenEcho(conn, new Uint8Array([1, 2]));
    assert.equal(line, "sni=localhost alpn=echo");
    assert.deepEqual(echo, new Uint8Array([1, 2]));
  }
  stop.abort();
  await done;
});

Deno.test("with banner.udp a UDP answer starts with the line, unless the datagram is shorter than the line (no more than 2x amplification); without it answers stay the echo alone", async () => {
  for (const udp of [true, false]) {
    const socket = Deno.listenDatagram({
      transport: "udp",
      hostname: "127.0.0.1",
      port: 0,
    });
    const stop = new AbortController();
    const done = serveUdpEcho(socket, {
      signal: stop.signal,
      logger: memoryLogger().logger,
      banner: { ...banner("{pod} {peer}"), udp },
    });
    const client = Deno.listenDatagram({
      transport: "udp",
      hostname: "127.0.0.1",
      port: 0,
    });
    const { port } = socket.addr as Deno.NetAddr;
    const server = { transport: "udp" as const, hostname: "127.0.0.1", port };
    const own = (client.addr as Deno.NetAddr).port;
    const line = `echo-0 127.0.0.1:${own}\n`;
    const long = "x".repeat(line.length);
    await client.send(new TextEncoder().encode(long), server);
    const [answer] = await client.receive();
    assert.equal(
      new TextDecoder().decode(answer),
      udp ? line + long : long,
    );
    await client.send(new TextEncoder().encode("ping"), server);
    const [short] = await client.receive();
    assert.equal(new TextDecoder().decode(short), "ping", "no amplification");
    client.close();
    stop.abort();
    await done;
  }
});

Deno.test("with PROXY protocol on, a client that is not a trusted proxy gets its banner at once, before it sends anything, then its echo", async () => {
  await using server = startEchoServer({
    banner: banner("{pod} {proxy_client}"),
    proxyProtocol: { trustedProxies: [parseCidr("127.0.0.2")] },
    limits: { handshakeTimeout: 60_000 },
  });
  using conn = await connect(server.port);
  const { line, echo } = await bannerThenEcho(conn, new Uint8Array([7, 8, 9]));
  assert.equal(line, "echo-0 -");
  assert.deepEqual(echo, new Uint8Array([7, 8, 9]));
});

Deno.test("a blackholed connection gets no banner either: it never answers", async () => {
  await using server = startEchoServer({
    banner: banner("{pod}"),
    faults: new FaultBoard({ blackhole: true }),
  });
  using conn = await connect(server.port);
  await assert.rejects(
    readBanner(conn, { timeout: 200 }),
    /No banner line within/,
  );
});

Deno.test("with PROXY protocol on and --blackhole, a client that is not a trusted proxy gets no banner either", async () => {
  await using server = startEchoServer({
    banner: banner("{pod}"),
    proxyProtocol: { trustedProxies: [parseCidr("127.0.0.2")] },
    faults: new FaultBoard({ blackhole: true }),
    limits: { handshakeTimeout: 60_000 },
  });
  using conn = await connect(server.port);
  await assert.rejects(
    readBanner(conn, { timeout: 200 }),
    /No banner line within/,
  );
});
