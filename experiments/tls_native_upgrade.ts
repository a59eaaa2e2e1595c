// deno-lint-ignore-file no-console -- an experiment reports on stdout
/**
 * Why the TLS listener does not start `node:tls` on an accepted `node:net`
 * socket (`new TLSSocket(socket, { isServer: true })`), though in Deno 2.9
 * that runs the runtime's native TLS layer on the socket's handle and is
 * the fastest closable TLS we found (issue 25, experiments/tls_vs_go.py:
 * with flow control at the TCP handle, ping-pong 50 0.85x Go crypto/tls,
 * ping-pong 500 0.88x, stream 0.65x, against 0.81x, 0.39x and 0.51x for
 * the listener's path that day). Two flaws of Deno 2.9.6's TLSWrap are
 * shown here:
 *
 * 1. `pause()` does not stop reading the socket: TLSWrap's `readStop`
 *    only stops delivering cleartext, and buffers what it decrypts
 *    (ext/node/ops/tls_wrap.rs, "Known limitation"). A client that sends
 *    without reading grows the server's memory without bound.
 * 2. A close_notify or FIN that arrives while the socket is paused is
 *    never delivered: after `resume()` the data comes, `end` does not, and
 *    a half-closing client waits forever for the rest of its echo.
 *
 * Both can be worked around (never pause the TLS socket; stop the TCP
 * handle under it, `_handle._parent.readStop()`), and a version that did
 * landed briefly. An attack review then found what cannot be: Deno 2.9.6's
 * `node:net` server stops accepting for good once `accept` fails with
 * EMFILE, without an `error` event, where `Deno.listen` recovers; every
 * accept loop must survive every accept error. (It also found that
 * feeding several unshifted chunks to a failing handshake throws inside
 * Deno's `initRead` and kills the thread.)
 *
 *   deno run -A experiments/tls_native_upgrade.ts
 *
 * Measured on Deno 2.9.6 (2026-12-01): (1) the client sent all 64 MiB to
 * the paused socket, nothing held it back, and the process's RSS grew by
 * 128 MiB; (2) the 1 MiB echo came back whole, `end` never fired, and the
 * client was still waiting for the end of its echo after 3 s.
 *
 * @module
 */

import net from "node:net";
import tls from "node:tls";
import { generateSelfSigned } from "../lib/tls/mod.ts";

const { cert, key } = await generateSelfSigned(["127.0.0.1"]);
const secureContext = tls.createSecureContext({ cert, key });

/** A node:net server that starts TLS on each socket and hands it over. */
async function upgradingServer(
  onSecure: (socket: tls.TLSSocket) => void,
): Promise<{ port: number; close(): void }> {
  const server = net.createServer(
    { pauseOnConnect: true, allowHalfOpen: true },
    (socket) =>
      onSecure(new tls.TLSSocket(socket, { isServer: true, secureContext })),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => server.close(),
  };
}

// 1. A paused server socket still takes everything the client sends.
{
  const sockets: tls.TLSSocket[] = [];
  const server = await upgradingServer((socket) => {
    socket.pause(); // never read: backpressure should stop the client
    sockets.push(socket);
  });
  const before = Deno.memoryUsage().rss;
  const client = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: server.port,
    caCerts: [cert],
  });
  const chunk = new Uint8Array(1024 * 1024);
  let sent = 0;
  const sending = (async () => {
    while (sent < 64 * chunk.length) sent += await client.write(chunk);
  })();
  await Promise.race([sending, new Promise((r) => setTimeout(r, 5_000))]);
  const grown = (Deno.memoryUsage().rss - before) / 1024 / 1024;
  console.log(
    `1. paused server socket: client sent ${
      (sent / 1024 / 1024).toFixed(0)
    } MiB in 5 s; RSS grew ${grown.toFixed(0)} MiB`,
  );
  client.close();
  for (const socket of sockets) socket.destroy();
  server.close();
}

// 2. EOF while paused is lost.
{
  let ended = false;
  let echoed = 0;
  const server = await upgradingServer((socket) => {
    socket.on("data", (data: Uint8Array) => {
      echoed += data.length;
      socket.pause(); // read one chunk at a time, as a bounded loop does
      socket.write(data, () => socket.resume());
    });
    socket.on("end", () => {
      ended = true;
      socket.end();
    });
  });
  const client = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: server.port,
    caCerts: [cert],
  });
  const size = 1024 * 1024;
  let received = 0;
  const reading = (async () => {
    const buffer = new Uint8Array(64 * 1024);
    while (true) {
      const n = await client.read(buffer);
      if (n === null) return;
      received += n;
    }
  })();
  const data = new Uint8Array(size);
  let written = 0;
  while (written < size) written += await client.write(data.subarray(written));
  await client.closeWrite();
  const done = await Promise.race([
    reading.then(() => "complete"),
    new Promise((r) => setTimeout(() => r("still waiting after 3 s"), 3_000)),
  ]);
  console.log(
    `2. 1 MiB echoed (${echoed} B read, ${received} B back), client half-closed: end fired ${ended}; echo ${done}`,
  );
  client.close();
  server.close();
}
Deno.exit(0);
