// A standalone reproduction for the runtime's maintainers prints with console.
// deno-lint-ignore-file no-console
/**
 * Minimal reproduction for the Deno maintainers: a `Deno.listenTls`
 * connection closed while its handshake is pending keeps its socket open
 * until the peer sends something or leaves.
 *
 * Run: `deno run --allow-all experiments/tls_handshake_leak.ts` (Deno wants all
 * access to read /proc/self/fd; Linux). Expected: the server-side sockets are
 * released by `close()`. Seen with Deno 2.9.6: they stay until the clients
 * close. Cause, as far as we can read it: rustls-tokio-stream 0.8's
 * `TlsStream::drop` in the `Handshaking` state spawns a task that awaits the
 * handshake (which owns the TCP stream) instead of aborting it.
 *
 * @module
 */

import { generateSelfSigned } from "../lib/tls/mod.ts";

const CLIENTS = 100;
const { cert, key } = await generateSelfSigned(["127.0.0.1"]);
const descriptors = () => [...Deno.readDirSync("/proc/self/fd")].length;

const listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
const closed = Promise.withResolvers<void>();
let pending = CLIENTS;
(async () => {
  for await (const conn of listener) {
    conn.handshake().catch(() => {}); // the handshake waits for the client
    conn.close(); // ...and is given up at once
    if (--pending === 0) closed.resolve();
  }
})();

const before = descriptors();
const clients = await Promise.all(
  Array.from(
    { length: CLIENTS },
    () => Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
  ),
);
await closed.promise;
// Give the runtime every chance to release them: wait for a client's
// socket to see the server's FIN, which never comes.
const probe = await Promise.race([
  clients[0]!.read(new Uint8Array(1)).then((n) => `client read ${n}`),
  new Promise<string>((resolve) =>
    setTimeout(() => resolve("no EOF at the client within 1 s"), 1_000)
  ),
]);
console.log(`deno ${Deno.version.deno}`);
console.log(`descriptors before the clients: ${before}`);
console.log(
  `after ${CLIENTS} connects whose server side was closed: ${descriptors()} ` +
    `(expected ${before + CLIENTS}: the clients' own sockets only)`,
);
console.log(probe);
for (const client of clients) client.close();
listener.close();
