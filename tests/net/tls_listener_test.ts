/**
 * The TLS listener under local strangers: it must open nothing another
 * program on the machine can connect to, fill or guess, and leave no
 * socket behind per connection. The server's sockets are read from /proc
 * (through `cat` and `find`: Deno wants --allow-all to read /proc itself).
 */

import assert from "node:assert/strict";
import { connectWithTimeout, listenTls } from "../../lib/net/mod.ts";
import { generateSelfSigned } from "../../lib/tls/mod.ts";
import {
  FILE_PERMISSIONS,
  loopback,
  readToEnd,
  type ServerProcess,
  startServer,
  withTempDir,
} from "../_helpers.ts";

/** TCP states in /proc/net/tcp. */
const LISTEN = 0x0a;
const TIME_WAIT = 0x06;

/** How many connections a stranger opens to each port: past the backlog. */
const STRANGER_CONNECTIONS = 600;

interface TcpSocket {
  localPort: number;
  remotePort: number;
  state: number;
  inode: number;
}

/**
 * The machine's TCP sockets (IPv4 and IPv6) and, if `pid` is given, the
 * socket inodes that process holds.
 */
async function tcpSockets(
  pid?: number,
): Promise<{ sockets: TcpSocket[]; held: Set<number> }> {
  const script = pid === undefined
    ? "cat /proc/net/tcp /proc/net/tcp6"
    : `cat /proc/net/tcp /proc/net/tcp6; echo FDS; ` +
      `find /proc/${pid}/fd -lname 'socket:*' -printf '%l\\n'`;
  const { stdout, success } = await new Deno.Command("sh", {
    args: ["-c", script],
  }).output();
  assert.ok(success, script);
  const [table = "", fds = ""] = new TextDecoder().decode(stdout).split(
    "FDS\n",
  );
  const sockets: TcpSocket[] = [];
  for (const line of table.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (!/^\d+:$/.test(fields[0] ?? "")) continue; // the header
    sockets.push({
      localPort: parseInt(fields[1]!.split(":")[1]!, 16),
      remotePort: parseInt(fields[2]!.split(":")[1]!, 16),
      state: parseInt(fields[3]!, 16),
      inode: Number(fields[9]),
    });
  }
  const held = new Set(
    [...fds.matchAll(/socket:\[(\d+)\]/g)].map((match) => Number(match[1])),
  );
  return { sockets, held };
}

/** The TCP sockets process `pid` holds. */
async function socketsOf(pid: number): Promise<TcpSocket[]> {
  const { sockets, held } = await tcpSockets(pid);
  return sockets.filter((socket) => held.has(socket.inode));
}

/** `echo-server --tls` with the default handshake deadline, and its CA. */
async function startTlsServer(
  dir: string,
): Promise<{ server: ServerProcess; caCerts: string[] }> {
  const server = await startServer(
    ["--tls", "--quiet", "--tls-cert-out", `${dir}/cert.pem`],
    { permissions: FILE_PERMISSIONS },
  );
  return { server, caCerts: [await Deno.readTextFile(`${dir}/cert.pem`)] };
}

/**
 * What a local stranger does to a port: `count` connections that it never
 * uses. Connections the kernel does not complete within 3 s are given up.
 */
async function flood(port: number, count: number): Promise<Deno.TcpConn[]> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), 3_000);
  try {
    const attempts = await Promise.allSettled(
      Array.from(
        { length: count },
        () =>
          Deno.connect({
            hostname: "127.0.0.1",
            port,
            signal: deadline.signal,
          }),
      ),
    );
    return attempts.flatMap((attempt) =>
      attempt.status === "fulfilled" ? [attempt.value] : []
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A TLS client whose socket sends at once (no Nagle), so that no exchange
 * waits for a delayed ACK: the handshake and a 1-byte echo.
 */
async function connectTls(
  port: number,
  caCerts: string[],
): Promise<Deno.TlsConn> {
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  tcp.setNoDelay(true);
  const conn = await Deno.startTls(tcp, { hostname: "127.0.0.1", caCerts });
  try {
    await conn.handshake();
    await conn.write(Uint8Array.of(7));
    const echo = new Uint8Array(1);
    assert.equal(await conn.read(echo), 1);
    assert.equal(echo[0], 7);
  } catch (error) {
    conn.close();
    throw error;
  }
  return conn;
}

/** Half-closes `conn` and expects the server's end of stream, no more. */
async function finish(conn: Deno.Conn): Promise<void> {
  await conn.closeWrite();
  assert.equal((await readToEnd(conn)).length, 0);
}

Deno.test("a local program cannot block TLS clients: the server listens on its own port only, and serves TLS after 600 connections to any other", async () => {
  await withTempDir(async (dir) => {
    const { server, caCerts } = await startTlsServer(dir);
    await using _server = server;
    const others = (await socketsOf(server.process.pid))
      .filter((socket) => socket.state === LISTEN)
      .map((socket) => socket.localPort)
      .filter((port) => port !== server.port);
    // A stranger fills every other port the server listens on, if any.
    const strangers = (await Promise.all(
      others.map((port) => flood(port, STRANGER_CONNECTIONS)),
    )).flat();
    try {
      // Fails the test, rather than hanging it, if the server is blocked.
      using conn = await connectWithTimeout(loopback(server.port), {
        tls: { caCerts },
        timeout: 5_000,
      });
      await conn.write(Uint8Array.of(7));
      assert.equal(await conn.read(new Uint8Array(1)), 1);
      await finish(conn);
    } finally {
      for (const conn of strangers) conn.close();
    }
    assert.deepEqual(others, [], "listening sockets besides the public one");
  });
});

Deno.test("300 sequential TLS connections leave no TIME_WAIT socket on an internal hop: the server holds no socket but the listener and its clients'", async () => {
  await withTempDir(async (dir) => {
    const { server, caCerts } = await startTlsServer(dir);
    await using _server = server;
    const pid = server.process.pid;
    // Ports of the server's sockets that are not the client's connection:
    // an internal hop's, if it has one. An internal listener would be in
    // every sample, and at one end of every internal connection.
    const internal = new Set<number>();
    for (let i = 0; i < 300; i++) {
      using conn = await connectTls(server.port, caCerts);
      if (i % 30 === 0) {
        for (const socket of await socketsOf(pid)) {
          if (socket.localPort === server.port) continue;
          internal.add(socket.localPort);
          if (socket.remotePort !== 0) internal.add(socket.remotePort);
        }
      }
      await finish(conn);
    }
    // The clients half-closed first, so their own sockets (on the public
    // port) are in TIME_WAIT; no socket of an internal hop may be.
    const { sockets } = await tcpSockets();
    const timeWait = sockets.filter((socket) =>
      socket.state === TIME_WAIT &&
      socket.localPort !== server.port && socket.remotePort !== server.port &&
      (internal.has(socket.localPort) || internal.has(socket.remotePort))
    );
    assert.equal(
      timeWait.length,
      0,
      `TIME_WAIT sockets on internal ports ${[...internal].join(", ")}`,
    );
    assert.deepEqual([...internal], [], "sockets besides the client's");
  });
});

Deno.test("listenTls refuses an unreadable certificate or key, or the key of another certificate, before listening", async () => {
  const one = await generateSelfSigned(["127.0.0.1"]);
  const other = await generateSelfSigned(["127.0.0.1"]);
  const cases: [string, string, RegExp][] = [
    ["not a certificate", one.key, /^Invalid certificate: /],
    [one.cert, "not a key", /^Invalid private key: /],
    [
      one.cert,
      other.key,
      /^The private key does not belong to the certificate$/,
    ],
  ];
  for (const [cert, key, message] of cases) {
    await assert.rejects(
      listenTls({ hostname: "127.0.0.1", port: 0, cert, key }),
      (error: unknown) =>
        error instanceof TypeError && message.test(error.message),
    );
  }
  using listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...one });
  assert.ok((listener.addr as Deno.NetAddr).port > 0);
});

Deno.test("a client that half-closes during the handshake fails it at once, whether silent or midway through its hello", async () => {
  const material = await generateSelfSigned(["127.0.0.1"]);
  using listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    ...material,
  });
  const port = (listener.addr as Deno.NetAddr).port;
  // Nothing, then part of a ClientHello (a record header and 2 bytes).
  for (const sent of [[], [0x16, 3, 1, 0, 200, 1, 0]]) {
    using client = await Deno.connect({ hostname: "127.0.0.1", port });
    using conn = await listener.accept();
    if (sent.length > 0) await client.write(Uint8Array.from(sent));
    await client.closeWrite();
    await assert.rejects(conn.handshake(), Deno.errors.UnexpectedEof);
  }
});
